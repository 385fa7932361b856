// One WebUI container as a Pulumi component, a child of its host's WebUi: the container, the firewall
// rules of its port and its smoke proof. Its children are named from the component's name. They were
// once children of the host component under longer names; `legacy` aliases those, so a stack deployed
// before keeps every resource (no create, replace or delete).
import { createHash } from "node:crypto";
import type * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { firstCheckpoint, resolveCheckpoints } from "../config/checkpoints.js";
import type { StackConfig } from "../config/load.js";
import type { PublicSettings } from "../config/schema.js";
import { containerSpec, type ContainerSpec } from "./container-spec.js";
import type { HostLayout, ContainerSlot } from "./host-layout.js";
import { declareFirewall } from "./firewall.js";
import { launchSpec, webuiFlags } from "../common/launch-flags.js";
import type { Profile } from "../webui/profiles.js";
import { declareSmoke, proofSettings, provenFile } from "../common/smoke-step.js";
import { onResource } from "../common/resource-error.js";
import type { HostTarget } from "./steps/host-command.js";
import { pinnedRoots } from "../config/tls.js";
import { declareProxy, declareRootCertificate, type TlsHost, type TlsOn, type TlsSettings } from "./tls-proxy.js";

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
  /** tls: internal: the root certificate (PEM) clients pin. */
  tlsRootCertificate?: pulumi.Output<string>;
}

/**
 * The stack settings one container uses, by their schema names (each is documented in the schema and in
 * `Pulumi.yaml`'s config block): its port and name, the folders, the launch flags, the firewall, the smoke
 * proof and, with tls on, the proxy's.
 */
export type ContainerSettings = Pick<
  PublicSettings,
  | "containerName"
  | "hostPort"
  | "bindAddress"
  | "outputsDir"
  | "modelsDir"
  | "exposure"
  | "shmSizeMb"
  | "extraArgs"
  | "checkpoints"
  | "apiUsername"
  | "firewallAllowlist"
  | "firewallBackend"
  | "smokeEnabled"
  | "smokeTimeoutSeconds"
  | "smokePrompt"
  | "smokeSteps"
  | "smokeWidth"
  | "smokeHeight"
> &
  TlsSettings;

/** The secrets one container uses: the API login, the ssh key for a remote host, a tls files certificate. */
export type ContainerSecrets = Pick<StackConfig["secrets"], "apiPassword" | "sshPrivateKey" | "tlsCertificate">;

export interface WebUiContainerArgs {
  /** The validated stack settings this container uses. */
  settings: ContainerSettings;
  /** The stack's secrets this container uses, as Pulumi secret Outputs. */
  secrets: ContainerSecrets;
  /** The host this container runs on, and its slot there (port, GPUs, outputs sub-folder, names). */
  hostLayout: HostLayout;
  /** This container's slot on the host: port, GPUs, outputs sub-folder, names, firewall tag. */
  instance: ContainerSlot;
  /** The image's layout: where it keeps outputs and models, its uid, how it takes flags. */
  profile: Profile;
  /** Stack and project names, for labels. */
  stack: string;
  /** The Pulumi project's name, for labels. */
  project: string;
  /** The host's image and Docker provider, shared by its containers. */
  image: docker.RemoteImage;
  provider: docker.Provider;
  /** Which Docker engine the host is, whatever the spelling: a change moves the container there. */
  hostIdentity: string;
  /** The ssh connection to a remote host, for the commands run there. */
  connection?: command.types.input.remote.ConnectionArgs;
  /** The remote host's pinned keys (known_hosts lines), for the smoke's ssh client. */
  knownHosts?: string;
  /** The UI (gradio) login: its own settings, else the API's. */
  ui: { username: string; password: pulumi.Output<string> };
  /** The port check of this container: the firewall waits for it. */
  preflight: pulumi.Resource;
  /** What must be done on the host before the container starts (folders, checkpoints). */
  hostReady: pulumi.Resource[];
  /** The name prefix and parent these resources had before this component existed. */
  legacy?: { prefix: string; parent: pulumi.Resource };
  /** The host this container runs on, for the commands run there. */
  target: HostTarget;
  /** With tls on: the host's network, proxy image and proxy files; the container then publishes nothing itself. */
  tls?: TlsHost;
}

type Launch = pulumi.Output<{ command?: string[]; envs: string[] }>;

export class WebUiContainer extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly endpoint: Endpoint;
  readonly warnings: string[];
  private readonly args: WebUiContainerArgs;

  constructor(name: string, args: WebUiContainerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sdwebui:index:WebUiContainer", name, {}, opts);
    this.args = args;
    const { settings: settings, hostLayout, instance } = args;
    const spec = onResource(this, () =>
      containerSpec(
        {
          ...settings,
          hostPort: instance.hostPort,
          outputsDir: instance.outputsDir,
          containerName: instance.containerName,
        },
        args.profile,
        instance.gpus,
        { project: args.project, stack: args.stack },
        hostLayout.sharedModels && args.profile.sharedModelsReadOnly,
      ),
    );
    const launch = this.launch();

    // Firewall next, so the port is never published unprotected. The rules key on the host port and
    // survive container replacement; they are re-applied anyway whenever anything the container is
    // built from changes (a digest of its spec, secret because the flags carry the passwords).
    const specDigest = pulumi.all([args.image.imageId, launch]).apply(([image, l]) =>
      createHash("sha256")
        .update(JSON.stringify({ image, launch: l, plan: spec }))
        .digest("hex"),
    );
    const firewall = declareFirewall(
      `${name}-firewall`,
      {
        input: {
          tag: instance.firewallTag,
          port: instance.hostPort,
          bindAddress: settings.bindAddress,
          allowlist: settings.firewallAllowlist,
          backend: settings.firewallBackend,
        },
        connection: args.connection,
        // iptables needs root: a non-root ssh login runs the scripts through sudo -n.
        sudo: hostLayout.host.kind === "ssh" && hostLayout.host.user !== "root",
        reapplyOn: specDigest,
        hostIdentity: args.hostIdentity,
        ...(args.legacy ? { alias: { name: `${args.legacy.prefix}-firewall`, parent: args.legacy.parent } } : {}),
      },
      { parent: this, dependsOn: [args.preflight] },
    );
    this.warnings = firewall.warnings;
    const firewallDeps = firewall.command ? [firewall.command] : [];
    this.container = this.declareContainer(`${name}-container`, spec, launch, [
      ...args.hostReady,
      args.preflight,
      ...firewallDeps,
    ]);
    // With tls, the proxy publishes the port (once the firewall holds) and the WebUI is reachable on the stack's network only.
    const proxy = args.tls
      ? declareProxy(
          `${name}-proxy`,
          {
            settings: settings as TlsOn,
            instance,
            target: args.target,
            host: args.tls,
            provider: args.provider,
            hostIdentity: args.hostIdentity,
            spec,
            dependsOn: [...firewallDeps, this.container],
          },
          this,
        )
      : undefined;
    const rootPem =
      proxy && settings.tls === "internal"
        ? declareRootCertificate(`${name}-tls-root`, args.target, settings.tlsDir, proxy.container, this)
        : undefined;

    const scheme = proxy ? "https" : "http";
    const base = `${scheme}://${hostLayout.apiHost.includes(":") ? `[${hostLayout.apiHost}]` : hostLayout.apiHost}:${instance.hostPort}`;
    const pins = args.secrets.tlsCertificate
      ? args.secrets.tlsCertificate.apply((chain) => pinnedRoots(settings, chain))
      : pulumi.output(pinnedRoots(settings, undefined));
    const tlsProof = proxy
      ? {
          ca: rootPem ?? pins,
          plainPort: args.profile.internalPort,
          ...(settings.tls === "acme" ? { httpPort: settings.tlsHttpPort } : {}),
        }
      : undefined;
    const smokeDeps = [...firewallDeps, ...(proxy ? [proxy.container, proxy.reload] : [])];
    this.endpoint = {
      host: hostLayout.host.kind === "ssh" ? hostLayout.host.host : "localhost",
      apiUrl: pulumi.output(base),
      docsUrl: pulumi.output(`${base}/docs`),
      containerName: this.container.name,
      outputsDir: instance.outputsDir,
      smokeFile: settings.smokeEnabled
        ? provenFile(this.declareSmoke(`${name}-smoke`, base, smokeDeps, tlsProof, proxy?.container))
        : pulumi.output(""),
      firewall: firewall.preview,
      ...(rootPem ? { tlsRootCertificate: rootPem } : {}),
    };
    this.registerOutputs({ endpoint: this.endpoint, warnings: this.warnings });
  }

  /** The aliases of a child: its old name under the host component. */
  private aliases(suffix: string): pulumi.Input<pulumi.Alias>[] {
    const legacy = this.args.legacy;
    return legacy ? [{ name: `${legacy.prefix}-${suffix}`, parent: legacy.parent }] : [];
  }

  /** The container's command and envs: they carry both passwords, so they are derived inside the secrets. */
  private launch(): Launch {
    const { settings: settings, profile, ui, instance } = this.args;
    return pulumi.all([this.args.secrets.apiPassword, ui.password]).apply(([apiPassword, uiPassword]) => {
      const creds = {
        api: { username: settings.apiUsername, password: apiPassword },
        ui: { username: ui.username, password: uiPassword },
      };
      // containerSpec mounts the checkpoints folder read-only (or the whole models folder).
      return launchSpec(profile, webuiFlags(settings, profile, instance.gpus, creds, { noModelDownload: true }));
    });
  }

  private declareContainer(
    name: string,
    spec: ContainerSpec,
    launch: Launch,
    dependsOn: pulumi.Resource[],
  ): docker.Container {
    return new docker.Container(
      name,
      {
        image: this.args.image.imageId,
        name: spec.name,
        // An image that takes its flags from a variable keeps its own CMD: the provider reads the command
        // back from the engine, so an empty list would differ from it on every run and replace the container.
        ...(this.args.profile.flagsVia === "env" ? {} : { command: launch.apply((l) => l.command ?? []) }),
        envs: launch.apply((l) => l.envs),
        user: spec.user,
        workingDir: spec.workingDir,
        // With tls the proxy publishes the port; the WebUI joins the stack's network and publishes nothing.
        ...(this.args.tls ? { networkMode: this.args.tls.network.name } : { ports: spec.ports }),
        mounts: spec.mounts,
        deviceRequests: spec.deviceRequests,
        healthcheck: spec.healthcheck,
        restart: spec.restart,
        labels: spec.labels,
        logDriver: spec.logDriver,
        logOpts: spec.logOpts,
        shmSize: spec.shmSize,
        wait: false,
        destroyGraceSeconds: 30,
      },
      {
        parent: this,
        provider: this.args.provider,
        dependsOn,
        aliases: this.aliases("container"),
        // A fixed name and port: the old container must go before the new one can start.
        deleteBeforeReplace: true,
        // The provider records a new healthcheck, and a changed mount source (same number of mounts), without
        // applying either: replace so they take effect. A container whose start failed is recorded with an
        // initialisation error, and the provider's update would leave it created but never started: replace
        // it instead, so the next run starts (or fails) again.
        replaceOnChanges: ["healthcheck", "mounts", "#initerror"],
        // The engine merges the daemon's own default log options into the container's, and the provider reads
        // the merged set back: without this, a host whose daemon.json sets more options replaces every run.
        ignoreChanges: ["logOpts"],
        // Another Docker host: remove the container from the old one and create it on the new one.
        replacementTrigger: this.args.hostIdentity,
      },
    );
  }

  /** The post-deploy proof; it re-runs whenever the container or the image is replaced. */
  private declareSmoke(
    name: string,
    url: string,
    deps: pulumi.Resource[],
    tls: { ca: pulumi.Input<string | undefined>; plainPort: number; httpPort?: number } | undefined,
    proxy: docker.Container | undefined,
  ): command.local.Command {
    const { settings: settings, secrets, hostLayout, instance, profile, ui } = this.args;
    const h = hostLayout.host;
    return declareSmoke(
      name,
      {
        url,
        username: settings.apiUsername,
        password: secrets.apiPassword,
        ...(settings.exposure === "api-and-ui" ? { uiUsername: ui.username, uiPassword: ui.password } : {}),
        exposure: settings.exposure,
        hostOutputsDir: instance.outputsDir,
        hostModelsDir: settings.modelsDir,
        ...proofSettings(settings, profile),
        ...(h.kind === "ssh"
          ? {
              ssh: {
                user: h.user,
                host: h.host,
                port: h.port,
                privateKey: secrets.sshPrivateKey,
                knownHosts: this.args.knownHosts,
              },
            }
          : {}),
        ...checkpointProof(settings.checkpoints),
        ...(tls ? { tls: { ...tls, ca: pulumi.output(tls.ca).apply((c) => c ?? "") } } : {}),
        container: this.container.name,
        triggers: [this.container.id, this.args.image.imageId, ...(proxy ? [proxy.id] : [])],
      },
      { parent: this, dependsOn: [this.container, ...deps], aliases: this.aliases("smoke") },
    );
  }
}

/** What the smoke checks of the declared checkpoints: each listed with its hash, the first one loaded. */
function checkpointProof(entries: StackConfig["settings"]["checkpoints"]) {
  const all = resolveCheckpoints(entries);
  const first = firstCheckpoint(all);
  if (!first) return {};
  return { checkpoints: all.map((c) => ({ name: c.fileName, sha256: c.sha256 })), loadedCheckpoint: first.fileName };
}
