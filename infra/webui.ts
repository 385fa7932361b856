// The WebUI on one Docker host as a Pulumi component: the Docker provider for the host, the image,
// the host folders, the checkpoints, and per container (one, or one per GPU when scaled out) the
// container, its firewall rules and its smoke proof.
import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config/load.js";
import { firstCheckpoint, resolveCheckpoints, tokenHeader } from "./config/checkpoints.js";
import { needsToken, placementScript } from "./checkpoints.js";
import { containerPlan, type ContainerPlan } from "./container-spec.js";
import type { HostPlan, InstancePlan } from "./deployment.js";
import { declareFirewall, type DeclaredFirewall } from "./firewall/resource.js";
import { launchSpec, webuiFlags } from "./flags.js";
import { foldersScript } from "./folders.js";
import { portCheckScript } from "./port-check.js";
import { Profile, resolveProfile } from "./profiles.js";
import { knownHostsFor, remoteConnection, remoteWrap, sshOpts } from "./remote.js";
import { declareSmoke, provenFile } from "../smoke/resource.js";

export interface WebUiArgs {
  settings: StackConfig["settings"];
  secrets: StackConfig["secrets"];
  /** The host and its containers, from deploymentPlan(). */
  plan: HostPlan;
  /** Stack and project names, for labels. */
  stack: string;
  project: string;
}

/** What a deployed container offers; one per container in the stack outputs. */
export interface Endpoint {
  host: string;
  apiUrl: pulumi.Output<string>;
  docsUrl: pulumi.Output<string>;
  containerName: pulumi.Output<string>;
  outputsDir: string;
  /** Host path of the image the smoke step proved saved; "" when the smoke step is off. */
  smokeFile: pulumi.Output<string>;
  /** What the firewall does for this port, in words (empty allowlists say "deny every remote client"). */
  firewall: string;
}

type HostCommand = command.local.Command | command.remote.Command;
type Launch = pulumi.Output<{ command?: string[]; envs: string[] }>;

export class WebUi extends pulumi.ComponentResource {
  readonly endpoints: Endpoint[] = [];
  readonly containers: docker.Container[] = [];
  readonly warnings: string[] = [];
  readonly image: docker.RemoteImage;
  readonly folders: HostCommand;
  /** The checkpoint placement step; undefined when the stack declares no checkpoints. */
  readonly checkpoints: HostCommand | undefined;
  private readonly args: WebUiArgs;
  private readonly profile: Profile;
  private readonly provider: docker.Provider;
  /** The pinned host keys of this host, used by every ssh client: provider, commands, smoke. */
  private readonly knownHosts: string | undefined;
  private readonly connection: command.types.input.remote.ConnectionArgs | undefined;
  /** The UI (gradio) login: its own settings, else the API's. */
  private readonly ui: { username: string; password: pulumi.Output<string> };

  constructor(name: string, args: WebUiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sdwebui:index:WebUi", name, {}, opts);
    const s = args.settings;
    const { host } = args.plan;
    this.args = args;
    this.profile = resolveProfile(s);
    this.ui = { username: s.uiUsername ?? s.apiUsername, password: args.secrets.uiPassword ?? args.secrets.apiPassword };
    this.knownHosts = host.kind === "ssh" ? knownHostsFor(s.sshKnownHosts, host.host) : undefined;
    this.connection = host.kind === "ssh" ? remoteConnection(host, args.secrets.sshPrivateKey, this.knownHosts) : undefined;

    this.provider = new docker.Provider(
      `${name}-docker`,
      { host: host.uri, ...(host.kind === "ssh" ? { sshOpts: sshOpts(this.knownHosts) } : {}) },
      { parent: this },
    );
    this.image = new docker.RemoteImage(`${name}-image`, { name: s.image ?? this.profile.defaultImage, keepLocally: true }, { parent: this, provider: this.provider });

    // The port preflights come first of all: a port something already listens on is refused before any
    // folder is created or any rule changes.
    const ids = args.plan.instances.map((instance) => (instance.key ? `${name}-${instance.key}` : name));
    const preflights = args.plan.instances.map((instance, i) => this.portPreflight(ids[i]!, instance));
    // Host folders: created with the image's owner before any container, never removed on destroy.
    const script = foldersScript({
      outputsDir: s.outputsDir,
      instanceOutputsDirs: args.plan.instances.map((i) => i.outputsDir).filter((d) => d !== s.outputsDir),
      modelsDir: s.modelsDir,
      uid: this.profile.uid,
      gid: this.profile.gid,
      profile: this.profile.name,
    });
    this.folders = this.hostCommand(`${name}-folders`, script, { sudo: true }, { parent: this, retainOnDelete: true, dependsOn: preflights });
    this.checkpoints = this.placeCheckpoints(name);

    args.plan.instances.forEach((instance, i) => this.addInstance(ids[i]!, instance, preflights[i]!));
    this.registerOutputs({ endpoints: this.endpoints, warnings: this.warnings });
  }

  /**
   * A script of the program run on the Docker host: a local command for a local engine, else over ssh
   * (always sh; `sudo -n` for a non-root login when the script needs root).
   */
  private hostCommand(name: string, script: string, o: { sudo: boolean; stdin?: pulumi.Output<string> }, opts: pulumi.CustomResourceOptions): HostCommand {
    const host = this.args.plan.host;
    const stdin = o.stdin ? { stdin: o.stdin } : {};
    return this.connection && host.kind === "ssh"
      ? new command.remote.Command(name, { connection: this.connection, create: remoteWrap(script, o.sudo && host.user !== "root"), ...stdin }, opts)
      : new command.local.Command(name, { create: script, interpreter: ["/bin/sh", "-c"], ...stdin }, opts);
  }

  /**
   * Leave the declared checkpoints in <modelsDir>/Stable-diffusion before any container starts. The
   * script runs on the Docker host, so the bytes go from the source straight to the host's disk. The
   * token reaches it on stdin, a secret input: never in the script, argv or a log. No delete step:
   * destroy leaves the models in place.
   */
  private placeCheckpoints(name: string): HostCommand | undefined {
    const list = resolveCheckpoints(this.args.settings.checkpoints);
    if (list.length === 0) return undefined;
    const script = placementScript({ modelsDir: this.args.settings.modelsDir, checkpoints: list });
    const token = this.args.secrets.checkpointToken;
    const stdin = needsToken(list) && token ? pulumi.secret(token.apply((t) => `${tokenHeader(t)}\n`)) : undefined;
    return this.hostCommand(`${name}-checkpoints`, script, { sudo: true, stdin }, { parent: this, dependsOn: [this.folders] });
  }

  /**
   * Catch a taken host port before anything changes: before the folders, before the firewall (whose
   * rules would otherwise stay on a port the deploy then refuses) and before Docker (which would leave a
   * Created container behind).
   */
  private portPreflight(id: string, instance: InstancePlan): HostCommand {
    const check = portCheckScript({
      port: instance.hostPort,
      containerName: instance.containerName,
      stackLabel: { project: this.args.project, stack: this.args.stack },
      setting: "sdwebui:hostPort",
    });
    return this.hostCommand(`${id}-preflight`, check, { sudo: false }, { parent: this });
  }

  private addInstance(id: string, instance: InstancePlan, preflight: HostCommand): void {
    const { settings: s, plan: hostPlan } = this.args;
    const plan = containerPlan(
      { ...s, hostPort: instance.hostPort, outputsDir: instance.outputsDir, containerName: instance.containerName },
      this.profile,
      instance.gpus,
      { project: this.args.project, stack: this.args.stack },
      hostPlan.sharedModels && this.profile.sharedModelsReadOnly,
    );
    const launch = this.launchFor(instance);

    // Firewall next, so the port is never published unprotected. The rules key on the host port and
    // survive container replacement; they are re-applied anyway whenever anything the container is
    // built from changes (a digest of its spec, secret because the flags carry the passwords).
    const containerSpec = pulumi
      .all([this.image.imageId, launch])
      .apply(([image, l]) => createHash("sha256").update(JSON.stringify({ image, launch: l, plan })).digest("hex"));
    const firewall = declareFirewall(
      `${id}-firewall`,
      {
        input: { tag: instance.firewallTag, port: instance.hostPort, bindAddress: s.bindAddress, allowlist: s.firewallAllowlist, backend: s.firewallBackend },
        connection: this.connection,
        // iptables needs root: a non-root ssh login runs the scripts through sudo -n.
        sudo: hostPlan.host.kind === "ssh" && hostPlan.host.user !== "root",
        reapplyOn: containerSpec,
      },
      { parent: this, dependsOn: [preflight] },
    );
    this.warnings.push(...firewall.warnings);
    const firewallDeps = firewall.command ? [firewall.command] : [];

    const container = this.containerFor(id, plan, launch, [this.folders, preflight, ...firewallDeps, ...(this.checkpoints ? [this.checkpoints] : [])]);
    this.containers.push(container);

    const base = `http://${hostPlan.apiHost.includes(":") ? `[${hostPlan.apiHost}]` : hostPlan.apiHost}:${instance.hostPort}`;
    this.endpoints.push({
      host: hostPlan.host.kind === "ssh" ? hostPlan.host.host : "localhost",
      apiUrl: pulumi.output(base),
      docsUrl: pulumi.output(`${base}/docs`),
      containerName: container.name,
      outputsDir: instance.outputsDir,
      smokeFile: s.smokeEnabled ? provenFile(this.smokeFor(id, instance, base, container, firewall)) : pulumi.output(""),
      firewall: firewall.preview,
    });
  }

  /** The container's command and envs: they carry both passwords, so they are derived inside the secrets. */
  private launchFor(instance: InstancePlan): Launch {
    const s = this.args.settings;
    return pulumi.all([this.args.secrets.apiPassword, this.ui.password]).apply(([apiPassword, uiPassword]) => {
      const creds = { api: { username: s.apiUsername, password: apiPassword }, ui: { username: this.ui.username, password: uiPassword } };
      return launchSpec(this.profile, webuiFlags(s, this.profile, instance.gpus, creds));
    });
  }

  private containerFor(id: string, plan: ContainerPlan, launch: Launch, dependsOn: pulumi.Resource[]): docker.Container {
    return new docker.Container(
      `${id}-container`,
      {
        image: this.image.imageId,
        name: plan.name,
        command: launch.apply((l) => l.command ?? []),
        envs: launch.apply((l) => l.envs),
        user: plan.user,
        workingDir: plan.workingDir,
        ports: plan.ports,
        mounts: plan.mounts,
        deviceRequests: plan.deviceRequests,
        healthcheck: plan.healthcheck,
        restart: plan.restart,
        labels: plan.labels,
        logDriver: plan.logDriver,
        logOpts: plan.logOpts,
        shmSize: plan.shmSize,
        wait: false,
        destroyGraceSeconds: 30,
      },
      {
        parent: this,
        provider: this.provider,
        dependsOn,
        // A fixed name and port: the old container must go before the new one can start.
        deleteBeforeReplace: true,
        // The provider records a new healthcheck without applying it; replace so it takes effect.
        replaceOnChanges: ["healthcheck"],
      },
    );
  }

  /** The post-deploy proof for one container; it re-runs whenever the container or the image is replaced. */
  private smokeFor(id: string, instance: InstancePlan, url: string, container: docker.Container, firewall: DeclaredFirewall): command.local.Command {
    const { settings: s, secrets, plan: hostPlan } = this.args;
    const h = hostPlan.host;
    return declareSmoke(
      `${id}-smoke`,
      {
        url,
        username: s.apiUsername,
        password: secrets.apiPassword,
        ...(s.exposure === "api-and-ui" ? { uiUsername: this.ui.username, uiPassword: this.ui.password } : {}),
        exposure: s.exposure,
        hostOutputsDir: instance.outputsDir,
        hostModelsDir: s.modelsDir,
        containerOutputsDir: this.profile.outputsPath,
        containerWorkdir: this.profile.dataRoot,
        expectedUid: this.profile.uid,
        timeoutSeconds: s.smokeTimeoutSeconds,
        prompt: s.smokePrompt,
        steps: s.smokeSteps,
        width: s.smokeWidth,
        height: s.smokeHeight,
        ...(h.kind === "ssh" ? { ssh: { user: h.user, host: h.host, port: h.port, privateKey: secrets.sshPrivateKey, knownHosts: this.knownHosts } } : {}),
        ...checkpointProof(s.checkpoints),
        container: container.name,
        triggers: [container.id, this.image.imageId],
      },
      { parent: this, dependsOn: [container, ...(firewall.command ? [firewall.command] : [])] },
    );
  }
}

/** What the smoke checks of the declared checkpoints: each listed with its hash, the first one loaded. */
function checkpointProof(entries: StackConfig["settings"]["checkpoints"]) {
  const first = firstCheckpoint(entries);
  if (!first) return {};
  return { checkpoints: resolveCheckpoints(entries).map((c) => ({ name: c.fileName, sha256: c.sha256 })), loadedCheckpoint: first.fileName };
}
