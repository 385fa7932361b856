// What a ci:stack run reports: its steps, the result file, and the exit code of its first failure.
export type Step = "create" | "up" | "smoke" | "outputs" | "destroy" | "removeStack";
export type FailedStep = Step | "config" | "preflight" | "owner" | "internal" | "interrupted";

/**
 * Exit codes of `ci:stack`: the FIRST failure decides. Apart from 0, 2 (usage) and 130 (a signal) they
 * are 40-69, so they never collide with the smoke CLI's own codes (2, 3, 10-39), which the result file
 * carries separately. tools/ci-stack/README.md's table is written from this one (npm run docs:tables).
 */
export const EXIT_CODES = {
  ok: { exit: 0, meaning: "none: deployed, proven, destroyed, removed" },
  usage: { exit: 2, meaning: "usage (nothing touched)" },
  config: { exit: 2, meaning: "bad `SDWEBUI_*` settings (nothing touched)" },
  preflight: { exit: 40, meaning: "preflight: passphrase, unbuilt program, Pulumi CLI missing (nothing touched)" },
  internal: { exit: 41, meaning: "internal error of the tool" },
  owner: {
    exit: 42,
    meaning:
      "the stack is not this run's: it exists without this run's ci:stack tag, or its stack file is committed or already there (nothing touched)",
  },
  up: { exit: 50, meaning: "`pulumi up` failed (not the smoke step)" },
  smoke: {
    exit: 51,
    meaning:
      "the smoke step failed (inside up, or no proven file in the outputs); the smoke's own exit code is in the result file",
  },
  outputs: { exit: 52, meaning: "reading the stack outputs failed" },
  create: { exit: 53, meaning: "creating or tagging the stack failed" },
  destroy: { exit: 60, meaning: "destroy failed (stack kept, see `advice`)" },
  removeStack: { exit: 61, meaning: "`stack rm` failed after a successful destroy" },
  interrupted: { exit: 130, meaning: "interrupted (SIGINT/SIGTERM)" },
} as const satisfies Record<FailedStep | "ok" | "usage", { exit: number; meaning: string }>;

export const EXIT = Object.fromEntries(Object.entries(EXIT_CODES).map(([k, v]) => [k, v.exit])) as Record<
  keyof typeof EXIT_CODES,
  number
>;

/** tools/ci-stack/README.md's exit-code table. */
export function exitCodeTable(): string {
  return [
    "| exit | first failure |",
    "|---|---|",
    ...Object.values(EXIT_CODES).map((c) => `| ${c.exit} | ${c.meaning} |`),
  ].join("\n");
}

export interface StepRecord {
  ok: boolean;
  ms: number;
  error?: string;
  /** Why the step did not run. */
  skipped?: string;
}

export type SmokeOutcome =
  | { ok: true; files: string[] }
  | { ok: false; failure?: string; exitCode?: number; message: string }
  | { ok: null; reason: string };

export interface CiResult {
  ok: boolean;
  exitCode: number;
  failedStep: FailedStep | null;
  command: "up" | "destroy";
  stack: string;
  stackSource: string;
  /** The run whose ci:stack tag the stack carries (up) or must carry (destroy). */
  runId?: string;
  kept: boolean;
  startedAt: string;
  finishedAt: string;
  totalMs: number;
  steps: Partial<Record<Step, StepRecord>>;
  /** Stack outputs as read after up; secret outputs are "[secret]". */
  outputs: Record<string, unknown>;
  smoke: SmokeOutcome;
  /** What to do by hand when teardown did not finish. */
  advice: string[];
  /** Why the run stopped before the engine was used (config, preflight). */
  error?: string;
}

/** A result for a run that stopped before the engine was used (bad config, missing CLI, ...). */
export function earlyFailure(
  command: "up" | "destroy",
  stack: string,
  stackSource: string,
  step: "config" | "preflight" | "owner" | "usage" | "interrupted",
  message: string,
): CiResult {
  const now = new Date().toISOString();
  return {
    ok: false,
    exitCode: EXIT[step],
    failedStep: step === "usage" ? "config" : step,
    command,
    stack,
    stackSource,
    kept: false,
    startedAt: now,
    finishedAt: now,
    totalMs: 0,
    steps: {},
    outputs: {},
    smoke: { ok: null, reason: "not reached" },
    advice: [],
    error: message,
  };
}
