// Realises what the program registered (test/e2e/harness/evaluate.ts) on Docker hosts reached like the
// real providers reach them, including ssh:// hosts, which the local e2e harness refuses:
//   pulumi:providers:docker  -> unix:// : the e2e harness's EngineApi; ssh:// : the Engine API over
//                               `ssh <sshOpts> … docker system dial-stdio` (docker-ssh.ts), key from the agent
//   docker:index/remoteImage -> the image must be on that engine (never pulled)
//   docker:index/container   -> the e2e harness's containerCreate() from ITS inputs, create + start there
//   command:remote:Command   -> create/delete run over the system ssh with the resource's `connection`
//                               (user, host, port, privateKey, hostKey pinned; no key: the agent)
//   command:local:Command    -> the e2e harness's runLocalCommand (the smoke step runs here)
// Create-only deploys in dependency order, one step at a time; the first failure stops the deploy
// (Pulumi also stops starting new steps) and names the resource. Not modelled: diffs/updates, the
// Go ssh client's own error texts (OpenSSH's are shown instead), parallel steps.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unwrapSecrets, type Registered } from "../helpers/pulumi-mocks.js";
import { containerCreate } from "../e2e/harness/container-spec.js";
import { EngineApi } from "../e2e/harness/engine-api.js";
import type { Evaluation } from "../e2e/harness/evaluate.js";
import { runLocalCommand } from "../e2e/harness/local-command.js";
import { dependencyOrder, T } from "../e2e/harness/plan.js";
import { Redactor } from "../e2e/harness/redact.js";
import { SshEngineApi } from "./docker-ssh.js";

type Obj = Record<string, unknown>;
type Engine = Pick<EngineApi, "call" | "expect">;

export interface Done { reg: Registered; inputs: Obj; id: string; stdout: string; stderr: string; ms: number }

export class RealiseError extends Error {
  constructor(readonly resource: Registered, message: string) {
    super(message);
  }
}

export interface Connection { host: string; port?: number; user?: string; privateKey?: string; hostKey?: string }

/** Run `script` over ssh as command:remote:Command would (its `connection`; login shell runs it). */
export function runRemote(conn: Connection, script: string, o: { agentSock?: string; timeoutMs?: number; stdin?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "sd-remote-cmd-"));
  try {
    const port = conn.port ?? 22;
    const argv = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-o", "LogLevel=ERROR", "-o", "GlobalKnownHostsFile=/dev/null"];
    if (conn.hostKey) {
      writeFileSync(join(dir, "known_hosts"), `${port === 22 ? conn.host : `[${conn.host}]:${port}`} ${conn.hostKey}\n`);
      argv.push("-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`);
    } else {
      // The command provider does not check the host key without `hostKey`.
      argv.push("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null");
    }
    if (conn.privateKey) {
      writeFileSync(join(dir, "id"), conn.privateKey.endsWith("\n") ? conn.privateKey : `${conn.privateKey}\n`, { mode: 0o600 });
      argv.push("-i", join(dir, "id"), "-o", "IdentitiesOnly=yes");
    }
    argv.push("-p", String(port), "-l", conn.user ?? "root", "--", conn.host, script);
    const env = { ...process.env, ...(o.agentSock ? { SSH_AUTH_SOCK: o.agentSock } : {}) };
    // The command's stdin input travels on the ssh channel's stdin, as the provider sends it.
    const r = spawnSync("ssh", argv, { encoding: "utf8", env, timeout: o.timeoutMs ?? 120_000, input: o.stdin ?? "" });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr || (r.error ? String(r.error.message) : "") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RealiserOptions {
  /** ssh-agent socket for the docker provider's ssh (and remote commands without a key). */
  agentSock?: string;
  log?: (line: string) => void;
  commandTimeoutMs?: number;
  /**
   * Finish each host (component) before starting the next: one of the schedules Pulumi's parallel
   * engine may take when the later host is slower. Default: registration order.
   */
  hostByHost?: boolean;
}

export class Realiser {
  readonly done: Done[] = [];
  private readonly engines = new Map<string, Engine>();
  private redactor = new Redactor([]);

  constructor(private readonly o: RealiserOptions = {}) {}

  /** Where a resource goes, in words: the provider's host, or the remote command's connection. */
  hostOf(r: Registered, inputs: Obj): string {
    if (r.type === T.remote) {
      const c = inputs.connection as Connection;
      return `ssh ${c.user}@${c.host}:${c.port ?? 22}`;
    }
    if (r.type === T.local) return "this machine";
    const p = this.done.find((d) => d.reg.urn === r.provider.split("::").slice(0, -1).join("::"));
    return String(p?.inputs.host ?? "unix:///var/run/docker.sock");
  }

  async deploy(ev: Evaluation): Promise<Done[]> {
    this.redactor = new Redactor(ev.secretValues);
    const first = this.done.length;
    let order = dependencyOrder(ev.resources);
    if (this.o.hostByHost) {
      // Hosts share no dependencies, so a stable sort by host component keeps the order topological.
      const byUrn = new Map(ev.resources.map((r) => [r.urn, r]));
      const hostOf = (r: Registered): string => {
        let p = r.parent;
        for (let x = byUrn.get(p); x && x.type !== "sdwebui:index:WebUi"; x = byUrn.get(p)) p = x.parent;
        return p;
      };
      const hosts = [...new Set(order.map(hostOf))];
      order = [...order].sort((a, b) => hosts.indexOf(hostOf(a)) - hosts.indexOf(hostOf(b)));
    }
    for (const r of order) {
      const inputs = unwrapSecrets(r.inputs) as Obj;
      const t0 = Date.now();
      try {
        const out = await this.create(r, inputs);
        const d = { reg: r, inputs, ...out, ms: Date.now() - t0 };
        this.done.push(d);
        this.o.log?.(`create ${r.type} ${r.name} (${d.ms} ms)`);
      } catch (e) {
        const msg = this.redactor.text(`${r.type} ${r.name} on ${this.hostOf(r, inputs)}: ${(e as Error).message}`);
        this.o.log?.(`FAILED ${msg}`);
        throw new RealiseError(r, msg);
      }
    }
    return this.done.slice(first);
  }

  /** Delete in reverse order: delete scripts run, containers removed; retained resources left. */
  async destroy(): Promise<string[]> {
    const problems: string[] = [];
    for (const d of [...this.done].reverse()) {
      try {
        if (d.reg.retainOnDelete) continue;
        if (d.reg.type === T.container) {
          const api = this.engineFor(d.reg);
          await api.expect("DELETE", `/containers/${d.id}?force=true&v=true`, [204, 404]);
        } else if (d.reg.type === T.remote && d.inputs.delete !== undefined) {
          const r = runRemote(d.inputs.connection as Connection, String(d.inputs.delete), { agentSock: this.o.agentSock, timeoutMs: this.o.commandTimeoutMs });
          if (r.status !== 0) throw new Error(`delete exited ${r.status}: ${r.stderr.trim()}`);
        } else if (d.reg.type === T.local && d.inputs.delete !== undefined) {
          const r = await runLocalCommand({ script: String(d.inputs.delete), interpreter: d.inputs.interpreter as string[] | undefined, environment: d.inputs.environment as Record<string, string> | undefined }, this.o.commandTimeoutMs ?? 120_000);
          if (r.exitCode !== 0) throw new Error(`delete exited ${r.exitCode}: ${r.stderr.trim()}`);
        }
      } catch (e) {
        problems.push(this.redactor.text(`${d.reg.name}: ${(e as Error).message}`));
      }
    }
    this.done.splice(0);
    this.engines.clear();
    return problems;
  }

  private engineFor(r: Registered): Engine {
    const urn = r.provider.split("::").slice(0, -1).join("::");
    const e = this.engines.get(urn) ?? (r.provider ? undefined : EngineApi.forHost(undefined));
    if (!e) throw new Error(`provider ${urn} was not realised first`);
    return e;
  }

  private async create(r: Registered, inputs: Obj): Promise<{ id: string; stdout: string; stderr: string }> {
    const none = { stdout: "", stderr: "" };
    switch (r.type) {
      case T.provider: {
        const host = String(inputs.host ?? "unix:///var/run/docker.sock");
        // Pulumi hands provider inputs that are not strings over as JSON text.
        const raw = inputs.sshOpts;
        const opts = (typeof raw === "string" ? JSON.parse(raw) : raw ?? []) as string[];
        const api: Engine = host.startsWith("ssh://")
          ? new SshEngineApi(host, opts, { ...process.env, ...(this.o.agentSock ? { SSH_AUTH_SOCK: this.o.agentSock } : {}) })
          : EngineApi.forHost(host);
        await api.expect("GET", "/_ping", [200], undefined, 30_000);
        this.engines.set(r.urn, api);
        return { id: host, ...none };
      }
      case T.image: {
        const got = await this.engineFor(r).call("GET", `/images/${encodeURIComponent(String(inputs.name))}/json`);
        if (got.status !== 200) throw new Error(`image ${String(inputs.name)} is not on the engine (the test never pulls)`);
        return { id: (got.json as { Id: string }).Id, ...none };
      }
      case T.container: {
        const spec = containerCreate(inputs, { gpu: "refuse" });
        const api = this.engineFor(r);
        const c = await api.expect("POST", `/containers/create?name=${encodeURIComponent(spec.name)}`, [201], spec.body);
        const id = (c.json as { Id: string }).Id;
        // Recorded before start, so destroy() removes it even when the start fails.
        this.done.push({ reg: r, inputs, id, ...none, ms: 0 });
        await api.expect("POST", `/containers/${id}/start`, [204, 304]);
        const state = ((await api.expect("GET", `/containers/${id}/json`, [200])).json as { State: { Running: boolean; Status: string } }).State;
        this.done.pop();
        if (!state.Running) throw new Error(`container ${spec.name} is ${state.Status} right after start`);
        return { id, ...none };
      }
      case T.remote: {
        const res = runRemote(inputs.connection as Connection, String(inputs.create), { agentSock: this.o.agentSock, timeoutMs: this.o.commandTimeoutMs, stdin: inputs.stdin as string | undefined });
        if (res.status !== 0) throw new Error(`create exited ${res.status}: ${res.stderr.trim().slice(-1500)}`);
        return { id: `${r.name}-remote`, stdout: res.stdout, stderr: res.stderr };
      }
      case T.local: {
        const res = await runLocalCommand(
          { script: String(inputs.create), interpreter: inputs.interpreter as string[] | undefined, dir: inputs.dir as string | undefined, environment: inputs.environment as Record<string, string> | undefined, addPreviousOutputInEnv: false },
          this.o.commandTimeoutMs ?? 120_000,
        );
        if (res.exitCode !== 0) throw Object.assign(new Error(`create exited ${res.exitCode}: ${res.stderr.trim().slice(-1500)}`), { stdout: res.stdout });
        return { id: `${r.name}-local`, stdout: res.stdout.replace(/\n$/, ""), stderr: res.stderr };
      }
      default:
        throw new Error(`resource type ${r.type} is not modelled by the remote realiser`);
    }
  }
}
