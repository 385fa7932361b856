// Start the WebUI stand-in for tests: as a container of sd-webui-standin:dev (the universonic layout:
// data root /app/stable-diffusion-webui, uid 1000, port 8080, flags as docker args), or as a plain
// process for in-process-speed tests. Every start is bounded; stop() removes what was started.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import * as path from "node:path";
import { docker } from "./docker.js";
import { DEFAULT_DOCKER_HOST } from "../../infra/config/docker-host.js";

export const STANDIN_IMAGE = "sd-webui-standin:dev";
export const STANDIN_ROOT = "/app/stable-diffusion-webui";
const REPO = path.resolve(path.dirname(__filename), "../.."); // __filename: also right when imported from ESM via tsx

/**
 * Make sure sd-webui-standin:dev exists and matches the current sources: runs test/standin/build-image.sh,
 * which returns in ~0.05 s when the image is up to date and rebuilds (~3 s) when it is missing or stale.
 */
let ensured = false;
export function ensureStandinImage(): void {
  if (ensured) return; // once per test process: parallel starts must not run parallel builds
  try {
    execFileSync("bash", [path.join(REPO, "test/standin/build-image.sh")], {
      cwd: REPO,
      stdio: "pipe",
      timeout: 120_000,
    });
    ensured = true;
  } catch (e) {
    const x = e as { stderr?: Buffer; stdout?: Buffer; message: string };
    throw new Error(
      `building ${STANDIN_IMAGE} failed (npm run standin:image): ${(x.stderr?.toString() || x.stdout?.toString() || x.message).trim()}`,
    );
  }
}

/** Creates `<dir>/Stable-diffusion/standin-model.safetensors` (a tiny fake checkpoint); returns dir. */
export function makeModelsDir(dir: string): string {
  fs.mkdirSync(path.join(dir, "Stable-diffusion"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, "Stable-diffusion", "standin-model.safetensors"),
    "stand-in checkpoint, not a real model\n",
  );
  return dir;
}

/** Any HTTP answer (whatever the status) within 1 s. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.on("error", () => resolve(false));
    req.end();
  });
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Where the kernel's own choice of ports (listen(0), outgoing connections) starts. */
function ephemeralStart(): number {
  try {
    const first = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 21000 ? first : 32768;
  } catch {
    return 32768;
  }
}

/** Whether a TCP port can be bound on every address right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "0.0.0.0", () => s.close(() => resolve(true)));
  });
}

/**
 * A free TCP port below the kernel's ephemeral range. A port the kernel picks (listen(0)) may be handed out
 * again to any process's next connection or listener (the engine's gRPC servers among them) before the test's
 * container binds it; the kernel never picks one below that range by itself.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralStart();
  for (let i = 0; i < 100; i++) {
    const port = 20000 + Math.floor(Math.random() * (high - 20000));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free TCP port found between 20000 and ${high}`);
}

/** The port the WebUI will listen on: the last `--port` among the entrypoint's and the extra args. */
function lastPort(args: string[], def: number): number {
  let p = def;
  args.forEach((a, i) => {
    if (a === "--port" && args[i + 1]) p = Number(args[i + 1]);
    else if (a.startsWith("--port=")) p = Number(a.slice(7));
  });
  return p;
}

export interface StandinContainerOpts {
  name?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Host port to publish on; 0 (default) lets Docker pick a free one. */
  hostPort?: number;
  outputsHostDir?: string;
  modelsHostDir?: string;
  user?: string;
  /** Host address to publish on (default 127.0.0.1). */
  publishIp?: string;
  /** Exec-form healthcheck (e.g. ["CMD","python3","-c","..."]), set through the Engine API as the program does. */
  healthcheck?: string[];
  /**
   * Replace the image's ENTRYPOINT (e.g. ["/usr/bin/node","/opt/standin/server.js","--api"] to run
   * without the image's --listen/--port); the port to publish is then the last --port, else 7860.
   */
  entrypoint?: string[];
  /** Wait for an HTTP answer on the published port (default true); false returns once the container runs. */
  waitForHttp?: boolean;
  /** Bound on the wait (default 20 s). */
  timeoutMs?: number;
}

export interface StandinContainer {
  url: string;
  hostPort: number;
  containerName: string;
  logs(): string;
  stop(): Promise<void>;
}

/** Docker Engine API over the local socket (only for what the CLI cannot express, e.g. exec-form healthchecks). */
function engine(method: string, p: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const socketPath = (process.env.DOCKER_HOST ?? DEFAULT_DOCKER_HOST).replace(/^unix:\/\//, "");
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        socketPath,
        path: `/v1.41${p}`,
        method,
        timeout: 30_000,
        headers: data ? { "content-type": "application/json", "content-length": data.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const t = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, json: t ? JSON.parse(t) : null });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`docker engine ${method} ${p} timed out`)));
    req.on("error", reject);
    req.end(data);
  });
}

async function createWithHealthcheck(name: string, o: StandinContainerOpts, cport: number, ip: string): Promise<void> {
  const binds = [
    ...(o.outputsHostDir ? [`${path.resolve(o.outputsHostDir)}:${STANDIN_ROOT}/outputs`] : []),
    ...(o.modelsHostDir ? [`${path.resolve(o.modelsHostDir)}:${STANDIN_ROOT}/models`] : []),
  ];
  const c = await engine("POST", `/containers/create?name=${encodeURIComponent(name)}`, {
    Image: STANDIN_IMAGE,
    Cmd: [...(o.entrypoint?.slice(1) ?? []), ...(o.args ?? [])],
    ...(o.entrypoint ? { Entrypoint: [o.entrypoint[0]] } : {}),
    Env: Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(o.user ? { User: o.user } : {}),
    ExposedPorts: { [`${cport}/tcp`]: {} },
    Healthcheck: { Test: o.healthcheck, Interval: 1e9, Timeout: 10e9, Retries: 3, StartPeriod: 0 },
    HostConfig: {
      Binds: binds,
      PortBindings: { [`${cport}/tcp`]: [{ HostIp: ip, HostPort: o.hostPort ? String(o.hostPort) : "" }] },
    },
  });
  if (c.status !== 201) throw new Error(`docker create ${name}: ${JSON.stringify(c.json)}`);
  const s = await engine("POST", `/containers/${encodeURIComponent(name)}/start`);
  if (s.status !== 204 && s.status !== 304) throw new Error(`docker start ${name}: ${JSON.stringify(s.json)}`);
}

/**
 * Run the stand-in image (args appended to its ENTRYPOINT, as docker args), publish its port on
 * publishIp (default 127.0.0.1) and wait, bounded, until that port answers HTTP. On failure the
 * container is removed and the error carries its logs.
 */
export async function startStandinContainer(o: StandinContainerOpts = {}): Promise<StandinContainer> {
  ensureStandinImage();
  const name = o.name ?? `sd-standin-${randomBytes(4).toString("hex")}`;
  const args = o.args ?? [];
  const ip = o.publishIp ?? "127.0.0.1";
  const cport = o.entrypoint
    ? lastPort(
        [...o.entrypoint, ...args],
        args.includes("--nowebui") || o.entrypoint.includes("--nowebui") ? 7861 : 7860,
      )
    : lastPort(args, 8080);
  // stdout then stderr of the container (docker logs keeps the two streams apart)
  const logs = (): string => {
    const r = spawnSync("docker", ["logs", name], { encoding: "utf8", timeout: 15_000 });
    return `${r.stdout ?? ""}${r.stderr ?? ""}`;
  };
  const stop = async (): Promise<void> => {
    try {
      docker(["rm", "-f", name], { timeoutMs: 30_000 });
    } catch {
      /* already gone */
    }
  };
  try {
    if (o.healthcheck) await createWithHealthcheck(name, o, cport, ip);
    else {
      const run = ["run", "-d", "--pull", "never", "--name", name, "-p", `${ip}:${o.hostPort || ""}:${cport}`];
      for (const [k, v] of Object.entries(o.env ?? {})) run.push("-e", `${k}=${v}`);
      if (o.user) run.push("--user", o.user);
      if (o.outputsHostDir) run.push("-v", `${path.resolve(o.outputsHostDir)}:${STANDIN_ROOT}/outputs`);
      if (o.modelsHostDir) run.push("-v", `${path.resolve(o.modelsHostDir)}:${STANDIN_ROOT}/models`);
      if (o.entrypoint) run.push("--entrypoint", o.entrypoint[0]!);
      docker([...run, STANDIN_IMAGE, ...(o.entrypoint?.slice(1) ?? []), ...args], { timeoutMs: 30_000 });
    }
    const mapped =
      docker(["port", name, `${cport}/tcp`])
        .trim()
        .split("\n")[0] ?? "";
    const hostPort = Number(mapped.slice(mapped.lastIndexOf(":") + 1));
    const url = `http://${ip === "0.0.0.0" ? "127.0.0.1" : ip}:${hostPort}`;
    const limit = o.timeoutMs ?? 20_000;
    const t0 = Date.now();
    while (o.waitForHttp !== false) {
      if (await answers(url)) break;
      const state = docker(["inspect", name, "--format", "{{.State.Status}} {{.State.ExitCode}}"]).trim();
      if (!state.startsWith("running"))
        throw new Error(`stand-in container ${name} is ${state} before answering:\n${logs()}`);
      if (Date.now() - t0 > limit)
        throw new Error(`stand-in container ${name}: ${url} did not answer within ${limit} ms:\n${logs()}`);
      await sleep(100);
    }
    return { url, hostPort, containerName: name, logs, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface StandinProcess {
  url: string;
  port: number;
  logs(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Run the stand-in as a local process (`node --import tsx test/standin/server.ts <args>`), with
 * `env` added to the inherited environment. A free `--port` is appended when args have none.
 */
export async function startStandinProcess(
  args: string[],
  env: Record<string, string> = {},
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<StandinProcess> {
  const full = [...args];
  if (!full.some((a) => a === "--port" || a.startsWith("--port="))) full.push("--port", String(await freePort()));
  const port = lastPort(full, 7860);
  const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO, "test/standin/server.ts"), ...full], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  let code: number | null | undefined;
  const exited = new Promise<number | null>((r) =>
    child.on("exit", (c) => {
      code = c;
      r(c);
    }),
  );
  const stop = async (): Promise<void> => {
    if (code !== undefined) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  };
  const url = `http://127.0.0.1:${port}`;
  const limit = opts.timeoutMs ?? 20_000;
  const t0 = Date.now();
  for (;;) {
    if (code !== undefined) throw new Error(`stand-in process exited (${code}) before answering:\n${out}`);
    if (await answers(url)) break;
    if (Date.now() - t0 > limit) {
      await stop();
      throw new Error(`stand-in process: ${url} did not answer within ${limit} ms:\n${out}`);
    }
    await sleep(100);
  }
  return { url, port, logs: () => out, exited, stop };
}
