// The real StackEngine: Pulumi's Automation API on this project directory. It drives the `pulumi` CLI,
// which must be installed (with the docker and command plugins); without it every call fails with
// PulumiCliMissingError, which says how to install it. Errors are scrubbed of secret values because
// the CLI's error text echoes its arguments (`config set-all --json {...}`).
import { LocalWorkspace, PulumiCommand, StackNotFoundError } from "@pulumi/pulumi/automation";
import type { Stack } from "@pulumi/pulumi/automation";
import type { ConfigDocument } from "./env-config.js";
import { redact } from "./env-config.js";
import type { Log, StackEngine, StackOutput } from "./run.js";

export const INSTALL_URL = "https://www.pulumi.com/docs/install/";

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
  /** Create the stack when missing (up); destroy only selects. */
  create: boolean;
  /** Injected by tests; default: findPulumiCli(). */
  cli?: () => Promise<PulumiCommand>;
}

export function automationEngine(o: AutomationOptions): StackEngine {
  let stack: Stack | undefined;
  let missing = false;
  const scrub = (e: unknown): Error => {
    if (e instanceof PulumiCliMissingError) return e;
    if (isCliMissing(e)) return new PulumiCliMissingError("spawn pulumi ENOENT");
    const text = (e as Error)?.message ?? String(e);
    // The CLI's whole stdout/stderr is in the message; keep the end, where the error is.
    const tail = text.length > 20_000 ? `...${text.slice(-20_000)}` : text;
    return new Error(redact(tail, o.secrets));
  };
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw scrub(e);
    }
  };
  const open = async (): Promise<Stack | undefined> => {
    if (stack || missing) return stack;
    const pulumiCommand = await (o.cli ?? findPulumiCli)();
    const args = { stackName: o.stackName, workDir: o.workDir };
    const opts = { envVars: o.envVars, pulumiCommand };
    try {
      stack = o.create ? await LocalWorkspace.createOrSelectStack(args, opts) : await LocalWorkspace.selectStack(args, opts);
    } catch (e) {
      if (!o.create && e instanceof StackNotFoundError) missing = true;
      else throw e;
    }
    return stack;
  };
  const out = (log: Log) => (text: string) => {
    for (const line of redact(text, o.secrets).split("\n")) if (line.trim() !== "") log(line);
  };

  return {
    up: (log, signal) =>
      guard(async () => {
        const s = (await open())!;
        if (o.config && Object.keys(o.config).length > 0) await s.setAllConfigJson(JSON.stringify(o.config));
        if (signal?.aborted) throw new Error("interrupted before pulumi up started");
        await s.up({ onOutput: out(log), color: "never", signal });
      }),
    outputs: () =>
      guard(async () => {
        const s = (await open())!;
        const raw = await s.outputs();
        return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, { value: v.value, secret: v.secret } satisfies StackOutput]));
      }),
    destroy: (log) =>
      guard(async () => {
        const s = await open();
        if (!s) return log(`ci:stack: stack ${o.stackName} does not exist: nothing to destroy`);
        await s.destroy({ onOutput: out(log), color: "never" });
      }),
    removeStack: () =>
      guard(async () => {
        const s = await open();
        if (!s) return;
        await s.workspace.removeStack(o.stackName);
      }),
  };
}
