// Evaluates the Pulumi program in-process under pulumi.runtime.setMocks and records what each
// registration shows the mocks' public newResource callback: type, name, inputs and provider. Options
// (parent, dependencies, retainOnDelete, aliases …) are the engine's business: the tests that need them
// read the real engine's state (pulumi stack export, test/deploy).
import * as pulumi from "@pulumi/pulumi";
import { smokeCliPath } from "../../infra/common/smoke-step.js";

export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface Registered {
  type: string;
  name: string;
  /** The id the mock "provider" returned (what dependents see as `resource.id`). */
  id: string;
  custom: boolean;
  /** The provider reference ("<urn>::<id>") of a resource with an explicit provider, else "". */
  provider: string;
  /** Inputs as the engine would see them: secrets are wrapped `{[SECRET_SIG]: ..., value}`. */
  inputs: Record<string, unknown>;
}

export interface MockEngine {
  resources: Registered[];
  reset(): void;
  byType(type: string): Registered[];
  one(type: string): Registered;
}

/**
 * State the mock "provider" returns: the inputs echoed, plus the computed outputs the program reads, each
 * an obvious placeholder (a test of what the program derives from them must not pass on a canned value).
 */
function mockState(args: pulumi.runtime.MockResourceArgs): MockState {
  const state: Record<string, unknown> = { ...args.inputs };
  switch (args.type) {
    case "docker:index/remoteImage:RemoteImage":
      state.imageId = `sha256:${"ab".repeat(32)}`;
      state.repoDigest = "";
      break;
    case "command:local:Command":
    case "command:remote:Command":
      // The program parses the smoke's last line as its proof (for the smokeFile output): give it the shape.
      state.stdout = String(args.inputs.create ?? "").includes(smokeCliPath())
        ? JSON.stringify({ ok: true, file: "/mock-proof.png", bytes: 1, seed: 1, runId: "mock" })
        : "";
      state.stderr = "";
      break;
  }
  return { id: `${args.name}-id`, state };
}

export type MockState = { id: string; state: Record<string, unknown> };

export interface InstallOptions {
  project?: string;
  stack?: string;
  preview?: boolean;
  /** Replaces the default mock "provider" answer. */
  newResource?: (args: pulumi.runtime.MockResourceArgs, fallback: MockState) => MockState;
}

/** pulumi.runtime.setMocks, recording what each registration's newResource call shows (type, name, inputs, provider). */
export async function installMocks(opts: InstallOptions = {}): Promise<MockEngine> {
  const resources: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const answer = opts.newResource ? opts.newResource(args, mockState(args)) : mockState(args);
        resources.push({
          type: args.type,
          name: args.name,
          id: answer.id,
          custom: args.custom ?? true,
          provider: args.provider ?? "",
          inputs: args.inputs as Record<string, unknown>,
        });
        return answer;
      },
      call: (args) => {
        throw new Error(`unexpected invoke ${args.token}: the program should not call providers at evaluation time`);
      },
    },
    opts.project ?? "sdwebui",
    opts.stack ?? "test",
    opts.preview ?? false,
  );
  return {
    resources,
    reset: () => void resources.splice(0),
    byType: (type) => resources.filter((r) => r.type === type),
    one: (type) => {
      const found = resources.filter((r) => r.type === type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0]!;
    },
  };
}

/**
 * Resolves once every registration (and output registration, invoke, log) the program has started is
 * finished: the SDK's own queue of pending RPCs, the one it drains before a program may exit. A registration
 * waiting on inputs that are not resolved yet is in that queue too, so after this a test can assert that
 * nothing more was registered, however slow the machine.
 */
export async function allRegistered(): Promise<void> {
  const { waitForRPCs } = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  if (typeof waitForRPCs !== "function")
    throw new Error(
      "@pulumi/pulumi's runtime no longer has waitForRPCs: find how this SDK version drains its RPC queue",
    );
  await waitForRPCs();
}

/** Stack config for a test run: `settings` are bare keys of the sdwebui namespace. */
export function setStackConfig(
  settings: Record<string, unknown>,
  secretKeys: string[] = ["apiPassword", "uiPassword", "sshPrivateKey"],
): void {
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(settings)) config[`sdwebui:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  pulumi.runtime.setAllConfig(
    config,
    secretKeys.filter((k) => k in settings).map((k) => `sdwebui:${k}`),
  );
}

/** Resolves every Output in a stack-outputs object (the program's return value). */
export async function resolveOutputs(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs))
    out[k] = pulumi.Output.isInstance(v) ? await promiseOf(v as pulumi.Output<unknown>) : v;
  return out;
}

export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => (resolve(v), v)));
}

/** Unwraps Pulumi's secret envelopes (test harness only: never print the result). */
export function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (SECRET_SIG in o) return unwrapSecrets(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

/** JSON of an input tree with every secret envelope replaced by "[secret]": what is visible without a key. */
export function visiblePart(v: unknown): string {
  const strip = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(strip);
    if (x && typeof x === "object") {
      const o = x as Record<string, unknown>;
      if (SECRET_SIG in o) return "[secret]";
      return Object.fromEntries(Object.entries(o).map(([k, y]) => [k, strip(y)]));
    }
    return x;
  };
  return JSON.stringify(strip(v));
}
