// Image profiles: the published WebUI images differ in where they keep data, which uid writes the
// host folders, which port the WebUI listens on inside, and how they take flags, as each image's
// Dockerfile and entrypoint set them. Pure data and functions: no Pulumi here.
import { z } from "zod";
import { TCP_PORT_MAX, TCP_PORT_MIN } from "../../lib/tcp-port.js";

export const FLAGS_VIA = ["args", "command", "env"] as const;

const ProfileSchema = z.object({
  /** Preset name, or "custom". */
  name: z.string(),
  /** Image used when the `image` setting is not given. */
  defaultImage: z.string(),
  /** The WebUI's data root inside the container (its working directory; relative outdirs resolve here). */
  dataRoot: z.string().startsWith("/"),
  /** Container path the host outputs folder is mounted on. */
  outputsPath: z.string().startsWith("/"),
  /** Container path the host models folder is mounted on. */
  modelsPath: z.string().startsWith("/"),
  /** uid (and gid) the WebUI process runs as: the host folders must be writable by it. */
  uid: z.number().int().min(0),
  gid: z.number().int().min(0),
  /** Port the WebUI listens on inside the container (the program passes `--port` with it). */
  internalPort: z.number().int().min(TCP_PORT_MIN).max(TCP_PORT_MAX),
  /**
   * How flags reach the WebUI:
   * - `args`: the container command is the flag list (appended to the image's ENTRYPOINT);
   * - `command`: the container command is `commandPrefix` followed by the flags;
   * - `env`: the flags are one shell-split string in the env var `flagsEnvVar`.
   */
  flagsVia: z.enum(FLAGS_VIA),
  commandPrefix: z.array(z.string()).default([]),
  flagsEnvVar: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional(),
  /** Pass `--data-dir <dataRoot>` (for images whose data root is not the install dir). */
  passDataDir: z.boolean().default(false),
  /** With several containers on one host the models folder is shared; mount it read-only unless the image writes there. */
  sharedModelsReadOnly: z.boolean().default(true),
});
export type Profile = z.infer<typeof ProfileSchema>;

export const PRESET_NAMES = ["universonic", "siutin", "sd-auto"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

const A1111_ROOT = "/app/stable-diffusion-webui";

export const PRESETS: Record<PresetName, Profile> = {
  // universonic/stable-diffusion-webui: ENTRYPOINT runs webui.sh with "--listen --port 8080"; extra
  // flags are docker args. Runs as sduser (1000:1000). Default: see README "Image profiles".
  universonic: {
    name: "universonic",
    defaultImage: "universonic/stable-diffusion-webui:full",
    dataRoot: A1111_ROOT,
    outputsPath: `${A1111_ROOT}/outputs`,
    modelsPath: `${A1111_ROOT}/models`,
    uid: 1000,
    gid: 1000,
    internalPort: 8080,
    flagsVia: "args",
    commandPrefix: [],
    passDataDir: false,
    sharedModelsReadOnly: true,
  },
  // siutin/stable-diffusion-webui-docker: the command is `bash webui.sh <flags>`; user app (uid 10000).
  siutin: {
    name: "siutin",
    defaultImage: "siutin/stable-diffusion-webui-docker:latest-cuda",
    dataRoot: A1111_ROOT,
    outputsPath: `${A1111_ROOT}/outputs`,
    modelsPath: `${A1111_ROOT}/models`,
    uid: 10000,
    gid: 10000,
    internalPort: 7860,
    flagsVia: "command",
    commandPrefix: ["bash", "webui.sh"],
    passDataDir: false,
    sharedModelsReadOnly: true,
  },
  // AbdBarho's locally built `sd-auto`: CMD `python -u webui.py --listen --port 7860 ${CLI_ARGS}`,
  // runs as root; its config.py forces outdirs under /output and links models to /data/models.
  "sd-auto": {
    name: "sd-auto",
    defaultImage: "sd-auto:78",
    dataRoot: "/stable-diffusion-webui",
    outputsPath: "/output",
    modelsPath: "/data/models",
    uid: 0,
    gid: 0,
    internalPort: 7860,
    flagsVia: "env",
    commandPrefix: [],
    flagsEnvVar: "CLI_ARGS",
    passDataDir: false,
    // Its entrypoint creates folders and links under /data/models at every start.
    sharedModelsReadOnly: false,
  },
};

/** The settings a custom profile cannot do without (the validator names each one that is missing). */
export const CUSTOM_REQUIRED = [
  "profileDataRoot",
  "profileOutputsPath",
  "profileModelsPath",
  "profileUid",
  "profilePort",
  "profileFlagsVia",
] as const;

/** The settings that choose and describe the image's profile. */
export interface ProfileSettings {
  imageProfile: PresetName | "custom";
  profileDataRoot?: string;
  profileOutputsPath?: string;
  profileModelsPath?: string;
  profileUid?: number;
  profileGid?: number;
  profilePort?: number;
  profileFlagsVia?: (typeof FLAGS_VIA)[number];
  profileCommandPrefix?: string[];
  profileFlagsEnvVar?: string;
  profilePassDataDir?: boolean;
}

/** The profile a stack uses: a preset, or the custom one stated by the `profile*` settings. */
export function resolveProfile(settings: ProfileSettings): Profile {
  if (settings.imageProfile !== "custom") return PRESETS[settings.imageProfile];
  for (const k of CUSTOM_REQUIRED) if (settings[k] === undefined) throw new Error(`imageProfile custom needs ${k}`);
  return ProfileSchema.parse({
    name: "custom",
    defaultImage: "",
    dataRoot: settings.profileDataRoot,
    outputsPath: settings.profileOutputsPath,
    modelsPath: settings.profileModelsPath,
    uid: settings.profileUid,
    gid: settings.profileGid ?? settings.profileUid,
    internalPort: settings.profilePort,
    flagsVia: settings.profileFlagsVia,
    commandPrefix: settings.profileCommandPrefix ?? [],
    flagsEnvVar: settings.profileFlagsEnvVar,
    passDataDir: settings.profilePassDataDir ?? false,
    sharedModelsReadOnly: false,
  });
}
