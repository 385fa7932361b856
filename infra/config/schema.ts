// The stack settings: one zod schema, the single source of the settings' types, defaults and rules.
// Keys are the bare Pulumi config keys of the `sdwebui` project (e.g. `sdwebui:hostPort`).
import { z } from "zod";
import { FLAGS_VIA, PRESET_NAMES } from "../webui/profiles.js";
import {
  apiHost,
  bindAddress,
  boolean,
  cidr,
  containerPath,
  hostPath,
  imageRef,
  integer,
  list,
  password,
  username,
  tcpPort,
} from "./fields.js";
import { gpuSetting } from "./gpus.js";
import { DEFAULT_DOCKER_HOST, dockerHost } from "./docker-host.js";
import { hostEntry } from "./hosts.js";
import { parseKnownHosts } from "./known-hosts.js";
import { extraArg } from "./extra-args.js";
import { checkpointEntry, checkpointListProblems, checkpointToken, CHECKPOINTS_SUBDIR } from "./checkpoints.js";
import { DEFAULTS as SMOKE_DEFAULTS } from "../../smoke/cli-flags.js";
import { KUBERNETES_SETTINGS } from "./kubernetes.js";
import { TLS_SECRET_KEYS, TLS_SETTINGS } from "./tls.js";

/** The Pulumi project name, and so the config namespace (`sdwebui:apiPassword`). */
export const PROJECT = "sdwebui";

const EXPOSURES = ["api-and-ui", "api-only"] as const;
const FIREWALL_BACKENDS = ["iptables", "nftables", "none"] as const;

export const SettingsSchema = z
  .object({
    imageProfile: z
      .enum([...PRESET_NAMES, "custom"], { error: `must be one of ${[...PRESET_NAMES, "custom"].join(", ")}` })
      .default("universonic")
      .describe("Image profile: universonic, siutin, sd-auto or custom (then set the profile* keys)"),
    image: imageRef.optional().describe("Image reference; default: the profile's image"),
    imagePullTimeoutSeconds: integer(60, 86400, "seconds")
      .default(7200)
      .describe("Bound on pulling the image onto a Docker host that lacks it (progress is shown every 15 s)"),
    profileDataRoot: containerPath
      .optional()
      .describe("custom profile: the WebUI's data root (working dir) in the container"),
    profileOutputsPath: containerPath
      .optional()
      .describe("custom profile: container path the outputs folder is mounted on"),
    profileModelsPath: containerPath
      .optional()
      .describe("custom profile: container path the models folder is mounted on"),
    profileUid: integer(0, 2147483647, "a uid")
      .optional()
      .describe("custom profile: uid the WebUI runs as (owns the host folders)"),
    profileGid: integer(0, 2147483647, "a gid").optional().describe("custom profile: gid (default: the uid)"),
    profilePort: tcpPort().optional().describe("custom profile: port the WebUI listens on inside"),
    profileFlagsVia: z
      .enum(FLAGS_VIA, { error: "must be args, command or env" })
      .optional()
      .describe("custom profile: how flags are passed: args, command or env"),
    profileCommandPrefix: list(z.string().regex(/^[A-Za-z0-9_./=-]+$/, "must be a plain word"))
      .optional()
      .describe("custom profile (flagsVia command): words before the flags, e.g. [bash, webui.sh]"),
    profileFlagsEnvVar: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")
      .optional()
      .describe("custom profile (flagsVia env): the variable holding the flags, e.g. CLI_ARGS"),
    profilePassDataDir: boolean().optional().describe("custom profile: pass --data-dir <profileDataRoot>"),

    hostPort: tcpPort().default(7860).describe("Host port the API is published on"),
    bindAddress: bindAddress
      .default("0.0.0.0")
      .describe("Host address the port is published on (IPv4 0.0.0.0 by default)"),
    apiHost: apiHost
      .optional()
      .describe("Address the program (and the smoke step) uses to reach the API; default 127.0.0.1, or the ssh host"),
    gpus: gpuSetting.default("all").describe("GPUs: all, a count (e.g. 1), device=<id>[,<id>], or none (CPU mode)"),
    shmSizeMb: integer(64, 1048576, "MiB of /dev/shm").default(8192).describe("Size of /dev/shm in MiB"),
    containerName: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, "must be a Docker container name")
      .optional()
      .describe("Container name; default sdwebui-<stack>"),

    exposure: z
      .enum(EXPOSURES, { error: "must be api-and-ui or api-only" })
      .default("api-and-ui")
      .describe("api-and-ui: API with --api-auth and UI/file= behind --gradio-auth; api-only: --nowebui"),
    apiUsername: username.default("sdwebui").describe("API (HTTP Basic) user name"),
    apiPassword: password.describe("API password (secret, required): pulumi config set --secret apiPassword"),
    uiUsername: username.optional().describe("UI (gradio) user name; default: apiUsername"),
    uiPassword: password.optional().describe("UI password (secret); default: apiPassword"),

    outputsDir: hostPath
      .default("/srv/sd-webui/outputs")
      .describe("Host folder for generated images (kept on destroy)"),
    modelsDir: hostPath
      .default("/srv/sd-webui/models")
      .describe("Host folder for models; checkpoints go in <modelsDir>/Stable-diffusion"),
    checkpoints: list(checkpointEntry)
      .superRefine((entries, ctx) => {
        for (const message of checkpointListProblems(entries)) ctx.addIssue({ code: "custom", message });
      })
      .default([])
      .describe(
        `Checkpoints placed in <modelsDir>/${CHECKPOINTS_SUBDIR} before the WebUI starts: [{source: <https URL or host path>, sha256, fileName?, loadFirst?, useToken?, sizeBytes?}]`,
      ),
    checkpointToken: checkpointToken
      .optional()
      .describe(
        "Token for checkpoint sources with useToken: true (secret): a bearer token, or a header line 'Name: value'",
      ),
    extraArgs: list(extraArg).default([]).describe("Extra WebUI flags, e.g. [--xformers, --medvram]"),
    allowInsecureFlags: boolean()
      .default(false)
      .describe(
        'Allow extraArgs flags that widen what is reachable or what runs (--share, --gradio-allowed-path, --cors-allow-origins, --disable-safe-unpickle, …: README "Security model")',
      ),

    dockerHost: dockerHost.default(DEFAULT_DOCKER_HOST).describe("Docker host: unix:///path or ssh://user@host[:port]"),
    hosts: list(hostEntry)
      .default([])
      .describe(
        "Scale-out: Docker hosts with GPU ids, one container per GPU, e.g. [ssh://ops@gpu-1#0,1]; replaces dockerHost and gpus",
      ),
    sshPrivateKey: z
      .string()
      .optional()
      .describe(
        "ssh hosts: private key (secret) for the command resources and the smoke; default: the ssh agent (the Docker provider always uses the agent)",
      ),
    sshKnownHosts: z
      .string()
      .superRefine((v, ctx) => {
        try {
          if (parseKnownHosts(v).length === 0)
            ctx.addIssue({
              code: "custom",
              message: "holds no known_hosts line; get one with ssh-keyscan -p <port> <host>",
            });
        } catch (e) {
          ctx.addIssue({ code: "custom", message: (e as Error).message.replace(/^sshKnownHosts: /, "") });
        }
      })
      .optional()
      .describe("ssh hosts (required): known_hosts line(s) pinning each host key, from ssh-keyscan"),

    firewallAllowlist: list(cidr)
      .default([])
      .describe(
        "Networks allowed to reach the API port (IPv4/IPv6 CIDRs); empty = no remote client, 0.0.0.0/0 and ::/0 = any address (on every target)",
      ),
    firewallBackend: z
      .enum(FIREWALL_BACKENDS, { error: "must be iptables, nftables or none" })
      .default("iptables")
      .describe("Firewall backend: iptables (DOCKER-USER), nftables (own table) or none"),

    smokeEnabled: boolean().default(true).describe("Run the post-deploy proof that an image is saved on the host"),
    smokeTimeoutSeconds: integer(10, 7200, "seconds")
      .default(900)
      .describe("Bound on the smoke step, model loading included"),
    smokePrompt: z
      .string()
      .min(1)
      .max(500)
      // eslint-disable-next-line no-control-regex -- refuse control characters in the prompt
      .regex(/^[^\x00-\x1f\x7f-\x9f]*$/, "must be one line of text, without control characters")
      .default(SMOKE_DEFAULTS.prompt)
      .describe("Prompt of the proof image (a unique run id is appended)"),
    smokeSteps: integer(1, 150, "sampling steps").default(4).describe("Sampling steps of the proof image"),
    smokeWidth: integer(64, 2048, "pixels")
      .refine((n) => n % 8 === 0, "must be a multiple of 8")
      .default(256)
      .describe("Width of the proof image"),
    smokeHeight: integer(64, 2048, "pixels")
      .refine((n) => n % 8 === 0, "must be a multiple of 8")
      .default(256)
      .describe("Height of the proof image"),
    ...TLS_SETTINGS,
    ...KUBERNETES_SETTINGS,
  })
  .strict();

export type Settings = z.infer<typeof SettingsSchema>;
/** Settings as read before validation: every key optional, values as Pulumi gives them. */
export type RawSettings = Record<string, unknown>;

/** Keys whose values are never shown, not even in error messages. */
export const SECRET_KEYS = [
  "apiPassword",
  "uiPassword",
  "sshPrivateKey",
  "checkpointToken",
  "kubeconfig",
  ...TLS_SECRET_KEYS,
] as const;
export const SETTING_KEYS = Object.keys(SettingsSchema.shape) as (keyof Settings)[];
/** A setting's default, from the schema (the one place defaults are written). */
export function settingDefault<K extends keyof Settings>(key: K): Settings[K] {
  return SettingsSchema.shape[key].parse(undefined) as Settings[K];
}

export type SecretKey = (typeof SECRET_KEYS)[number];
/** The settings the program passes around in plain text; the secret ones travel as Pulumi secrets. */
export type PublicSettings = Omit<Settings, SecretKey>;
export type SecretSettings = Pick<Settings, "apiPassword"> & Partial<Pick<Settings, Exclude<SecretKey, "apiPassword">>>;
