#!/usr/bin/env node
// `npm run ci:stack -- up|destroy|check|name [flags]`: a short-lived stack per CI run (tools/ci-stack/README.md).
// Progress goes to stderr; the result JSON goes to --out (written in every case); the exit code is the
// first failure's (EXIT in run.ts).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { cliTable, CliUsageError, flag, parseTable, usageText } from "../../lib/cli-table.js";
import { automationEngine, findPulumiCli, PulumiCliMissingError } from "./automation.js";
import { EnvConfigError, envConfig, redact } from "./env-config.js";
import type { EnvConfig } from "./env-config.js";
import { newOwner, stackFileRefusal } from "./ownership.js";
import type { Claim } from "./ownership.js";
import { preflight } from "./runner-check.js";
import { destroyCiStack, earlyFailure, EXIT, runCiStack } from "./lifecycle.js";
import type { CiResult, StackEngine } from "./lifecycle.js";
import { checkRunId, checkStackName, ciRunId, ciStackName, StackNameError } from "./stack-name.js";

const CI_CLI = cliTable({
  prog: "npm run ci:stack --",
  synopsis: "<command> [flags]",
  commands: {
    up: "validate SDWEBUI_* settings, create a new stack tagged with this run's id, pulumi up (runs the smoke step), read the outputs, then destroy and remove the stack (always, unless --keep)",
    destroy:
      "destroy and remove the stack if it carries this run's tag (cleanup step; a stack that does not exist is fine)",
    check: "validate the environment and print the stack name and settings; touches nothing",
    name: "print the stack name only",
  },
  flags: {
    out: flag(z.string().default("ci-stack-result.json"), { arg: "FILE", help: "result JSON" }),
    stack: flag(z.string().optional(), {
      arg: "NAME",
      help: "stack name (default: derived from the CI run variables, see README)",
    }),
    "run-id": flag(z.string().optional(), {
      arg: "ID",
      help: "this run's id, written on (up) or required of (destroy) the stack's ci:stack tag (default: derived from the CI run variables)",
    }),
    keep: flag(z.boolean().default(false), { help: "up: leave the stack and its resources running (for debugging)" }),
    "work-dir": flag(z.string().optional(), {
      arg: "DIR",
      help: "the Pulumi project directory (default: the repository holding this tool)",
    }),
  },
});
export const USAGE = usageText(CI_CLI);

type Env = Record<string, string | undefined>;

export interface CliDeps {
  env: Env;
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
  /** Tests replace the CLI lookup; default: `pulumi version` through the Automation API. */
  checkCli?: () => Promise<unknown>;
  /** Subscribe to SIGINT/SIGTERM (returns the unsubscribe); default: process signals. */
  onSignal?: (handler: (sig: NodeJS.Signals) => void) => () => void;
  exit?: (code: number) => void;
}

/** The repository root: the nearest parent of this file holding Pulumi.yaml (works from dist/ too). */
function defaultWorkDir(): string {
  for (let d = __dirname; ; d = dirname(d)) {
    if (existsSync(resolve(d, "Pulumi.yaml"))) return d;
    if (dirname(d) === d) return process.cwd();
  }
}

function writeResult(file: string, r: CiResult): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(r, null, 2) + "\n");
}

export async function main(argv: string[], deps: CliDeps): Promise<number> {
  let parsed;
  try {
    parsed = parseTable(CI_CLI, argv);
  } catch (e) {
    if (!(e instanceof CliUsageError)) throw e;
    deps.log(`ci:stack: ${e.message}`);
    return EXIT.usage;
  }
  if (parsed.help) return (deps.stdout(USAGE + "\n"), 0);
  const { values } = parsed;
  const command = parsed.command!;
  if (values.keep && command !== "up") {
    deps.log("ci:stack: --keep only applies to up");
    return EXIT.usage;
  }
  const out = resolve(values.out);
  const workDir = resolve(values["work-dir"] ?? defaultWorkDir());
  const mode = command === "destroy" ? "destroy" : "up";
  let runId: { id: string; deterministic: boolean } | undefined;
  const early = (
    step: "config" | "preflight" | "owner" | "usage",
    message: string,
    stack = "",
    source = "",
  ): number => {
    deps.log(`ci:stack: ${message}`);
    if (command === "up" || command === "destroy")
      writeResult(out, { ...earlyFailure(mode, stack, source, step, message), runId: runId?.id });
    return EXIT[step];
  };

  let name: { name: string; source: string; deterministic: boolean };
  try {
    name =
      values.stack !== undefined
        ? { name: checkStackName(values.stack), source: "--stack", deterministic: true }
        : ciStackName(deps.env);
    runId =
      values["run-id"] !== undefined ? { id: checkRunId(values["run-id"]), deterministic: true } : ciRunId(deps.env);
  } catch (e) {
    if (e instanceof StackNameError) return early("usage", e.message);
    throw e;
  }
  if (command === "name") return (deps.stdout(name.name + "\n"), 0);
  // A fallback name is random: destroying "it" would look for a stack that never existed.
  if (command === "destroy" && !name.deterministic)
    return early(
      "usage",
      "destroy: no CI run variables found to derive the stack name from; pass --stack <name> (the up's result file names it)",
    );
  // So is a fallback run id: it would match no stack's tag.
  if (command === "destroy" && !runId.deterministic)
    return early(
      "usage",
      "destroy: no CI run variables found to derive this run's id from; pass --run-id <id> (the up's result file names it as runId)",
      name.name,
      name.source,
    );

  // Settings only matter for up/check; destroy works from the stack's stored config.
  let config: EnvConfig | undefined;
  if (command !== "destroy") {
    try {
      config = envConfig(deps.env);
    } catch (e) {
      if (e instanceof EnvConfigError) return early("config", e.message, name.name, name.source);
      throw e;
    }
  }
  const secrets = config?.secretValues ?? [];
  const pre = preflight(deps.env, workDir, {
    smokeEnabled: config?.settings.smokeEnabled ?? false,
    needBuild: command === "up",
  });
  // A committed stack file (or, for up, any existing one) rules the name out before anything is touched.
  const fileRefusal = stackFileRefusal(workDir, name.name, mode);
  if (command === "check") {
    const problems = [...pre.problems, ...(fileRefusal ? [fileRefusal.message] : [])];
    deps.stdout(
      [
        `stack ${name.name} (${name.source}), run id ${runId.id}`,
        ...config!.summary,
        ...pre.warnings.map((w) => `warning: ${w}`),
        ...problems.map((p) => `problem: ${p}`),
      ].join("\n") + "\n",
    );
    return pre.problems.length > 0 ? EXIT.preflight : fileRefusal ? EXIT.owner : 0;
  }
  for (const w of pre.warnings) deps.log(`ci:stack: warning: ${w}`);
  if (pre.problems.length > 0)
    return early("preflight", `cannot start:\n  - ${pre.problems.join("\n  - ")}`, name.name, name.source);
  if (fileRefusal) return early("owner", fileRefusal.message, name.name, name.source);
  try {
    await (deps.checkCli ?? findPulumiCli)();
  } catch (e) {
    if (e instanceof PulumiCliMissingError) return early("preflight", e.message, name.name, name.source);
    throw e;
  }
  if (pre.backend.dir) mkdirSync(pre.backend.dir, { recursive: true });
  if (!name.deterministic || !runId.deterministic)
    deps.log(
      `ci:stack: warning: no CI run variables found; destroy cannot recompute ${name.deterministic ? "" : `the stack name ${name.name} nor `}the run id ${runId.id}: pass --stack and --run-id to destroy`,
    );

  const envVars = { PULUMI_BACKEND_URL: pre.backend.url, PULUMI_SKIP_UPDATE_CHECK: "true" };
  const makeEngine =
    deps.engine ??
    ((o) =>
      automationEngine({
        workDir: o.workDir,
        stackName: o.stack,
        config: o.config?.document,
        envVars: o.envVars,
        secrets,
        claim: o.claim,
      }));
  // up may touch only the stack it creates (its own tag); destroy any stack tagged with this run's id.
  const claim: Claim =
    mode === "up" ? { kind: "process", owner: newOwner(runId.id) } : { kind: "run", runId: runId.id };
  const engine = makeEngine({ stack: name.name, config, envVars, claim, workDir });
  const log = (l: string) => deps.log(redact(l, secrets));
  deps.log(
    `ci:stack: ${mode} stack ${name.name} (${name.source}), run id ${runId.id}, backend ${pre.backend.url}, result -> ${out}`,
  );
  const common = {
    engine,
    stack: name.name,
    stackSource: name.source,
    runId: runId.id,
    log,
    redact: (t: string) => redact(t, secrets),
    writeResult: (r: CiResult) => writeResult(out, r),
  };
  const { abort, unlisten } = listenForSignals(deps, mode, { ...name, runId: runId.id }, out);
  let result: CiResult;
  try {
    result =
      mode === "up"
        ? await runCiStack({
            ...common,
            smokeEnabled: config!.settings.smokeEnabled,
            keep: values.keep,
            signal: abort.signal,
          })
        : await destroyCiStack(common);
  } finally {
    unlisten();
  }
  for (const a of result.advice) deps.log(`ci:stack: ${a}`);
  deps.stdout(summaryLine(mode, name.name, result, out));
  return result.exitCode;
}

/** First SIGINT/SIGTERM: cancel `up` (pulumi stops gracefully) and tear down; a second one exits at once. */
function listenForSignals(
  deps: CliDeps,
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

if (require.main === module) {
  void main(process.argv.slice(2), {
    env: process.env,
    log: (l) => process.stderr.write(l + "\n"),
    stdout: (t) => process.stdout.write(t),
  }).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`ci:stack: internal error: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
