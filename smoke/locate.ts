// Find the proof's file on the host: list only the few dated folders that can hold it (cost does not
// grow with older outputs), pick `*-<seed>.png`, ignore `*.tmp`, and report what each folder held.
import { posix } from "node:path";
import type { HostAccess } from "./host.js";
import type { SaveLayout } from "./paths.js";

export interface SearchedFolder {
  path: string;
  state: "ok" | "missing" | "denied" | "link";
  /** state link: the link found on the way (the smoke never follows one in the outputs folder). */
  link?: string;
  count: number;
  /** Up to 10 names, newest-looking (highest sorted) last. */
  sample: string[];
}

export interface LocateOutcome {
  file?: string;
  searched: SearchedFolder[];
}

export async function locateOnce(host: HostAccess, hostOutdir: string, layout: SaveLayout): Promise<LocateOutcome> {
  const searched: SearchedFolder[] = [];
  for (const folder of layout.folders) {
    const dir = folder === "" ? hostOutdir : posix.join(hostOutdir, folder);
    const r = await host.listDir(dir);
    if (r.kind !== "ok") {
      searched.push({ path: dir, state: r.kind, ...(r.kind === "link" ? { link: r.link } : {}), count: 0, sample: [] });
      continue;
    }
    const hits = r.names.filter((n) => !n.endsWith(".tmp") && layout.matches(n)).sort();
    searched.push({ path: dir, state: "ok", count: r.names.length, sample: r.names.slice().sort().slice(-10) });
    const last = hits[hits.length - 1];
    if (last !== undefined) return { file: posix.join(dir, last), searched };
  }
  return { searched };
}

/** locateOnce, retried a few times over `graceMs` (a network filesystem may show the file late). */
export async function locate(
  host: HostAccess,
  hostOutdir: string,
  layout: SaveLayout,
  graceMs = 1500,
): Promise<LocateOutcome> {
  const end = Date.now() + graceMs;
  for (;;) {
    const r = await locateOnce(host, hostOutdir, layout);
    if (r.file || Date.now() >= end) return r;
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** Human lines describing the folders searched and what was in them. */
export function describeSearch(searched: SearchedFolder[]): string[] {
  return searched.map((f) => {
    if (f.state === "missing") return `${f.path}: does not exist`;
    if (f.state === "denied") return `${f.path}: permission denied`;
    if (f.state === "link")
      return `${f.path}: not searched: ${f.link} is a symbolic link in the outputs folder, which a container writes; the smoke never follows one there (remove it)`;
    if (f.count === 0) return `${f.path}: empty`;
    return `${f.path}: ${f.count} entries, e.g. ${f.sample.join(", ")}`;
  });
}
