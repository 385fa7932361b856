// The WebUI on one Docker host as a Pulumi component: the Docker provider for the host, the image,
// the host folders, and per container (one, or one per GPU when scaled out) the container, its
// firewall rules and its smoke proof.
import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config/load.js";
import { containerPlan } from "./container-spec.js";
import type { HostPlan, InstancePlan } from "./deployment.js";
import { declareFirewall } from "./firewall/resource.js";
import { launchSpec, webuiFlags } from "./flags.js";
import { foldersScript } from "./folders.js";
import { portCheckScript } from "./port-check.js";
import { Profile, resolveProfile } from "./profiles.js";
import { knownHostsFor, remoteConnection, remoteWrap, sshOpts } from "./remote.js";
import { declareSmoke, provenFile } from "../smoke/resource.js";
import { firstCheckpoint, resolveCheckpoints, tokenHeader } from "./config/checkpoints.js";
import { needsToken, placementScript } from "./checkpoints.js";

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

export class WebUi extends pulumi.ComponentResource {
  readonly endpoints: Endpoint[] = [];
  readonly containers: docker.Container[] = [];
  readonly warnings: string[] = [];
  readonly image: docker.RemoteImage;
  readonly folders: command.local.Command | command.remote.Command;
  /** The checkpoint placement step; undefined when the stack declares no checkpoints. */
  readonly checkpoints: command.local.Command | command.remote.Command | undefined;
  private readonly knownHosts: string | undefined;

  constructor(name: string, args: WebUiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sdwebui:index:WebUi", name, {}, opts);
    const s = args.settings;
    const { host } = args.plan;
    const profile = resolveProfile(s);
    // The pinned host keys of this host, used by every ssh client: provider, commands, smoke.
    this.knownHosts = host.kind === "ssh" ? knownHostsFor(s.sshKnownHosts, host.host) : undefined;
    const connection = host.kind === "ssh" ? remoteConnection(host, args.secrets.sshPrivateKey, this.knownHosts) : undefined;

    const provider = new docker.Provider(
      `${name}-docker`,
      { host: host.uri, ...(host.kind === "ssh" ? { sshOpts: sshOpts(this.knownHosts) } : {}) },
      { parent: this },
    );
    this.image = new docker.RemoteImage(`${name}-image`, { name: s.image ?? profile.defaultImage, keepLocally: true }, { parent: this, provider });

    // Host folders: created with the image's owner before any container, never removed on destroy.
    const script = foldersScript({
      outputsDir: s.outputsDir,
      instanceOutputsDirs: args.plan.instances.map((i) => i.outputsDir).filter((d) => d !== s.outputsDir),
      modelsDir: s.modelsDir,
      uid: profile.uid,
      gid: profile.gid,
      profile: profile.name,
    });
    // The port preflights come first of all: a port something already listens on is refused before any
    // folder is created or any rule changes.
    const ids = args.plan.instances.map((instance) => (instance.key ? `${name}-${instance.key}` : name));
    const preflights = args.plan.instances.map((instance, i) => this.portPreflight(ids[i]!, instance, args, connection));
    const folderOpts: pulumi.CustomResourceOptions = { parent: this, retainOnDelete: true, dependsOn: preflights };
    this.folders = connection && host.kind === "ssh"
      ? new command.remote.Command(`${name}-folders`, { connection, create: remoteWrap(script, host.user !== "root") }, folderOpts)
      : new command.local.Command(`${name}-folders`, { create: script, interpreter: ["/bin/sh", "-c"] }, folderOpts);

    this.checkpoints = this.placeCheckpoints(name, args, connection);

    args.plan.instances.forEach((instance, i) => this.addInstance(ids[i]!, instance, args, profile, provider, connection, preflights[i]!));
    this.registerOutputs({ endpoints: this.endpoints, warnings: this.warnings });
  }

  /**
   * Leave the declared checkpoints in <modelsDir>/Stable-diffusion before any container starts. The
   * script runs on the Docker host (over ssh for a remote one), so the bytes go from the source straight
   * to the host's disk. The token reaches it on stdin, a secret input: never in the script, argv or a log.
   */
  private placeCheckpoints(name: string, args: WebUiArgs, connection: command.types.input.remote.ConnectionArgs | undefined) {
    const list = resolveCheckpoints(args.settings.checkpoints);
    if (list.length === 0) return undefined;
    const script = placementScript({ modelsDir: args.settings.modelsDir, checkpoints: list });
    const token = args.secrets.checkpointToken;
    const stdin = needsToken(list) && token ? { stdin: pulumi.secret(token.apply((t) => `${tokenHeader(t)}\n`)) } : {};
    // No delete step: destroy leaves the models in place.
    const opts: pulumi.CustomResourceOptions = { parent: this, dependsOn: [this.folders] };
    const host = args.plan.host;
    return connection && host.kind === "ssh"
      ? new command.remote.Command(`${name}-checkpoints`, { connection, create: remoteWrap(script, host.user !== "root"), ...stdin }, opts)
      : new command.local.Command(`${name}-checkpoints`, { create: script, interpreter: ["/bin/sh", "-c"], ...stdin }, opts);
  }

  /**
   * Catch a taken host port before anything changes: before the folders, before the firewall (whose
   * rules would otherwise stay on a port the deploy then refuses) and before Docker (which would leave a
   * Created container behind).
   */
  private portPreflight(id: string, instance: InstancePlan, args: WebUiArgs, connection: command.types.input.remote.ConnectionArgs | undefined) {
    const check = portCheckScript({
      port: instance.hostPort,
      containerName: instance.containerName,
      stackLabel: { project: args.project, stack: args.stack },
      setting: "sdwebui:hostPort",
    });
    return connection && args.plan.host.kind === "ssh"
      ? new command.remote.Command(`${id}-preflight`, { connection, create: remoteWrap(check) }, { parent: this })
      : new command.local.Command(`${id}-preflight`, { create: check, interpreter: ["/bin/sh", "-c"] }, { parent: this });
  }

  private addInstance(
    id: string,
    instance: InstancePlan,
    args: WebUiArgs,
    profile: Profile,
    provider: docker.Provider,
    connection: command.types.input.remote.ConnectionArgs | undefined,
    preflight: command.local.Command | command.remote.Command,
  ) {
    const s = args.settings;
    const plan = containerPlan(
      { ...s, hostPort: instance.hostPort, outputsDir: instance.outputsDir, containerName: instance.containerName },
      profile,
      instance.gpus,
      { project: args.project, stack: args.stack },
    );
    if (args.plan.sharedModels && profile.sharedModelsReadOnly) plan.mounts[1]!.readOnly = true;

    // The flags carry both passwords: derive them inside the secrets so command/envs stay secret.
    const launch = pulumi
      .all([args.secrets.apiPassword, args.secrets.uiPassword ?? args.secrets.apiPassword])
      .apply(([apiPassword, uiPassword]) => {
        const creds = {
          api: { username: s.apiUsername, password: apiPassword },
          ui: { username: s.uiUsername ?? s.apiUsername, password: uiPassword },
        };
        return launchSpec(profile, webuiFlags(s, profile, instance.gpus, creds));
      });

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
        connection,
        // iptables needs root: a non-root ssh login runs the scripts through sudo -n.
        sudo: args.plan.host.kind === "ssh" && args.plan.host.user !== "root",
        reapplyOn: containerSpec,
      },
      { parent: this, dependsOn: [preflight] },
    );
    this.warnings.push(...firewall.warnings);

    const container = new docker.Container(
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
        provider,
        dependsOn: [this.folders, preflight, ...(firewall.command ? [firewall.command] : []), ...(this.checkpoints ? [this.checkpoints] : [])],
        // A fixed name and port: the old container must go before the new one can start.
        deleteBeforeReplace: true,
        // The provider records a new healthcheck without applying it; replace so it takes effect.
        replaceOnChanges: ["healthcheck"],
      },
    );
    this.containers.push(container);


    const hostName = args.plan.host.kind === "ssh" ? args.plan.host.host : "localhost";
    const base = `http://${args.plan.apiHost.includes(":") ? `[${args.plan.apiHost}]` : args.plan.apiHost}:${instance.hostPort}`;
    let smokeFile: pulumi.Output<string> = pulumi.output("");
    if (s.smokeEnabled) {
      const h = args.plan.host;
      const smoke = declareSmoke(
        `${id}-smoke`,
        {
          url: base,
          username: s.apiUsername,
          password: args.secrets.apiPassword,
          ...(s.exposure === "api-and-ui"
            ? { uiUsername: s.uiUsername ?? s.apiUsername, uiPassword: args.secrets.uiPassword ?? args.secrets.apiPassword }
            : {}),
          exposure: s.exposure,
          hostOutputsDir: instance.outputsDir,
          hostModelsDir: s.modelsDir,
          containerOutputsDir: profile.outputsPath,
          containerWorkdir: profile.dataRoot,
          expectedUid: profile.uid,
          timeoutSeconds: s.smokeTimeoutSeconds,
          prompt: s.smokePrompt,
          steps: s.smokeSteps,
          width: s.smokeWidth,
          height: s.smokeHeight,
          ...(h.kind === "ssh"
            ? { ssh: { user: h.user, host: h.host, port: h.port, privateKey: args.secrets.sshPrivateKey, knownHosts: this.knownHosts } }
            : {}),
          ...checkpointProof(s.checkpoints),
          container: container.name,
          // Re-prove whenever the container or the image is replaced.
          triggers: [container.id, this.image.imageId],
        },
        { parent: this, dependsOn: [container, ...(firewall.command ? [firewall.command] : [])] },
      );
      smokeFile = provenFile(smoke);
    }
    this.endpoints.push({
      host: hostName,
      apiUrl: pulumi.output(base),
      docsUrl: pulumi.output(`${base}/docs`),
      containerName: container.name,
      outputsDir: instance.outputsDir,
      smokeFile,
      firewall: firewall.preview,
    });
  }
}

/** What the smoke checks of the declared checkpoints: each listed with its hash, the first one loaded. */
function checkpointProof(entries: StackConfig["settings"]["checkpoints"]) {
  const first = firstCheckpoint(entries);
  if (!first) return {};
  return { checkpoints: resolveCheckpoints(entries).map((c) => ({ name: c.fileName, sha256: c.sha256 })), loadedCheckpoint: first.fileName };
}
