// The smoke step end to end: readiness, save settings, proof request, locate and verify the file on the
// host, prove the lock. Returns a report or throws a SmokeError (one failure class each).
import { ApiClient, HttpError, NetError } from "./client.js";
import { checkCheckpoints, modelInfotextMismatches, parseDeclared } from "./checkpoint-proof.js";
import type { CheckpointsReport } from "./checkpoint-proof.js";
import { classifyGenerationError } from "./classify.js";
import type { CliFlags } from "./cli-flags.js";
import { diagnoseNotFound, diagnoseNotReached } from "./diagnose.js";
import { inClusterApi, waitForRollout } from "./rollout.js";
import type { ApiGet } from "./rollout.js";
import { SmokeError } from "./errors.js";
import { HostDeniedError, HostLinkError } from "./host.js";
import type { HostAccess } from "./host.js";
import { describeSearch, locate } from "./locate.js";
import { proveLock } from "./lock.js";
import type { LockReport } from "./lock.js";
import { containerToHost, hostToContainer, resolveContainerOutdir, saveLayout } from "./paths.js";
import { PngError, pngMismatches, readPng } from "./png.js";
import type { PngInfo } from "./png.js";
import { newRunId, newSeed, runProof } from "./proof.js";
import type { ProofResult } from "./proof.js";
import { NotReachedError, waitForApi, waitForModel } from "./readiness.js";
import type { Clock } from "./readiness.js";
import { OptionsSchema, SchemaError, SdModelsSchema } from "./schemas.js";
import { proveCertificate, proveNoBypass, type TlsReport } from "./tls-proof.js";
import type { Options } from "./schemas.js";

export interface SmokeInput {
  flags: CliFlags;
  apiPassword: string;
  uiPassword: string;
  /** HTTPS: the root certificate(s) to pin, PEM (default: the system's roots). */
  tlsCa?: string;
  host: HostAccess;
  hostUp: () => Promise<boolean>;
  log: (line: string) => void;
  /** The Kubernetes API for --kubernetes-rollout (tests); default: the pod's own service account. */
  kubernetesApi?: ApiGet;
}

export interface Timings {
  readyMs: number;
  generateMs: number;
  locateMs: number;
  lockMs: number;
  totalMs: number;
}

export interface SmokeReport {
  ok: true;
  mode: "txt2img" | "img2img";
  file: string;
  containerFile: string;
  bytes: number;
  width: number;
  height: number;
  seed: number;
  runId: string;
  searched: string[];
  lock: LockReport;
  /** The declared checkpoints as the WebUI serves them (when --checkpoint was given). */
  checkpoints?: CheckpointsReport;
  /** HTTPS: the certificate served and the ways around the proxy found closed. */
  tls?: TlsReport;
  timings: Timings;
}

/** Progress of a run, so a failure report can still show the run id, seed and timings so far. */
export interface RunState {
  runId: string;
  seed?: number;
  timings: Partial<Timings>;
}

export async function runSmoke(
  i: SmokeInput,
  state: RunState = { runId: newRunId(), timings: {} },
): Promise<SmokeReport> {
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
  const url = new URL(f.url);
  const mode = f.img2img ? "img2img" : "txt2img";
  const ctx = {
    expectedUid: f["expected-uid"],
    hostOutputsDir: f["outputs-dir"],
    modelsHint: f["models-dir"] ?? `the host folder mounted at ${f["container-data-root"]}/models`,
  };
  try {
    // 0. on Kubernetes: every replica rolled out (the proof then reaches any of them through the Service)
    const rollout = f["kubernetes-rollout"];
    if (rollout) {
      const [namespace, deployment] = rollout.split("/") as [string, string];
      await waitForRollout(
        i.kubernetesApi ?? inClusterApi(),
        { namespace, deployment, gpuResource: f["gpu-resource"] },
        Date.now() + f["rollout-timeout"] * 1000,
        i.log,
      );
      c.deadline = Date.now() + f.timeout * 1000;
    }
    // 1. readiness: over HTTPS, first the certificate the proxy serves
    const certificate =
      url.protocol === "https:" ? await proveCertificate(url, i.tlsCa, f["tls-servername"], c) : undefined;
    await waitUntilReady(client, c, i, ctx);
    state.timings.readyMs = Date.now() - start;

    // 2. where will it save?
    const options = await getOptions(client, c, ctx);
    const checkpoints = f.checkpoint.length > 0 ? await proveCheckpoints(client, c, options, f) : undefined;
    const target = saveTarget(options, mode, f);

    // 3. the proof request
    const seedWanted = newSeed();
    const g0 = Date.now();
    const proof = await runProof(
      client,
      c,
      {
        mode,
        prompt: f.prompt,
        steps: f.steps,
        width: f.width,
        height: f.height,
        runId: state.runId,
        seed: seedWanted,
      },
      ctx,
    ).catch((e: unknown) => enrichPermission(e, i.host, f["outputs-dir"], f["expected-uid"]));
    state.seed = proof.seed;
    state.timings.generateMs = Date.now() - g0;

    // 4. find and verify the file on the host
    const l0 = Date.now();
    const { found, bytes, png } = await findProvenFile(i, options, target, proof, state.runId);
    if (checkpoints) {
      const wrong = modelInfotextMismatches(png.text.parameters ?? "", checkpoints.loaded, {
        addHash: options.add_model_hash_to_info,
        addName: options.add_model_name_to_info,
      });
      if (wrong.length > 0)
        throw new SmokeError(
          "wrong-checkpoint",
          `the proof image ${found.file} was not made with ${checkpoints.loaded.name}: ${wrong.join("; ")}`,
        );
    }
    state.timings.locateMs = Date.now() - l0;

    // 5. the lock
    const k0 = Date.now();
    const containerFile = hostToContainer(found.file, f["outputs-dir"], f["container-outputs-dir"]) ?? found.file;
    const lock = await proveLock(client, {
      exposure: f.exposure,
      containerFile,
      hostBytes: bytes,
      uiUsername: f["ui-username"] ?? f.username,
      uiPassword: i.uiPassword,
      timeoutMs: Math.max(5000, Math.min(60_000, c.deadline - Date.now())),
    }).catch((e: unknown) => {
      throw e instanceof NetError
        ? new SmokeError("unreachable", `the connection broke during the lock proof (${e.kind}: ${e.code})`)
        : e;
    });
    const tls = certificate
      ? {
          ...certificate,
          bypass: await proveNoBypass({
            url,
            plainPort: f["plain-port"],
            httpPort: f["http-port"],
            timeoutMs: f["connect-timeout"] * 1000,
          }),
        }
      : undefined;
    state.timings.lockMs = Date.now() - k0;
    state.timings.totalMs = Date.now() - start;
    return {
      ok: true,
      mode,
      file: found.file,
      containerFile,
      bytes: bytes.length,
      width: f.width,
      height: f.height,
      seed: proof.seed,
      runId: state.runId,
      searched: describeSearch(found.searched),
      lock,
      ...(checkpoints ? { checkpoints } : {}),
      ...(tls ? { tls } : {}),
      timings: state.timings as Timings,
    };
  } finally {
    state.timings.totalMs = Date.now() - start;
    await client.close();
  }
}

type ProblemContext = Parameters<typeof classifyGenerationError>[1];

/** The API answers and the model is loaded; a silent API is diagnosed (container, firewall, bind). */
async function waitUntilReady(client: ApiClient, c: Clock, i: SmokeInput, ctx: ProblemContext): Promise<void> {
  const f = i.flags;
  try {
    await waitForApi(client, c, { modelsHint: ctx.modelsHint });
  } catch (e) {
    if (e instanceof NotReachedError)
      throw await diagnoseNotReached(e, {
        url: f.url,
        host: i.host,
        hostUp: i.hostUp,
        container: f.container,
        limitS: f.timeout,
      });
    throw e;
  }
  await waitForModel(client, c, ctx);
}

interface SaveTarget {
  outdirOption: string;
  containerOutdir: string;
  hostOutdir: string;
}

/** Where the WebUI will save the proof image, in the container and on the host (through the mount). */
function saveTarget(options: Options, mode: "txt2img" | "img2img", f: CliFlags): SaveTarget {
  const outdirOption = mode === "txt2img" ? options.outdir_txt2img_samples : options.outdir_img2img_samples;
  const containerOutdir = resolveContainerOutdir(outdirOption, f["container-data-root"]);
  const hostOutdir = containerToHost(containerOutdir, f["container-outputs-dir"], f["outputs-dir"]);
  if (hostOutdir === null)
    throw new SmokeError(
      "data-root-mismatch",
      `the WebUI saves ${mode} images to ${containerOutdir} (option outdir_${mode}_samples = "${outdirOption}"), which is not under the mounted ` +
        `outputs folder ${f["container-outputs-dir"]}: the image does not match the profile (data root ${f["container-data-root"]}); pick the image's profile`,
    );
  return { outdirOption, containerOutdir, hostOutdir };
}

/** The proof image on the host: found where the save settings put it, read, and checked as a PNG. */
async function findProvenFile(i: SmokeInput, options: Options, target: SaveTarget, proof: ProofResult, runId: string) {
  const f = i.flags;
  const layout = saveLayout(options, proof.seed, new Date(), proof.info.job_timestamp);
  if ("unsupported" in layout) throw new SmokeError("unsupported-settings", layout.unsupported);
  const found = await locate(i.host, target.hostOutdir, layout);
  if (!found.file)
    throw await diagnoseNotFound({
      host: i.host,
      container: f.container,
      hostOutputsDir: f["outputs-dir"],
      containerOutputsDir: f["container-outputs-dir"],
      containerDataRoot: f["container-data-root"],
      containerOutdir: target.containerOutdir,
      outdirOption: target.outdirOption,
      seed: proof.seed,
      matches: layout.matches,
      searched: found.searched,
    });
  const bytes = await readHostFile(i.host, found.file, f["expected-uid"]);
  const png = verifyPng(found.file, bytes, { width: f.width, height: f.height, runId, seed: proof.seed });
  return { found: { file: found.file, searched: found.searched }, bytes, png };
}

async function getOptions(client: ApiClient, c: Clock, ctx: Parameters<typeof classifyGenerationError>[1]) {
  try {
    return await client.json("GET", "/sdapi/v1/options", OptionsSchema, {
      timeoutMs: Math.max(5000, Math.min(60_000, c.deadline - Date.now())),
    });
  } catch (e) {
    if (e instanceof HttpError) throw classifyGenerationError(e, ctx);
    if (e instanceof SchemaError) throw new SmokeError("bad-response", e.message);
    if (e instanceof NetError)
      throw new SmokeError("unreachable", `GET /sdapi/v1/options failed (${e.kind}: ${e.code})`);
    throw e;
  }
}

/** Add the host folder's owner and mode to a permission failure, so the uid mismatch is visible. */
async function enrichPermission(e: unknown, host: HostAccess, dir: string, uid: number): Promise<never> {
  if (e instanceof SmokeError && e.failure === "permission-denied") {
    const st = await host.stat(dir).catch(() => null);
    if (st)
      throw new SmokeError("permission-denied", e.message, [
        `${dir}: owner uid ${st.uid}, gid ${st.gid}, mode ${st.perm.toString(8)} (the image writes as uid ${uid})`,
      ]);
  }
  throw e;
}

async function readHostFile(host: HostAccess, file: string, uid: number): Promise<Buffer> {
  try {
    return await host.readFile(file);
  } catch (e) {
    if (e instanceof HostDeniedError)
      throw new SmokeError(
        "permission-denied",
        `the smoke cannot read ${file} on the host (${host.description}); the image writes as uid ${uid}: give this user read access`,
      );
    if (e instanceof HostLinkError)
      throw new SmokeError(
        "saved-nowhere",
        `the proof image's name ${file} is not a file the WebUI saved: ${e.message}`,
      );
    throw e;
  }
}

/** The declared checkpoints against what the WebUI lists and has loaded (the model is loaded by now). */
async function proveCheckpoints(
  client: ApiClient,
  c: Clock,
  options: Options,
  f: CliFlags,
): Promise<CheckpointsReport> {
  const declared = parseDeclared(f.checkpoint);
  let models;
  try {
    models = await client.json("GET", "/sdapi/v1/sd-models", SdModelsSchema, {
      timeoutMs: Math.max(5000, Math.min(30_000, c.deadline - Date.now())),
    });
  } catch (e) {
    if (e instanceof SchemaError) throw new SmokeError("bad-response", e.message);
    if (e instanceof HttpError) throw new SmokeError("bad-response", `GET /sdapi/v1/sd-models answered ${e.status}`);
    if (e instanceof NetError)
      throw new SmokeError("unreachable", `GET /sdapi/v1/sd-models failed (${e.kind}: ${e.code})`);
    throw e;
  }
  return checkCheckpoints(models, options.sd_model_checkpoint, declared, f["loaded-checkpoint"] ?? declared[0]!.name);
}

function verifyPng(
  file: string,
  bytes: Buffer,
  want: { width: number; height: number; runId: string; seed: number },
): PngInfo {
  let problems: string[];
  let info: PngInfo;
  try {
    info = readPng(bytes);
    problems = pngMismatches(info, want);
  } catch (e) {
    if (e instanceof PngError)
      throw new SmokeError("bad-png", `${file} (${bytes.length} bytes) is not a valid PNG: ${e.message}`);
    throw e;
  }
  if (problems.length > 0)
    throw new SmokeError("bad-png", `${file} does not match the proof request: ${problems.join("; ")}`);
  return info;
}
