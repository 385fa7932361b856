// What a deploy left on a Docker host, read from the real parts: file hashes, the firewall rules carrying a
// stack's tag, containers labelled with a stack, bounded HTTP probes; and the clean-up after a failed run.
// A host is this machine's engine and network, or a remote test host's (its engine socket, its netns).
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { request } from "node:http";
import { request as httpsRequest } from "node:https";
import type { TLSSocket } from "node:tls";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import { SMOKE_CLI_BUILT } from "../../smoke/built-path.js";

/** Which engine and network namespace a check looks at (default: this machine's). */
export interface HostView {
  dockerSocket?: string;
  netns?: string;
}

const dockerArgs = (h: HostView, args: string[]) =>
  h.dockerSocket ? ["-H", `unix://${h.dockerSocket}`, ...args] : args;
const inNetns = (h: HostView, bin: string, args: string[]): [string, string[]] =>
  h.netns ? ["ip", ["netns", "exec", h.netns, bin, ...args]] : [bin, args];

/** relative path -> sha256 of every regular file under dir. */
export function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile())
        out.set(path.relative(dir, p), createHash("sha256").update(fs.readFileSync(p)).digest("hex"));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

const hasComment = (line: string, tag: string) => {
  const words = line.split(/\s+/);
  const i = words.indexOf("--comment");
  return i >= 0 && (words[i + 1] === tag || words[i + 1] === `"${tag}"`);
};

/** The live rules whose comment is exactly `tag`: IPv4 DOCKER-USER and IPv6 mangle PREROUTING. */
export function taggedRules(tag: string, h: HostView = {}): string[] {
  const list = (bin: string, args: string[]) => {
    const r = spawnSync(...inNetns(h, bin, args), { encoding: "utf8", timeout: 15_000 });
    return r.status === 0 ? r.stdout.split("\n").filter((l) => l.startsWith("-A ") && hasComment(l, tag)) : [];
  };
  return [
    ...list("iptables", ["-S", "DOCKER-USER"]),
    ...list("ip6tables", ["-t", "mangle", "-S", "PREROUTING"]).map((l) => `ip6 mangle ${l}`),
  ];
}

/** Clean-up after a failed run: delete any rule still carrying the tag (exact match). */
export function purgeTaggedRules(tag: string, h: HostView = {}): number {
  let n = 0;
  for (const [bin, table, chain] of [
    ["iptables", "filter", "DOCKER-USER"],
    ["ip6tables", "mangle", "PREROUTING"],
  ] as const) {
    const r = spawnSync(...inNetns(h, bin, ["-t", table, "-S", chain]), { encoding: "utf8", timeout: 15_000 });
    if (r.status !== 0) continue;
    for (const line of r.stdout.split("\n").filter((l) => l.startsWith("-A ") && hasComment(l, tag))) {
      // -S output is re-usable argv once quotes around the comment are dropped (tags never need quoting).
      const argv = line.replace(/"/g, "").split(/\s+/).slice(1);
      if (spawnSync(...inNetns(h, bin, ["-t", table, "-D", ...argv]), { timeout: 15_000 }).status === 0) n++;
    }
  }
  return n;
}

/** Remove every container labelled sdwebui.stack=<stack>; returns their names. */
export function removeStackContainers(stack: string, h: HostView = {}): string[] {
  const ids = execFileSync("docker", dockerArgs(h, ["ps", "-aq", "--filter", `label=sdwebui.stack=${stack}`]), {
    encoding: "utf8",
    timeout: 15_000,
  })
    .split("\n")
    .filter(Boolean);
  if (ids.length) spawnSync("docker", dockerArgs(h, ["rm", "-f", ...ids]), { timeout: 60_000 });
  return ids;
}

/** Remove every network labelled sdwebui.stack=<stack> (after its containers); returns their names. */
export function removeStackNetworks(stack: string, h: HostView = {}): string[] {
  const names = execFileSync(
    "docker",
    dockerArgs(h, ["network", "ls", "-q", "--filter", `label=sdwebui.stack=${stack}`]),
    { encoding: "utf8", timeout: 15_000 },
  )
    .split("\n")
    .filter(Boolean);
  if (names.length) spawnSync("docker", dockerArgs(h, ["network", "rm", ...names]), { timeout: 60_000 });
  return names;
}

export function stackContainers(stack: string, h: HostView = {}): string[] {
  return execFileSync(
    "docker",
    dockerArgs(h, ["ps", "-a", "--format", "{{.Names}}", "--filter", `label=sdwebui.stack=${stack}`]),
    { encoding: "utf8", timeout: 15_000 },
  )
    .split("\n")
    .filter(Boolean);
}

/** The parts of `docker inspect` the tests read. */
export interface ContainerInspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; StartedAt: string };
  Args: string[];
  Config: {
    Cmd: string[] | null;
    Env: string[];
    Labels: Record<string, string>;
    WorkingDir: string;
    Healthcheck?: { StartPeriod: number };
  };
  HostConfig: {
    PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
    DeviceRequests: { Driver: string; Count: number; DeviceIDs: string[] | null }[] | null;
    LogConfig: { Type: string; Config: Record<string, string> };
    RestartPolicy: { Name: string };
    NetworkMode: string;
  };
  Mounts: { Source: string; Destination: string; RW: boolean }[];
}

/** `docker inspect` of one container on the host. */
export function inspectContainer(name: string, h: HostView = {}): ContainerInspect {
  return (
    JSON.parse(
      execFileSync("docker", dockerArgs(h, ["inspect", name]), { encoding: "utf8", timeout: 15_000 }),
    ) as ContainerInspect[]
  )[0]!;
}

/** The engine tests run the built program (dist/): compile when it is missing or older than the sources. */
export function ensureSmokeBuilt(): string {
  const cli = path.join(REPO_ROOT, SMOKE_CLI_BUILT);
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...fs
        .readdirSync(dir, { withFileTypes: true })
        .map((e) =>
          e.isDirectory()
            ? newest(path.join(dir, e.name))
            : /\.(ts|sh)$/.test(e.name)
              ? fs.statSync(path.join(dir, e.name)).mtimeMs
              : 0,
        ),
    );
  const src = Math.max(...["smoke", "infra", "lib"].map((dir) => newest(path.join(REPO_ROOT, dir))));
  if (fs.existsSync(cli) && fs.statSync(cli).mtimeMs >= src) return `${SMOKE_CLI_BUILT} is up to date`;
  const t0 = Date.now();
  // tsc emits even when a file elsewhere in the tree has a type error; only the CLI's presence matters here.
  const r = spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 180_000 });
  // The host scripts the compiled modules read, as npm run build copies them.
  spawnSync(process.execPath, ["tools/copy-host-scripts.mjs"], { cwd: REPO_ROOT, timeout: 60_000 });
  if (!fs.existsSync(cli)) throw new Error(`npm run build did not produce ${SMOKE_CLI_BUILT}:\n${r.stdout}${r.stderr}`);
  return `compiled dist/ in ${Date.now() - t0} ms${r.status === 0 ? "" : " (tsc reported errors elsewhere; the smoke CLI was emitted)"}`;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One bounded GET to a loopback URL. */
export function httpGet(
  url: string,
  auth?: { username: string; password: string },
  timeoutMs = 5000,
): Promise<HttpAnswer> {
  const headers: Record<string, string> = auth
    ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` }
    : {};
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", headers, timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

export interface HttpsAnswer {
  status: number;
  fingerprint: string;
}

/** One bounded GET over HTTPS trusting only `ca` (the system's roots when undefined); the status and the served certificate's fingerprint. */
export function httpsGet(
  url: string,
  ca: string | undefined,
  auth?: { username: string; password: string },
  timeoutMs = 15_000,
): Promise<HttpsAnswer> {
  const headers: Record<string, string> = auth
    ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` }
    : {};
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...(ca ? { ca } : {}), headers, timeout: timeoutMs, agent: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, fingerprint }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** Poll until `url` answers 200 (bounded), for checks outside the smoke step. */
export async function waitFor200(
  url: string,
  auth: { username: string; password: string } | undefined,
  limitMs: number,
): Promise<HttpAnswer> {
  const t0 = Date.now();
  let last = "";
  for (;;) {
    try {
      const a = await httpGet(url, auth);
      if (a.status === 200) return a;
      last = `HTTP ${a.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() - t0 > limitMs) throw new Error(`${url}: no 200 within ${limitMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
