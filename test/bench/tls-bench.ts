// (g) The TLS proxy's cost: small API requests through Caddy (HTTPS, its internal CA, reverse_proxy over a
// Docker network to the WebUI's container name) against straight to the stand-in's published port, in
// one run: latency of sequential requests on a kept-alive connection (p50, p99), the same on a new
// connection each (TLS handshake included), and the throughput of 50 concurrent requests.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { docker, dockerStatus } from "../helpers/docker.js";
import { startStandinContainer } from "../helpers/standin.js";
import { ensureCaddyImage } from "../helpers/tls-builds.js";
import { median, percentile, round, Skip } from "./stats.js";
import { caddyfile } from "../../infra/tls/caddyfile.js";
import { PROXY_PORTS } from "../../infra/tls/caddyfile.js";
import { parseCli } from "../../smoke/cli-flags.js";
import { LocalHost } from "../../smoke/host.js";
import { runSmoke } from "../../smoke/run.js";
import { makeModelsDir } from "../helpers/standin.js";
import { chownSync } from "node:fs";
import type { Section } from "./stats.js";

const API_USER = "bench";
const API_PW = "bench-tls-pw-73be01";
const AUTH = `Basic ${Buffer.from(`${API_USER}:${API_PW}`).toString("base64")}`;
const PATH = "/sdapi/v1/sd-models";
const SEQUENTIAL = 200;
const CONCURRENCY = 50;
const CONCURRENT_TOTAL = 2000;
const FRESH = 50;
const WARMUP = 20;
/** Caddy's HTTPS port inside its container (the program's); published on a random loopback port. */
const HTTPS_PORT = PROXY_PORTS.https;
const UI_USER = "viewer";
const UI_PW = "bench-tls-ui-pw-5d1e";
const ROOT_CRT = "caddy/pki/authorities/local/root.crt";

async function get(url: string, dispatcher: Agent): Promise<void> {
  const r = await request(url, { dispatcher, headers: { authorization: AUTH } });
  await r.body.arrayBuffer();
  if (r.statusCode !== 200) throw new Error(`GET ${url} answered ${r.statusCode}`);
}

/** Milliseconds of each of `n` sequential GETs on one kept-alive connection (after a warm-up). */
async function sequential(url: string, agentOpts: Agent.Options, n: number): Promise<number[]> {
  const agent = new Agent({ ...agentOpts, connections: 1 });
  try {
    for (let i = 0; i < WARMUP; i++) await get(url, agent);
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await get(url, agent);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return ms;
  } finally {
    await agent.close();
  }
}

/** Milliseconds of each of `n` GETs, each on a new connection (TCP, and TLS when https). */
async function fresh(url: string, agentOpts: Agent.Options, n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const agent = new Agent({ ...agentOpts, connections: 1 });
    const t0 = process.hrtime.bigint();
    await get(url, agent);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await agent.close();
  }
  return ms;
}

/** CPU milliseconds a process (all its threads) has used: utime + stime from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

interface Load {
  rps: number;
  cpuUs: { client: number; standin: number; caddy: number };
}

/**
 * Requests per second for `total` GETs with `CONCURRENCY` in flight on as many connections, and the CPU
 * each party spent per request meanwhile (the client is this process; the others by their container's pid).
 */
async function throughput(
  url: string,
  agentOpts: Agent.Options,
  total: number,
  pids: { standin: number; caddy: number },
): Promise<Load> {
  const agent = new Agent({ ...agentOpts, connections: CONCURRENCY });
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, () => get(url, agent))); // open every connection
    let next = 0;
    const before = { client: process.cpuUsage(), standin: cpuMs(pids.standin), caddy: cpuMs(pids.caddy) };
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < total) {
          next++;
          await get(url, agent);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const client = process.cpuUsage(before.client);
    const perRequest = (ms: number) => (ms * 1000) / total;
    return {
      rps: total / seconds,
      cpuUs: {
        client: (client.user + client.system) / total,
        standin: perRequest(cpuMs(pids.standin) - before.standin),
        caddy: perRequest(cpuMs(pids.caddy) - before.caddy),
      },
    };
  } finally {
    await agent.close();
  }
}

async function waitFor(
  what: string,
  limitMs: number,
  check: () => Promise<boolean> | boolean,
  logs: () => string,
): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > limitMs) throw new Error(`${what}: not within ${limitMs} ms:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function tlsProxySection(runs: number, log: (l: string) => void): Promise<Section> {
  const status = dockerStatus();
  if (!status.ok) throw new Skip(`no Docker engine reachable (${status.detail})`);
  log("bench: (g) building or checking the Caddy image (npm run caddy:image)");
  const image = ensureCaddyImage();
  const id = randomBytes(4).toString("hex");
  const network = `sd-bench-tls-${id}`;
  const caddyName = `sd-bench-caddy-${id}`;
  const webuiName = `sd-bench-webui-${id}`;
  const dir = mkdtempSync(join(tmpdir(), "sd-bench-tls-"));
  let stopStandin: (() => Promise<void>) | undefined;
  const caddyLogs = () => {
    const r = spawnSync("docker", ["logs", caddyName], { encoding: "utf8", timeout: 15_000 });
    return `${r.stdout ?? ""}${r.stderr ?? ""}`;
  };
  try {
    docker(["network", "create", network]);
    const outputs = join(dir, "outputs");
    mkdirSync(outputs);
    if (process.getuid?.() === 0) chownSync(outputs, 1000, 1000);
    const models = makeModelsDir(join(dir, "models"));
    const webui = await startStandinContainer({
      name: webuiName,
      args: ["--api", "--api-auth", `${API_USER}:${API_PW}`, "--gradio-auth", `${UI_USER}:${UI_PW}`],
      outputsHostDir: outputs,
      modelsHostDir: models,
      timeoutMs: 30_000,
    });
    stopStandin = webui.stop;
    docker(["network", "connect", network, webuiName]);
    mkdirSync(join(dir, "data"));
    // The program's own proxy configuration (tls internal), reaching the stand-in by its container name.
    writeFileSync(
      join(dir, "Caddyfile"),
      caddyfile({
        mode: "internal",
        host: "127.0.0.1",
        publicPort: HTTPS_PORT,
        upstream: { host: webuiName, port: 8080 },
      }),
    );
    docker([
      "run",
      "-d",
      "--name",
      caddyName,
      "--network",
      network,
      "-p",
      `127.0.0.1::${HTTPS_PORT}`,
      "-v",
      `${join(dir, "Caddyfile")}:/etc/caddy/Caddyfile:ro`,
      "-v",
      `${join(dir, "data")}:/data`,
      image,
    ]);
    const mapped =
      docker(["port", caddyName, `${HTTPS_PORT}/tcp`])
        .trim()
        .split("\n")[0] ?? "";
    const proxyUrl = `https://127.0.0.1:${mapped.slice(mapped.lastIndexOf(":") + 1)}${PATH}`;
    const directUrl = `${webui.url}${PATH}`;
    const rootFile = join(dir, "data", ROOT_CRT);
    await waitFor("Caddy's internal root certificate", 30_000, () => existsSync(rootFile), caddyLogs);
    const rootPem = readFileSync(rootFile, "utf8");
    const tlsAgent: Agent.Options = { connect: { ca: rootPem } };
    await waitFor(
      `Caddy answering ${proxyUrl}`,
      30_000,
      async () => {
        const a = new Agent(tlsAgent);
        try {
          await get(proxyUrl, a);
          return true;
        } catch {
          return false;
        } finally {
          await a.close();
        }
      },
      caddyLogs,
    );

    const smoke = { direct: [] as number[], proxy: [] as number[] };
    const smokeOnce = async (url: string, ca: string | undefined): Promise<number> => {
      const flags = parseCli([
        "--url",
        url,
        "--username",
        API_USER,
        "--password-env",
        "UNUSED",
        "--ui-username",
        UI_USER,
        "--ui-password-env",
        "UNUSED",
        "--outputs-dir",
        outputs,
        "--models-dir",
        models,
        "--timeout",
        "60",
        ...(ca ? ["--tls-ca-env", "UNUSED"] : []),
      ]);
      if (flags === "help") throw new Error("unexpected help");
      const t0 = Date.now();
      await runSmoke({
        flags,
        apiPassword: API_PW,
        uiPassword: UI_PW,
        tlsCa: ca,
        host: new LocalHost(),
        hostUp: async () => true,
        log: () => {},
      });
      return Date.now() - t0;
    };
    const lat = { direct: [] as number[], proxy: [] as number[] };
    const hs = { direct: [] as number[], proxy: [] as number[] };
    const load = { direct: [] as Load[], proxy: [] as Load[] };
    const pid = (name: string) => Number(docker(["inspect", name, "--format", "{{.State.Pid}}"]).trim());
    const pids = { standin: pid(webuiName), caddy: pid(caddyName) };
    for (let i = 0; i < runs; i++) {
      log(`bench: (g) run ${i + 1}/${runs}: direct and through Caddy`);
      lat.direct.push(...(await sequential(directUrl, {}, SEQUENTIAL)));
      lat.proxy.push(...(await sequential(proxyUrl, tlsAgent, SEQUENTIAL)));
      hs.direct.push(...(await fresh(directUrl, {}, FRESH)));
      hs.proxy.push(...(await fresh(proxyUrl, tlsAgent, FRESH)));
      load.direct.push(await throughput(directUrl, {}, CONCURRENT_TOTAL, pids));
      load.proxy.push(await throughput(proxyUrl, tlsAgent, CONCURRENT_TOTAL, pids));
      smoke.direct.push(await smokeOnce(webui.url, undefined));
      smoke.proxy.push(await smokeOnce(proxyUrl.replace(PATH, ""), rootPem));
    }
    const p = (xs: number[], q: number) => round(percentile(xs, q), 2);
    const overheadP50 = percentile(lat.proxy, 50) - percentile(lat.direct, 50);
    const rps = { direct: load.direct.map((l) => l.rps), proxy: load.proxy.map((l) => l.rps) };
    const ratio = median(rps.proxy) / median(rps.direct);
    const cpu = (k: "direct" | "proxy", who: keyof Load["cpuUs"]) => round(median(load[k].map((l) => l.cpuUs[who])), 0);
    const row = (name: string, k: "direct" | "proxy") => [
      name,
      String(p(lat[k], 50)),
      String(p(lat[k], 99)),
      String(p(hs[k], 50)),
      String(p(hs[k], 99)),
      String(round(median(rps[k]), 0)),
    ];
    return {
      id: "tls-proxy",
      title: "(g) HTTPS through Caddy vs plain HTTP straight to the stand-in",
      status: "ok",
      runs,
      target: {
        text: "p50 overhead ≤ 2 ms on loopback, throughput ≥ 0.8× direct",
        met: overheadP50 <= 2 && ratio >= 0.8,
      },
      figures: {
        image,
        keptAliveMs: {
          direct: { p50: p(lat.direct, 50), p99: p(lat.direct, 99) },
          proxy: { p50: p(lat.proxy, 50), p99: p(lat.proxy, 99) },
        },
        newConnectionMs: {
          direct: { p50: p(hs.direct, 50), p99: p(hs.direct, 99) },
          proxy: { p50: p(hs.proxy, 50), p99: p(hs.proxy, 99) },
        },
        requestsPerSecond: { direct: round(median(rps.direct), 0), proxy: round(median(rps.proxy), 0) },
        p50OverheadMs: round(overheadP50, 2),
        p99Ratio: round(percentile(lat.proxy, 99) / percentile(lat.direct, 99), 2),
        throughputRatio: round(ratio, 2),
        smokeMs: { direct: median(smoke.direct), proxy: median(smoke.proxy) },
        cpuMicrosecondsPerRequest: {
          direct: { client: cpu("direct", "client"), standin: cpu("direct", "standin") },
          proxy: { client: cpu("proxy", "client"), standin: cpu("proxy", "standin"), caddy: cpu("proxy", "caddy") },
        },
      },
      table: [
        [
          "path",
          "p50 kept-alive (ms)",
          "p99 kept-alive (ms)",
          "p50 new connection (ms)",
          "p99 new connection (ms)",
          `req/s at ${CONCURRENCY} concurrent`,
        ],
        row("direct (HTTP, published port)", "direct"),
        row("through Caddy (HTTPS, internal CA)", "proxy"),
        [
          "proxy − direct / proxy ÷ direct",
          `+${round(overheadP50, 2)}`,
          `×${round(percentile(lat.proxy, 99) / percentile(lat.direct, 99), 2)}`,
          `+${round(percentile(hs.proxy, 50) - percentile(hs.direct, 50), 2)}`,
          "",
          `×${round(ratio, 2)}`,
        ],
        [
          "the whole smoke (ms, median)",
          `direct ${median(smoke.direct)}`,
          `through Caddy ${median(smoke.proxy)}`,
          `+${median(smoke.proxy) - median(smoke.direct)}`,
          "",
          "",
        ],
      ],
      notes: [
        `GET ${PATH} with Basic auth (a small JSON answer), the stand-in's port published on 127.0.0.1 vs Caddy (${image}) published on 127.0.0.1 and proxying to the stand-in's container name over a user-defined Docker network; both through Docker's port publishing.`,
        `Per run: ${SEQUENTIAL} sequential requests on one kept-alive connection after ${WARMUP} warm-up ones, ${FRESH} requests on a new connection each, and ${CONCURRENT_TOTAL} requests with ${CONCURRENCY} in flight on ${CONCURRENCY} connections. Percentiles over all runs' samples; requests per second the median of the runs.`,
        "The whole smoke: runSmoke end to end, plain against the published port, and over HTTPS through Caddy pinning its root (which adds the certificate check and the probes for a way around the proxy).",
        "Client, stand-in and Caddy share the machine's cores, so the throughput ratio includes Caddy's CPU taken from the other two. " +
          `CPU per request at ${CONCURRENCY} concurrent (µs, median of runs): direct: client ${cpu("direct", "client")}, stand-in ${cpu("direct", "standin")}; ` +
          `through Caddy: client ${cpu("proxy", "client")}, stand-in ${cpu("proxy", "standin")}, Caddy ${cpu("proxy", "caddy")} (Docker's port proxy, in both paths, not counted).`,
      ],
    };
  } finally {
    const quietly = (args: string[]) => {
      try {
        docker(args, { timeoutMs: 30_000 });
      } catch {
        /* already gone */
      }
    };
    quietly(["rm", "-f", caddyName]);
    await stopStandin?.();
    quietly(["network", "rm", network]);
    // Caddy writes its storage as root; the bench runs as root where Docker is usable.
    rmSync(dir, { recursive: true, force: true });
  }
}
