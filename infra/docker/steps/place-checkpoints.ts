// The checkpoint placement step: a POSIX sh script, run as root on the Docker host before the container
// starts, that leaves exactly the declared files in <modelsDir>/Stable-diffusion. A file already there with
// the right sha256 is kept (no download); anything else is fetched into a root-only staging folder next to
// the target (resuming an earlier partial download), under a lock per file, bounded in size, checked against
// its sha256 and only then linked into place (root-owned, mode 0644). It never changes or removes a file it
// did not write, and it has no delete step: models outlive the stack. How it keeps root from being turned
// against the host by a container that writes the models folder: infra/docker/steps/place-checkpoints-sh.ts.
import { PLACEMENT_FUNCTIONS } from "./place-checkpoints-sh.js";
import { CHECKPOINTS_SUBDIR, Checkpoint, fileNameProblem } from "../../config/checkpoints.js";
import { ENTER_DIR_SH } from "./host-walk.js";
import { assertSafeAbsolutePath, shellQuote } from "../../../lib/shell.js";

/** The bound on a download whose size neither sizeBytes nor the server gives (20 GiB: above any SD checkpoint). */
export const DEFAULT_SIZE_CAP_BYTES = 20 * 1024 ** 3;
/** How long a placement waits for another one of the same file on the same host (e.g. a second stack). */
export const DEFAULT_LOCK_WAIT_SECONDS = 2 * 3600;

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

function entryLine(c: Checkpoint): string {
  // Checked again at the shell boundary: the setting's validator has refused anything else already.
  if (fileNameProblem(c.fileName) !== "") throw new Error(`checkpoints: "${c.fileName}" is not a safe file name`);
  if (!/^[0-9a-f]{64}$/.test(c.sha256)) throw new Error(`checkpoints: "${c.sha256}" is not a sha256`);
  const size = c.sizeBytes ?? "";
  if (size !== "" && !(Number.isSafeInteger(size) && size > 0)) throw new Error(`checkpoints: sizeBytes ${size} is not a size`);
  if (c.source.kind === "path") {
    assertSafeAbsolutePath(c.source.path, "checkpoints");
    return `place ${shellQuote(c.fileName)} ${c.sha256} path ${shellQuote(c.source.path)} 0 '${size}'`;
  }
  const url = c.source.url.href;
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(url) || url.includes("'")) throw new Error(`checkpoints: "${url}" is not a plain http(s) URL`);
  return `place ${shellQuote(c.fileName)} ${c.sha256} url '${url}' ${c.useToken ? 1 : 0} '${size}'`;
}

const whole = (n: number, what: string): number => {
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`checkpoints: ${what} ${n} is not a positive whole number`);
  return n;
};

export function placementScript(input: PlacementInput): string {
  assertSafeAbsolutePath(input.modelsDir, "checkpoints");
  const written = input.writtenDirs ?? [input.modelsDir];
  for (const d of written) assertSafeAbsolutePath(d, "checkpoints");
  const tools: [string, string][] = [["sha256sum", "coreutils"], ["stat", "coreutils"], ["dd", "coreutils"], ["df", "coreutils"], ["readlink", "coreutils"], ["ln", "coreutils"], ["flock", "util-linux"]];
  return `set -eu
umask 022
models_dir=${shellQuote(input.modelsDir)}
ckpt=${CHECKPOINTS_SUBDIR}
stall=${whole(input.stallSeconds ?? 60, "stallSeconds")}
every=${whole(input.progressSeconds ?? 5, "progressSeconds")}
attempts=${whole(input.attempts ?? 5, "attempts")}
lock_limit=${whole(input.lockWaitSeconds ?? DEFAULT_LOCK_WAIT_SECONDS, "lockWaitSeconds")}
size_cap=${whole(input.sizeCapBytes ?? DEFAULT_SIZE_CAP_BYTES, "sizeCapBytes")}
fail() { printf 'sdwebui checkpoints: %s\\n' "$*" >&2; exit 1; }
say() { printf 'sdwebui checkpoints: %s\\n' "$*"; }
${tools.map(([tool, pkg]) => `command -v ${tool} >/dev/null 2>&1 || fail "${tool} is missing on this host; install ${pkg}"`).join("\n")}
[ -d "$models_dir" ] || fail "$models_dir does not exist (the host folders step creates it); run pulumi up again"
models=$(cd -P -- "$models_dir" && pwd -P) || fail "cannot enter $models_dir"
written_phys=""
add_written() { [ ! -d "$1" ] || written_phys="$written_phys $(cd -P -- "$1" && pwd -P)"; }
${written.map((d) => `add_written ${shellQuote(d)}`).join("\n")}
token_header=""
${needsToken(input.checkpoints) ? 'IFS= read -r token_header || true\n[ -n "$token_header" ] || fail "no token reached the placement step on its stdin (checkpointToken)"' : ""}
${ENTER_DIR_SH}${PLACEMENT_FUNCTIONS}
(enter_dir "$models" "$ckpt" refuse)
${input.checkpoints.map(entryLine).join("\n")}
say "${input.checkpoints.length} checkpoint(s) in place in $models/$ckpt"
`;
}
