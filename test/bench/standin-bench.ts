// (a) smoke overhead over the bare generation request and (b) bytes over the wire for the proof request
// with send_images false vs true, both against the stand-in WebUI in a container on the local engine.
import { chownSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "../../smoke/client.js";
import { parseCli } from "../../smoke/cli-flags.js";
import type { CliFlags } from "../../smoke/cli-flags.js";
import { LocalHost } from "../../smoke/host.js";
import { newRunId, newSeed, proofBody } from "../../smoke/proof.js";
import { runSmoke } from "../../smoke/run.js";
import type { Timings } from "../../smoke/run.js";
import { dockerStatus } from "../helpers/docker.js";
import { makeModelsDir, startStandinContainer } from "../helpers/standin.js";
import { median, round, Skip, timed } from "./stats.js";
import type { Section } from "./stats.js";
import { countingRelay } from "./wire.js";

const API_USER = "bench";
const API_PW = "bench-api-pw-4f9c2a";
const UI_USER = "viewer";
const UI_PW = "bench-ui-pw-81d0e7";
// The program's default proof image (sdwebui:smokeWidth/Height/Steps).
const PROOF = { width: 256, height: 256, steps: 4 };

async function post(url: string, body: Record<string, unknown>): Promise<{ status: number; bytes: Buffer }> {
  const client = new ApiClient({ baseUrl: url, username: API_USER, password: API_PW, connectTimeoutMs: 5000 });
  try {
    const r = await client.raw("POST", "/sdapi/v1/txt2img", {
      timeoutMs: 60_000,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (r.status !== 200)
      throw new Error(`POST /sdapi/v1/txt2img answered ${r.status}: ${r.body.toString("utf8").slice(0, 300)}`);
    return { status: r.status, bytes: r.body };
  } finally {
    await client.close();
  }
}

const proof = (width: number, height: number, steps: number, sendImages: boolean) => ({
  ...proofBody({
    mode: "txt2img",
    prompt: "a lighthouse on a cliff at dawn",
    steps,
    width,
    height,
    runId: newRunId(),
    seed: newSeed(),
  }),
  send_images: sendImages,
});

async function smokeOverhead(url: string, flags: CliFlags, runs: number): Promise<Section> {
  const bare: number[] = [];
  const smoke: number[] = [];
  const phases: Timings[] = [];
  const once = async (record: boolean) => {
    const b = await timed(() => post(url, proof(PROOF.width, PROOF.height, PROOF.steps, false)));
    const s = await timed(() =>
      runSmoke({
        flags,
        apiPassword: API_PW,
        uiPassword: UI_PW,
        host: new LocalHost(),
        hostUp: async () => true,
        log: () => {},
      }),
    );
    if (!record) return;
    bare.push(b.ms);
    smoke.push(s.ms);
    phases.push(s.value.timings);
  };
  await once(false); // warm-up: first connection, first save into a new dated folder
  for (let i = 0; i < runs; i++) await once(true);
  const bareMs = median(bare);
  const smokeMs = median(smoke);
  const overheadMs = smokeMs - bareMs;
  const allowedMs = Math.max(0.1 * bareMs, 100);
  const ph = (k: keyof Timings) => round(median(phases.map((p) => p[k])), 1);
  return {
    id: "smoke-overhead",
    title: "Smoke overhead over the bare generation request",
    status: "ok",
    runs,
    target: {
      text: `smoke − bare < max(10% of bare, 100 ms) = ${round(allowedMs, 1)} ms`,
      met: overheadMs < allowedMs,
    },
    figures: {
      bareMs: round(bareMs, 1),
      smokeMs: round(smokeMs, 1),
      overheadMs: round(overheadMs, 1),
      overheadPct: round((overheadMs / bareMs) * 100, 1),
      smokePhasesMs: {
        ready: ph("readyMs"),
        generate: ph("generateMs"),
        locate: ph("locateMs"),
        lock: ph("lockMs"),
        total: ph("totalMs"),
      },
      image: `${PROOF.width}x${PROOF.height}, ${PROOF.steps} steps`,
    },
    table: [
      ["bare POST /sdapi/v1/txt2img (ms)", "full smoke (ms)", "overhead (ms)", "overhead (%)", "allowed (ms)"],
      [
        String(round(bareMs, 1)),
        String(round(smokeMs, 1)),
        String(round(overheadMs, 1)),
        String(round((overheadMs / bareMs) * 100, 1)),
        String(round(allowedMs, 1)),
      ],
    ],
    notes: [
      `Bare = one POST of the proof's own body (${PROOF.width}x${PROOF.height}, ${PROOF.steps} steps, save_images true, send_images false) on a fresh connection. Smoke = runSmoke end to end: readiness (GET sd-models + a 1-step 64x64 generation), GET options, the proof generation, locate + PNG check on the host, lock proof (unauthenticated probes, UI login, /file= download).`,
      `Smoke phases (median ms): ready ${ph("readyMs")}, generate ${ph("generateMs")}, locate ${ph("locateMs")}, lock ${ph("lockMs")}.`,
      "The stand-in generates in milliseconds, so the overhead here is the smoke's own request/file work. A real GPU generation takes seconds, so the same absolute overhead is a much smaller share there; the readiness generation (1 step, 64x64) is the part that grows with a real model.",
      "Runs alternate bare and smoke after one warm-up pair.",
    ],
  };
}

async function wireBytes(hostPort: number, runs: number): Promise<Section> {
  const relay = await countingRelay("127.0.0.1", hostPort);
  try {
    const measure = async (send: boolean) => {
      const totals: number[] = [];
      const downs: number[] = [];
      const ups: number[] = [];
      let png = 0;
      for (let i = 0; i < runs; i++) {
        relay.reset();
        const r = await post(relay.url, proof(512, 512, PROOF.steps, send));
        const c = relay.read();
        totals.push(c.up + c.down);
        downs.push(c.down);
        ups.push(c.up);
        if (send)
          png = Buffer.from(
            (JSON.parse(r.bytes.toString("utf8")) as { images: string[] }).images[0] ?? "",
            "base64",
          ).length;
      }
      return { total: median(totals), down: median(downs), up: median(ups), png };
    };
    const off = await measure(false);
    const on = await measure(true);
    const ratio = on.total / off.total;
    return {
      id: "wire-bytes",
      title: "Bytes over the wire: proof request at 512x512, send_images false vs true",
      status: "ok",
      runs,
      target: {
        text: "send_images:false sends far fewer bytes (ratio true/false reported)",
        met: on.total > off.total,
      },
      figures: {
        sendImagesFalse: { upBytes: off.up, downBytes: off.down, totalBytes: off.total },
        sendImagesTrue: { upBytes: on.up, downBytes: on.down, totalBytes: on.total, pngBytes: on.png },
        ratioTotal: round(ratio, 1),
        ratioResponse: round(on.down / off.down, 1),
        savedBytes: on.total - off.total,
      },
      table: [
        ["send_images", "request bytes", "response bytes", "total bytes"],
        ["false", String(off.up), String(off.down), String(off.total)],
        ["true", String(on.up), String(on.down), String(on.total)],
        ["ratio true/false", "", String(round(on.down / off.down, 1)), String(round(ratio, 1))],
      ],
      notes: [
        "Counted at a loopback TCP relay in front of the published port: every byte of the HTTP exchange (headers and body) each way, fresh connection per request.",
        `The stand-in's 512x512 PNG is ${on.png} bytes (base64 in the JSON answer adds a third), about what a real SD 512x512 PNG weighs (typically 300-500 KB), so the ratio carries over.`,
        "The client sends no Accept-Encoding (as the smoke's undici client). A real WebUI gzips answers over 1000 bytes when asked; base64 PNG data shrinks only about a quarter under gzip, so the ratio would stay in the same order.",
      ],
    };
  } finally {
    await relay.close();
  }
}

export async function standinSections(runs: number, log: (l: string) => void): Promise<Section[]> {
  const docker = dockerStatus();
  if (!docker.ok) throw new Skip(`no Docker engine reachable (${docker.detail})`);
  const root = mkdtempSync(join(tmpdir(), "sd-bench-standin-"));
  let stop: (() => Promise<void>) | undefined;
  try {
    const outputs = join(root, "outputs");
    mkdirSync(outputs);
    // The image writes as uid 1000 (universonic profile); as root we hand it the folder.
    if (process.getuid?.() === 0) chownSync(outputs, 1000, 1000);
    const models = makeModelsDir(join(root, "models"));
    log("bench: starting the stand-in container");
    const c = await startStandinContainer({
      args: ["--api", "--api-auth", `${API_USER}:${API_PW}`, "--gradio-auth", `${UI_USER}:${UI_PW}`],
      outputsHostDir: outputs,
      modelsHostDir: models,
      timeoutMs: 30_000,
    });
    stop = c.stop;
    const flags = parseCli([
      "--url",
      c.url,
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
      "--container",
      c.containerName,
      "--timeout",
      "60",
      "--width",
      String(PROOF.width),
      "--height",
      String(PROOF.height),
      "--steps",
      String(PROOF.steps),
    ]);
    if (flags === "help") throw new Error("unexpected help");
    log("bench: (a) smoke overhead");
    const a = await smokeOverhead(c.url, flags, runs);
    log("bench: (b) bytes over the wire");
    const b = await wireBytes(c.hostPort, runs);
    return [a, b];
  } finally {
    await stop?.();
    rmSync(root, { recursive: true, force: true });
  }
}
