// The short-lived CI stack: up (the smoke step runs inside it), read the outputs, then ALWAYS destroy and
// remove the stack, and write a machine-readable result in every case. The engine calls sit behind
// StackEngine so the ordering is tested with a fake; automation.ts is the real (Pulumi CLI) one.

export type Log = (line: string) => void;

export interface StackOutput {
  value: unknown;
  secret: boolean;
}

export interface StackEngine {
  /**
   * Create or select the stack, set its config and run `pulumi up` (which runs the smoke step). An
   * aborted `signal` cancels the update (the CLI gets SIGINT and stops gracefully, releasing its lock).
   */
  up(log: Log, signal?: AbortSignal): Promise<void>;
  outputs(): Promise<Record<string, StackOutput>>;
  destroy(log: Log): Promise<void>;
  /** `pulumi stack rm`: the stack, its config file and its history go. */
  removeStack(): Promise<void>;
}

export type Step = "up" | "smoke" | "outputs" | "destroy" | "removeStack";
export type FailedStep = Step | "config" | "preflight" | "internal" | "interrupted";

/**
 * Exit codes of `ci:stack`: the FIRST failure decides. Apart from 0, 2 (usage) and 130 (a signal) they
 * are 40-69, so they never collide with the smoke CLI's own codes (2, 3, 10-39), which the result file
 * carries separately. infra/ci/README.md's table is written from this one (npm run docs:tables).
 */
export const EXIT_CODES = {
  ok: { exit: 0, meaning: "none: deployed, proven, destroyed, removed" },
  usage: { exit: 2, meaning: "usage (nothing touched)" },
  config: { exit: 2, meaning: "bad `SDWEBUI_*` settings (nothing touched)" },
  preflight: { exit: 40, meaning: "preflight: passphrase, unbuilt program, Pulumi CLI missing (nothing touched)" },
  internal: { exit: 41, meaning: "internal error of the tool" },
  up: { exit: 50, meaning: "`pulumi up` failed (not the smoke step)" },
  smoke: { exit: 51, meaning: "the smoke step failed (inside up, or no proven file in the outputs); the smoke's own exit code is in the result file" },
  outputs: { exit: 52, meaning: "reading the stack outputs failed" },
  destroy: { exit: 60, meaning: "destroy failed (stack kept, see `advice`)" },
  removeStack: { exit: 61, meaning: "`stack rm` failed after a successful destroy" },
  interrupted: { exit: 130, meaning: "interrupted (SIGINT/SIGTERM)" },
} as const satisfies Record<FailedStep | "ok" | "usage", { exit: number; meaning: string }>;

export const EXIT = Object.fromEntries(Object.entries(EXIT_CODES).map(([k, v]) => [k, v.exit])) as Record<keyof typeof EXIT_CODES, number>;

/** infra/ci/README.md's exit-code table. */
export function exitCodeTable(): string {
  return ["| exit | first failure |", "|---|---|", ...Object.values(EXIT_CODES).map((c) => `| ${c.exit} | ${c.meaning} |`)].join("\n");
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

export interface RunOptions {
  engine: StackEngine;
  stack: string;
  stackSource: string;
  smokeEnabled: boolean;
  keep: boolean;
  log: Log;
  /** Called exactly once with the final result, whatever happened (write the outputs file here). */
  writeResult: (r: CiResult) => void;
  /** Scrubs secret values from error text. */
  redact?: (text: string) => string;
  /** Aborted on SIGINT/SIGTERM: cancels `up`; teardown still runs (it is never cancelled). */
  signal?: AbortSignal;
}

/** A result for a run that stopped before the engine was used (bad config, missing CLI, ...). */
export function earlyFailure(command: "up" | "destroy", stack: string, stackSource: string, step: "config" | "preflight" | "usage" | "interrupted", message: string): CiResult {
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

/** The smoke CLI prints one JSON object; on failure pulumi's error text carries it. */
export function smokeFailureIn(text: string): SmokeOutcome | undefined {
  for (const line of text.split("\n")) {
    const at = line.indexOf('{"ok":false');
    if (at < 0) continue;
    try {
      const v = JSON.parse(line.slice(at)) as { failure?: string; exitCode?: number; message?: string };
      return { ok: false, failure: v.failure, exitCode: v.exitCode, message: v.message ?? "smoke failed" };
    } catch {
      continue;
    }
  }
  return undefined;
}

/** The proven files named by the outputs (`smokeFile`, and each endpoint's). */
export function smokeFromOutputs(outputs: Record<string, unknown>, enabled: boolean): SmokeOutcome {
  if (!enabled) return { ok: null, reason: "smoke disabled (SDWEBUI_SMOKE_ENABLED=false)" };
  const endpoints = Array.isArray(outputs.endpoints) ? (outputs.endpoints as { smokeFile?: unknown }[]) : [];
  const files = endpoints.length > 0 ? endpoints.map((e) => e.smokeFile) : [outputs.smokeFile];
  const bad = files.filter((f) => typeof f !== "string" || !f.startsWith("/"));
  if (files.length === 0 || bad.length > 0)
    return { ok: false, message: `up succeeded but ${bad.length || 1} endpoint(s) name no proven file (smokeFile output empty): the smoke step did not prove the deployment` };
  return { ok: true, files: files as string[] };
}

function visibleOutputs(o: Record<string, StackOutput>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
}

class Recorder {
  readonly steps: Partial<Record<Step, StepRecord>> = {};
  first: Step | null = null;
  constructor(private readonly log: Log, private readonly redact: (t: string) => string) {}

  fail(step: Step, ms: number, error: string): void {
    this.steps[step] = { ok: false, ms, error };
    this.first ??= step;
    this.log(`ci:stack: ${step} FAILED after ${ms} ms: ${error}`);
  }

  async run<T>(step: Step, fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
    const t0 = Date.now();
    this.log(`ci:stack: ${step} ...`);
    try {
      const value = await fn();
      this.steps[step] = { ok: true, ms: Date.now() - t0 };
      this.log(`ci:stack: ${step} done in ${Date.now() - t0} ms`);
      return { ok: true, value };
    } catch (e) {
      const error = this.redact((e as Error)?.message ?? String(e));
      this.fail(step, Date.now() - t0, error);
      return { ok: false, error };
    }
  }

  skip(step: Step, why: string): void {
    this.steps[step] = { ok: false, ms: 0, skipped: why };
  }
}

/**
 * Teardown rule: destroy always runs (unless --keep); the stack is removed only after a successful
 * destroy, because `stack rm` would throw away the only record of resources that are still there.
 */
async function teardown(rec: Recorder, o: Pick<RunOptions, "engine" | "log" | "stack">, advice: string[]): Promise<void> {
  const d = await rec.run("destroy", () => o.engine.destroy(o.log));
  if (d.ok) {
    const r = await rec.run("removeStack", () => o.engine.removeStack());
    if (!r.ok) advice.push(`the resources are gone but the stack record is not: npm run ci:stack -- destroy --stack ${o.stack}`);
    return;
  }
  rec.skip("removeStack", "destroy failed: the stack is kept because its state is the only record of what is left");
  advice.push(`resources of stack ${o.stack} may still exist: fix the cause above, then run npm run ci:stack -- destroy --stack ${o.stack}`);
}

function finish(o: { command: "up" | "destroy"; stack: string; stackSource: string; keep: boolean }, rec: Recorder, t0: number, rest: Pick<CiResult, "outputs" | "smoke" | "advice">, failed: FailedStep | null): CiResult {
  return {
    ok: failed === null,
    exitCode: failed === null ? EXIT.ok : EXIT[failed],
    failedStep: failed,
    command: o.command,
    stack: o.stack,
    stackSource: o.stackSource,
    kept: o.keep,
    startedAt: new Date(t0).toISOString(),
    finishedAt: new Date().toISOString(),
    totalMs: Date.now() - t0,
    steps: rec.steps,
    ...rest,
  };
}

/** up → outputs → smoke check, then (finally) destroy → removeStack. Never throws. */
export async function runCiStack(o: RunOptions): Promise<CiResult> {
  const t0 = Date.now();
  const redact = o.redact ?? ((t: string) => t);
  const rec = new Recorder(o.log, redact);
  let outputs: Record<string, unknown> = {};
  let smoke: SmokeOutcome = { ok: null, reason: "not reached" };
  const advice: string[] = [];
  let failed: FailedStep | null = null;
  let result: CiResult | undefined;
  try {
    try {
      const up = await rec.run("up", () => o.engine.up(o.log, o.signal));
      if (o.signal?.aborted) failed = "interrupted";
      else if (!up.ok) {
        const s = o.smokeEnabled ? smokeFailureIn(up.error) : undefined;
        if (s) {
          smoke = s;
          failed = "smoke";
        } else failed = "up";
      } else {
        const out = await rec.run("outputs", () => o.engine.outputs());
        if (!out.ok) failed = "outputs";
        else {
          outputs = visibleOutputs(out.value);
          smoke = smokeFromOutputs(outputs, o.smokeEnabled);
          if (smoke.ok === false) {
            rec.fail("smoke", 0, smoke.message);
            failed = "smoke";
          }
        }
      }
    } catch (e) {
      failed = "internal";
      o.log(`ci:stack: internal error: ${redact((e as Error)?.stack ?? String(e))}`);
    } finally {
      if (o.keep) {
        rec.skip("destroy", "--keep");
        rec.skip("removeStack", "--keep");
        advice.push(`--keep: stack ${o.stack} and its resources were left running; remove them with npm run ci:stack -- destroy --stack ${o.stack}`);
      } else {
        await teardown(rec, o, advice).catch((e: unknown) => o.log(`ci:stack: teardown error: ${redact(String(e))}`));
      }
    }
    failed ??= rec.first;
    result = finish({ command: "up", stack: o.stack, stackSource: o.stackSource, keep: o.keep }, rec, t0, { outputs, smoke, advice }, failed);
    return result;
  } finally {
    o.writeResult(result ?? finish({ command: "up", stack: o.stack, stackSource: o.stackSource, keep: o.keep }, rec, t0, { outputs, smoke, advice }, "internal"));
  }
}

/** The cleanup-only command (`ci:stack destroy`): destroy → removeStack. Never throws. */
export async function destroyCiStack(o: Omit<RunOptions, "smokeEnabled" | "keep">): Promise<CiResult> {
  const t0 = Date.now();
  const rec = new Recorder(o.log, o.redact ?? ((t) => t));
  const advice: string[] = [];
  let result: CiResult | undefined;
  try {
    await teardown(rec, o, advice);
    result = finish({ command: "destroy", stack: o.stack, stackSource: o.stackSource, keep: false }, rec, t0, { outputs: {}, smoke: { ok: null, reason: "destroy only" }, advice }, rec.first);
    return result;
  } finally {
    o.writeResult(result ?? finish({ command: "destroy", stack: o.stack, stackSource: o.stackSource, keep: false }, rec, t0, { outputs: {}, smoke: { ok: null, reason: "destroy only" }, advice }, "internal"));
  }
}
