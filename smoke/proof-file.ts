// The proof image on the host: where the save settings put it, found there, read and checked as the PNG
// the proof request asked for (size, run id, seed, and the checkpoint that made it).
import type { CheckpointsReport } from "./checkpoint-proof.js";
import { modelInfotextMismatches } from "./checkpoint-proof.js";
import type { CliFlags } from "./cli-flags.js";
import { diagnoseNotFound } from "./diagnose.js";
import { SmokeError } from "./errors.js";
import { HostDeniedError, HostLinkError } from "./host.js";
import type { HostAccess } from "./host.js";
import { locate } from "./locate.js";
import { containerToHost, resolveContainerOutdir, saveLayout } from "./paths.js";
import { PngError, pngMismatches, readPng } from "./png.js";
import type { PngInfo } from "./png.js";
import type { ProofMode, ProofResult } from "./proof.js";
import type { SmokeInput } from "./run-types.js";
import type { Options } from "./schemas.js";

export interface SaveTarget {
  outdirOption: string;
  containerOutdir: string;
  hostOutdir: string;
}

/** Where the WebUI will save the proof image, in the container and on the host (through the mount). */
export function saveTarget(options: Options, mode: ProofMode, f: CliFlags): SaveTarget {
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
export async function findProvenFile(
  i: SmokeInput,
  options: Options,
  target: SaveTarget,
  proof: ProofResult,
  runId: string,
) {
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

/** The proof image's parameters name the checkpoint the WebUI reports loaded (as far as the options record it). */
export function checkProofModel(file: string, png: PngInfo, checkpoints: CheckpointsReport, options: Options): void {
  const wrong = modelInfotextMismatches(png.text.parameters ?? "", checkpoints.loaded, {
    addHash: options.add_model_hash_to_info,
    addName: options.add_model_name_to_info,
  });
  if (wrong.length > 0)
    throw new SmokeError(
      "wrong-checkpoint",
      `the proof image ${file} was not made with ${checkpoints.loaded.name}: ${wrong.join("; ")}`,
    );
}

/** Add the host folder's owner and mode to a permission failure, so the uid mismatch is visible. */
export async function enrichPermission(e: unknown, host: HostAccess, dir: string, uid: number): Promise<never> {
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
