// The end-to-end harness: takes exactly what the Pulumi program registered (evaluate.ts) and realises
// it on the local Docker engine, in dependency order, keeping a state between deploys so a second
// deploy diffs against the first like `pulumi up` does. Driven by type tokens, never by names:
//   docker:index/container:Container -> Engine API create/start built from ITS inputs (container-spec.ts;
//                                        an unknown input fails), delete = stop(destroyGraceSeconds)+remove
//   command:local:Command            -> runs create (update: `update` or else `create`; delete: `delete`
//                                        from the stored state) with its environment/interpreter/dir
//   docker:index/remoteImage:RemoteImage -> checks the image exists locally (never pulls, never removes)
//   pulumi:providers:docker          -> resolves the engine socket of its `host` (local unix:// only)
//   command:remote:Command, anything else -> refused with a message (not modelled)
//
// NOT modelled of the real providers/engine (so not proven by the e2e test):
// - provider Diff/Read/refresh: drift on the host is never seen; diffs are top-level input equality
//   plus the replace-on-change tables of pulumi-docker 5.2.0's schema and command 1.2.1 (only
//   `triggers` replace) plus the replaceOnChanges option; defaults the provider would fill in are not
// - state files, secrets encryption, stack outputs from real provider outputs, `pulumi refresh/import`
// - replacement ordering beyond: deleteBeforeReplace (with dependents whose replace-forcing inputs
//   came from the replaced resource deleted first), otherwise create-new-then-delete-old at the end;
//   the provider-level DeleteBeforeReplace default of pulumi-docker is NOT assumed
// - parallelism (steps run one at a time), partial failure recovery, pending operations
// - remote (ssh://) Docker hosts and command:remote:Command; GPUs (deviceRequests refused or dropped)
// - image pulls/removal; container `wait`/healthy semantics beyond a bounded wait for "healthy"
import { randomUUID } from "node:crypto";
import { unwrapSecrets, type Registered } from "../../helpers/pulumi-mocks.js";
import { APPLIED_UPDATE_KEYS, containerCreate, containerUpdateBody, type SpecOptions } from "./container-spec.js";
import { EngineApi } from "./engine-api.js";
import { MOCK_ID_PREFIX, type Evaluation } from "./evaluate.js";
import { runLocalCommand } from "./local-command.js";
import { decide, dependencyOrder, dependentsToReplace, T } from "./plan.js";
import { Redactor } from "./redact.js";

type Obj = Record<string, unknown>;

export interface Live { reg: Registered; inputs: Obj; id: string; outputs: Obj }
export interface Step { op: "create" | "update" | "replace" | "same" | "delete" | "retain" | "note"; type: string; name: string; ms: number; detail: string }

export interface HarnessOptions extends SpecOptions {
  /** Receives each step line (already redacted). */
  log?: (line: string) => void;
  /** Bound on each command resource's script (default 180 s). */
  commandTimeoutMs?: number;
  /** Bound on a container reaching "running" after start (default 20 s). */
  startTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tail = (s: string, n = 1500) => (s.length > n ? `…${s.slice(-n)}` : s);

export class Harness {
  readonly live = new Map<string, Live>();
  readonly steps: Step[] = [];
  private readonly realIds = new Map<string, string>();
  private readonly engines = new Map<string, EngineApi>();
  private secrets: string[] = [];

  constructor(private readonly opts: HarnessOptions = {}) {}

  get redactor(): Redactor { return new Redactor(this.secrets); }

  /** Realise an evaluation: create/update/replace what changed, then delete what is gone. Returns this deploy's steps. */
  async deploy(ev: Evaluation): Promise<Step[]> {
    this.secrets.push(...ev.secretValues);
    const first = this.steps.length;
    const condemned: Live[] = [];
    try {
      for (const r of dependencyOrder(ev.resources)) {
        const inputs = this.substitute(unwrapSecrets(r.inputs) as Obj);
        const old = this.live.get(r.urn);
        const op = decide(r, old?.inputs, inputs);
        if (op.kind === "same") {
          this.realIds.set(r.id, old!.id);
          this.live.set(r.urn, { ...old!, reg: r });
          this.record("same", r, 0, "");
        } else if (op.kind === "create") {
          await this.create(r, inputs, "create", "");
        } else if (op.kind === "update") {
          await this.update(old!, r, inputs, op.keys);
        } else if (op.deleteBeforeReplace) {
          const regs = [...this.live.values()].map((l) => l.reg);
          for (const d of dependentsToReplace(r.urn, regs)) await this.remove(this.live.get(d.urn)!, `delete-before-replace of ${r.name} takes its dependent first`);
          await this.remove(old!, `delete-before-replace (${op.keys.join(", ")})`);
          await this.create(r, inputs, "replace", `changed: ${op.keys.join(", ")}; deleted first`);
        } else {
          condemned.push(old!);
          await this.create(r, inputs, "replace", `changed: ${op.keys.join(", ")}; created first, old one deleted at the end`);
        }
      }
      // Deletes: resources gone from the program, and old halves of create-before-delete replacements.
      const present = new Set(ev.resources.map((r) => r.urn));
      const gone = [...this.live.values()].filter((l) => !present.has(l.reg.urn));
      for (const l of this.deletionOrder([...gone, ...condemned])) await this.remove(l, condemned.includes(l) ? "old half of a replacement" : "no longer in the program");
    } catch (e) {
      throw this.redactor.error(e);
    }
    return this.steps.slice(first);
  }

  /** `pulumi destroy`: every live resource, dependents first. */
  async destroy(): Promise<Step[]> {
    const first = this.steps.length;
    try {
      for (const l of this.deletionOrder([...this.live.values()])) await this.remove(l, "destroy");
    } catch (e) {
      throw this.redactor.error(e);
    }
    return this.steps.slice(first);
  }

  /** Live resources of a type (optionally filtered), in registration order. */
  ofType(type: string, pred: (l: Live) => boolean = () => true): Live[] {
    return [...this.live.values()].filter((l) => l.reg.type === type && pred(l));
  }

  private deletionOrder(ls: Live[]): Live[] {
    const order = dependencyOrder(ls.map((l) => l.reg)).reverse();
    return order.map((r) => ls.find((l) => l.reg === r)!);
  }

  private substitute(v: unknown): Obj {
    const walk = (x: unknown): unknown => {
      if (typeof x === "string") {
        let s = x;
        for (const [mock, real] of this.realIds) if (s.includes(mock)) s = s.split(mock).join(real);
        if (s.includes(MOCK_ID_PREFIX)) throw new Error(`input refers to a resource the harness has not realised yet: ${s}`);
        return s;
      }
      if (Array.isArray(x)) return x.map(walk);
      if (x && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y)]));
      return x;
    };
    return walk(v) as Obj;
  }

  private record(op: Step["op"], r: Registered, ms: number, detail: string) {
    const step: Step = { op, type: r.type, name: r.name, ms, detail: this.redactor.text(detail) };
    this.steps.push(step);
    this.opts.log?.(`${op.padEnd(7)} ${r.type} ${r.name} (${ms} ms)${step.detail ? `: ${step.detail}` : ""}`);
  }

  private engineFor(r: Registered): EngineApi {
    const urn = r.provider.split("::").slice(0, -1).join("::");
    const e = this.engines.get(urn);
    if (e) return e;
    if (!r.provider) return EngineApi.forHost(undefined); // default provider
    throw new Error(`${r.type} ${r.name}: its provider ${urn} was not realised first`);
  }

  private async create(r: Registered, inputs: Obj, op: "create" | "replace", detail: string): Promise<void> {
    const t0 = Date.now();
    let id = "";
    let outputs: Obj = {};
    let note = detail;
    switch (r.type) {
      case T.provider: {
        const api = EngineApi.forHost(inputs.host as string | undefined);
        await api.expect("GET", "/_ping", [200], undefined, 10_000);
        this.engines.set(r.urn, api);
        id = `provider:${api.socketPath}`;
        note = `${note}${note ? "; " : ""}engine at unix://${api.socketPath}`;
        break;
      }
      case T.image: {
        const name = String(inputs.name);
        const got = await this.engineFor(r).call("GET", `/images/${encodeURIComponent(name)}/json`);
        if (got.status !== 200) throw new Error(`docker.RemoteImage ${r.name}: image ${name} is not on the local engine; the e2e harness never pulls (build it: npm run standin:image)`);
        id = (got.json as { Id: string }).Id;
        outputs = { imageId: id };
        break;
      }
      case T.container: {
        const spec = containerCreate(inputs, this.opts);
        const api = this.engineFor(r);
        const c = await api.expect("POST", `/containers/create?name=${encodeURIComponent(spec.name)}`, [201], spec.body);
        id = (c.json as { Id: string }).Id;
        this.realIds.set(r.id, id);
        this.live.set(r.urn, { reg: r, inputs, id, outputs: { name: spec.name } });
        if (spec.start) {
          await api.expect("POST", `/containers/${id}/start`, [204, 304]);
          await this.waitRunning(api, id, spec.name, spec.wait ? spec.waitTimeoutS * 1000 : 0);
        }
        note = [note, ...spec.notes].filter(Boolean).join("; ");
        outputs = { name: spec.name };
        break;
      }
      case T.local: {
        id = `${r.name}-${randomUUID().slice(0, 8)}`;
        outputs = await this.runScript(r, inputs, "create", undefined);
        break;
      }
      case T.remote:
        throw new Error(`command:remote:Command ${r.name}: remote commands are not modelled by the local e2e harness (the remote-host issue covers them)`);
      default:
        throw new Error(`${r.type} ${r.name}: resource type not modelled by the e2e harness; add it to test/e2e/harness/realise.ts`);
    }
    this.realIds.set(r.id, id);
    this.live.set(r.urn, { reg: r, inputs, id, outputs });
    this.record(op, r, Date.now() - t0, note);
  }

  private async update(old: Live, r: Registered, inputs: Obj, keys: string[]): Promise<void> {
    const t0 = Date.now();
    let outputs = old.outputs;
    let note = `changed: ${keys.join(", ")}`;
    if (r.type === T.container) {
      const applied = keys.filter((k) => APPLIED_UPDATE_KEYS.has(k));
      if (applied.length) await this.engineFor(r).expect("POST", `/containers/${old.id}/update`, [200], containerUpdateBody(inputs));
      if (applied.includes("mustRun") && inputs.mustRun !== false) await this.engineFor(r).expect("POST", `/containers/${old.id}/start`, [204, 304]);
      const stateOnly = keys.filter((k) => !APPLIED_UPDATE_KEYS.has(k));
      if (stateOnly.length) note += `; recorded in state only, not applied to the running container (as the provider does): ${stateOnly.join(", ")}`;
    } else if (r.type === T.local) {
      outputs = await this.runScript(r, inputs, inputs.update !== undefined ? "update" : "create", old.outputs);
    } else if (r.type !== T.image) {
      throw new Error(`${r.type} ${r.name}: in-place update not modelled`);
    }
    this.realIds.set(r.id, old.id);
    this.live.set(r.urn, { reg: r, inputs, id: old.id, outputs });
    this.record("update", r, Date.now() - t0, note);
  }

  private async remove(l: Live, why: string): Promise<void> {
    const t0 = Date.now();
    const r = l.reg;
    // The old half of a create-before-delete replacement shares its URN with the new live resource.
    const forget = () => { if (this.live.get(r.urn) === l) this.live.delete(r.urn); };
    if (r.retainOnDelete) {
      forget();
      this.record("retain", r, 0, `retainOnDelete: left in place (${why})`);
      return;
    }
    let note = why;
    switch (r.type) {
      case T.container: {
        const api = this.engineFor(r);
        const grace = Number(l.inputs.destroyGraceSeconds ?? 0);
        if (grace > 0) await api.call("POST", `/containers/${l.id}/stop?t=${grace}`, undefined, (grace + 30) * 1000);
        await api.expect("DELETE", `/containers/${l.id}?force=true&v=${l.inputs.removeVolumes === false ? "false" : "true"}`, [204, 404]);
        for (let i = 0; (await api.call("GET", `/containers/${l.id}/json`)).status !== 404; i++) {
          if (i > 100) throw new Error(`container ${r.name} still present 10 s after removal`);
          await sleep(100);
        }
        break;
      }
      case T.local:
        if (l.inputs.delete !== undefined) await this.runScript(r, l.inputs, "delete", l.outputs);
        else note += "; no delete script";
        break;
      case T.image:
        note += l.inputs.keepLocally ? "; keepLocally: image kept" : "; the harness never removes images (kept)";
        break;
      case T.provider:
        this.engines.delete(r.urn);
        break;
      default:
        throw new Error(`${r.type} ${r.name}: delete not modelled`);
    }
    forget();
    this.record("delete", r, Date.now() - t0, note);
  }

  private async runScript(r: Registered, inputs: Obj, which: "create" | "update" | "delete", previous: Obj | undefined): Promise<Obj> {
    const script = inputs[which];
    if (script === undefined) return { stdout: "", stderr: "" };
    const limit = this.opts.commandTimeoutMs ?? 180_000;
    const run = await runLocalCommand({
      script: String(script),
      interpreter: inputs.interpreter as string[] | undefined,
      dir: inputs.dir as string | undefined,
      environment: inputs.environment as Record<string, string> | undefined,
      stdin: inputs.stdin as string | undefined,
      addPreviousOutputInEnv: inputs.addPreviousOutputInEnv as boolean | undefined,
      previous: previous ? { stdout: String(previous.stdout ?? ""), stderr: String(previous.stderr ?? "") } : undefined,
    }, limit);
    if (run.timedOut) throw new Error(`${r.type} ${r.name}: ${which} script still running after ${limit} ms (killed)\n${tail(run.stderr)}`);
    if (run.exitCode !== 0) throw new Error(`${r.type} ${r.name}: ${which} script exited ${run.exitCode}\nstdout: ${tail(run.stdout)}\nstderr: ${tail(run.stderr)}`);
    // pulumi-command trims the trailing newline of the captured streams.
    return { stdout: run.stdout.replace(/\n$/, ""), stderr: run.stderr.replace(/\n$/, "") };
  }

  private async waitRunning(api: EngineApi, id: string, name: string, healthyWithinMs: number): Promise<void> {
    const limit = Math.max(this.opts.startTimeoutMs ?? 20_000, healthyWithinMs);
    const t0 = Date.now();
    for (;;) {
      const s = (await api.expect("GET", `/containers/${id}/json`, [200])).json as { State: { Running: boolean; Status: string; ExitCode: number; Health?: { Status: string } } };
      const healthy = !healthyWithinMs || s.State.Health?.Status === "healthy";
      if (s.State.Running && healthy) return;
      if (!s.State.Running && s.State.Status !== "created") {
        const logs = await api.call("GET", `/containers/${id}/logs?stdout=true&stderr=true&tail=40`);
        // eslint-disable-next-line no-control-regex -- strip the log stream's frame headers
        throw new Error(`container ${name} is ${s.State.Status} (exit ${s.State.ExitCode}) right after start; last logs:\n${tail(logs.text.replace(/[\x00-\x08]/g, ""))}`);
      }
      if (Date.now() - t0 > limit) throw new Error(`container ${name} not ${healthyWithinMs ? "healthy" : "running"} within ${limit} ms`);
      await sleep(100);
    }
  }
}
