// The WebUI on one Docker host as a Pulumi component: the Docker provider for the host, the image,
// the port checks, the host folders, the checkpoints, and per container (one, or one per GPU when
// scaled out) a WebUiContainer component with the container, its firewall rules and its smoke proof.
import type * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config/load.js";
import { resolveCheckpoints, tokenHeader } from "../config/checkpoints.js";
import { needsToken, placementScript } from "./steps/place-checkpoints.js";
import type { HostLayout, ContainerSlot } from "./host-layout.js";
import { foldersScript } from "./steps/folders.js";
import { engineIdentity } from "../config/docker-host.js";
import { imagePullScript } from "./steps/image-pull.js";
import { portCheckScript, preflightScript } from "./steps/port-check.js";
import { Profile, type ProfileSettings, resolveProfile } from "../webui/profiles.js";
import { knownHostsFor } from "../config/known-hosts.js";
import { remoteConnection, sshOpts } from "./ssh.js";
import { hostCommand, type HostCommand } from "./steps/host-command.js";
import { type ContainerSecrets, type ContainerSettings, type Endpoint, WebUiContainer } from "./webui-container.js";
import type { PublicSettings } from "../config/schema.js";
import { onResource } from "../common/resource-error.js";
import { declareTlsHost, type TlsHost, type TlsOn } from "./tls-proxy.js";
import { transportWarnings } from "../config/tls.js";

export type { Endpoint } from "./webui-container.js";

/**
 * The stack settings one Docker host uses, by their schema names (each documented in the schema and in
 * `Pulumi.yaml`'s config block): its containers' (ContainerSettings), the image and its profile, the pull
 * limit, the ssh host keys, the UI login and the host folders.
 */
export type WebUiSettings = ContainerSettings &
  ProfileSettings &
  Pick<PublicSettings, "image" | "imagePullTimeoutSeconds" | "sshKnownHosts" | "uiUsername" | "tlsDomain">;

export interface WebUiArgs {
  /** The validated stack settings this host uses. */
  settings: WebUiSettings;
  /** The stack's secrets as Pulumi secret Outputs: API and UI passwords, ssh key, checkpoint token, tls files. */
  secrets: ContainerSecrets & Pick<StackConfig["secrets"], "uiPassword" | "checkpointToken" | "tlsKey">;
  /** The host and its containers, from hostLayouts(). */
  layout: HostLayout;
  /** The stack's name, for labels and names. */
  stack: string;
  /** The Pulumi project's name, for labels. */
  project: string;
}

export class WebUi extends pulumi.ComponentResource {
  readonly endpoints: Endpoint[] = [];
  readonly containers: docker.Container[] = [];
  /** One component per container, in the host layout's order. */
  readonly instances: WebUiContainer[] = [];
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
    super("sdwebui:index:WebUi", name, recordedInputs(args), opts);
    const settings = args.settings;
    const { host } = args.layout;
    this.args = args;
    this.profile = onResource(this, () => resolveProfile(settings));
    this.ui = {
      username: settings.uiUsername ?? settings.apiUsername,
      password: args.secrets.uiPassword ?? args.secrets.apiPassword,
    };
    this.knownHosts = host.kind === "ssh" ? knownHostsFor(settings.sshKnownHosts, host.host) : undefined;
    const knownHosts = this.knownHosts;
    this.connection =
      host.kind === "ssh"
        ? onResource(this, () => remoteConnection(host, args.secrets.sshPrivateKey, knownHosts))
        : undefined;

    // The provider's own diff treats a new host as an in-place update: its resources would stay "unchanged"
    // while nothing runs on the new host. The host's identity replaces the provider (the old one stays to
    // delete on the old host) and, below, the image, the containers and their firewall rules.
    const hostIdentity = engineIdentity(host);
    this.provider = new docker.Provider(
      `${name}-docker`,
      { host: host.uri, ...(host.kind === "ssh" ? { sshOpts: sshOpts(this.knownHosts) } : {}) },
      { parent: this, replacementTrigger: hostIdentity },
    );

    // The port preflights come first of all: a port something already listens on is refused before any
    // folder is created or any rule changes.
    // Children are named from this component's name and the container's slot; `legacy` are the names
    // they had before (the host key repeated before the slot), aliased so deployed stacks keep them.
    const ids = args.layout.instances.map((instance) => (instance.slot ? `${name}-${instance.slot}` : name));
    const legacyIds = args.layout.instances.map((instance) =>
      instance.slot ? `${name}-${args.layout.key}-${instance.slot}` : name,
    );
    const imageName = settings.image ?? this.profile.defaultImage;
    // The first preflight also pulls the image, with progress and a limit of its own; the provider would pull
    // it silently, under a 20-minute deadline.
    const preflights = args.layout.instances.map((instance, i) =>
      this.portPreflight(ids[i]!, legacyIds[i]!, instance, i === 0 ? imageName : undefined),
    );
    this.image = this.declareImage(name, imageName, preflights, hostIdentity);
    // Host folders: created with the image's owner before any container, never removed on destroy.
    this.folders = this.declareFolders(name, preflights);
    this.checkpoints = this.placeCheckpoints(name);

    const tls = settings.tls === "off" ? undefined : this.tlsHost(name, settings as TlsOn, hostIdentity, preflights);
    args.layout.instances.forEach((instance, i) => {
      const c = this.declareContainer(ids[i]!, legacyIds[i]!, instance, preflights[i]!, hostIdentity, tls);
      this.instances.push(c);
      this.containers.push(c.container);
      this.endpoints.push(c.endpoint);
      this.warnings.push(...c.warnings);
    });
    for (const w of transportWarnings(settings)) {
      pulumi.log.warn(w, this);
      this.warnings.push(w);
    }
    this.registerOutputs({ endpoints: this.endpoints, warnings: this.warnings });
  }

  /** The image, pulled by the first preflight already; the provider's own pull is the fallback. */
  private declareImage(name: string, imageName: string, preflights: HostCommand[], hostIdentity: string) {
    const limit = `${this.args.settings.imagePullTimeoutSeconds}s`;
    return new docker.RemoteImage(
      `${name}-image`,
      { name: imageName, keepLocally: true },
      {
        parent: this,
        provider: this.provider,
        dependsOn: preflights,
        replacementTrigger: hostIdentity,
        customTimeouts: { create: limit, update: limit },
      },
    );
  }

  /** The outputs and models folders with the image's owner; retained on destroy, so saved images stay. */
  private declareFolders(name: string, preflights: HostCommand[]): HostCommand {
    const { settings, layout } = this.args;
    const script = onResource(this, () =>
      foldersScript({
        outputsDir: settings.outputsDir,
        instanceOutputsDirs: layout.instances.map((i) => i.outputsDir).filter((d) => d !== settings.outputsDir),
        modelsDir: settings.modelsDir,
        uid: this.profile.uid,
        gid: this.profile.gid,
        profile: this.profile.name,
      }),
    );
    const opts = { parent: this, retainOnDelete: true, dependsOn: preflights };
    return this.hostCommand(`${name}-folders`, script, { sudo: true }, opts);
  }

  /** One container's component; `legacyId` is the name prefix its children had under this component. */
  private declareContainer(
    id: string,
    legacyId: string,
    instance: ContainerSlot,
    preflight: HostCommand,
    hostIdentity: string,
    tls: TlsHost | undefined,
  ): WebUiContainer {
    const args = this.args;
    const hostReady = [this.folders, ...(this.checkpoints ? [this.checkpoints] : [])];
    return new WebUiContainer(
      id,
      {
        settings: args.settings,
        secrets: args.secrets,
        hostLayout: args.layout,
        instance,
        profile: this.profile,
        stack: args.stack,
        project: args.project,
        image: this.image,
        provider: this.provider,
        hostIdentity,
        connection: this.connection,
        knownHosts: this.knownHosts,
        ui: this.ui,
        target: { host: args.layout.host, connection: this.connection },
        tls,
        preflight,
        hostReady,
        legacy: { prefix: legacyId, parent: this },
      },
      { parent: this },
    );
  }

  /** With tls on: the stack's network on this host, the proxy image, and the proxies' folders and files. */
  private tlsHost(name: string, settings: TlsOn, hostIdentity: string, preflights: HostCommand[]): TlsHost {
    const { layout, stack, project, secrets } = this.args;
    return declareTlsHost(
      name,
      {
        settings,
        hostLayout: layout,
        profile: this.profile,
        target: { host: layout.host, connection: this.connection },
        networkName: layout.networkName,
        labels: [
          { label: "sdwebui.project", value: project },
          { label: "sdwebui.stack", value: stack },
        ],
        certificate: secrets.tlsCertificate,
        key: secrets.tlsKey,
        hostIdentity,
        provider: this.provider,
        dependsOn: preflights,
      },
      this,
    );
  }

  /** A script of the program run on this Docker host (hostCommand: local, or over ssh). */
  private hostCommand(
    name: string,
    script: string,
    o: { sudo: boolean; stdin?: pulumi.Output<string> },
    opts: pulumi.CustomResourceOptions,
  ): HostCommand {
    return hostCommand(
      name,
      { host: this.args.layout.host, connection: this.connection },
      { create: script, ...o },
      opts,
    );
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
    const settings = this.args.settings;
    const outputs = this.args.layout.instances.map((i) => i.outputsDir);
    const writtenDirs = [settings.modelsDir, settings.outputsDir, ...outputs.filter((d) => d !== settings.outputsDir)];
    const script = onResource(this, () =>
      placementScript({ modelsDir: settings.modelsDir, checkpoints: list, writtenDirs }),
    );
    const token = this.args.secrets.checkpointToken;
    const stdin = needsToken(list) && token ? pulumi.secret(token.apply((t) => `${tokenHeader(t)}\n`)) : undefined;
    return this.hostCommand(
      `${name}-checkpoints`,
      script,
      { sudo: true, stdin },
      { parent: this, dependsOn: [this.folders] },
    );
  }

  /**
   * Catch a taken host port before anything changes: before the folders, before the firewall (whose
   * rules would otherwise stay on a port the deploy then refuses) and before Docker (which would leave a
   * Created container behind).
   */
  private portPreflight(
    id: string,
    legacyId: string,
    instance: ContainerSlot,
    pullImage: string | undefined,
  ): HostCommand {
    const settings = this.args.settings;
    const stackLabel = { project: this.args.project, stack: this.args.stack };
    const check = (port: number, setting: string) =>
      portCheckScript({ port, containerName: instance.containerName, stackLabel, setting });
    const script = onResource(this, () => {
      const limitSeconds = settings.imagePullTimeoutSeconds;
      const pull =
        pullImage === undefined
          ? undefined
          : imagePullScript({ image: pullImage, limitSeconds, setting: "sdwebui:imagePullTimeoutSeconds" });
      // The ACME challenge port is published too: it must be free as well.
      const challenge = settings.tls === "acme" ? [check(settings.tlsHttpPort, "sdwebui:tlsHttpPort")] : [];
      return preflightScript([check(instance.hostPort, "sdwebui:hostPort"), ...challenge], pull);
    });
    const aliases = legacyId === id ? [] : [{ name: `${legacyId}-preflight` }];
    return this.hostCommand(`${id}-preflight`, script, { sudo: false }, { parent: this, aliases });
  }
}

/** The inputs the engine records for the component: its plain args; the secrets stay with the children that use them. */
function recordedInputs(args: WebUiArgs): pulumi.Inputs {
  return { settings: args.settings, layout: args.layout, stack: args.stack, project: args.project };
}
