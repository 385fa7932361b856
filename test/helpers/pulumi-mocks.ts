// Evaluates the Pulumi program in-process under pulumi.runtime.setMocks and records every resource
// registration with its inputs AND its options (parent, dependencies, retainOnDelete, ...), read from
// the raw RegisterResource request, which the mocks' own newResource callback does not show.
import * as pulumi from "@pulumi/pulumi";

export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface Registered {
  type: string;
  name: string;
  urn: string;
  /** The id the mock "provider" returned (what dependents see as `resource.id`). */
  id: string;
  custom: boolean;
  parent: string;
  provider: string;
  /** Inputs as the engine would see them: secrets are wrapped `{[SECRET_SIG]: ..., value}`. */
  inputs: Record<string, unknown>;
  dependencies: string[];
  /** Per input, the resources its value came from (Pulumi uses these to find dependents to replace). */
  propertyDependencies: Record<string, string[]>;
  deleteBeforeReplace: boolean;
  retainOnDelete: boolean;
  /** The URNs this resource answers to besides its own (its aliases, resolved as the engine does). */
  aliasUrns: string[];
  replaceOnChanges: string[];
  ignoreChanges: string[];
}

export interface MockEngine {
  resources: Registered[];
  reset(): void;
  byType(type: string): Registered[];
  one(type: string): Registered;
}

/** State the mock "provider" returns: inputs echoed, plus the computed outputs the program reads. */
function mockState(args: pulumi.runtime.MockResourceArgs): MockState {
  const state: Record<string, unknown> = { ...args.inputs };
  switch (args.type) {
    case "docker:index/remoteImage:RemoteImage":
      state.imageId = `sha256:${"ab".repeat(32)}`;
      state.repoDigest = `${String(args.inputs.name)}@sha256:${"cd".repeat(32)}`;
      break;
    case "docker:index/container:Container":
      state.bridge = "";
      state.exitCode = 0;
      break;
    case "command:local:Command":
    case "command:remote:Command":
      state.stdout = typeof args.inputs.create === "string" && args.inputs.create.includes("smoke") ? '{"ok":true,"file":"/mock/outputs/txt2img-images/2026-01-01/00000-42.png","bytes":1234,"seed":42,"runId":"mock"}' : "";
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
  /** Replaces the default mock "provider" answer (e.g. the e2e harness returns the real local image id). */
  newResource?: (args: pulumi.runtime.MockResourceArgs, fallback: MockState) => MockState;
}

/** An alias as the request carries it: a URN, or a spec whose unset parts are the resource's own. */
type AliasProto = { getUrn(): string; getSpec(): { getName(): string; getType(): string; getParenturn(): string; getNoparent(): boolean } | undefined };

/** An alias as the URN the engine matches. */
function aliasUrn(a: AliasProto, type: string, name: string, parent: string, ownUrn: string): string {
  const spec = a.getSpec();
  if (!spec) return a.getUrn();
  const [prefix, project] = ownUrn.split("::");
  const parentUrn = spec.getNoparent() ? "" : spec.getParenturn() || parent;
  const parentType = parentUrn ? parentUrn.split("::")[2]! : "";
  const t = spec.getType() || type;
  const chain = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${t}` : t;
  return `${prefix}::${project}::${chain}::${spec.getName() || name}`;
}

export async function installMocks(opts: InstallOptions = {}): Promise<MockEngine> {
  const resources: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => (opts.newResource ? opts.newResource(args, mockState(args)) : mockState(args)),
      call: (args) => {
        throw new Error(`unexpected invoke ${args.token}: the program should not call providers at evaluation time`);
      },
    },
    opts.project ?? "sdwebui",
    opts.stack ?? "test",
    opts.preview ?? false,
  );
  type Req = {
    getType(): string; getName(): string; getCustom(): boolean; getParent(): string; getProvider(): string;
    getObject(): unknown; getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void }; getDeletebeforereplace(): boolean;
    getRetainondelete(): boolean | undefined; getReplaceonchangesList(): string[]; getIgnorechangesList(): string[];
    getAliasesList(): AliasProto[];
  };
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Req, cb: (err: unknown, res?: { getUrn(): string; getId(): string }) => void): unknown };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    original(req, (err, res) => {
      if (!err && res) {
        const inputs = pulumi.runtime.deserializeProperties(req.getObject() as never) as Record<string, unknown>;
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((v, k) => { propertyDependencies[k] = v.getUrnsList(); });
        resources.push({
          type: req.getType(), name: req.getName(), urn: res.getUrn(), id: res.getId(), custom: req.getCustom(), parent: req.getParent(),
          provider: req.getProvider(), inputs, dependencies: req.getDependenciesList(), propertyDependencies,
          deleteBeforeReplace: req.getDeletebeforereplace(), retainOnDelete: req.getRetainondelete() ?? false,
          aliasUrns: req.getAliasesList().map((a) => aliasUrn(a, req.getType(), req.getName(), req.getParent(), res.getUrn())),
          replaceOnChanges: req.getReplaceonchangesList(), ignoreChanges: req.getIgnorechangesList(),
        });
      }
      cb(err, res);
    });
  const engine: MockEngine = {
    resources,
    reset: () => void resources.splice(0),
    byType: (type) => resources.filter((r) => r.type === type),
    one: (type) => {
      const found = resources.filter((r) => r.type === type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0]!;
    },
  };
  return engine;
}

/** Stack config for a test run: `settings` are bare keys of the sdwebui namespace. */
export function setStackConfig(settings: Record<string, unknown>, secretKeys: string[] = ["apiPassword", "uiPassword", "sshPrivateKey"]): void {
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(settings)) config[`sdwebui:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  pulumi.runtime.setAllConfig(config, secretKeys.filter((k) => k in settings).map((k) => `sdwebui:${k}`));
}

/** Resolves every Output in a stack-outputs object (the program's return value). */
export async function resolveOutputs(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs)) out[k] = pulumi.Output.isInstance(v) ? await promiseOf(v as pulumi.Output<unknown>) : v;
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
