// Docker over SSH the way the program's docker provider does it: the system `ssh` client with the
// provider's `sshOpts`, running `docker system dial-stdio` on the host and speaking the Engine API over
// its stdin/stdout (docker/cli connhelper: sshOpts, then `-o ConnectTimeout=30` unless given, `-T`,
// `-l user -p port -- host docker system dial-stdio`). The key comes from an ssh-agent, as for the
// provider (it takes no key of its own). For the docker CLI, which takes no ssh options, a wrapper
// `ssh` on PATH adds the same options in front of the CLI's own arguments.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { dockerHostOf } from "../../infra/config/docker-host.js";
import { shellJoin } from "../../infra/shell.js";

export interface EngineReply { status: number; json: unknown; text: string }

/** The argv the docker provider gives `ssh` for one Engine API connection to `uri`. */
export function dialStdioArgv(uri: string, sshOpts: string[]): string[] {
  const h = dockerHostOf(uri);
  if (h.kind !== "ssh") throw new Error(`${uri} is not an ssh:// docker host`);
  const opts = [...sshOpts];
  if (!opts.some((o) => /^ConnectTimeout=/i.test(o))) opts.push("-o", "ConnectTimeout=30");
  return [...opts, "-T", "-l", h.user, "-p", String(h.port), "--", h.host, "docker", "system", "dial-stdio"];
}

/** Engine API client over `ssh … docker system dial-stdio` (one ssh per request, bounded). */
export class SshEngineApi {
  constructor(readonly uri: string, readonly sshOpts: string[], readonly env: NodeJS.ProcessEnv, readonly version = "v1.41") {}

  call(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<EngineReply> {
    return new Promise((resolve, reject) => {
      let ssh: ChildProcess | undefined;
      let sshErr = "";
      const fail = (e: Error) => {
        const why = sshErr.trim().split("\n").filter((l) => !/^Warning: Permanently added/.test(l)).join("; ");
        reject(new Error(`docker engine over ssh (${this.uri}) ${method} ${path.split("?")[0]}: ${why || e.message}`));
      };
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          path: `/${this.version}${path}`, method, timeout: timeoutMs, host: "docker",
          headers: data ? { "content-type": "application/json", "content-length": data.length } : {},
          createConnection: () => {
            ssh = spawn("ssh", dialStdioArgv(this.uri, this.sshOpts), { env: this.env, stdio: ["pipe", "pipe", "pipe"] });
            ssh.stderr!.on("data", (d: Buffer) => { sshErr += d.toString(); });
            ssh.on("exit", (code) => { if (code !== 0 && code !== null) req.destroy(new Error(`ssh exited ${code}`)); });
            return Duplex.from({ readable: ssh.stdout!, writable: ssh.stdin! }) as never;
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            ssh?.kill();
            const text = Buffer.concat(chunks).toString();
            let json: unknown = null;
            try { json = text ? JSON.parse(text) : null; } catch { json = null; }
            resolve({ status: res.statusCode ?? 0, json, text });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", (e) => { ssh?.kill(); setTimeout(() => fail(e), 50); });
      req.end(data);
    });
  }

  async expect(method: string, path: string, ok: number[], body?: unknown, timeoutMs?: number): Promise<EngineReply> {
    const r = await this.call(method, path, body, timeoutMs);
    if (!ok.includes(r.status)) {
      const msg = (r.json as { message?: string } | null)?.message ?? r.text;
      throw new Error(`docker engine over ssh (${this.uri}) ${method} ${path.split("?")[0]} -> ${r.status}: ${msg}`);
    }
    return r;
  }
}

export interface SshAgent { sock: string; stop(): Promise<void> }

/** An ssh-agent holding `keyFiles` (the provider's ssh finds the key there). Bounded start. */
export async function startAgent(dir: string, keyFiles: string[]): Promise<SshAgent> {
  const sock = join(dir, `agent-${Math.random().toString(36).slice(2, 8)}.sock`);
  const child = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
  let exited = false;
  child.once("exit", () => { exited = true; });
  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    await new Promise<void>((r) => (exited ? r() : child.once("exit", () => r())));
  };
  const t0 = Date.now();
  while (!existsSync(sock)) {
    if (exited || Date.now() - t0 > 5000) { await stop(); throw new Error("ssh-agent did not start within 5 s"); }
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const f of keyFiles) {
    const r = spawnSync("ssh-add", ["-q", f], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: "utf8", timeout: 10_000 });
    if (r.status !== 0) { await stop(); throw new Error(`ssh-add ${f}: ${r.stderr}`); }
  }
  return { sock, stop };
}

/** A directory holding an `ssh` that runs the system ssh with `sshOpts` first (for the docker CLI). */
export function sshWrapperBin(dir: string, sshOpts: string[]): string {
  const bin = join(dir, `bin-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(bin);
  writeFileSync(join(bin, "ssh"), `#!/bin/sh\nexec /usr/bin/ssh ${shellJoin(sshOpts)} "$@"\n`, { mode: 0o755 });
  return bin;
}

/** `docker --host <uri> <args>` with the program's ssh options and the agent (bounded). */
export function dockerCliOverSsh(uri: string, args: string[], o: { bin: string; agentSock: string; timeoutMs?: number }) {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${o.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, SSH_AUTH_SOCK: o.agentSock };
  delete env.DOCKER_HOST;
  delete env.DOCKER_CONTEXT;
  const r = spawnSync("docker", ["--host", uri, ...args], { env, encoding: "utf8", timeout: o.timeoutMs ?? 60_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? r.error?.message ?? "" };
}
