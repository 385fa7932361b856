// The smoke step end to end: readiness, save settings, proof request, locate and verify the file on the
// host, prove the lock. Returns a report or throws a SmokeError (one failure class each). Each phase is a
// function of its own; this file keeps their order.
import { ApiClient, NetError } from "./client.js";
import type { CheckpointsReport } from "./checkpoint-proof.js";
import type { GenerationContext } from "./classify.js";
import type { CliFlags } from "./cli-flags.js";
import { SmokeError } from "./errors.js";
import { describeSearch } from "./locate.js";
import { proveLock } from "./lock.js";
import { hostToContainer } from "./paths.js";
import { getOptions, proveCheckpoints, waitUntilReady } from "./prepare.js";
import { checkProofModel, enrichPermission, findProvenFile, saveTarget } from "./proof-file.js";
import type { SaveTarget } from "./proof-file.js";
import { newRunId, newSeed, runProof } from "./proof.js";
import type { ProofMode, ProofResult } from "./proof.js";
import type { Clock } from "./readiness.js";
import { inClusterApi, waitForRollout } from "./rollout.js";
import type { RunState, SmokeInput, SmokeReport, Timings } from "./run-types.js";
import type { Options } from "./schemas.js";
import { proveCertificate, proveNoBypass, type TlsReport } from "./tls-proof.js";

export type { RunState, SmokeInput, SmokeReport, Timings } from "./run-types.js";

/** What the phases of one run share: its input and flags, the deadline, the API client, where problems point. */
interface Run {
  i: SmokeInput;
  f: CliFlags;
  start: number;
  c: Clock;
  client: ApiClient;
  url: URL;
  mode: ProofMode;
  ctx: GenerationContext;
  state: RunState;
}

export async function runSmoke(
  i: SmokeInput,
  state: RunState = { runId: newRunId(), timings: {} },
): Promise<SmokeReport> {
  const r = openRun(i, state);
  try {
    await awaitRollout(r);
    const certificate = await becomeReady(r);
    const options = await getOptions(r.client, r.c, r.ctx);
    const checkpoints = r.f.checkpoint.length > 0 ? await proveCheckpoints(r.client, r.c, options, r.f) : undefined;
    const target = saveTarget(options, r.mode, r.f);
    const proof = await generate(r);
    const file = await locateProof(r, options, target, proof, checkpoints);
    // lockMs covers the lock and, over HTTPS, the probes for a way around the proxy.
    const k0 = Date.now();
    const { containerFile, lock } = await checkLock(r, file.found.file, file.bytes);
    const tls = certificate ? { ...certificate, bypass: await checkNoBypass(r) } : undefined;
    state.timings.lockMs = Date.now() - k0;
    state.timings.totalMs = Date.now() - r.start;
    return {
      ok: true,
      mode: r.mode,
      file: file.found.file,
      containerFile,
      bytes: file.bytes.length,
      width: r.f.width,
      height: r.f.height,
      seed: proof.seed,
      runId: state.runId,
      searched: describeSearch(file.found.searched),
      lock,
      ...(checkpoints ? { checkpoints } : {}),
      ...(tls ? { tls } : {}),
      timings: state.timings as Timings,
    };
  } finally {
    state.timings.totalMs = Date.now() - r.start;
    await r.client.close();
  }
}

/** The clock starts, the client is made; nothing is sent yet. */
function openRun(i: SmokeInput, state: RunState): Run {
  const f = i.flags;
  const start = Date.now();
  const c: Clock = { start, deadline: start + f.timeout * 1000, log: i.log };
  const client = new ApiClient({
    baseUrl: f.url,
    username: f.username,
    password: i.apiPassword,
    connectTimeoutMs: f["connect-timeout"] * 1000,
    ca: i.tlsCa,
    servername: f["tls-servername"],
  });
  const ctx = {
    expectedUid: f["expected-uid"],
    hostOutputsDir: f["outputs-dir"],
    modelsHint: f["models-dir"] ?? `the host folder mounted at ${f["container-data-root"]}/models`,
  };
  return { i, f, start, c, client, url: new URL(f.url), mode: f.img2img ? "img2img" : "txt2img", ctx, state };
}

/** On Kubernetes: every replica rolled out (the proof then reaches any of them through the Service). */
async function awaitRollout(r: Run): Promise<void> {
  const rollout = r.f["kubernetes-rollout"];
  if (!rollout) return;
  const [namespace, deployment] = rollout.split("/") as [string, string];
  await waitForRollout(
    r.i.kubernetesApi ?? inClusterApi(),
    { namespace, deployment, gpuResource: r.f["gpu-resource"] },
    Date.now() + r.f["rollout-timeout"] * 1000,
    r.i.log,
  );
  // The rollout's wait is its own: the smoke's timeout counts from here.
  r.c.deadline = Date.now() + r.f.timeout * 1000;
}

/** Readiness: over HTTPS, first the certificate the proxy serves; then the API and its model. */
async function becomeReady(r: Run): Promise<Omit<TlsReport, "bypass"> | undefined> {
  const certificate =
    r.url.protocol === "https:" ? await proveCertificate(r.url, r.i.tlsCa, r.f["tls-servername"], r.c) : undefined;
  await waitUntilReady(r.client, r.c, r.i, r.ctx);
  r.state.timings.readyMs = Date.now() - r.start;
  return certificate;
}

/** The proof request, with a fresh seed; a permission failure names the host folder's owner. */
async function generate(r: Run): Promise<ProofResult> {
  const f = r.f;
  const seedWanted = newSeed();
  const g0 = Date.now();
  const proof = await runProof(
    r.client,
    r.c,
    {
      mode: r.mode,
      prompt: f.prompt,
      steps: f.steps,
      width: f.width,
      height: f.height,
      runId: r.state.runId,
      seed: seedWanted,
    },
    r.ctx,
  ).catch((e: unknown) => enrichPermission(e, r.i.host, f["outputs-dir"], f["expected-uid"]));
  r.state.seed = proof.seed;
  r.state.timings.generateMs = Date.now() - g0;
  return proof;
}

/** The proof image found and verified on the host, made with the declared checkpoint when one was given. */
async function locateProof(
  r: Run,
  options: Options,
  target: SaveTarget,
  proof: ProofResult,
  checkpoints: CheckpointsReport | undefined,
) {
  const l0 = Date.now();
  const file = await findProvenFile(r.i, options, target, proof, r.state.runId);
  if (checkpoints) checkProofModel(file.found.file, file.png, checkpoints, options);
  r.state.timings.locateMs = Date.now() - l0;
  return file;
}

/** The lock: refused without credentials; with the UI login the proof image downloads as saved. */
async function checkLock(r: Run, file: string, bytes: Buffer) {
  const f = r.f;
  const containerFile = hostToContainer(file, f["outputs-dir"], f["container-outputs-dir"]) ?? file;
  const lock = await proveLock(r.client, {
    exposure: f.exposure,
    containerFile,
    hostBytes: bytes,
    uiUsername: f["ui-username"] ?? f.username,
    uiPassword: r.i.uiPassword,
    timeoutMs: Math.max(5000, Math.min(60_000, r.c.deadline - Date.now())),
  }).catch((e: unknown) => {
    throw e instanceof NetError
      ? new SmokeError("unreachable", `the connection broke during the lock proof (${e.kind}: ${e.code})`)
      : e;
  });
  return { containerFile, lock };
}

/** HTTPS: the ways around the proxy (the WebUI's own port, plain HTTP) are closed. */
function checkNoBypass(r: Run): Promise<TlsReport["bypass"]> {
  return proveNoBypass({
    url: r.url,
    plainPort: r.f["plain-port"],
    httpPort: r.f["http-port"],
    timeoutMs: r.f["connect-timeout"] * 1000,
  });
}
