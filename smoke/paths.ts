// Pure path logic: where the WebUI saves (as the container sees it), where that is on the host, which
// dated folders to look in, and which file names belong to the proof's seed (the WebUI's own save rules).
import { posix } from "node:path";
import type { Options } from "./schemas.js";

/** Container path of an outdir option: relative outdirs resolve against the WebUI's working dir. */
export function resolveContainerOutdir(outdir: string, containerDataRoot: string): string {
  return posix.resolve(containerDataRoot, outdir);
}

function isUnder(path: string, dir: string): boolean {
  const d = dir.replace(/\/+$/, "");
  return path === d || path.startsWith(d + "/");
}

/** Host path of a container path through the outputs mount, or null when it lies outside the mount. */
export function containerToHost(containerPath: string, containerMount: string, hostDir: string): string | null {
  const p = posix.normalize(containerPath);
  const m = posix.normalize(containerMount).replace(/\/+$/, "");
  if (!isUnder(p, m)) return null;
  return posix.join(hostDir, posix.relative(m, p));
}

/** Container path of a host path under the outputs dir (for `/file=`). */
export function hostToContainer(hostPath: string, hostDir: string, containerMount: string): string | null {
  const p = posix.normalize(hostPath);
  const h = posix.normalize(hostDir).replace(/\/+$/, "");
  if (!isUnder(p, h)) return null;
  return posix.join(containerMount, posix.relative(h, p));
}

function ymd(y: number, m: number, d: number): string {
  return `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/**
 * Names of the dated folders that may hold an image saved "now": the container's own date when the
 * answer's `info.job_timestamp` (server local time, %Y%m%d%H%M%S) gives it, then today and yesterday by
 * UTC and by the local clock (the container clock may differ from the host's). Unique, likeliest first.
 */
export function datedFolderNames(now: Date, jobTimestamp?: string): string[] {
  const day = 86_400_000;
  const y = new Date(now.getTime() - day);
  const m = /^(\d{4})(\d{2})(\d{2})\d{6}$/.exec(jobTimestamp ?? "");
  const names = [
    ...(m ? [`${m[1]}-${m[2]}-${m[3]}`] : []),
    ymd(now.getUTCFullYear(), now.getUTCMonth() + 1, now.getUTCDate()),
    ymd(now.getFullYear(), now.getMonth() + 1, now.getDate()),
    ymd(y.getUTCFullYear(), y.getUTCMonth() + 1, y.getUTCDate()),
    ymd(y.getFullYear(), y.getMonth() + 1, y.getDate()),
  ];
  return [...new Set(names)];
}

export interface SaveLayout {
  /** Sub-folders of the outdir to search ("" = the outdir itself). */
  folders: string[];
  /** Does a file name in those folders belong to this seed? */
  matches: (name: string) => boolean;
}

/** The layout the WebUI's save options imply, or a message naming the option the smoke cannot follow. */
export function saveLayout(
  o: Options,
  seed: number,
  now: Date,
  jobTimestamp?: string,
): SaveLayout | { unsupported: string } {
  if (!o.samples_save) return { unsupported: "option samples_save is off, so the WebUI saves no samples: turn it on" };
  if (o.samples_format.toLowerCase() !== "png")
    return {
      unsupported: `option samples_format is "${o.samples_format}"; the smoke verifies PNG files: set it to png`,
    };
  if (
    o.save_to_dirs &&
    o.directories_filename_pattern.trim() !== "[date]" &&
    o.directories_filename_pattern.trim() !== ""
  )
    return {
      unsupported: `option directories_filename_pattern is "${o.directories_filename_pattern}"; the smoke looks in [date] folders: set it to [date]`,
    };
  const pattern = o.samples_filename_pattern.trim();
  if (pattern !== "" && !pattern.includes("[seed]"))
    return { unsupported: `option samples_filename_pattern "${pattern}" lacks [seed]: add [seed] or leave it empty` };
  const s = String(seed);
  const matches =
    pattern === "" || pattern === "[seed]"
      ? (n: string) => n === `${s}.png` || n.endsWith(`-${s}.png`)
      : (n: string) => n.endsWith(".png") && new RegExp(`(^|[^0-9])${s}([^0-9]|$)`).test(n.slice(0, -4));
  const dated = o.save_to_dirs && o.directories_filename_pattern.trim() !== "";
  return { folders: dated ? datedFolderNames(now, jobTimestamp) : [""], matches };
}
