// The Markdown summary of a benchmark run (test/bench/results/latest.md).
import type { Machine } from "./machine.js";
import type { Section } from "./stats.js";

export interface BenchResult {
  startedAt: string;
  totalMs: number;
  runsPerFigure: number;
  /** Short commit of the tree that was measured (uncommitted changes of others may be in it). */
  commit: string | null;
  machine: Machine;
  sections: Section[];
}

function table(rows: string[][]): string[] {
  const [head, ...body] = rows;
  if (!head) return [];
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...body.map((r) => `| ${r.join(" | ")} |`),
  ];
}

const verdict = (s: Section): string =>
  s.status !== "ok"
    ? s.status.toUpperCase()
    : s.target?.met === true
      ? "met"
      : s.target?.met === false
        ? "**NOT met**"
        : "n/a";

export function renderMarkdown(r: BenchResult): string {
  const m = r.machine;
  const lines = [
    "# Benchmark results",
    "",
    `Run ${r.startedAt} at commit ${r.commit ?? "unknown"}, ${Math.round(r.totalMs / 1000)} s in all; every figure is the median of ${r.runsPerFigure} runs unless noted. ` +
      "Produced by `npm run bench` (test/bench/); not part of `npm test`.",
    "",
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, kernel ${m.kernel}; Node ${m.node}; ` +
      `Docker ${m.dockerServer ?? "not reachable"}${m.dockerClient ? ` (client ${m.dockerClient})` : ""}; ${m.iptables ?? "no iptables"}; uid ${m.uid}.`,
    "",
    "| measurement | target | result |",
    "|---|---|---|",
    ...r.sections.map(
      (s) =>
        `| ${s.title} | ${s.target?.text ?? "-"} | ${verdict(s)}${s.reason ? `: ${s.reason.split("\n")[0]}` : ""} |`,
    ),
    "",
  ];
  for (const s of r.sections) {
    lines.push(`## ${s.title}`, "");
    if (s.status !== "ok") {
      lines.push(`${s.status}: ${s.reason ?? ""}`, "");
      continue;
    }
    lines.push(`Target: ${s.target?.text ?? "-"}: ${verdict(s)}.`, "");
    if (s.table) lines.push(...table(s.table), "");
    for (const n of s.notes ?? []) lines.push(`- ${n}`);
    lines.push("");
  }
  return lines.join("\n");
}
