// The WebUI's command-line flags for a stack, and how they reach the process for a given image
// profile. Pure: the credentials come in as plain strings and the caller keeps the result secret.
import type { PublicSettings } from "../config/schema.js";
import type { GpuRequest } from "../config/gpus.js";
import type { Profile } from "../webui/profiles.js";
import { CPU_MODE_FLAGS } from "../webui/flag-table.js";
import { CHECKPOINTS_SUBDIR, firstCheckpoint, resolveCheckpoints } from "../config/checkpoints.js";

export interface Credentials {
  api: { username: string; password: string };
  /** UI (gradio) login; only used with exposure api-and-ui. */
  ui: { username: string; password: string };
}

export function webuiFlags(
  settings: Pick<PublicSettings, "exposure" | "extraArgs"> & Partial<Pick<PublicSettings, "checkpoints">>,
  profile: Profile,
  gpus: GpuRequest,
  creds: Credentials,
  /** The checkpoints folder is read-only in the container: a WebUI that finds no model must not download one there. */
  o: { noModelDownload?: boolean } = {},
): string[] {
  const flags = [
    "--api",
    "--api-auth",
    `${creds.api.username}:${creds.api.password}`,
    "--listen",
    "--port",
    String(profile.internalPort),
  ];
  if (settings.exposure === "api-only") flags.push("--nowebui");
  else flags.push("--gradio-auth", `${creds.ui.username}:${creds.ui.password}`);
  if (profile.passDataDir) flags.push("--data-dir", profile.dataRoot);
  if (gpus.kind === "none") flags.push(...CPU_MODE_FLAGS);
  if (o.noModelDownload) flags.push("--no-download-sd-model");
  // --ckpt registers the file and makes it sd_model_checkpoint at start, over whatever config.json says.
  const first = firstCheckpoint(resolveCheckpoints(settings.checkpoints ?? []));
  if (first) flags.push("--ckpt", `${profile.modelsPath}/${CHECKPOINTS_SUBDIR}/${first.fileName}`);
  flags.push(...settings.extraArgs);
  return flags;
}

/** Container `command` and `envs` that pass `flags` the way the profile's image takes them. */
export function launchSpec(profile: Profile, flags: readonly string[]): { command?: string[]; envs: string[] } {
  switch (profile.flagsVia) {
    case "args":
      return { command: [...flags], envs: [] };
    case "command":
      return { command: [...profile.commandPrefix, ...flags], envs: [] };
    case "env":
      // Validated tokens hold no white space, so a plain join survives the image's word splitting.
      return { envs: [`${profile.flagsEnvVar ?? "COMMANDLINE_ARGS"}=${flags.join(" ")}`] };
  }
}

/** The path the healthcheck probes: /internal/ping exists only with the UI; api-only has /docs. */
export function healthPath(exposure: PublicSettings["exposure"]): string {
  return exposure === "api-only" ? "/docs" : "/internal/ping";
}
