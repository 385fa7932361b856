// (f) The real Pulumi engine: the toolchain's cold build time and cache size (from toolchain.json, written
// by npm run toolchain, the stand-in plugins' build times among them), a warm toolchain run timed here,
// and `pulumi up` of this program against the floor (engine-up-bench.ts).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { readManifest, REPO_ROOT, STANDIN_NAMES } from "../../tools/toolchain/layout.js";
import { engineUpSection } from "./engine-up-bench.js";
import { round, Skip } from "./stats.js";
import type { Section } from "./stats.js";

export async function engineSections(runs: number, log: (l: string) => void): Promise<Section[]> {
  log("bench: (f) the Pulumi toolchain and engine");
  const t0 = Date.now();
  const warm = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "tools/toolchain/build.ts")], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout: 90 * 60_000,
  });
  const warmMs = Date.now() - t0;
  const manifest = readManifest();
  if (warm.status !== 0 || !manifest)
    throw new Error(`npm run toolchain failed (exit ${warm.status}): ${warm.stderr.slice(-1500)}`);
  const toolchain: Section = {
    id: "toolchain",
    title: "Pulumi toolchain built from Go modules",
    status: "ok",
    target: { text: "a second run takes seconds", met: warmMs < 30_000 },
    figures: {
      coldBuildSeconds: manifest.coldBuildSeconds ?? null,
      warmRunMs: warmMs,
      cacheMiB: round((manifest.cacheBytes ?? 0) / 2 ** 20, 0),
      machine: manifest.machine,
    },
    table: [
      ["piece", "built from", "build (s)"],
      ...Object.entries(manifest.pieces).map(([name, p]) => [
        name,
        p.binary ? `${p.module}@${p.version}` : `not available (${p.blocked?.command})`,
        p.buildSeconds === undefined ? "—" : String(p.buildSeconds),
      ]),
    ],
    notes: ["Cold = the first run with an empty cache (download and compile), as recorded in toolchain.json."],
  };
  const standins = STANDIN_NAMES.map((n) => [n, manifest.pieces[`standin-${n}`]?.buildSeconds] as const);
  toolchain.notes!.push(
    `The docker and command plugin stand-ins (test/plugins) built in ${standins.map(([n, s]) => `${n} ${s ?? "?"} s`).join(", ")} (their last build from changed sources).`,
  );
  let up: Section;
  try {
    up = await engineUpSection(runs, log);
  } catch (e) {
    up = {
      id: "engine-up",
      title: "pulumi up: this program vs the floor",
      status: e instanceof Skip ? "skipped" : "error",
      reason: (e as Error).message,
    };
  }
  return [toolchain, up];
}
