// Benchmark (not a test): locate cost with N old outputs vs none. Run:
//   node --import tsx test/smoke/bench-locate.ts [oldFiles=100000]
// Prints directory reads, entries read and wall time per locate; the claim is that the first two stay
// constant and the time does not grow with the number of old files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalHost } from "../../smoke/host.js";
import type { ListResult } from "../../smoke/host.js";
import { locateOnce } from "../../smoke/locate.js";
import { datedFolderNames, saveLayout } from "../../smoke/paths.js";
import { OptionsSchema } from "../../smoke/schemas.js";

class Counting extends LocalHost {
  reads = 0;
  entries = 0;
  override async listDir(p: string): Promise<ListResult> {
    this.reads++;
    const r = await super.listDir(p);
    if (r.kind === "ok") this.entries += r.names.length;
    return r;
  }
}

async function measure(out: string, seed: number): Promise<{ reads: number; entries: number; ms: number }> {
  const o = OptionsSchema.parse({ outdir_txt2img_samples: "x", outdir_img2img_samples: "y" });
  const layout = saveLayout(o, seed, new Date());
  if ("unsupported" in layout) throw new Error(layout.unsupported);
  const h = new Counting();
  const runs = 200;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await locateOnce(h, out, layout);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / runs;
  return { reads: h.reads / runs, entries: h.entries / runs, ms };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100_000);
  const out = mkdtempSync(join(tmpdir(), "smoke-bench-"));
  try {
    const today = datedFolderNames(new Date())[0] ?? "";
    mkdirSync(join(out, today));
    for (let i = 0; i < 20; i++) writeFileSync(join(out, today, `${String(i).padStart(5, "0")}-${1000 + i}.png`), "");
    const before = await measure(out, 1019);
    const perDir = 1000;
    for (let d = 0; d < Math.ceil(n / perDir); d++) {
      const dir = join(out, `2019-${String((d % 12) + 1).padStart(2, "0")}-${String(d).padStart(4, "0")}`);
      mkdirSync(dir);
      for (let i = 0; i < perDir; i++) writeFileSync(join(dir, `${String(i).padStart(5, "0")}-${i}.png`), "");
    }
    const after = await measure(out, 1019);
    console.log(JSON.stringify({ oldFiles: n, withoutOld: before, withOld: after }));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

void main();
