// The host folders that outlive the container: folders.sh (after host-walk.sh's functions), run as root,
// creates the missing ones with the image's owner and refuses, before the container starts, folders that the
// image's uid cannot write. It never changes or removes what already exists: saved images are never at risk.
import { hostScript } from "./host-script.js";
import { assertSafeAbsolutePath } from "../../../lib/shell.js";
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

/** The create script. Inputs are validated again here: this is the boundary to the shell. */
export function foldersScript(input: FoldersInput): string {
  const instances = input.instanceOutputsDirs ?? [];
  for (const d of [input.outputsDir, ...instances, input.modelsDir]) assertSafeAbsolutePath(d, "folders");
  for (const n of [input.uid, input.gid])
    if (!Number.isInteger(n) || n < 0) throw new Error(`folders: "${n}" is not a uid/gid`);
  return hostScript(
    ["host-walk.sh", "folders.sh"],
    [input.outputsDir, input.modelsDir, CHECKPOINTS_SUBDIR, input.uid, input.gid, input.profile, ...instances],
  );
}
