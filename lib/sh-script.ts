// Host scripts are POSIX sh files beside the modules that use them (shellcheck lints them as files). A
// command runs one as `set -- <arguments>` followed by the file: the arguments are quoted here, in one
// place, and the script reads them as $1, $2, … The build copies the files next to the compiled modules.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { shellJoin } from "./shell.js";

/**
 * The text of `files` (in the folder `dir`, in this order: files of shared functions first, the script last)
 * with its arguments set; every argument is quoted.
 */
export function shScript(dir: string, files: string | readonly string[], args: readonly (string | number)[]): string {
  const texts = (typeof files === "string" ? [files] : files).map((f) => readFileSync(join(dir, f), "utf8"));
  // Each file ends its last line, so the next one starts on a line of its own.
  return `set -- ${shellJoin(args.map(String))}\n${texts.map((t) => (t.endsWith("\n") ? t : `${t}\n`)).join("")}`;
}
