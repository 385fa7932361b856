// `npm run bench [-- --runs N] [--only a,c,d,e,f,g] [--out DIR]`: the speed and size benchmarks, written to
// test/bench/results/latest.json and latest.md. Not part of `npm test`. Sections that need Docker or
// root are skipped with the reason when those are missing; the others still run.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { engineSections } from "./engine-bench.js";
import { evalSection } from "./eval-bench.js";
import { firewallSection } from "./firewall-bench.js";
import { locateSection } from "./locate-bench.js";
import { machine } from "./machine.js";
import { renderMarkdown } from "./report.js";
import { standinSections } from "./standin-bench.js";
import { Skip } from "./stats.js";
import { tlsProxySection } from "./tls-bench.js";
import type { Section } from "./stats.js";

const PARTS = {
  a: {
    ids: ["smoke-overhead", "wire-bytes"],
    title: "(a)+(b) smoke overhead and bytes over the wire (stand-in container)",
  },
  c: { ids: ["locate"], title: "(c) locate vs older images" },
  d: { ids: ["eval"], title: "(d) program evaluation under mocks" },
  e: { ids: ["firewall"], title: "(e) firewall apply/delete" },
  f: { ids: ["toolchain", "engine-up"], title: "(f) the Pulumi toolchain and engine" },
  g: { ids: ["tls-proxy"], title: "(g) HTTPS through Caddy vs straight to the stand-in" },
} as const;
const TITLES: Record<string, string> = {
  "smoke-overhead": "(a) Smoke overhead over the bare generation request",
  "wire-bytes": "(b) Bytes over the wire: proof request at 512x512, send_images false vs true",
  locate: "(c) Time to locate the saved file vs older images",
  eval: "(d) Program evaluation time under mocks",
  firewall: "(e) Firewall apply and delete time for 1 and 50 CIDRs",
  toolchain: "(f) Pulumi toolchain built from Go modules: cold build, warm run, cache size",
  "engine-up": "(f) pulumi up of this program vs one docker.Container (the engine's floor)",
  "tls-proxy": "(g) HTTPS through Caddy vs plain HTTP straight to the stand-in: latency and throughput",
};
type Part = keyof typeof PARTS;

function failed(part: Part, e: unknown): Section[] {
  const skip = e instanceof Skip;
  return PARTS[part].ids.map((id) => ({
    id,
    title: TITLES[id] ?? id,
    status: skip ? "skipped" : "error",
    reason: skip ? (e as Error).message : ((e as Error)?.stack ?? String(e)).split("\n").slice(0, 6).join("\n"),
  }));
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { runs: { type: "string" }, only: { type: "string" }, out: { type: "string" } },
  });
  const runs = Number(values.runs ?? 7);
  if (!Number.isInteger(runs) || runs < 1 || runs > 101) {
    process.stderr.write("bench: --runs must be a whole number 1-101 (default 7)\n");
    return 2;
  }
  const only = (values.only ?? "a,c,d,e,f,g").split(",").map((s) => s.trim()) as Part[];
  const bad = only.filter((p) => !(p in PARTS));
  if (bad.length) {
    process.stderr.write(`bench: --only takes a,c,d,e,f,g (a includes b); unknown: ${bad.join(",")}\n`);
    return 2;
  }
  const outDir = resolve(values.out ?? join(__dirname, "results"));
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const started = new Date();
  const t0 = Date.now();
  const sections: Section[] = [];
  const run = async (part: Part, fn: () => Promise<Section[]> | Section[]) => {
    if (!only.includes(part)) return;
    const s0 = Date.now();
    try {
      const got = await fn();
      for (const s of got) {
        s.wallMs = Date.now() - s0;
        s.title = TITLES[s.id] ?? s.title;
      }
      sections.push(...got);
    } catch (e) {
      log(`bench: ${PARTS[part].title}: ${e instanceof Skip ? "skipped" : "ERROR"}: ${(e as Error).message}`);
      sections.push(...failed(part, e));
    }
  };
  await run("a", () => standinSections(runs, log));
  await run("c", async () => [await locateSection(runs, log)]);
  await run("d", () => [evalSection(runs, log)]);
  await run("e", () => [firewallSection(runs, log)]);
  await run("f", () => engineSections(runs, log));
  await run("g", async () => [await tlsProxySection(runs, log)]);

  const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", cwd: __dirname, timeout: 10_000 });
  const commit = git.status === 0 ? git.stdout.trim() : null;
  const result = {
    startedAt: started.toISOString(),
    totalMs: Date.now() - t0,
    runsPerFigure: runs,
    commit,
    machine: machine(),
    sections,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "latest.json"), JSON.stringify(result, null, 2) + "\n");
  writeFileSync(join(outDir, "latest.md"), renderMarkdown(result));
  for (const s of sections)
    log(
      `bench: ${s.id}: ${s.status}${s.target ? `, target ${s.target.met === null ? "n/a" : s.target.met ? "met" : "NOT met"}` : ""}${s.reason ? ` (${s.reason.split("\n")[0]})` : ""}`,
    );
  log(`bench: wrote ${join(outDir, "latest.json")} and latest.md in ${Math.round((Date.now() - t0) / 1000)} s`);
  return sections.some((s) => s.status === "error") ? 1 : 0;
}

if (require.main === module) void main(process.argv.slice(2)).then((c) => (process.exitCode = c));
