// Host scripts are POSIX sh files beside the modules that use them (shellcheck lints them as files). A
// command resource runs one as `set -- <arguments>` followed by the file: the arguments are quoted here,
// in one place, and the script reads them as $1, $2, … The build copies the files next to the compiled modules.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { shellJoin } from "../../../lib/shell.js";

/** The text of `file` (relative to this folder) with its arguments set; every argument is quoted. */
export function hostScript(file: string, args: readonly (string | number)[]): string {
  const text = readFileSync(join(__dirname, file), "utf8");
  return `set -- ${shellJoin(args.map(String))}\n${text}`;
}
