// The host folders that outlive the container: a POSIX sh script that creates the missing ones with
// the image's owner and refuses, before the container starts, folders that the image's uid cannot
// write. It never changes or removes what already exists: saved images are never at risk.
import { assertSafeAbsolutePath, shellQuote } from "./shell.js";
import { CHECKPOINTS_SUBDIR } from "./config/checkpoints.js";

export interface FoldersInput {
  outputsDir: string;
  /** Per-container outputs sub-folders (scale-out), each checked like outputsDir. */
  instanceOutputsDirs?: string[];
  modelsDir: string;
  uid: number;
  gid: number;
  /** Profile name, for the messages. */
  profile: string;
}


export function folderList(input: FoldersInput): string[] {
  return [input.outputsDir, ...(input.instanceOutputsDirs ?? []), input.modelsDir, `${input.modelsDir}/${CHECKPOINTS_SUBDIR}`];
}

/** The create script. Inputs are validated again here: this is the boundary to the shell. */
export function foldersScript(input: FoldersInput): string {
  for (const d of [input.outputsDir, ...(input.instanceOutputsDirs ?? []), input.modelsDir]) assertSafeAbsolutePath(d, "folders");
  for (const n of [input.uid, input.gid]) if (!Number.isInteger(n) || n < 0) throw new Error(`folders: "${n}" is not a uid/gid`);
  const owner = `${input.uid}:${input.gid}`;
  const dirs = folderList(input).map(shellQuote).join(" ");
  return `set -eu
uid=${input.uid}
gid=${input.gid}
fail() { echo "sdwebui folders: $*" >&2; exit 1; }
# writable_by DIR: can uid:gid write DIR? (root can write anything; otherwise owner, group or other bits)
writable_by() {
  [ "$uid" -eq 0 ] && return 0
  # shellcheck disable=SC2046 # split stat's three fields into $1 $2 $3
  set -- $(stat -c '%u %g %a' "$1")
  mode=$((0$3))
  if [ "$1" -eq "$uid" ]; then [ $((mode & 0300)) -eq $((0300)) ] && return 0; fi
  if [ "$2" -eq "$gid" ]; then [ $((mode & 0030)) -eq $((0030)) ] && return 0; fi
  [ $((mode & 0003)) -eq $((0003)) ]
}
for d in ${dirs}; do
  if [ ! -d "$d" ]; then
    mkdir -p "$d" || fail "cannot create $d; create it as root: sudo mkdir -p $d && sudo chown ${owner} $d"
    chown ${owner} "$d" || fail "cannot give $d to uid ${owner} (profile ${input.profile}); run: sudo chown ${owner} $d"
    echo "created $d (owner ${owner})"
  fi
done
for d in ${dirs} ${[input.outputsDir, ...(input.instanceOutputsDirs ?? [])].map((d) => `${shellQuote(d)}/*`).join(" ")}; do
  [ -d "$d" ] || continue
  writable_by "$d" || fail "$d is owned by $(stat -c '%u:%g mode %a' "$d"), so the WebUI (profile ${input.profile}, uid ${input.uid}) cannot save there. This program did not create it, so it never changes its owner: choose a new folder (the program creates it for uid ${owner}), or, if the folder is meant for the WebUI alone, run: sudo chown ${owner} $d (this folder only)"
done
echo "host folders ready for uid ${owner}: ${folderList(input).join(" ")}"
`;
}
