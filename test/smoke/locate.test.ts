import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LocalHost } from "../../smoke/host.js";
import type { HostAccess, ListResult } from "../../smoke/host.js";
import { describeSearch, locate, locateOnce } from "../../smoke/locate.js";
import {
  containerToHost,
  datedFolderNames,
  hostToContainer,
  resolveContainerOutdir,
  saveLayout,
} from "../../smoke/paths.js";
import { OptionsSchema } from "../../smoke/schemas.js";

const defaults = OptionsSchema.parse({
  outdir_txt2img_samples: "outputs/txt2img-images",
  outdir_img2img_samples: "outputs/img2img-images",
});

/** Counts directory reads and entries returned, so cost is asserted without timing. */
class CountingHost extends LocalHost {
  dirReads: string[] = [];
  entries = 0;
  override async listDir(p: string): Promise<ListResult> {
    this.dirReads.push(p);
    const r = await super.listDir(p);
    if (r.kind === "ok") this.entries += r.names.length;
    return r;
  }
}

function tmp(t: { after: (f: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), "smoke-locate-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test("container path to host path through the mount; relative outdirs resolve against the workdir", () => {
  const p = resolveContainerOutdir("outputs/txt2img-images", "/app/stable-diffusion-webui");
  assert.equal(p, "/app/stable-diffusion-webui/outputs/txt2img-images");
  assert.equal(
    containerToHost(p, "/app/stable-diffusion-webui/outputs", "/srv/sd/outputs"),
    "/srv/sd/outputs/txt2img-images",
  );
  assert.equal(containerToHost("/output/txt2img", "/app/stable-diffusion-webui/outputs", "/srv/o"), null);
  assert.equal(
    containerToHost("/app/stable-diffusion-webui/outputsX/a", "/app/stable-diffusion-webui/outputs", "/srv/o"),
    null,
  );
  assert.equal(resolveContainerOutdir("/output/txt2img", "/app"), "/output/txt2img");
  assert.equal(
    hostToContainer("/srv/o/txt2img-images/2026-01-01/00000-1.png", "/srv/o/", "/app/outputs"),
    "/app/outputs/txt2img-images/2026-01-01/00000-1.png",
  );
});

test("dated folders: today and yesterday, UTC and local, unique", () => {
  const names = datedFolderNames(new Date("2026-03-01T00:30:00Z"));
  assert.ok(names.includes("2026-03-01"));
  assert.ok(names.includes("2026-02-28"));
  assert.ok(names.length >= 2 && names.length <= 4);
  assert.equal(new Set(names).size, names.length);
  // The container's own date (from info.job_timestamp) comes first, even a day ahead of the host.
  const withJob = datedFolderNames(new Date("2026-03-01T23:30:00Z"), "20260302083000");
  assert.equal(withJob[0], "2026-03-02");
  assert.ok(withJob.length <= 5);
  assert.equal(datedFolderNames(new Date(), "garbage").length, datedFolderNames(new Date()).length);
});

test("save layout: default names, custom patterns, unsupported settings", () => {
  const l = saveLayout(defaults, 123, new Date());
  assert.ok(!("unsupported" in l));
  if ("unsupported" in l) return;
  assert.ok(l.matches("00000-123.png"));
  assert.ok(l.matches("123.png"));
  assert.ok(!l.matches("00000-1234.png"));
  assert.ok(!l.matches("00000-123.png.tmp"));
  assert.ok(!l.matches("00000-123.jpg"));
  const custom = saveLayout({ ...defaults, samples_filename_pattern: "[seed]-[prompt_spaces]" }, 123, new Date());
  assert.ok(!("unsupported" in custom) && custom.matches("00001-123-a cat.png") && !custom.matches("00001-1234-a.png"));
  const flat = saveLayout({ ...defaults, save_to_dirs: false }, 1, new Date());
  assert.ok(!("unsupported" in flat) && flat.folders.length === 1 && flat.folders[0] === "");
  for (const bad of [
    { samples_format: "jpg" },
    { samples_save: false },
    { directories_filename_pattern: "[prompt_words]" },
    { samples_filename_pattern: "[prompt]" },
  ]) {
    const r = saveLayout({ ...defaults, ...bad }, 1, new Date());
    assert.ok("unsupported" in r, JSON.stringify(bad));
    assert.match(r.unsupported, new RegExp(Object.keys(bad)[0] ?? ""));
  }
});

test("locate finds *-<seed>.png in today's folder and ignores *.tmp", async (t) => {
  const out = tmp(t);
  const today = datedFolderNames(new Date())[0] ?? "";
  mkdirSync(join(out, today));
  writeFileSync(join(out, today, "00003-77.png.tmp"), "x");
  writeFileSync(join(out, today, "00002-78.png"), "x");
  const layout = saveLayout(defaults, 77, new Date());
  if ("unsupported" in layout) throw new Error(layout.unsupported);
  const miss = await locateOnce(new LocalHost(), out, layout);
  assert.equal(miss.file, undefined);
  assert.match(describeSearch(miss.searched).join("\n"), /2 entries/);
  writeFileSync(join(out, today, "00004-77.png"), "x");
  const hit = await locate(new LocalHost(), out, layout, 0);
  assert.equal(hit.file, join(out, today, "00004-77.png"));
});

test("cost does not grow with older outputs: 100 000 old images cost no directory reads", async (t) => {
  const out = tmp(t);
  // 100 old dated folders of 1000 files each, plus today's folder with a handful.
  for (let d = 0; d < 100; d++) {
    const dir = join(out, `2020-01-${String((d % 28) + 1).padStart(2, "0")}-${d}`);
    mkdirSync(dir);
    for (let i = 0; i < 1000; i++) writeFileSync(join(dir, `${String(i).padStart(5, "0")}-${i}.png`), "");
  }
  const today = datedFolderNames(new Date())[0] ?? "";
  mkdirSync(join(out, today));
  for (let i = 0; i < 5; i++) writeFileSync(join(out, today, `0000${i}-${1000 + i}.png`), "");
  const layout = saveLayout(defaults, 1004, new Date());
  if ("unsupported" in layout) throw new Error(layout.unsupported);
  const host = new CountingHost();
  const r = await locateOnce(host, out, layout);
  assert.ok(r.file?.endsWith("00004-1004.png"));
  assert.equal(host.dirReads.length, 1, "only today's folder is listed");
  assert.equal(host.entries, 5, "entries read = today's files only");
  // A miss reads at most the 4 candidate folders, never the outdir or old folders.
  const host2 = new CountingHost();
  const miss = saveLayout(defaults, 999_999, new Date());
  if ("unsupported" in miss) throw new Error(miss.unsupported);
  await locateOnce(host2, out, miss);
  assert.ok(host2.dirReads.length <= 4);
  assert.ok(host2.dirReads.every((d) => !d.includes("2020-")) && !host2.dirReads.includes(out));
  assert.equal(host2.entries, 5);
});

test("a folder the smoke cannot read is reported as denied", async () => {
  const host: HostAccess = Object.assign(new LocalHost(), {
    listDir: async (): Promise<ListResult> => ({ kind: "denied" }),
  });
  const layout = saveLayout(defaults, 1, new Date());
  if ("unsupported" in layout) throw new Error(layout.unsupported);
  const r = await locateOnce(host, "/nonexistent", layout);
  assert.ok(r.searched.every((s) => s.state === "denied"));
  assert.match(describeSearch(r.searched)[0] ?? "", /permission denied/);
});
