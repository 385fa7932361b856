// Where the containers go: one host and one container by default; with the `hosts` setting, one
// container per listed GPU on each host, each on its own port and outputs sub-folder. Pure.
import { DockerHost, dockerHostOf } from "../config/docker-host.js";
import { GpuRequest, gpuRequest } from "../config/gpus.js";
import { hostEntryOf } from "../config/hosts.js";
import type { PublicSettings } from "../config/schema.js";
import { PROJECT } from "../config/schema.js";
import { defaultContainerName } from "./container-spec.js";

/**
 * The tag of a port's firewall rules: project, stack and port, so no two stacks (nor two ports of one
 * stack) share one; deploy and destroy touch only rules carrying exactly their tag. The program runs only
 * as project sdwebui and a port is digits, so the text after the last "." is the port and the rest the
 * stack: distinct (stack, port) pairs give distinct tags.
 */
export function firewallTag(stack: string, port: number): string {
  return `${PROJECT}.${stack}.${port}`;
}

export interface ContainerSlot {
  /** The container's slot on its host (gpu0, cpu1); "" for the single-container stack. Names its resources. */
  slot: string;
  gpus: GpuRequest;
  hostPort: number;
  outputsDir: string;
  containerName: string;
  /** Firewall tag (firewallTag): unique per stack and port, limited to [A-Za-z0-9_.-]. */
  firewallTag: string;
}

export interface HostLayout {
  key: string;
  host: DockerHost;
  /** Address the program uses to reach this host's API ports. */
  apiHost: string;
  instances: ContainerSlot[];
  /** Several containers share the models folder: mount it read-only where the profile allows. */
  sharedModels: boolean;
  /** The stack's own Docker network on this host (with tls, the WebUI is reachable on it only). */
  networkName: string;
}

type LayoutSettings = Pick<
  PublicSettings,
  "hosts" | "dockerHost" | "gpus" | "hostPort" | "outputsDir" | "containerName" | "apiHost" | "bindAddress"
> &
  Partial<Pick<PublicSettings, "tls" | "tlsDomain">>;

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "") || "host";

function defaultApiHost(settings: LayoutSettings, host: DockerHost): string {
  if (settings.apiHost) return settings.apiHost;
  // An ACME certificate names the domain: clients, and the smoke, connect by that name.
  if (settings.tls === "acme" && settings.tlsDomain) return settings.tlsDomain;
  if (host.kind === "ssh") return host.host;
  return ["0.0.0.0", "::"].includes(settings.bindAddress) ? "127.0.0.1" : settings.bindAddress;
}

export function hostLayouts(settings: LayoutSettings, stack: string): HostLayout[] {
  const baseName = settings.containerName ?? defaultContainerName(stack);
  if (settings.hosts.length === 0) {
    const host = dockerHostOf(settings.dockerHost);
    const instance = {
      slot: "",
      gpus: gpuRequest(settings.gpus),
      hostPort: settings.hostPort,
      outputsDir: settings.outputsDir,
      containerName: baseName,
      firewallTag: firewallTag(stack, settings.hostPort),
    };
    return [
      {
        key: "",
        host,
        apiHost: defaultApiHost(settings, host),
        instances: [instance],
        sharedModels: false,
        networkName: `${baseName}-net`,
      },
    ];
  }
  const used = new Set<string>();
  return settings.hosts.map((entry) => {
    const { host, slots } = hostEntryOf(entry);
    let key = host.kind === "ssh" ? slug(host.host) : "local";
    for (let n = 2; used.has(key); n++) key = `${key}-${n}`;
    used.add(key);
    const instances = slots.map((gpus, i): ContainerSlot => {
      const slot = gpus.kind === "devices" ? `gpu${slug(gpus.ids[0]!)}` : `cpu${i}`;
      const hostPort = settings.hostPort + i;
      return {
        slot,
        gpus,
        hostPort,
        outputsDir: `${settings.outputsDir}/${slot}`,
        containerName: `${baseName}-${slot}`.slice(0, 63),
        firewallTag: firewallTag(stack, hostPort),
      };
    });
    return {
      key,
      host,
      apiHost: defaultApiHost(settings, host),
      instances,
      sharedModels: instances.length > 1,
      networkName: `${baseName}-net`,
    };
  });
}
