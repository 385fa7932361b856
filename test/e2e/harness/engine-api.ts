// A minimal Docker Engine API client over the provider's unix socket (what `docker create` and the
// terraform provider behind @pulumi/docker use). Every call is bounded.
import { request } from "node:http";

export interface EngineReply { status: number; json: unknown; text: string }

export class EngineApi {
  constructor(readonly socketPath: string, readonly version = "v1.41") {}

  /** From a provider `host` input: only local unix sockets are modelled. */
  static forHost(host: string | undefined): EngineApi {
    const h = host ?? process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
    if (!h.startsWith("unix://")) throw new Error(`docker provider host ${h}: the e2e harness realises only local unix:// engines (remote hosts: see the remote-host issue)`);
    return new EngineApi(h.slice("unix://".length));
  }

  call(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<EngineReply> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        { socketPath: this.socketPath, path: `/${this.version}${path}`, method, timeout: timeoutMs, headers: data ? { "content-type": "application/json", "content-length": data.length } : {} },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            let json: unknown = null;
            try { json = text ? JSON.parse(text) : null; } catch { json = null; }
            resolve({ status: res.statusCode ?? 0, json, text });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`docker engine ${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(data);
    });
  }

  /** Like call(), but a status outside `ok` throws with the engine's message. */
  async expect(method: string, path: string, ok: number[], body?: unknown, timeoutMs?: number): Promise<EngineReply> {
    const r = await this.call(method, path, body, timeoutMs);
    if (!ok.includes(r.status)) {
      const msg = (r.json as { message?: string } | null)?.message ?? r.text;
      throw new Error(`docker engine ${method} ${path.split("?")[0]} -> ${r.status}: ${msg}`);
    }
    return r;
  }
}
