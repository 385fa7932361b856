// The real StackEngine: Pulumi's Automation API on this project directory. It drives the `pulumi` CLI,
// which must be installed (with the docker and command plugins); without it every call fails with
// PulumiCliMissingError, which says how to install it. Errors are scrubbed of secret values because
// the CLI's error text echoes its arguments (`config set-all --json {...}`). The engine touches only a
// stack this process created (create) or whose ci:stack tag the claim accepts (ownership.ts), and checks
// the tag again right before each step that changes the stack.
import { existsSync, rmSync } from "node:fs";
import { LocalWorkspace, PulumiCommand, Stack, StackAlreadyExistsError } from "@pulumi/pulumi/automation";
import type { ConfigDocument } from "./env-config.js";
import { redact } from "./env-config.js";
import type { Claim, Owner } from "./ownership.js";
import {
  accepts,
  markerOf,
  notOurs,
  OWNER_TAG,
  OwnershipError,
  parseMarker,
  stackFiles,
  trackedByGit,
} from "./ownership.js";
import type { Log, StackEngine, StackOutput } from "./lifecycle.js";

const INSTALL_URL = "https://www.pulumi.com/docs/install/";

export class PulumiCliMissingError extends Error {
  constructor(detail: string) {
    super(
      `Pulumi CLI not found: install it (${INSTALL_URL}) and put \`pulumi\` on PATH, then install the provider plugins ` +
        `(pulumi plugin install resource docker 5.2.0; pulumi plugin install resource command 1.2.1). (${detail})`,
    );
    this.name = "PulumiCliMissingError";
  }
}

function isCliMissing(e: unknown): boolean {
  const text = `${(e as Error)?.message ?? ""} ${(e as { code?: unknown })?.code ?? ""}`;
  return /ENOENT/.test(text) && /pulumi/.test(text);
}

/** `pulumi version` through the Automation API; a clear error when the CLI is absent. */
export async function findPulumiCli(): Promise<PulumiCommand> {
  try {
    return await PulumiCommand.get({ skipVersionCheck: false });
  } catch (e) {
    if (isCliMissing(e)) throw new PulumiCliMissingError("`pulumi version` could not be started: no pulumi on PATH");
    throw e;
  }
}

export interface AutomationOptions {
  workDir: string;
  stackName: string;
  /** The config to store before `up` (none for the destroy-only command). */
  config?: ConfigDocument;
  /** Extra environment for the CLI (PULUMI_BACKEND_URL ...); the process environment is inherited. */
  envVars: Record<string, string>;
  secrets: string[];
  /** up: this process (its tag goes on the stack it creates); destroy: the run whose stacks it may remove. */
  claim: Claim;
  /** Injected by tests; default: findPulumiCli(). */
  cli?: () => Promise<PulumiCommand>;
}

/** An engine error as the caller sees it: the CLI's absence made clear, secret values scrubbed, the text bounded. */
function scrub(e: unknown, secrets: string[]): Error {
  if (e instanceof PulumiCliMissingError || e instanceof OwnershipError) return e;
  if (isCliMissing(e)) return new PulumiCliMissingError("spawn pulumi ENOENT");
  const text = (e as Error)?.message ?? String(e);
  // The CLI's whole stdout/stderr is in the message; keep the end, where the error is.
  const tail = text.length > 20_000 ? `...${text.slice(-20_000)}` : text;
  return new Error(redact(tail, secrets));
}

/** What the engine's calls share: one workspace (made on first use), the stack this process created, the tag checks. */
class Session {
  private workspace: LocalWorkspace | undefined;
  /** Set by create once the stack carries this process's tag: the only stack up deploys to. */
  created: Stack | undefined;

  constructor(readonly o: AutomationOptions) {}

  async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw scrub(e, this.o.secrets);
    }
  }

  async ws(): Promise<LocalWorkspace> {
    this.workspace ??= await LocalWorkspace.create({
      workDir: this.o.workDir,
      envVars: this.o.envVars,
      pulumiCommand: await (this.o.cli ?? findPulumiCli)(),
    });
    return this.workspace;
  }

  async exists(w: LocalWorkspace): Promise<boolean> {
    return (await w.listStacks()).some((s) => s.name === this.o.stackName);
  }

  async tagOf(w: LocalWorkspace): Promise<Owner | undefined> {
    return parseMarker((await w.listTags(this.o.stackName))[OWNER_TAG]);
  }

  /** The stack, when it exists and the claim accepts its tag; undefined when there is none; refused otherwise. */
  async owned(action: "up" | "destroy"): Promise<Stack | undefined> {
    const w = await this.ws();
    if (!(await this.exists(w))) return undefined;
    const tag = await this.tagOf(w);
    if (!accepts(this.o.claim, tag)) throw notOurs(this.o.stackName, tag, this.o.claim, action);
    return this.created ?? (await Stack.select(this.o.stackName, w));
  }

  /** The CLI's output as log lines, secrets scrubbed, blank lines dropped. */
  out(log: Log): (text: string) => void {
    return (text) => {
      for (const line of redact(text, this.o.secrets).split("\n")) if (line.trim() !== "") log(line);
    };
  }
}

export function automationEngine(o: AutomationOptions): StackEngine {
  const s = new Session(o);
  return {
    create: (log) => s.guard(() => create(s, log)),
    up: (log, signal) => s.guard(() => up(s, log, signal)),
    outputs: () => s.guard(() => outputs(s)),
    destroy: (log) => s.guard(() => destroy(s, log)),
    removeStack: () => s.guard(() => removeStack(s)),
  };
}

async function create(s: Session, log: Log): Promise<void> {
  const { o } = s;
  if (o.claim.kind !== "process") throw new Error("create needs the creating process's own claim");
  const w = await s.ws();
  // Refused before anything is written: an existing stack is never taken over, whoever made it.
  if (await s.exists(w)) throw notOurs(o.stackName, await s.tagOf(w), o.claim, "up");
  let stack: Stack;
  try {
    stack = await Stack.create(o.stackName, w);
  } catch (e) {
    // Created by someone else between the check and `stack init`.
    if (e instanceof StackAlreadyExistsError) throw notOurs(o.stackName, await s.tagOf(w), o.claim, "up");
    throw e;
  }
  await w.setTag(o.stackName, OWNER_TAG, markerOf(o.claim.owner));
  // Read back: a ci:stack that created the same name at the same instant may have written its tag last.
  const tag = await s.tagOf(w);
  if (!accepts(o.claim, tag)) throw notOurs(o.stackName, tag, o.claim, "up");
  s.created = stack;
  log(`ci:stack: created stack ${o.stackName}, tagged ${OWNER_TAG}=${markerOf(o.claim.owner)}`);
}

async function up(s: Session, log: Log, signal?: AbortSignal): Promise<void> {
  const { o } = s;
  const stack = await s.owned("up");
  if (!stack || stack !== s.created)
    throw new Error(
      `stack ${o.stackName} was not created by this process: up deploys only to a stack it has just created`,
    );
  if (o.config && Object.keys(o.config).length > 0) await stack.setAllConfigJson(JSON.stringify(o.config));
  if (signal?.aborted) throw new Error("interrupted before pulumi up started");
  await stack.up({ onOutput: s.out(log), color: "never", signal });
}

async function outputs(s: Session): Promise<Record<string, StackOutput>> {
  const stack = await s.owned("up");
  if (!stack) throw new Error(`stack ${s.o.stackName} does not exist`);
  const raw = await stack.outputs();
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k, { value: v.value, secret: v.secret } satisfies StackOutput]),
  );
}

async function destroy(s: Session, log: Log): Promise<void> {
  const stack = await s.owned("destroy");
  if (!stack) return log(`ci:stack: stack ${s.o.stackName} does not exist: nothing to destroy`);
  await stack.destroy({ onOutput: s.out(log), color: "never" });
}

async function removeStack(s: Session): Promise<void> {
  // Checked again: the tag is the last word on whose stack this is.
  if (!(await s.owned("destroy"))) return;
  await (await s.ws()).removeStack(s.o.stackName, { preserveConfig: true });
  // The stack file went with the stack only because ci:stack wrote it (up refuses a name whose file
  // exists); a file git tracks is never removed.
  for (const f of stackFiles(s.o.workDir, s.o.stackName)) if (existsSync(f) && !trackedByGit(f, s.o.workDir)) rmSync(f);
}
