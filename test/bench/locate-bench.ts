// (c) Time for the smoke's locator (smoke/locate.ts, on the local filesystem) to find the proof's file
// with 0, 10 000 and 100 000 older images in the outputs folder, laid out as the WebUI does:
// txt2img-images/<YYYY-MM-DD>/<NNNNN>-<seed>.png. The older images are hard links to one empty file (the
// locator only lists names; a link is a directory entry like any file, and 5x faster to make on ext4).
import { spawnSync } from "node:child_process";
import { closeSync, linkSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalHost } from "../../smoke/host.js";
import type { ListResult } from "../../smoke/host.js";
import { locate } from "../../smoke/locate.js";
import { datedFolderNames, saveLayout } from "../../smoke/paths.js";
import { OptionsSchema } from "../../smoke/schemas.js";
import { median, round, timed } from "./stats.js";
import type { Section } from "./stats.js";

const COUNTS = [0, 10_000, 100_000];
const PER_DAY = 500;

class CountingHost extends LocalHost {
  entries = 0;
  override async listDir(p: string): Promise<ListResult> {
    const r = await super.listDir(p);
    if (r.kind === "ok") this.entries += r.names.length;
    return r;
  }
}

let seedDir = "";
let links = 0;
let seedFile = "";
/** A new link; ext4 allows 65 000 links per inode, so start a fresh empty file every 60 000. */
function touch(p: string): void {
  if (links++ % 60_000 === 0) {
    seedFile = join(seedDir, `empty-${links}.png`);
    closeSync(openSync(seedFile, "w"));
  }
  linkSync(seedFile, p);
}
const pad = (n: number) => String(n).padStart(5, "0");

/** Add older images: PER_DAY per dated folder, in folders dated before yesterday (2019 onwards). */
function addOlder(outdir: string, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const day = Math.floor(i / PER_DAY);
    const d = new Date(Date.UTC(2019, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
    if (i % PER_DAY === 0 || i === from) mkdirSync(join(outdir, d), { recursive: true });
    touch(join(outdir, d, `${pad(i % PER_DAY)}-${100_000 + i}.png`));
  }
}

/** Add images to today's folder (a busy day), numbered before the proof's file. */
function addToday(outdir: string, today: string, from: number, to: number): void {
  for (let i = from; i < to; i++) touch(join(outdir, today, `${pad(i % 100_000)}-${200_000 + i}.png`));
}

async function series(
  outdir: string,
  runs: number,
  grow: (from: number, to: number) => void,
): Promise<{ n: number; ms: number; entries: number }[]> {
  const options = OptionsSchema.parse({
    outdir_txt2img_samples: "outputs/txt2img-images",
    outdir_img2img_samples: "outputs/img2img-images",
  });
  const seed = 4_242_424_242;
  const layout = saveLayout(options, seed, new Date());
  if ("unsupported" in layout) throw new Error(layout.unsupported);
  const out: { n: number; ms: number; entries: number }[] = [];
  let have = 0;
  for (const n of COUNTS) {
    grow(have, n);
    have = n;
    const times: number[] = [];
    let entries = 0;
    const WARM = 3;
    for (let i = 0; i < runs + WARM; i++) {
      const host = new CountingHost();
      const r = await timed(() => locate(host, outdir, layout, 0));
      if (!r.value.file?.endsWith(`-${seed}.png`))
        throw new Error(`locate did not find the proof file with ${n} older images`);
      if (i >= WARM) times.push(r.ms); // untimed runs first: dentry cache and JIT warm
      entries = host.entries;
    }
    out.push({ n, ms: median(times), entries });
  }
  return out;
}

export async function locateSection(runs: number, log: (l: string) => void): Promise<Section> {
  const root = mkdtempSync(join(tmpdir(), "sd-bench-locate-"));
  seedDir = root;
  links = 0;
  try {
    const today = datedFolderNames(new Date())[0]!;
    const olderDir = join(root, "older", "txt2img-images");
    const busyDir = join(root, "busy", "txt2img-images");
    for (const d of [olderDir, busyDir]) {
      mkdirSync(join(d, today), { recursive: true });
      // Today's folder as a fresh day has it: a few images, then the proof's.
      for (let i = 0; i < 20; i++) touch(join(d, today, `${pad(i)}-${300_000 + i}.png`));
      touch(join(d, today, `${pad(99_999)}-4242424242.png`));
    }
    log("bench: (c) locate, older images in older dated folders");
    const older = await series(olderDir, runs, (a, b) => addOlder(olderDir, a, b));
    log("bench: (c) locate, the same counts in today's folder");
    const busy = await series(busyDir, runs, (a, b) => addToday(busyDir, today, a, b));
    const base = older[0]!.ms;
    const worst = Math.max(...older.map((o) => o.ms));
    // "Flat": 100 000 older images cost at most 2 ms (or 50%) more than none.
    const flat = worst - base <= Math.max(2, 0.5 * base);
    return {
      id: "locate",
      title: "Time to locate the saved file vs older images in the outputs folder",
      status: "ok",
      runs,
      target: { text: "flat: with 100 000 older images at most max(2 ms, +50%) over none", met: flat },
      figures: {
        olderInOlderFolders: older.map((o) => ({ olderImages: o.n, ms: round(o.ms, 3), entriesListed: o.entries })),
        sameCountInTodaysFolder: busy.map((o) => ({ imagesToday: o.n, ms: round(o.ms, 3), entriesListed: o.entries })),
      },
      table: [
        ["images", "older dated folders: ms", "entries listed", "all in today's folder: ms", "entries listed"],
        ...COUNTS.map((n, i) => [
          n.toLocaleString("en"),
          String(round(older[i]!.ms, 3)),
          String(older[i]!.entries),
          String(round(busy[i]!.ms, 3)),
          String(busy[i]!.entries),
        ]),
      ],
      notes: [
        `Layout as the WebUI saves: txt2img-images/<date>/<NNNNN>-<seed>.png, ${PER_DAY} images per older day; today's folder holds 20 images plus the proof's. The locator lists only the dated folders that can hold a file saved now (today/yesterday, UTC and local), so older days never cost anything.`,
        "The second series puts the same number of images into today's folder (a very busy day): that folder is read whole, so its cost grows with today's count, not with the history.",
        "Warm dentry cache and JIT (three untimed locates first); the system temp folder (ext4 here). Over SSH the listing is one `ls` per folder, so the same shape holds with the round trips added.",
      ],
    };
  } finally {
    // rm -rf unlinks 200 000 entries several times faster than fs.rmSync.
    const r = spawnSync("rm", ["-rf", "--", root], { timeout: 120_000 });
    if (r.status !== 0) rmSync(root, { recursive: true, force: true });
  }
}
