// The Docker host steps' scripts: POSIX sh files in this folder, run with their arguments set (lib/sh-script.ts).
import { shScript } from "../../../lib/sh-script.js";

/** The text of `file` (relative to this folder; files of shared functions first) with its arguments set. */
export function hostScript(file: string | readonly string[], args: readonly (string | number)[]): string {
  return shScript(__dirname, file, args);
}
