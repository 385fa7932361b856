// The container a stack runs, as plain data in the docker provider's input names. Secrets (the
// flags carry the credentials) and the image id are added by the component; everything here is
// derived from settings alone, so two evaluations of the same config give identical inputs.
import { CHECKPOINTS_SUBDIR } from "../config/checkpoints.js";
import type { GpuRequest } from "../config/gpus.js";
import type { PublicSettings } from "../config/schema.js";
import { healthPath } from "../common/launch-flags.js";
import type { Profile } from "../webui/profiles.js";

export interface DeviceRequest {
  driver: string;
  count?: number;
  deviceIds?: string[];
  capabilities: string[];
}

export interface ContainerSpec {
  name: string;
  user: string;
  ports: { internal: number; external: number; ip: string; protocol: "tcp" }[];
  mounts: { type: "bind"; source: string; target: string; readOnly: boolean }[];
  deviceRequests?: DeviceRequest[];
  healthcheck: { tests: string[]; interval: string; timeout: string; startPeriod: string; retries: number };
  restart: "unless-stopped";
  labels: { label: string; value: string }[];
  logDriver: string;
  logOpts: Record<string, string>;
  shmSize: number;
  workingDir: string;
}

/** Docker's NVIDIA request for a `gpus` setting (the provider's `driver` default is "cdi", so name it). */
export function deviceRequests(gpus: GpuRequest): DeviceRequest[] | undefined {
  const base = { driver: "nvidia", capabilities: ["gpu"] };
  switch (gpus.kind) {
    case "none":
      return undefined;
    case "all":
      return [{ ...base, count: -1 }];
    case "count":
      return [{ ...base, count: gpus.count }];
    case "devices":
      return [{ ...base, deviceIds: [...gpus.ids] }];
  }
}

/**
 * Whole seconds as Go's time.Duration prints them (30s, 10m0s, 1h0m0s): the provider reads the healthcheck
 * back from the engine in that form and diffs the program's values against it, so any other spelling of
 * the same duration ("600s") is a change, and healthcheck changes replace the container.
 */
function goDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new Error(`goDuration: ${seconds} is not a whole number of seconds`);
  if (seconds === 0) return "0s";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = seconds % 60;
  if (h > 0) return `${h}h${m}m${sec}s`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}

/** Stack names may hold characters a container name may not; fold them into a valid, stable name. */
export function defaultContainerName(stack: string): string {
  const safe = stack
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "");
  return `sdwebui-${safe || "stack"}`.slice(0, 63);
}

export function containerSpec(
  settings: Pick<
    PublicSettings,
    "containerName" | "hostPort" | "bindAddress" | "outputsDir" | "modelsDir" | "exposure" | "shmSizeMb"
  >,
  profile: Profile,
  gpus: GpuRequest,
  ids: { project: string; stack: string },
  /** Mount the models folder read-only (several containers share it and the image does not write there). */
  modelsReadOnly = false,
): ContainerSpec {
  const probe = `http://127.0.0.1:${profile.internalPort}${healthPath(settings.exposure)}`;
  return {
    name: settings.containerName ?? defaultContainerName(ids.stack),
    user: `${profile.uid}:${profile.gid}`,
    ports: [{ internal: profile.internalPort, external: settings.hostPort, ip: settings.bindAddress, protocol: "tcp" }],
    mounts: [
      { type: "bind", source: settings.outputsDir, target: profile.outputsPath, readOnly: false },
      { type: "bind", source: settings.modelsDir, target: profile.modelsPath, readOnly: modelsReadOnly },
      // The checkpoints stay read-only over a writable models mount: no container (of any stack sharing the
      // folder) can delete, replace or plant links among them, nor rename the mount point. The WebUI is told
      // not to download a default model there (webuiFlags' noModelDownload).
      ...(modelsReadOnly
        ? []
        : [
            {
              type: "bind" as const,
              source: `${settings.modelsDir}/${CHECKPOINTS_SUBDIR}`,
              target: `${profile.modelsPath}/${CHECKPOINTS_SUBDIR}`,
              readOnly: true,
            },
          ]),
    ],
    deviceRequests: deviceRequests(gpus),
    // python3 is in every WebUI image (the WebUI is Python); curl and wget are not.
    healthcheck: {
      tests: ["CMD", "python3", "-c", `import urllib.request; urllib.request.urlopen('${probe}', timeout=10)`],
      interval: goDuration(30),
      timeout: goDuration(15),
      startPeriod: goDuration(600),
      retries: 3,
    },
    restart: "unless-stopped",
    labels: [
      { label: "sdwebui.project", value: ids.project },
      { label: "sdwebui.stack", value: ids.stack },
      { label: "sdwebui.profile", value: profile.name },
    ],
    logDriver: "json-file",
    logOpts: { "max-size": "50m", "max-file": "3" },
    shmSize: settings.shmSizeMb,
    workingDir: profile.dataRoot,
  };
}
