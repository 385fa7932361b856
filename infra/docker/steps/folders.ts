// The host folders that outlive the container: a POSIX sh script, run as root, that creates the missing
// ones with the image's owner and refuses, before the container starts, folders that the image's uid cannot
// write. It never changes or removes what already exists: saved images are never at risk. The folders inside
// one a container may have written (the checkpoints folder, the scale-out outputs/<slot> folders) are
// entered and created without following a link (infra/docker/steps/host-walk.ts), and given away with chown -h.
import { ENTER_DIR_SH } from "./host-walk.js";
import { assertSafeAbsolutePath, shellQuote } from "../../../lib/shell.js";
import { CHECKPOINTS_SUBDIR } from "../../config/checkpoints.js";

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

/** A folder inside a top-level one: created and checked relative to its parent, never through a link. */
interface Inner {
  parent: string;
  rel: string;
  /** The WebUI only reads it (the checkpoints, mounted read-only): its uid needs r-x, not write. */
  readOnly: boolean;
}

function innerFolders(input: FoldersInput): { tops: string[]; inner: Inner[] } {
  const tops = [input.outputsDir, input.modelsDir];
  const inner: Inner[] = [{ parent: input.modelsDir, rel: CHECKPOINTS_SUBDIR, readOnly: true }];
  for (const d of input.instanceOutputsDirs ?? []) {
    if (d.startsWith(`${input.outputsDir}/`)) inner.push({ parent: input.outputsDir, rel: d.slice(input.outputsDir.length + 1), readOnly: false });
    else tops.push(d);
  }
  return { tops, inner };
}

/** The create script. Inputs are validated again here: this is the boundary to the shell. */
export function foldersScript(input: FoldersInput): string {
  for (const d of [input.outputsDir, ...(input.instanceOutputsDirs ?? []), input.modelsDir]) assertSafeAbsolutePath(d, "folders");
  for (const n of [input.uid, input.gid]) if (!Number.isInteger(n) || n < 0) throw new Error(`folders: "${n}" is not a uid/gid`);
  const owner = `${input.uid}:${input.gid}`;
  const { tops, inner } = innerFolders(input);
  return `set -eu
umask 022
uid=${input.uid}
gid=${input.gid}
fail() { echo "sdwebui folders: $*" >&2; exit 1; }
${ENTER_DIR_SH}
# allowed_by DIR BITS: does uid:gid have the permission BITS (3: write and search, 5: read and search) on DIR?
allowed_by() {
  [ "$uid" -eq 0 ] && return 0
  # shellcheck disable=SC2046 # split stat's three fields into $1 $2 $3
  set -- $(stat -c '%u %g %a' -- "$1") "$2"
  mode=$((0$3))
  if [ "$1" -eq "$uid" ]; then [ $(((mode >> 6) & $4)) -eq "$4" ] && return 0; fi
  if [ "$2" -eq "$gid" ]; then [ $(((mode >> 3) & $4)) -eq "$4" ] && return 0; fi
  [ $((mode & $4)) -eq "$4" ]
}
refuse_owner() {
  fail "$1 is owned by $(stat -c '%u:%g mode %a' -- "$1"), so the WebUI (profile ${input.profile}, uid ${input.uid}) cannot $2 there. This program did not create it, so it never changes its owner: choose a new folder (the program creates it for uid ${owner}), or, if the folder is meant for the WebUI alone, run: sudo chown ${owner} $1 (this folder only)"
}
give_dir() {
  mkdir -m 0755 -- "$1" || fail "cannot create $here/$1"
  chown -h ${owner} -- "$1" || fail "cannot give $here/$1 to uid ${owner} (profile ${input.profile}); run: sudo chown ${owner} $here/$1"
  echo "created $here/$1 (owner ${owner})"
}
# top DIR: a folder the settings name; nothing a container writes is above it, so a link in its path is the admin's own.
top() {
  if [ ! -d "$1" ]; then
    mkdir -p -- "$1" || fail "cannot create $1; create it as root: sudo mkdir -p $1 && sudo chown ${owner} $1"
    chown -h ${owner} -- "$1" || fail "cannot give $1 to uid ${owner} (profile ${input.profile}); run: sudo chown ${owner} $1"
    echo "created $1 (owner ${owner})"
  fi
  phys=$(cd -P -- "$1" && pwd -P) || fail "cannot enter $1"
  allowed_by "$phys" 3 || refuse_owner "$1" "save"
}
# inner PARENT REL BITS: a folder inside a top one, entered (and created) without following a link.
inner() (
  phys=$(cd -P -- "$1" && pwd -P) || fail "cannot enter $1"
  enter_dir "$phys" "$2" give_dir
  allowed_by . "$3" || refuse_owner "$1/$2" "$( [ "$3" = 3 ] && echo save || echo read)"
)
${tops.map((d) => `top ${shellQuote(d)}`).join("\n")}
${inner.map((f) => `inner ${shellQuote(f.parent)} ${shellQuote(f.rel)} ${f.readOnly ? 5 : 3}`).join("\n")}
# The folders the WebUI writes into inside the outputs folders (a link there is the container's own business).
for d in ${[input.outputsDir, ...(input.instanceOutputsDirs ?? [])].map((d) => `${shellQuote(d)}/*`).join(" ")}; do
  { [ ! -L "$d" ] && [ -d "$d" ]; } || continue
  allowed_by "$d" 3 || refuse_owner "$d" "save"
done
echo "host folders ready for uid ${owner}: ${folderList(input).join(" ")}"
`;
}
