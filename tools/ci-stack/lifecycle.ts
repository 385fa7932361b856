// The short-lived CI stack: up (the smoke step runs inside it), read the outputs, then ALWAYS destroy and
// remove the stack, and write a machine-readable result in every case. The engine calls sit behind
// StackEngine so the ordering is tested with a fake; automation.ts is the real (Pulumi CLI) one. A stack
// that is not this run's (ownership.ts) is refused before it is touched, and then nothing is torn down.
import { OwnershipError } from "./ownership.js";
import { EXIT } from "./result.js";
import type { CiResult, FailedStep, SmokeOutcome, Step, StepRecord } from "./result.js";

export { EXIT, EXIT_CODES, earlyFailure, exitCodeTable } from "./result.js";
export type { CiResult, FailedStep, SmokeOutcome, Step, StepRecord } from "./result.js";

export type Log = (line: string) => void;

export interface StackOutput {
  value: unknown;
  secret: boolean;
}

/** Every call that touches an existing stack throws OwnershipError, untouched, when the stack is not this run's. */
export interface StackEngine {
  /** Create the stack and tag it as this process's; an existing stack is refused (OwnershipError). */
  create(log: Log): Promise<void>;
  /**
   * Store the config in the stack this process created and run `pulumi up` (which runs the smoke step). An
   * aborted `signal` cancels the update (the CLI gets SIGINT and stops gracefully, releasing its lock).
   */
  up(log: Log, signal?: AbortSignal): Promise<void>;
  outputs(): Promise<Record<string, StackOutput>>;
  /** Destroy the resources; a stack that does not exist is fine. */
  destroy(log: Log): Promise<void>;
  /** `pulumi stack rm`: the stack and its history go, and the stack file ci:stack wrote. */
  removeStack(): Promise<void>;
}

export interface RunOptions {
  engine: StackEngine;
  stack: string;
  stackSource: string;
  /** The run id of the stack's ci:stack tag: named in the result and in every command the advice gives. */
  runId: string;
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
function smokeFromOutputs(outputs: Record<string, unknown>, enabled: boolean): SmokeOutcome {
  if (!enabled) return { ok: null, reason: "smoke disabled (SDWEBUI_SMOKE_ENABLED=false)" };
  const endpoints = Array.isArray(outputs.endpoints) ? (outputs.endpoints as { smokeFile?: unknown }[]) : [];
  const files = endpoints.length > 0 ? endpoints.map((e) => e.smokeFile) : [outputs.smokeFile];
  const bad = files.filter((f) => typeof f !== "string" || !f.startsWith("/"));
  if (files.length === 0 || bad.length > 0)
    return {
      ok: false,
      message: `up succeeded but ${bad.length || 1} endpoint(s) name no proven file (smokeFile output empty): the smoke step did not prove the deployment`,
    };
  return { ok: true, files: files as string[] };
}

function visibleOutputs(o: Record<string, StackOutput>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
}

class Recorder {
  readonly steps: Partial<Record<Step, StepRecord>> = {};
  first: Step | null = null;
  constructor(
    private readonly log: Log,
    private readonly redact: (t: string) => string,
  ) {}

  fail(step: Step, ms: number, error: string): void {
    this.steps[step] = { ok: false, ms, error };
    this.first ??= step;
    this.log(`ci:stack: ${step} FAILED after ${ms} ms: ${error}`);
  }

  async run<T>(
    step: Step,
    fn: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; error: string; refused?: OwnershipError }> {
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
      return { ok: false, error, refused: e instanceof OwnershipError ? e : undefined };
    }
  }

  skip(step: Step, why: string): void {
    this.steps[step] = { ok: false, ms: 0, skipped: why };
  }
}

const destroyCommand = (o: { stack: string; runId: string }) =>
  `npm run ci:stack -- destroy --stack ${o.stack} --run-id ${o.runId}`;

/**
 * Teardown rule: destroy always runs (unless --keep); the stack is removed only after a successful
 * destroy, because `stack rm` would throw away the only record of resources that are still there. A stack
 * that is not this run's is refused untouched: "owner" is returned then.
 */
async function teardown(
  rec: Recorder,
  o: Pick<RunOptions, "engine" | "log" | "stack" | "runId">,
  advice: string[],
): Promise<"owner" | undefined> {
  const d = await rec.run("destroy", () => o.engine.destroy(o.log));
  if (d.ok) {
    const r = await rec.run("removeStack", () => o.engine.removeStack());
    if (r.ok) return undefined;
    if (r.refused) return (advice.push(r.refused.fix), "owner");
    advice.push(`the resources are gone but the stack record is not: ${destroyCommand(o)}`);
    return undefined;
  }
  if (d.refused) {
    rec.skip("removeStack", "the stack is not this run's: left untouched");
    advice.push(d.refused.fix);
    return "owner";
  }
  rec.skip("removeStack", "destroy failed: the stack is kept because its state is the only record of what is left");
  advice.push(`resources of stack ${o.stack} may still exist: fix the cause above, then run ${destroyCommand(o)}`);
  return undefined;
}

type Finish = { command: "up" | "destroy"; stack: string; stackSource: string; runId: string; keep: boolean };
function finish(
  o: Finish,
  rec: Recorder,
  t0: number,
  rest: Pick<CiResult, "outputs" | "smoke" | "advice">,
  failed: FailedStep | null,
): CiResult {
  return {
    ok: failed === null,
    exitCode: failed === null ? EXIT.ok : EXIT[failed],
    failedStep: failed,
    command: o.command,
    stack: o.stack,
    stackSource: o.stackSource,
    runId: o.runId,
    kept: o.keep,
    startedAt: new Date(t0).toISOString(),
    finishedAt: new Date().toISOString(),
    totalMs: Date.now() - t0,
    steps: rec.steps,
    ...rest,
  };
}

/** up's steps before the teardown: create, up, outputs, the smoke check; the first failure, or null. */
async function deploy(
  o: RunOptions,
  rec: Recorder,
  found: { outputs: Record<string, unknown>; smoke: SmokeOutcome; advice: string[] },
): Promise<FailedStep | null> {
  const created = await rec.run("create", () => o.engine.create(o.log));
  if (!created.ok) {
    if (created.refused) found.advice.push(created.refused.fix);
    return created.refused ? "owner" : "create";
  }
  const up = await rec.run("up", () => o.engine.up(o.log, o.signal));
  if (o.signal?.aborted) return "interrupted";
  if (!up.ok && up.refused) return (found.advice.push(up.refused.fix), "owner");
  if (!up.ok) {
    const s = o.smokeEnabled ? smokeFailureIn(up.error) : undefined;
    if (s) found.smoke = s;
    return s ? "smoke" : "up";
  }
  const out = await rec.run("outputs", () => o.engine.outputs());
  if (!out.ok) return "outputs";
  found.outputs = visibleOutputs(out.value);
  found.smoke = smokeFromOutputs(found.outputs, o.smokeEnabled);
  if (found.smoke.ok !== false) return null;
  rec.fail("smoke", 0, found.smoke.message);
  return "smoke";
}

/** create → up → outputs → smoke check, then (finally) destroy → removeStack. Never throws. */
export async function runCiStack(o: RunOptions): Promise<CiResult> {
  const t0 = Date.now();
  const redact = o.redact ?? ((t: string) => t);
  const rec = new Recorder(o.log, redact);
  const found = {
    outputs: {} as Record<string, unknown>,
    smoke: { ok: null, reason: "not reached" } as SmokeOutcome,
    advice: [] as string[],
  };
  const meta: Finish = { command: "up", stack: o.stack, stackSource: o.stackSource, runId: o.runId, keep: o.keep };
  let failed: FailedStep | null = null;
  let result: CiResult | undefined;
  try {
    try {
      failed = await deploy(o, rec, found);
    } catch (e) {
      failed = "internal";
      o.log(`ci:stack: internal error: ${redact((e as Error)?.stack ?? String(e))}`);
    } finally {
      if (failed === "owner") {
        // Not this run's stack: nothing was created, so there is nothing of ours to tear down.
        for (const step of ["destroy", "removeStack"] as const)
          rec.skip(step, "the stack is not this run's: left untouched");
      } else if (o.keep) {
        rec.skip("destroy", "--keep");
        rec.skip("removeStack", "--keep");
        found.advice.push(
          `--keep: stack ${o.stack} and its resources were left running; remove them with ${destroyCommand(o)}`,
        );
      } else {
        const refused = await teardown(rec, o, found.advice).catch(
          (e: unknown) => void o.log(`ci:stack: teardown error: ${redact(String(e))}`),
        );
        if (refused) failed ??= refused;
      }
    }
    failed ??= rec.first;
    result = finish(meta, rec, t0, found, failed);
    return result;
  } finally {
    o.writeResult(result ?? finish(meta, rec, t0, found, "internal"));
  }
}

/** The cleanup-only command (`ci:stack destroy`): destroy → removeStack. Never throws. */
export async function destroyCiStack(o: Omit<RunOptions, "smokeEnabled" | "keep">): Promise<CiResult> {
  const t0 = Date.now();
  const rec = new Recorder(o.log, o.redact ?? ((t) => t));
  const advice: string[] = [];
  const meta: Finish = { command: "destroy", stack: o.stack, stackSource: o.stackSource, runId: o.runId, keep: false };
  const rest = { outputs: {}, smoke: { ok: null, reason: "destroy only" } as SmokeOutcome, advice };
  let result: CiResult | undefined;
  try {
    const refused = await teardown(rec, o, advice);
    result = finish(meta, rec, t0, rest, refused ?? rec.first);
    return result;
  } finally {
    o.writeResult(result ?? finish(meta, rec, t0, rest, "internal"));
  }
}
