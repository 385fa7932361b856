// Output of the smoke: a short human summary, or with --json one object on stdout. Failures carry the
// class, exit code and message (which never contains a secret).
import { FAILURES, SmokeError } from "./errors.js";
import type { RunState, SmokeReport } from "./run.js";

export interface FailureReport {
  ok: false;
  failure: string;
  exitCode: number;
  message: string;
  details: string[];
  runId: string;
  seed: number | null;
  file: null;
  timings: RunState["timings"];
}

export function failureReport(e: SmokeError, state: RunState): FailureReport {
  return {
    ok: false,
    failure: e.failure,
    exitCode: e.exitCode,
    message: e.message,
    details: e.details,
    runId: state.runId,
    seed: state.seed ?? null,
    file: null,
    timings: state.timings,
  };
}

export function humanSuccess(r: SmokeReport): string {
  const t = r.timings;
  return [
    `smoke OK: ${r.mode} image saved on the host`,
    `  file     ${r.file} (${r.bytes} bytes, ${r.width}x${r.height}, seed ${r.seed}, run ${r.runId})`,
    `  lock     ${r.lock.refused.join("; ")}`,
    `  /file=   ${r.lock.fileServed ? "serves it after the UI login, byte-identical" : "not served (api-only)"}`,
    `  timings  ready ${t.readyMs} ms, generate ${t.generateMs} ms, locate ${t.locateMs} ms, lock ${t.lockMs} ms, total ${t.totalMs} ms`,
  ].join("\n");
}

export function humanFailure(f: FailureReport): string {
  const lines = [
    `smoke FAILED (${f.failure}, exit ${f.exitCode}: ${FAILURES[f.failure as keyof typeof FAILURES]?.title ?? ""})`,
    `  ${f.message}`,
  ];
  for (const d of f.details) lines.push(`  - ${d}`);
  lines.push(`  run ${f.runId}${f.seed !== null ? `, seed ${f.seed}` : ""}`);
  return lines.join("\n");
}
