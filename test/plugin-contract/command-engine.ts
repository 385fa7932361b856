// What the command plugin's contract tests share: a tiny program's stack under the real CLI (removed
// when the test ends), the engine's event log (where the plugin's status lines show up), and readers
// for the state. Everything is observed through the engine, so the same tests run against the real
// plugin (SDWEBUI_TEST_PLUGINS=real).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { EngineStack, type StackOptions, type StateResource, urnName } from "../helpers/engine-stack.js";
import { standinBinary, toolchainLayout } from "../../tools/toolchain/layout.js";
import { pluginMode, pluginsMissing, requireToolchain, tinyProgram, type CliResult } from "../helpers/pulumi-cli.js";
import { requireOrSkip } from "../helpers/requirements.js";

/** The first lines of every tiny program: the SDKs and the stack's config. */
export const PRELUDE = `"use strict";
const pulumi = require("@pulumi/pulumi");
const command = require("@pulumi/command");
const cfg = new pulumi.Config();
`;

/**
 * A program that declares the commands the config keys "local" and "remote" describe, by name:
 * the resource's args as given, plus `dependsOn` (names of earlier commands). A remote command's
 * connection gets the secret config "privateKey" when that is set. Keeping the shell scripts in
 * config keeps them free of JavaScript quoting, and a config change is an input change.
 */
export const COMMANDS_PROGRAM = `
const made = {};
const privateKey = cfg.getSecret("privateKey");
const declare = (Kind, specs, fill) => {
  for (const [name, spec] of Object.entries(specs ?? {})) {
    const { dependsOn, ...args } = spec;
    made[name] = new Kind(name, fill(args), { dependsOn: (dependsOn ?? []).map((n) => made[n]) });
  }
};
declare(command.local.Command, cfg.getObject("local"), (args) => args);
declare(command.remote.Command, cfg.getObject("remote"), (args) =>
  privateKey ? { ...args, connection: { ...args.connection, privateKey } } : args);
`;

export interface ProgramOptions extends StackOptions {
  /** Where Pulumi.yaml's main points (the engine starts the plugin in its folder). */
  main?: string;
  /** The CLI's environment (and so the plugin's); default: this process's, without SSH_AUTH_SOCK. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The toolchain and the command plugin (the stand-in, or the real one with SDWEBUI_TEST_PLUGINS=real);
 * unlike requireEngine, the docker plugin is not needed.
 */
export function requireCommandPlugin(t: TestContext): boolean {
  if (!requireToolchain(t)) return false;
  if (pluginMode() === "real") return requireOrSkip(t, pluginsMissing());
  const binary = standinBinary(toolchainLayout(), "command");
  return requireOrSkip(
    t,
    existsSync(binary) ? "" : `the command stand-in is not built at ${binary} (npm run toolchain)`,
  );
}

/** A stack "test" of a tiny program; skips without the engine. The project goes when the test ends. */
export function commandStack(
  t: TestContext,
  name: string,
  body: string,
  opts: ProgramOptions = {},
): EngineStack | undefined {
  if (!requireCommandPlugin(t)) return undefined;
  // PULUMI_DEBUG_COMMANDS enables `--event-log`, where the plugin's status lines can be read.
  const env = { ...(opts.env ?? withoutAgent(process.env)), PULUMI_DEBUG_COMMANDS: "true" };
  const project = tinyProgram(name, PRELUDE + body, { main: opts.main, baseEnv: env });
  t.after(() => project.cleanUp());
  return EngineStack.init(project, "test", opts);
}

/** The environment without an SSH agent, so that the machine's own agent cannot decide a test. */
export function withoutAgent(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy.SSH_AUTH_SOCK;
  return copy;
}

/** Skips a test of what only the stand-in does (its refusals), when the real plugins are in use. */
export function standinOnly(t: TestContext): boolean {
  return requireOrSkip(
    t,
    pluginMode() === "real" ? "checks a refusal of the stand-in, which the real plugin does not have" : "",
  );
}

/** The project's own folder (where Pulumi.yaml is). */
export const projectDir = (stack: EngineStack) => stack.project.dir;

export interface Diagnostic {
  severity: string;
  message: string;
  /** Status text (InfoStatus and the like): shown while a step runs, not kept. */
  ephemeral: boolean;
  urn?: string;
}

let eventLogs = 0;
const nextEventLog = (stack: EngineStack) => join(stack.project.dir, "..", `events-${++eventLogs}.jsonl`);
const readEventLog = (file: string) => (existsSync(file) ? diagnosticsIn(readFileSync(file, "utf8")) : []);

/** Runs `pulumi <args>` with --event-log and returns the result with every diagnostic the engine saw. */
export function runWithEvents(stack: EngineStack, args: string[]): { result: CliResult; diagnostics: Diagnostic[] } {
  const file = nextEventLog(stack);
  const result = stack.run([...args, "--event-log", file]);
  return { result, diagnostics: readEventLog(file) };
}

/** The same without blocking the event loop, for tests that serve something to the plugin meanwhile. */
export async function runWithEventsAsync(
  stack: EngineStack,
  args: string[],
): Promise<{ result: CliResult; diagnostics: Diagnostic[] }> {
  const file = nextEventLog(stack);
  const result = await stack.project.pulumiAsync([...args, "--stack", stack.name, "--event-log", file]).done;
  return { result, diagnostics: readEventLog(file) };
}

/** The messages of the ephemeral info diagnostics (the plugin's InfoStatus lines), trimmed. */
export const statusLines = (diagnostics: Diagnostic[]) =>
  diagnostics.filter((d) => d.ephemeral && d.severity === "info").map((d) => d.message.trim());

function diagnosticsIn(text: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const d = (JSON.parse(line) as { diagnosticEvent?: Diagnostic & { ephemeral?: boolean } }).diagnosticEvent;
    if (d) out.push({ severity: d.severity, message: d.message, ephemeral: d.ephemeral === true, urn: d.urn });
  }
  return out;
}

/** `pulumi up` that must succeed, with its diagnostics. */
export function upWithEvents(stack: EngineStack): Diagnostic[] {
  const { result, diagnostics } = runWithEvents(stack, ["up", "--yes", "--skip-preview"]);
  if (result.status !== 0)
    throw new Error(`pulumi up exited ${result.status}:\n${(result.stdout + result.stderr).slice(-6000)}`);
  return diagnostics;
}

/** The state resource named `name` (the last URN part), if any. */
export function resourceNamed(stack: EngineStack, name: string): StateResource | undefined {
  return stack.resources().find((r) => r.custom && urnName(r.urn) === name);
}

/** How `pulumi stack export` writes a secret value: an object with the secret signature. */
export function isSecretValue(v: unknown): boolean {
  return (
    typeof v === "object" &&
    v !== null &&
    (v as Record<string, unknown>)["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270"
  );
}

/** The lines of a file the commands append to ([] when it does not exist). */
export function linesOf(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}
