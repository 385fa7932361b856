#!/usr/bin/env node
// `npm run ci:stack -- up|destroy|check|name [flags]`: a short-lived stack per CI run (tools/ci-stack/README.md).
// Progress goes to stderr; the result JSON goes to --out (written in every case); the exit code is the
// first failure's (EXIT in lifecycle.ts). Here: the command line and every check before Pulumi is touched;
// cli-run.ts runs up or destroy.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { cliTable, CliUsageError, flag, parseTable, usageText } from "../../lib/cli-table.js";
import type { TableValues } from "../../lib/cli-table.js";
import { findPulumiCli, PulumiCliMissingError } from "./automation.js";
import { runStack, writeResult } from "./cli-run.js";
import type { RunDeps } from "./cli-run.js";
import { EnvConfigError, envConfig } from "./env-config.js";
import type { EnvConfig } from "./env-config.js";
import { stackFileRefusal } from "./ownership.js";
import type { OwnershipError } from "./ownership.js";
import { preflight } from "./runner-check.js";
import type { Preflight } from "./runner-check.js";
import { earlyFailure, EXIT } from "./lifecycle.js";
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
type Values = TableValues<typeof CI_CLI.flags>;

export interface CliDeps extends RunDeps {
  env: Env;
  /** Tests replace the CLI lookup; default: `pulumi version` through the Automation API. */
  checkCli?: () => Promise<unknown>;
}

/** One invocation's facts, for the early exits: a result file for up and destroy names the run id once known. */
interface Invocation {
  deps: CliDeps;
  command: string;
  mode: "up" | "destroy";
  out: string;
  workDir: string;
  runId?: string;
}

interface StackIds {
  name: { name: string; source: string; deterministic: boolean };
  runId: { id: string; deterministic: boolean };
}

/** The repository root: the nearest parent of this file holding Pulumi.yaml (works from dist/ too). */
function defaultWorkDir(): string {
  for (let d = __dirname; ; d = dirname(d)) {
    if (existsSync(resolve(d, "Pulumi.yaml"))) return d;
    if (dirname(d) === d) return process.cwd();
  }
}

/** A failure before the stack is touched: logged, written as the result (up and destroy), its step's exit code. */
function early(
  inv: Invocation,
  step: "config" | "preflight" | "owner" | "usage",
  message: string,
  stack = "",
  source = "",
): number {
  inv.deps.log(`ci:stack: ${message}`);
  if (inv.command === "up" || inv.command === "destroy")
    writeResult(inv.out, { ...earlyFailure(inv.mode, stack, source, step, message), runId: inv.runId });
  return EXIT[step];
}

/** The command and flags, or the exit code when there is nothing to run (usage error, --help, a lone --keep). */
function parseCommandLine(argv: string[], deps: CliDeps): { command: string; values: Values } | number {
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
  return { command, values };
}

/** The stack name and run id, from the flags or the CI run variables; a bad one is a usage failure. */
function stackIds(inv: Invocation, values: Values): StackIds | number {
  try {
    const name =
      values.stack !== undefined
        ? { name: checkStackName(values.stack), source: "--stack", deterministic: true }
        : ciStackName(inv.deps.env);
    const runId =
      values["run-id"] !== undefined
        ? { id: checkRunId(values["run-id"]), deterministic: true }
        : ciRunId(inv.deps.env);
    return { name, runId };
  } catch (e) {
    if (e instanceof StackNameError) return early(inv, "usage", e.message);
    throw e;
  }
}

/** destroy must find the up's stack again: a random fallback name or run id would match nothing. */
function destroyIdsRefusal(inv: Invocation, { name, runId }: StackIds): number | undefined {
  if (inv.command !== "destroy") return undefined;
  if (!name.deterministic)
    return early(
      inv,
      "usage",
      "destroy: no CI run variables found to derive the stack name from; pass --stack <name> (the up's result file names it)",
    );
  if (!runId.deterministic)
    return early(
      inv,
      "usage",
      "destroy: no CI run variables found to derive this run's id from; pass --run-id <id> (the up's result file names it as runId)",
      name.name,
      name.source,
    );
  return undefined;
}

/** The SDWEBUI_* settings, for up and check only: destroy works from the stack's stored config. */
function settings(inv: Invocation, { name }: StackIds): { config?: EnvConfig } | number {
  if (inv.command === "destroy") return {};
  try {
    return { config: envConfig(inv.deps.env) };
  } catch (e) {
    if (e instanceof EnvConfigError) return early(inv, "config", e.message, name.name, name.source);
    throw e;
  }
}

/** check: the stack, the settings and every warning and problem on stdout; touches nothing. */
function checkReport(
  inv: Invocation,
  { name, runId }: StackIds,
  config: EnvConfig,
  pre: Preflight,
  fileRefusal: OwnershipError | undefined,
): number {
  const problems = [...pre.problems, ...(fileRefusal ? [fileRefusal.message] : [])];
  inv.deps.stdout(
    [
      `stack ${name.name} (${name.source}), run id ${runId.id}`,
      ...config.summary,
      ...pre.warnings.map((w) => `warning: ${w}`),
      ...problems.map((p) => `problem: ${p}`),
    ].join("\n") + "\n",
  );
  return pre.problems.length > 0 ? EXIT.preflight : fileRefusal ? EXIT.owner : 0;
}

/** The last checks before up or destroy (runner, stack file, Pulumi CLI): the exit code of the first that fails. */
async function startRefusal(
  inv: Invocation,
  { name, runId }: StackIds,
  pre: Preflight,
  fileRefusal: OwnershipError | undefined,
): Promise<number | undefined> {
  const { deps } = inv;
  for (const w of pre.warnings) deps.log(`ci:stack: warning: ${w}`);
  if (pre.problems.length > 0)
    return early(inv, "preflight", `cannot start:\n  - ${pre.problems.join("\n  - ")}`, name.name, name.source);
  if (fileRefusal) return early(inv, "owner", fileRefusal.message, name.name, name.source);
  try {
    await (deps.checkCli ?? findPulumiCli)();
  } catch (e) {
    if (e instanceof PulumiCliMissingError) return early(inv, "preflight", e.message, name.name, name.source);
    throw e;
  }
  if (pre.backend.dir) mkdirSync(pre.backend.dir, { recursive: true });
  if (!name.deterministic || !runId.deterministic)
    deps.log(
      `ci:stack: warning: no CI run variables found; destroy cannot recompute ${name.deterministic ? "" : `the stack name ${name.name} nor `}the run id ${runId.id}: pass --stack and --run-id to destroy`,
    );
  return undefined;
}

export async function main(argv: string[], deps: CliDeps): Promise<number> {
  const args = parseCommandLine(argv, deps);
  if (typeof args === "number") return args;
  const { command, values } = args;
  const inv: Invocation = {
    deps,
    command,
    mode: command === "destroy" ? "destroy" : "up",
    out: resolve(values.out),
    workDir: resolve(values["work-dir"] ?? defaultWorkDir()),
  };
  const ids = stackIds(inv, values);
  if (typeof ids === "number") return ids;
  inv.runId = ids.runId.id;
  if (command === "name") return (deps.stdout(ids.name.name + "\n"), 0);
  const refused = destroyIdsRefusal(inv, ids);
  if (refused !== undefined) return refused;
  const got = settings(inv, ids);
  if (typeof got === "number") return got;
  const { config } = got;
  const pre = preflight(deps.env, inv.workDir, {
    smokeEnabled: config?.settings.smokeEnabled ?? false,
    needBuild: command === "up",
  });
  // A committed stack file (or, for up, any existing one) rules the name out before anything is touched.
  const fileRefusal = stackFileRefusal(inv.workDir, ids.name.name, inv.mode);
  if (command === "check") return checkReport(inv, ids, config!, pre, fileRefusal);
  const notStarted = await startRefusal(inv, ids, pre, fileRefusal);
  if (notStarted !== undefined) return notStarted;
  return runStack(deps, {
    mode: inv.mode,
    stack: ids.name,
    runId: ids.runId.id,
    config,
    keep: values.keep,
    backendUrl: pre.backend.url,
    workDir: inv.workDir,
    out: inv.out,
  });
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
