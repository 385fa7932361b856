// The arguments of one WebUI container's component, and what it offers once deployed.
import type * as command from "@pulumi/command";
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config/load.js";
import type { PublicSettings } from "../config/schema.js";
import type { Profile } from "../webui/profiles.js";
import type { HostLayout, ContainerSlot } from "./host-layout.js";
import type { HostTarget } from "./steps/host-command.js";
import type { TlsHost, TlsSettings } from "./tls-proxy.js";

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
