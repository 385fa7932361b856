// A stack of this program deployed through the real Pulumi CLI (engineProject: a copy of the project as a
// user has it, its own PULUMI_HOME with the docker and command plugins, its own file backend) onto this
// machine's Docker engine or a remote test host over ssh. The stand-in image in CPU mode, host folders in a
// temp dir, small proof images. Everything the CLI printed is kept, so a test can prove no secret was in it.
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { firewallTag } from "../../infra/docker/host-layout.js";
import { EngineStack, output } from "../helpers/engine-stack.js";
import { type HostView, purgeTaggedRules, removeStackContainers, removeStackNetworks } from "../helpers/host-state.js";
import { engineProject, type CliResult, type EngineProject } from "../helpers/pulumi-cli.js";
import type { RemoteHost } from "../helpers/remote-host.js";
import { makeModelsDir, STANDIN_IMAGE } from "../helpers/standin.js";

export const NS = "sdwebui";

export interface ProgramStackOptions {
  hostPort: number;
  /** Deploy over ssh:// to this host (as `user`, default root), with `agentSock` holding its client key. */
  remote?: { host: RemoteHost; user?: string; agentSock: string };
  /** Settings over the fixture's (undefined removes one). */
  settings?: Record<string, unknown>;
  /** A stack name of the test's own (default: one unique to this run). */
  name?: string;
}

export interface ProgramStack {
  name: string;
  project: EngineProject;
  stack: EngineStack;
  root: string;
  outputsDir: string;
  modelsDir: string;
  username: string;
  /** The API password as last set (a test may rotate it). */
  password: string;
  /** The settings as last set (bare keys). */
  settings: Record<string, unknown>;
  /** Where the containers and rules are. */
  view: HostView;
  /** Every stdout and stderr the CLI produced for this stack. */
  printed: string[];
  set(settings: Record<string, unknown>): void;
  unset(keys: string[]): void;
  up(extra?: string[]): CliResult;
  /** The firewall tag of a port of this stack. */
  tag(port?: number): string;
  cleanUp(): Promise<void>;
}

/** The models folder with a fake checkpoint, owned by the stand-in's uid as the folders step demands. */
function modelsFolder(root: string): string {
  const dir = makeModelsDir(join(root, "models"));
  const sd = join(dir, "Stable-diffusion");
  for (const p of [dir, sd, ...readdirSync(sd).map((f) => join(sd, f))]) chownSync(p, 1000, 1000);
  return dir;
}

export function programStack(opts: ProgramStackOptions): ProgramStack {
  const name = opts.name ?? `d-${process.pid}-${randomBytes(2).toString("hex")}`;
  const root = mkdtempSync(join(tmpdir(), "sdwebui-deploy-"));
  // As a data folder's parent on a real host: a non-root login (the smoke reads over ssh as it) may search it.
  chmodSync(root, 0o755);
  const outputsDir = join(root, "outputs");
  const modelsDir = modelsFolder(root);
  const username = "deploy-user";
  const password = `pw-${randomBytes(12).toString("base64url")}`;
  const r = opts.remote;
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, ...(r ? { SSH_AUTH_SOCK: r.agentSock } : {}) };
  delete baseEnv.DOCKER_HOST;
  const project = engineProject(name, {}, baseEnv);
  const printed: string[] = [];
  const settings: Record<string, unknown> = {
    image: STANDIN_IMAGE,
    gpus: "none",
    outputsDir,
    modelsDir,
    hostPort: String(opts.hostPort),
    apiUsername: username,
    smokeTimeoutSeconds: "60",
    smokeSteps: "2",
    smokeWidth: "128",
    smokeHeight: "128",
    shmSizeMb: "64",
    ...(r
      ? {
          dockerHost: r.host.dockerHost(r.user),
          sshKnownHosts: r.host.knownHosts,
          // The deployer's packets reach the host from this side of its link.
          firewallAllowlist: [`${r.host.peerAddr}/32`],
        }
      : { bindAddress: "127.0.0.1", firewallAllowlist: ["192.0.2.0/24"] }),
    // The proxy's folders, with the stack's other folders (only read with tls on).
    ...(opts.settings?.tls !== undefined && opts.settings.tls !== "off" ? { tlsDir: join(root, "tls") } : {}),
    ...opts.settings,
  };
  const stack = EngineStack.init(project, name);
  const set = (values: Record<string, unknown>) => {
    const present = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    stack.setConfig(present, [], NS);
    const gone = Object.keys(values).filter((k) => values[k] === undefined && settings[k] !== undefined);
    if (gone.length) stack.removeConfig(gone, NS);
    Object.assign(settings, values);
    for (const k of gone) delete settings[k];
  };
  set(settings);
  stack.setConfig(
    { apiPassword: password, ...(r ? { sshPrivateKey: r.host.client.privateKey } : {}) },
    ["apiPassword", "sshPrivateKey"],
    NS,
  );
  const view: HostView = r ? { dockerSocket: r.host.dockerSocket, netns: r.host.ns } : {};
  return {
    name,
    project,
    stack,
    root,
    outputsDir,
    modelsDir,
    username,
    password,
    settings,
    view,
    printed,
    set,
    unset: (keys) => set(Object.fromEntries(keys.map((k) => [k, undefined]))),
    up(extra = []) {
      const res = stack.run(["up", "--yes", "--skip-preview", ...extra]);
      printed.push(output(res));
      if (res.status !== 0)
        throw new Error(`pulumi up ${extra.join(" ")} exited ${res.status}:\n${output(res).slice(-6000)}`);
      return res;
    },
    tag: (port = Number(settings.hostPort)) => firewallTag(name, port),
    async cleanUp() {
      const left = stack.resources().filter((x) => x.type !== "pulumi:pulumi:Stack");
      if (left.length) printed.push(output(stack.run(["destroy", "--yes", "--skip-preview"])));
      removeStackContainers(name, view);
      removeStackNetworks(name, view);
      for (let p = Number(settings.hostPort) - 2; p <= Number(settings.hostPort) + 4; p++)
        purgeTaggedRules(firewallTag(name, p), view);
      project.cleanUp();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
