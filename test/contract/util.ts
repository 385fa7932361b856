// Shared bits of the stand-in contract tests: a raw HTTP client (no path normalisation, no gzip, so
// `..` and exact bytes reach the server), host folders writable by uid 1000, and file finders.
import * as fs from "node:fs";
import { request } from "node:http";
import * as os from "node:os";
import * as path from "node:path";

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json(): unknown;
}

export function http(
  method: string,
  url: string,
  o: { headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const u = new URL(url);
  const rawPath = url.slice(url.indexOf("/", u.protocol.length + 2)); // keep `..` and `%2e` as written
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: rawPath, method, headers: o.headers, timeout: o.timeoutMs ?? 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          const text = body.toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on("error", reject);
    req.end(o.body);
  });
}

export const basic = (user: string, pass: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`,
});

export const postJson = (url: string, obj: unknown, headers: Record<string, string> = {}): Promise<HttpResult> =>
  http("POST", url, { headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(obj) });

/** A temp folder the container's uid 1000 can write (chown when root, else world-writable). */
export function hostDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (process.getuid?.() === 0) fs.chownSync(d, 1000, 1000);
  else fs.chmodSync(d, 0o777);
  return d;
}

/** Files under dir (recursive), relative paths, sorted; `.tmp` files included so tests can see none remain. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

export const rmrf = (p: string): void => fs.rmSync(p, { recursive: true, force: true });
