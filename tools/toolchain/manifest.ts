// The end of a run: toolchain.json (what was built from what, what could not be had and why, the cold
// build time, the cache size, the machine) and the report printed from it.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { layout, previous, say, versions } from "./context.js";
import type { Manifest, PieceRecord } from "./layout.js";

function cacheBytes(): number {
  const r = spawnSync("du", ["-sb", layout.root], { encoding: "utf8" });
  return Number(r.stdout.split(/\s/)[0] ?? 0);
}

function machine(): string {
  const goVersion = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).stdout.trim();
  return `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Go ${goVersion}`;
}

/**
 * Writes toolchain.json. The cold build time is this run's when it started from an empty cache (`cold`),
 * else the one the previous run recorded.
 */
export function writeManifest(pieces: Manifest["pieces"], seconds: number, cold: boolean): Manifest {
  const manifest: Manifest = {
    versions,
    pieces,
    coldBuildSeconds: cold ? seconds : previous?.coldBuildSeconds,
    cacheBytes: cacheBytes(),
    machine: machine(),
  };
  writeFileSync(layout.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** One piece's line: where it came from and whether it was built now, or the command and answer that blocked it. */
function pieceLine(name: string, p: PieceRecord): string {
  if (p.binary)
    return `${name}: ${p.module}@${p.version}${p.buildSeconds ? ` built in ${p.buildSeconds} s` : " (cached)"}${p.deviation ? `\n    deviation: ${p.deviation}` : ""}`;
  return `${name}: NOT AVAILABLE: ${p.module}@${p.version}\n    $ ${p.blocked!.command}\n    ${p.blocked!.error.replaceAll("\n", "\n    ")}`;
}

/** The report: every piece, this run's time, the cold build time and the cache size, and the PATH to use. */
export function report(manifest: Manifest, seconds: number): void {
  for (const [name, p] of Object.entries(manifest.pieces)) say(pieceLine(name, p));
  say(
    `this run: ${seconds} s; cold build (from an empty cache): ${manifest.coldBuildSeconds ?? "not measured (the cache predates this build)"} s; cache ${(manifest.cacheBytes! / 2 ** 20).toFixed(0)} MiB in ${layout.root}`,
  );
  say(`use it: export PATH=${layout.binDir}:$PATH`);
}
