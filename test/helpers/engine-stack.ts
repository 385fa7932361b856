// One stack of an EngineProject driven through the real CLI, with what the tests read back: the change
// table of `pulumi preview --json`, the state of `pulumi stack export`, the stack outputs. Each call
// fails with the CLI's own output when it exits non-zero (expectFailure says otherwise).
import assert from "node:assert/strict";
import type { CliResult, EngineProject } from "./pulumi-cli.js";

/** One resource of `pulumi stack export`. */
export interface StateResource {
  urn: string;
  type: string;
  id?: string;
  custom?: boolean;
  provider?: string;
  parent?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  retainOnDelete?: boolean;
  deleteBeforeReplace?: boolean;
  initErrors?: string[];
  aliases?: string[];
}

/** One step of `pulumi preview --json` that is not "same". */
export interface Change {
  op: string;
  urn: string;
  /** The resource's name (the last URN part) and type. */
  name: string;
  type: string;
  /** Top-level input keys the provider reported as changed; the keys that force the replace. */
  diffs: string[];
  replaces: string[];
  detailedDiff: Record<string, { kind: string; inputDiff?: boolean }>;
}

export const urnName = (urn: string) => urn.split("::").pop()!;
export const urnType = (urn: string) => urn.split("::")[2]!.split("$").pop()!;
export const output = (r: CliResult) => `${r.stdout}\n${r.stderr}`;

export interface StackOptions {
  /** Config values, set before the first call (objects and lists go in as JSON with --path-free `config set-all --json` semantics). */
  config?: Record<string, unknown>;
  /** Keys of `config` that are stored as secrets. */
  secrets?: string[];
  /** Namespace of bare keys (default: the key as given). */
  namespace?: string;
}

export class EngineStack {
  constructor(
    readonly project: EngineProject,
    readonly name: string,
  ) {}

  /** `pulumi stack init` and the config, in one call each. */
  static init(project: EngineProject, name: string, opts: StackOptions = {}): EngineStack {
    const s = new EngineStack(project, name);
    s.ok(["stack", "init", name]);
    s.setConfig(opts.config ?? {}, opts.secrets ?? [], opts.namespace);
    return s;
  }

  run(args: string[], input?: string): CliResult {
    return this.project.pulumi([...args, "--stack", this.name], input);
  }

  /** Runs and asserts exit 0, showing the CLI's output otherwise. */
  ok(args: string[], input?: string): CliResult {
    const r = this.project.pulumi(
      args[0] === "stack" && args[1] === "init" ? args : [...args, "--stack", this.name],
      input,
    );
    assert.equal(r.status, 0, `pulumi ${args.join(" ")} exited ${r.status}:\n${output(r).slice(-6000)}`);
    return r;
  }

  fails(args: string[]): CliResult {
    const r = this.run(args);
    assert.notEqual(r.status, 0, `pulumi ${args.join(" ")} was expected to fail:\n${output(r).slice(-4000)}`);
    return r;
  }

  /** Sets config values: strings as they are, everything else as JSON through `config set-all --json`. */
  setConfig(values: Record<string, unknown>, secrets: string[] = [], namespace?: string): void {
    const key = (k: string) => (namespace && !k.includes(":") ? `${namespace}:${k}` : k);
    const all: Record<string, { value: string; secret: boolean; objectValue?: unknown }> = {};
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) continue;
      all[key(k)] =
        typeof v === "string"
          ? { value: v, secret: secrets.includes(k) }
          : { value: JSON.stringify(v), objectValue: v, secret: secrets.includes(k) };
    }
    if (Object.keys(all).length === 0) return;
    this.ok(["config", "set-all", "--json", JSON.stringify(all)]);
  }

  removeConfig(keys: string[], namespace?: string): void {
    for (const k of keys) this.ok(["config", "rm", namespace && !k.includes(":") ? `${namespace}:${k}` : k]);
  }

  up(extra: string[] = []): CliResult {
    return this.ok(["up", "--yes", "--skip-preview", ...extra]);
  }

  /** The steps `pulumi preview --json` plans, without the "same" ones. */
  changes(extra: string[] = []): Change[] {
    const r = this.ok(["preview", "--json", ...extra]);
    const plan = JSON.parse(r.stdout) as {
      steps?: {
        op: string;
        urn: string;
        diffReasons?: string[];
        replaceReasons?: string[];
        detailedDiff?: Change["detailedDiff"];
      }[];
    };
    return (plan.steps ?? [])
      .filter((s) => s.op !== "same")
      .map((s) => ({
        op: s.op,
        urn: s.urn,
        name: urnName(s.urn),
        type: urnType(s.urn),
        diffs: s.diffReasons ?? [],
        replaces: s.replaceReasons ?? [],
        detailedDiff: s.detailedDiff ?? {},
      }));
  }

  refresh(extra: string[] = []): CliResult {
    return this.ok(["refresh", "--yes", "--skip-preview", ...extra]);
  }

  destroy(extra: string[] = []): CliResult {
    return this.ok(["destroy", "--yes", "--skip-preview", ...extra]);
  }

  /** The deployment's resources as `pulumi stack export` writes them (secrets stay encrypted). */
  resources(): StateResource[] {
    const r = this.ok(["stack", "export"]);
    return (JSON.parse(r.stdout) as { deployment: { resources?: StateResource[] } }).deployment.resources ?? [];
  }

  /**
   * The same with secrets decrypted to their values (test use only: never print the result). The export
   * shows a secret as {<secret signature>, plaintext: <its JSON>}; here it is the value itself.
   */
  resourcesWithSecrets(): StateResource[] {
    const r = this.ok(["stack", "export", "--show-secrets"]);
    return revealed(
      (JSON.parse(r.stdout) as { deployment: { resources?: StateResource[] } }).deployment.resources ?? [],
    ) as StateResource[];
  }

  /** The stack outputs (secrets shown as "[secret]" unless showSecrets). */
  outputs(showSecrets = false): Record<string, unknown> {
    const r = this.ok(["stack", "output", "--json", ...(showSecrets ? ["--show-secrets"] : [])]);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }
}

const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";

/** A state value with every decrypted secret replaced by the value it holds. */
function revealed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revealed);
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  if (SECRET_SIGNATURE in o && typeof o.plaintext === "string") return revealed(JSON.parse(o.plaintext));
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revealed(x)]));
}

/** The state resources of one type (by its token). */
export const ofType = (resources: StateResource[], type: string) => resources.filter((r) => r.type === type);
