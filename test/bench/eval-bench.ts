// (d) Program evaluation time under mocks: a child process loads the program (test/helpers/pulumi-mocks.ts
// installMocks, then infra/program.ts deployStack) and evaluates two configurations repeatedly.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { median, round } from "./stats.js";
import type { Section } from "./stats.js";

interface Series {
  firstMs: number;
  warmMs: number[];
  resources: number;
}

export function evalSection(runs: number, log: (l: string) => void): Section {
  log("bench: (d) program evaluation under mocks");
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "eval-worker.ts"), String(runs)], {
    encoding: "utf8",
    timeout: 120_000,
    cwd: join(__dirname, "../.."),
  });
  const processMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`eval worker exited ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as {
    importMs: number;
    single: Series;
    scaleOut8: Series;
  };
  const row = (name: string, s: Series) => [
    name,
    String(s.resources),
    String(round(s.firstMs, 1)),
    String(round(median(s.warmMs), 1)),
  ];
  const single = median(out.single.warmMs);
  return {
    id: "eval",
    title: "Program evaluation time under mocks",
    status: "ok",
    runs,
    target: { text: "none in the issue; set here: a warm single-container evaluation under 1 s", met: single < 1000 },
    figures: {
      childProcessMs: round(processMs, 1),
      importMs: round(out.importMs, 1),
      single: {
        resources: out.single.resources,
        firstMs: round(out.single.firstMs, 1),
        warmMedianMs: round(single, 1),
      },
      scaleOut8: {
        resources: out.scaleOut8.resources,
        firstMs: round(out.scaleOut8.firstMs, 1),
        warmMedianMs: round(median(out.scaleOut8.warmMs), 1),
      },
    },
    table: [
      ["configuration", "resources", "first evaluation (ms)", "warm median (ms)"],
      row("single container, CPU, allowlist", out.single),
      row("scale-out: 2 ssh hosts x 4 GPUs", out.scaleOut8),
    ],
    notes: [
      `Whole child process (node + tsx start, loading @pulumi/pulumi, docker, command and the program, all evaluations): ${round(processMs, 0)} ms; import of the program with the SDKs: ${round(out.importMs, 0)} ms.`,
      "An evaluation = set the stack config, deployStack(), wait until every stack output resolves through the mock engine.",
    ],
  };
}
