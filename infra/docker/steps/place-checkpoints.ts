// The checkpoint placement step: a POSIX sh script (place-checkpoints.sh), run as root on the Docker host
// before the container starts, that leaves exactly the declared files in <modelsDir>/Stable-diffusion. A
// file already there with the right sha256 is kept (no download); anything else is fetched into a
// root-only staging folder next to the target (resuming an earlier partial download), under a lock per
// file, bounded in size, checked against its sha256 and only then linked into place (root-owned, mode
// 0644). It never changes or removes a file it did not write, and it has no delete step: models outlive
// the stack. How it keeps root from being turned against the host by a container that writes the models
// folder: the comments of place-checkpoints.sh.
import { hostScript } from "./host-script.js";
import { CHECKPOINTS_SUBDIR, Checkpoint, fileNameProblem, SOURCE_IN_WRITTEN_FOLDER } from "../../config/checkpoints.js";
import { PROJECT } from "../../config/schema.js";
import { assertSafeAbsolutePath } from "../../../lib/shell.js";

// Downloads and their temporary files live only in a root-owned 0700 staging folder inside the target folder.
/** The staging folder's name inside each target folder: hidden, and unreadable to the WebUI's uid. */
export const STAGING_DIR = ".sdwebui-staging";

/** Where a download of NAME with hash SHA is staged, relative to the checkpoints folder (as place() names it). */
export function stagedPartPath(fileName: string, sha256: string): string {
  const slash = fileName.lastIndexOf("/");
  return `${fileName.slice(0, slash + 1)}${STAGING_DIR}/${fileName.slice(slash + 1)}.${sha256}.part`;
}

/** The bound on a download whose size neither sizeBytes nor the server gives (20 GiB: above any SD checkpoint). */
const DEFAULT_SIZE_CAP_BYTES = 20 * 1024 ** 3;
/** How long a placement waits for another one of the same file on the same host (e.g. a second stack). */
const DEFAULT_LOCK_WAIT_SECONDS = 2 * 3600;

export interface PlacementInput {
  modelsDir: string;
  checkpoints: Checkpoint[];
  /** Folders the containers write (the models and outputs folders): a host-path source there is refused. */
  writtenDirs?: string[];
  /** Seconds below 1 KiB/s after which a download attempt is given up (then resumed, up to `attempts`). */
  stallSeconds?: number;
  attempts?: number;
  /** Seconds between progress lines of a long transfer, and of a wait for another placement's lock. */
  progressSeconds?: number;
  lockWaitSeconds?: number;
  sizeCapBytes?: number;
}

/** Does any entry send the token? Then the script reads the header line from its stdin. */
export const needsToken = (checkpoints: Checkpoint[]): boolean => checkpoints.some((c) => c.useToken);

/** An entry's six words for place-checkpoints.sh: NAME SHA KIND SOURCE USE_TOKEN SIZE. */
function entryWords(c: Checkpoint): string[] {
  // Checked again at the shell boundary: the setting's validator has refused anything else already.
  if (fileNameProblem(c.fileName) !== "") throw new Error(`checkpoints: "${c.fileName}" is not a safe file name`);
  if (!/^[0-9a-f]{64}$/.test(c.sha256)) throw new Error(`checkpoints: "${c.sha256}" is not a sha256`);
  const size = c.sizeBytes ?? "";
  if (size !== "" && !(Number.isSafeInteger(size) && size > 0))
    throw new Error(`checkpoints: sizeBytes ${size} is not a size`);
  if (c.source.kind === "path") {
    assertSafeAbsolutePath(c.source.path, "checkpoints");
    return [c.fileName, c.sha256, "path", c.source.path, "0", String(size)];
  }
  const url = c.source.url.href;
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(url) || url.includes("'"))
    throw new Error(`checkpoints: "${url}" is not a plain http(s) URL`);
  return [c.fileName, c.sha256, "url", url, c.useToken ? "1" : "0", String(size)];
}

const whole = (n: number, what: string): number => {
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`checkpoints: ${what} ${n} is not a positive whole number`);
  return n;
};

/** place-checkpoints.sh (after host-walk.sh's functions) with its settings and entries. */
export function placementScript(input: PlacementInput): string {
  assertSafeAbsolutePath(input.modelsDir, "checkpoints");
  const written = input.writtenDirs ?? [input.modelsDir];
  for (const d of written) assertSafeAbsolutePath(d, "checkpoints");
  return hostScript(
    ["host-walk.sh", "place-checkpoints.sh"],
    [
      input.modelsDir,
      CHECKPOINTS_SUBDIR,
      STAGING_DIR,
      whole(input.stallSeconds ?? 60, "stallSeconds"),
      whole(input.progressSeconds ?? 5, "progressSeconds"),
      whole(input.attempts ?? 5, "attempts"),
      whole(input.lockWaitSeconds ?? DEFAULT_LOCK_WAIT_SECONDS, "lockWaitSeconds"),
      whole(input.sizeCapBytes ?? DEFAULT_SIZE_CAP_BYTES, "sizeCapBytes"),
      needsToken(input.checkpoints) ? 1 : 0,
      written.join("\n"),
      `${PROJECT}:checkpointToken`,
      SOURCE_IN_WRITTEN_FOLDER,
      ...input.checkpoints.flatMap(entryWords),
    ],
  );
}
