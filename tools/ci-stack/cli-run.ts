// The up or destroy of `npm run ci:stack`, once the command line's checks have passed: the engine (the real
// Automation API one, or a test's), the claim on the stack, SIGINT/SIGTERM, the result file and the summary.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { automationEngine } from "./automation.js";
import { redact } from "./env-config.js";
import type { EnvConfig } from "./env-config.js";
import { newOwner } from "./ownership.js";
import type { Claim } from "./ownership.js";
import { destroyCiStack, earlyFailure, EXIT, runCiStack } from "./lifecycle.js";
import type { CiResult, StackEngine } from "./lifecycle.js";

/** What the run needs from the outside world; the CLI's own dependencies (CliDeps) add to these. */
export interface RunDeps {
  log: (line: string) => void;
  stdout: (text: string) => void;
  /** Tests replace the Automation API engine; default: the real one. */
  engine?: (o: {
    stack: string;
    config?: EnvConfig;
    envVars: Record<string, string>;
    claim: Claim;
    workDir: string;
  }) => StackEngine;
  /** Subscribe to SIGINT/SIGTERM (returns the unsubscribe); default: process signals. */
  onSignal?: (handler: (sig: NodeJS.Signals) => void) => () => void;
  exit?: (code: number) => void;
}

export interface RunPlan {
  mode: "up" | "destroy";
  stack: { name: string; source: string };
  runId: string;
  /** up only: the settings to store (destroy works from the stack's stored config). */
  config?: EnvConfig;
  keep: boolean;
  backendUrl: string;
  workDir: string;
  /** The result file. */
  out: string;
}

export function writeResult(file: string, r: CiResult): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(r, null, 2) + "\n");
}

/** Runs up (then the teardown) or destroy; returns the exit code. */
export async function runStack(deps: RunDeps, plan: RunPlan): Promise<number> {
  const { mode, stack, runId, config, out } = plan;
  const secrets = config?.secretValues ?? [];
  const envVars = { PULUMI_BACKEND_URL: plan.backendUrl, PULUMI_SKIP_UPDATE_CHECK: "true" };
  // up may touch only the stack it creates (its own tag); destroy any stack tagged with this run's id.
  const claim: Claim = mode === "up" ? { kind: "process", owner: newOwner(runId) } : { kind: "run", runId };
  const makeEngine = deps.engine ?? realEngine(secrets);
  const engine = makeEngine({ stack: stack.name, config, envVars, claim, workDir: plan.workDir });
  deps.log(
    `ci:stack: ${mode} stack ${stack.name} (${stack.source}), run id ${runId}, backend ${plan.backendUrl}, result -> ${out}`,
  );
  const common = {
    engine,
    stack: stack.name,
    stackSource: stack.source,
    runId,
    log: (l: string) => deps.log(redact(l, secrets)),
    redact: (t: string) => redact(t, secrets),
    writeResult: (r: CiResult) => writeResult(out, r),
  };
  const { abort, unlisten } = listenForSignals(deps, mode, { ...stack, runId }, out);
  let result: CiResult;
  try {
    result =
      mode === "up"
        ? await runCiStack({
            ...common,
            smokeEnabled: config!.settings.smokeEnabled,
            keep: plan.keep,
            signal: abort.signal,
          })
        : await destroyCiStack(common);
  } finally {
    unlisten();
  }
  for (const a of result.advice) deps.log(`ci:stack: ${a}`);
  deps.stdout(summaryLine(mode, stack.name, result, out));
  return result.exitCode;
}

/** The Automation API engine on the project directory, scrubbing these secrets from its errors. */
function realEngine(secrets: string[]): NonNullable<RunDeps["engine"]> {
  return (o) =>
    automationEngine({
      workDir: o.workDir,
      stackName: o.stack,
      config: o.config?.document,
      envVars: o.envVars,
      secrets,
      claim: o.claim,
    });
}

/** First SIGINT/SIGTERM: cancel `up` (pulumi stops gracefully) and tear down; a second one exits at once. */
function listenForSignals(
  deps: RunDeps,
  mode: "up" | "destroy",
  name: { name: string; source: string; runId: string },
  out: string,
) {
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      deps.log(
        `ci:stack: ${sig}: cancelling ${mode === "up" ? "pulumi up, then tearing down" : "nothing: the teardown runs to its end"} (send it again to exit at once)`,
      );
      abort.abort();
    } else {
      const msg = `${sig} again: exiting before the teardown finished; run npm run ci:stack -- destroy --stack ${name.name} --run-id ${name.runId} to clean up`;
      deps.log(`ci:stack: ${msg}`);
      writeResult(out, { ...earlyFailure(mode, name.name, name.source, "interrupted", msg), runId: name.runId });
      (deps.exit ?? process.exit)(EXIT.interrupted);
    }
  };
  const listen =
    deps.onSignal ??
    ((h) => {
      process.on("SIGINT", h).on("SIGTERM", h);
      return () => process.off("SIGINT", h).off("SIGTERM", h);
    });
  return { abort, unlisten: listen(onSignal) };
}

function summaryLine(mode: "up" | "destroy", stack: string, result: CiResult, out: string): string {
  return (
    `ci:stack ${mode} ${stack}: ${result.ok ? "OK" : `FAILED at ${result.failedStep} (exit ${result.exitCode})`}` +
    (result.smoke.ok === true ? `, proven ${result.smoke.files.join(", ")}` : "") +
    `, ${result.totalMs} ms; result in ${out}\n`
  );
}
