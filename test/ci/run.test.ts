// The CI flow's ordering with a fake engine: teardown runs whatever failed, the stack is removed only
// after a successful destroy, the result is written exactly once in every case, the exit code is the
// first failure's, and secrets never reach the result.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXIT, destroyCiStack, runCiStack, smokeFailureIn } from "../../tools/ci-stack/lifecycle.js";
import type { CiResult, StackEngine, StackOutput } from "../../tools/ci-stack/lifecycle.js";
import { redact } from "../../tools/ci-stack/env-config.js";
import { OwnershipError } from "../../tools/ci-stack/ownership.js";
import { SMOKE_EXIT } from "../../smoke/errors.js";

const SECRET = "correct-horse-battery-9";
const GOOD_OUTPUTS: Record<string, StackOutput> = {
  apiUrl: { value: "http://127.0.0.1:7860", secret: false },
  smokeFile: { value: "/srv/out/txt2img-images/2026-11-25/00000-42.png", secret: false },
  endpoints: { value: [{ smokeFile: "/srv/out/txt2img-images/2026-11-25/00000-42.png" }], secret: false },
  token: { value: SECRET, secret: true },
};

type Fail = Partial<Record<keyof StackEngine, Error>>;
/** When a fake engine call began and ended, by the clock runCiStack reads. */
type Span = { step: keyof StackEngine; start: number; end: number };

/** `hold`: the calls that last, each until the clock has moved on by that many ms. */
function fakeEngine(
  fail: Fail = {},
  outputs = GOOD_OUTPUTS,
  hold: Partial<Record<keyof StackEngine, number>> = {},
): { engine: StackEngine; calls: string[]; spans: Span[] } {
  const calls: string[] = [];
  const spans: Span[] = [];
  const step = (name: keyof StackEngine) => async () => {
    calls.push(name);
    const start = Date.now();
    // Polled against the clock itself: a timer alone may fire a little early.
    while (Date.now() - start < (hold[name] ?? 0)) await new Promise((r) => setTimeout(r, 1));
    spans.push({ step: name, start, end: Date.now() });
    if (fail[name]) throw fail[name];
  };
  return {
    calls,
    spans,
    engine: {
      create: step("create"),
      up: step("up"),
      outputs: async () => (await step("outputs")(), outputs),
      destroy: step("destroy"),
      removeStack: step("removeStack"),
    },
  };
}

async function run(
  fail: Fail = {},
  opts: {
    keep?: boolean;
    smokeEnabled?: boolean;
    outputs?: Record<string, StackOutput>;
    hold?: Partial<Record<keyof StackEngine, number>>;
  } = {},
) {
  const { engine, calls, spans } = fakeEngine(fail, opts.outputs, opts.hold);
  const written: CiResult[] = [];
  const logs: string[] = [];
  const result = await runCiStack({
    engine,
    stack: "ci-gh-1-1-e2e",
    stackSource: "test",
    runId: "gh-1-1-e2e",
    smokeEnabled: opts.smokeEnabled ?? true,
    keep: opts.keep ?? false,
    log: (l) => logs.push(l),
    writeResult: (r) => written.push(r),
    redact: (t) => redact(t, [SECRET]),
  });
  assert.equal(written.length, 1, "the result is written exactly once");
  assert.equal(written[0], result);
  assert.ok(!JSON.stringify(result).includes(SECRET), "no secret in the result");
  assert.ok(!logs.join("\n").includes(SECRET), "no secret in the log");
  return { result, calls, logs, spans };
}

/**
 * A result's times against the clock readings the test took before and after the run, and the engine calls'
 * own: runCiStack reads the clock after `before` and before `after`, each step's ms encloses its engine call,
 * and the steps run one after another inside the run. No slack: a result that drops, shortens or
 * overstates a time fails.
 */
function assertTimes(result: CiResult, before: number, after: number, spans: Span[]): void {
  const started = Date.parse(result.startedAt);
  const finished = Date.parse(result.finishedAt);
  const times = `before ${before}, startedAt ${started}, finishedAt ${finished}, after ${after}, totalMs ${result.totalMs}`;
  assert.ok(
    before <= started && started <= finished && finished <= after,
    `startedAt and finishedAt in order, within the run: ${times}`,
  );
  assert.ok(
    finished - started <= result.totalMs && started + result.totalMs <= after,
    `totalMs covers startedAt..finishedAt and ends within the run: ${times}`,
  );
  assert.ok(spans.length > 0);
  for (const { step, start, end } of spans) {
    const ms = result.steps[step]?.ms;
    assert.ok(
      ms !== undefined && ms >= end - start,
      `${step}: ${ms} ms recorded, the engine call took ${end - start} ms`,
    );
  }
  const stepsMs = Object.values(result.steps).reduce((n, r) => n + r.ms, 0);
  assert.ok(stepsMs <= result.totalMs, `the steps (${stepsMs} ms in all) fit in totalMs ${result.totalMs}`);
}

describe("runCiStack", () => {
  it("success: up, outputs, then destroy and remove; outputs and proven file recorded, secret outputs masked", async () => {
    const { result, calls } = await run();
    assert.deepEqual(calls, ["create", "up", "outputs", "destroy", "removeStack"]);
    assert.equal(result.ok, true);
    assert.equal(result.exitCode, EXIT.ok);
    assert.equal(result.failedStep, null);
    assert.deepEqual(result.smoke, { ok: true, files: ["/srv/out/txt2img-images/2026-11-25/00000-42.png"] });
    assert.equal(result.outputs.token, "[secret]");
    assert.equal(result.outputs.apiUrl, "http://127.0.0.1:7860");
    for (const s of ["up", "outputs", "destroy", "removeStack"] as const) assert.equal(result.steps[s]?.ok, true, s);
  });

  it("startedAt and finishedAt lie within the run, totalMs covers them, and each step's ms covers the engine call", async () => {
    const before = Date.now();
    const { result, spans } = await run({}, { hold: { up: 5, destroy: 5 } });
    const after = Date.now();
    assertTimes(result, before, after, spans);
  });

  it("up fails: destroy and remove still run; exit code of up; the error is scrubbed", async () => {
    const { result, calls } = await run({
      up: new Error(`pulumi config set-all --secret sdwebui:apiPassword=${SECRET} failed`),
    });
    assert.deepEqual(calls, ["create", "up", "destroy", "removeStack"]);
    assert.equal(result.exitCode, EXIT.up);
    assert.equal(result.failedStep, "up");
    assert.match(result.steps.up!.error!, /apiPassword=\[secret\]/);
    assert.equal(result.steps.outputs, undefined, "outputs not attempted");
  });

  it(`the smoke step fails inside up: classified as smoke (exit ${EXIT.smoke}) with its failure class; teardown runs`, async () => {
    const exitCode = SMOKE_EXIT["saved-nowhere"];
    const smokeJson = JSON.stringify({
      ok: false,
      failure: "saved-nowhere",
      exitCode,
      message: "no PNG for seed 42 under /srv/out",
      details: [],
      runId: "smoke-1",
    });
    const err = new Error(
      `error: update failed\n  command:local:Command (sdwebui-smoke):\n    error: exit status ${exitCode}: running "node dist/smoke/cli.js ...":\n${smokeJson}\nsmoke FAILED`,
    );
    const { result, calls } = await run({ up: err });
    assert.deepEqual(calls, ["create", "up", "destroy", "removeStack"]);
    assert.equal(result.failedStep, "smoke");
    assert.equal(result.exitCode, EXIT.smoke);
    assert.deepEqual(result.smoke, {
      ok: false,
      failure: "saved-nowhere",
      exitCode,
      message: "no PNG for seed 42 under /srv/out",
    });
  });

  it("up succeeds but no proven file in the outputs: smoke failure, teardown runs", async () => {
    const outputs = {
      ...GOOD_OUTPUTS,
      smokeFile: { value: "", secret: false },
      endpoints: { value: [{ smokeFile: "" }], secret: false },
    };
    const { result, calls } = await run({}, { outputs });
    assert.deepEqual(calls, ["create", "up", "outputs", "destroy", "removeStack"]);
    assert.equal(result.exitCode, EXIT.smoke);
    assert.equal(result.smoke.ok, false);
    assert.equal(result.steps.smoke?.ok, false);
  });

  it("smoke disabled: no proven file needed", async () => {
    const outputs = {
      ...GOOD_OUTPUTS,
      smokeFile: { value: "", secret: false },
      endpoints: { value: [{ smokeFile: "" }], secret: false },
    };
    const { result } = await run({}, { outputs, smokeEnabled: false });
    assert.equal(result.ok, true);
    assert.equal(result.smoke.ok, null);
  });

  it(`outputs fail: teardown runs, exit ${EXIT.outputs}`, async () => {
    const { result, calls } = await run({ outputs: new Error("state locked") });
    assert.deepEqual(calls, ["create", "up", "outputs", "destroy", "removeStack"]);
    assert.equal(result.exitCode, EXIT.outputs);
  });

  it("destroy fails: the stack is NOT removed (its state is the only record of what is left), advice given", async () => {
    const { result, calls } = await run({ destroy: new Error("container busy") });
    assert.deepEqual(calls, ["create", "up", "outputs", "destroy"]);
    assert.equal(result.exitCode, EXIT.destroy);
    assert.equal(result.failedStep, "destroy");
    assert.match(result.steps.removeStack!.skipped!, /destroy failed/);
    assert.ok(
      result.advice.some((a) => a.includes("npm run ci:stack -- destroy --stack ci-gh-1-1-e2e --run-id gh-1-1-e2e")),
    );
  });

  it("up AND destroy fail: exit code of the first failure (up); remove skipped", async () => {
    const { result, calls } = await run({ up: new Error("boom"), destroy: new Error("also boom") });
    assert.deepEqual(calls, ["create", "up", "destroy"]);
    assert.equal(result.exitCode, EXIT.up);
    assert.equal(result.steps.destroy?.ok, false);
    assert.ok(result.steps.removeStack?.skipped);
  });

  it(`remove fails after a good destroy: exit ${EXIT.removeStack}, advice to re-run destroy`, async () => {
    const { result, calls } = await run({ removeStack: new Error("locked") });
    assert.deepEqual(calls, ["create", "up", "outputs", "destroy", "removeStack"]);
    assert.equal(result.exitCode, EXIT.removeStack);
    assert.ok(result.advice.length === 1);
  });

  it("--keep: no teardown, even on failure; the result says so", async () => {
    const ok = await run({}, { keep: true });
    assert.deepEqual(ok.calls, ["create", "up", "outputs"]);
    assert.equal(ok.result.kept, true);
    assert.equal(ok.result.exitCode, EXIT.ok);
    assert.equal(ok.result.steps.destroy?.skipped, "--keep");
    const bad = await run({ up: new Error("x") }, { keep: true });
    assert.deepEqual(bad.calls, ["create", "up"]);
    assert.equal(bad.result.exitCode, EXIT.up);
  });

  it("an engine that throws synchronously is still handled, and teardown runs", async () => {
    const { engine, calls } = fakeEngine();
    engine.up = () => {
      calls.push("up");
      throw new TypeError("not a promise");
    };
    const written: CiResult[] = [];
    const r = await runCiStack({
      engine,
      stack: "s",
      stackSource: "t",
      runId: "r1",
      smokeEnabled: true,
      keep: false,
      log: () => {},
      writeResult: (x) => written.push(x),
    });
    assert.deepEqual(calls, ["create", "up", "destroy", "removeStack"]);
    assert.equal(r.exitCode, EXIT.up);
    assert.equal(written.length, 1);
  });
});

describe("a stack that is not this run's", () => {
  const refusal = () =>
    new OwnershipError(
      "stack ci-gh-1-1-e2e exists but has no sdwebui:ci-stack tag",
      "set SDWEBUI_CI_STACK to a name no stack has",
    );

  it(`create refused: nothing is torn down (it is someone else's), exit ${EXIT.owner}, the fix in the advice`, async () => {
    const { result, calls } = await run({ create: refusal() });
    assert.deepEqual(calls, ["create"], "no up, no destroy, no stack rm");
    assert.equal(result.failedStep, "owner");
    assert.equal(result.exitCode, EXIT.owner);
    assert.match(result.steps.destroy!.skipped!, /not this run's: left untouched/);
    assert.match(result.steps.removeStack!.skipped!, /not this run's/);
    assert.deepEqual(result.advice, ["set SDWEBUI_CI_STACK to a name no stack has"]);
    assert.equal(result.runId, "gh-1-1-e2e");
  });

  it(`create fails otherwise (the CLI, the backend): the teardown still runs, exit ${EXIT.create}`, async () => {
    const { result, calls } = await run({ create: new Error("backend unreachable") });
    assert.deepEqual(calls, ["create", "destroy", "removeStack"]);
    assert.equal(result.exitCode, EXIT.create);
  });

  it(`a tag that changed before up: up refuses to deploy, nothing is torn down, exit ${EXIT.owner}`, async () => {
    const { result, calls } = await run({ up: refusal() });
    assert.deepEqual(calls, ["create", "up"]);
    assert.equal(result.exitCode, EXIT.owner);
  });

  it(`a tag that changed under the run refuses the teardown: no stack rm, exit ${EXIT.owner} after a good up`, async () => {
    const { result, calls } = await run({ destroy: refusal() });
    assert.deepEqual(calls, ["create", "up", "outputs", "destroy"]);
    assert.equal(result.failedStep, "owner");
    assert.equal(result.exitCode, EXIT.owner);
    assert.match(result.steps.removeStack!.skipped!, /not this run's/);
  });

  it(`the cleanup command refuses a stack of another run: exit ${EXIT.owner}, nothing removed`, async () => {
    const { engine, calls } = fakeEngine({ destroy: refusal() });
    const r = await destroyCiStack({
      engine,
      stack: "s",
      stackSource: "t",
      runId: "r1",
      log: () => {},
      writeResult: () => {},
    });
    assert.deepEqual(calls, ["destroy"]);
    assert.equal(r.exitCode, EXIT.owner);
    assert.deepEqual(r.advice, ["set SDWEBUI_CI_STACK to a name no stack has"]);
  });
});

describe("interruption", () => {
  it(`an aborted signal cancels up; teardown still runs; exit ${EXIT.interrupted}`, async () => {
    const { engine, calls } = fakeEngine();
    const abort = new AbortController();
    engine.up = (_log, signal) =>
      new Promise((_resolve, reject) => {
        calls.push("up");
        signal?.addEventListener("abort", () => reject(new Error("error: update canceled")));
        setTimeout(() => abort.abort(), 10);
      });
    const written: CiResult[] = [];
    const r = await runCiStack({
      engine,
      stack: "s",
      stackSource: "t",
      runId: "r1",
      smokeEnabled: true,
      keep: false,
      log: () => {},
      writeResult: (x) => written.push(x),
      signal: abort.signal,
    });
    assert.deepEqual(calls, ["create", "up", "destroy", "removeStack"], "no outputs after an interrupt, teardown runs");
    assert.equal(r.failedStep, "interrupted");
    assert.equal(r.exitCode, EXIT.interrupted);
    assert.equal(written.length, 1);
  });
});

describe("destroyCiStack", () => {
  it("destroy then remove; a failed destroy keeps the stack", async () => {
    for (const [fail, wantCalls, code] of [
      [{}, ["destroy", "removeStack"], EXIT.ok],
      [{ destroy: new Error("x") }, ["destroy"], EXIT.destroy],
    ] as const) {
      const { engine, calls } = fakeEngine(fail);
      const written: CiResult[] = [];
      const r = await destroyCiStack({
        engine,
        stack: "s",
        stackSource: "t",
        runId: "r1",
        log: () => {},
        writeResult: (x) => written.push(x),
      });
      assert.deepEqual(calls, wantCalls);
      assert.equal(r.exitCode, code);
      assert.equal(r.command, "destroy");
      assert.equal(written.length, 1);
    }
  });
});

describe("smokeFailureIn", () => {
  it("finds the smoke CLI's JSON line in pulumi's error text, and nothing in other text", () => {
    assert.equal(smokeFailureIn("error: exit status 1\nno json here"), undefined);
    assert.equal(smokeFailureIn('{"ok":false, broken'), undefined);
    const exitCode = SMOKE_EXIT.unauthorized;
    assert.deepEqual(
      smokeFailureIn(`  stdout: {"ok":false,"failure":"unauthorized","exitCode":${exitCode},"message":"401"}`),
      { ok: false, failure: "unauthorized", exitCode, message: "401" },
    );
  });
});
