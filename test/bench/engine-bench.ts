// (f) The real Pulumi engine: the toolchain's cold build time and cache size (from toolchain.json, written
// by npm run toolchain), a warm toolchain run timed here, and `pulumi up` of this program against the
// floor (one docker.Container of the same image), which needs the provider plugins.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { missingPlugins, readManifest, REPO_ROOT } from "../../toolchain/layout.js";
import { round } from "./stats.js";
import type { Section } from "./stats.js";

export function engineSections(log: (l: string) => void): Section[] {
  log("bench: (f) the Pulumi toolchain and engine");
  const t0 = Date.now();
  const warm = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "toolchain/build.ts")], { cwd: REPO_ROOT, encoding: "utf8", timeout: 90 * 60_000 });
  const warmMs = Date.now() - t0;
  const manifest = readManifest();
  if (warm.status !== 0 || !manifest) throw new Error(`npm run toolchain failed (exit ${warm.status}): ${warm.stderr.slice(-1500)}`);
  const toolchain: Section = {
    id: "toolchain",
    title: "Pulumi toolchain built from Go modules",
    status: "ok",
    target: { text: "a second run takes seconds", met: warmMs < 30_000 },
    figures: { coldBuildSeconds: manifest.coldBuildSeconds ?? null, warmRunMs: warmMs, cacheMiB: round((manifest.cacheBytes ?? 0) / 2 ** 20, 0), machine: manifest.machine },
    table: [
      ["piece", "built from", "build (s)"],
      ...Object.entries(manifest.pieces).map(([name, p]) => [name, p.binary ? `${p.module}@${p.version}` : `not available (${p.blocked?.command})`, p.buildSeconds === undefined ? "—" : String(p.buildSeconds)]),
    ],
    notes: ["Cold = the first run with an empty cache (download and compile), as recorded in toolchain.json."],
  };
  const missing = missingPlugins(manifest);
  const up: Section =
    missing.length > 0
      ? { id: "engine-up", title: "pulumi up: this program vs the floor", status: "skipped", reason: `no ${missing.join(" and ")} plugin (the module proxy refused ${missing.map((n) => manifest.pieces[`pulumi-resource-${n}`]?.module).join(", ")}; toolchain.json)` }
      : { id: "engine-up", title: "pulumi up: this program vs the floor", status: "error", reason: "the plugins are built but this measurement is not written yet" };
  return [toolchain, up];
}
