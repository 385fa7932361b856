// Command-line settings of the smoke step, validated into one typed object. Passwords and SSH key
// material are never flag values: flags name environment variables that hold them.
import { isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { SmokeError } from "./errors.js";
import { STRICT_MODES } from "./ssh-host.js";

export const DEFAULTS = {
  containerWorkdir: "/app/stable-diffusion-webui",
  containerOutputsDir: "/app/stable-diffusion-webui/outputs",
  exposure: "api-and-ui",
  expectedUid: 1000,
  timeoutS: 900,
  connectTimeoutS: 5,
  prompt: "a lighthouse on a cliff at dawn",
  steps: 4,
  width: 256,
  height: 256,
  sshPort: 22,
  strictHostKeyChecking: "yes",
} as const;

const ENV_NAME = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const dim = int(64, 2048).refine((v) => v % 8 === 0, "must be a multiple of 8");
const posixAbs = z.string().startsWith("/", "must be an absolute path");

export const CliSchema = z.object({
  // zod runs the refinement even when z.url failed, so it must not assume a parsable URL.
  url: z.url({ protocol: /^https?$/ }).refine((u) => !URL.canParse(u) || (!new URL(u).username && !new URL(u).password), "must not carry credentials (use --username and --password-env)"),
  username: z.string().min(1).refine((u) => !u.includes(":"), "must not contain ':'"),
  "password-env": ENV_NAME,
  "ui-username": z.string().min(1).optional(),
  "ui-password-env": ENV_NAME.optional(),
  exposure: z.enum(["api-and-ui", "api-only"]).default(DEFAULTS.exposure),
  "outputs-dir": z.string().min(1),
  "models-dir": z.string().min(1).optional(),
  "container-outputs-dir": posixAbs.default(DEFAULTS.containerOutputsDir),
  "container-workdir": posixAbs.default(DEFAULTS.containerWorkdir),
  container: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a container name or id").optional(),
  "expected-uid": int(0, 2 ** 31 - 1).default(DEFAULTS.expectedUid),
  timeout: int(1, 86_400).default(DEFAULTS.timeoutS),
  "connect-timeout": int(1, 600).default(DEFAULTS.connectTimeoutS),
  img2img: z.boolean().default(false),
  prompt: z.string().min(1).max(500).default(DEFAULTS.prompt),
  steps: int(1, 150).default(DEFAULTS.steps),
  width: dim.default(DEFAULTS.width),
  height: dim.default(DEFAULTS.height),
  json: z.boolean().default(false),
  "ssh-host": z.string().min(1).optional(),
  "ssh-user": z.string().min(1).optional(),
  "ssh-port": int(1, 65535).default(DEFAULTS.sshPort),
  "ssh-identity": z.string().min(1).optional(),
  "ssh-identity-env": ENV_NAME.optional(),
  "ssh-known-hosts": z.string().min(1).optional(),
  "ssh-known-hosts-env": ENV_NAME.optional(),
  "ssh-strict-host-key-checking": z.enum(STRICT_MODES).default(DEFAULTS.strictHostKeyChecking),
  checkpoint: z.array(z.string().regex(/^[^=\s]+=[0-9a-fA-F]{64}$/, "must be <file name>=<sha256>")).default([]),
  "loaded-checkpoint": z.string().min(1).optional(),
});
export type CliFlags = z.infer<typeof CliSchema>;

const STRING_FLAGS = Object.keys(CliSchema.shape).filter((k) => !["img2img", "json", "checkpoint"].includes(k));

export const USAGE = `usage: npm run smoke -- --url <api> --username <u> --password-env <VAR> --outputs-dir <host dir> [options]
  --url URL                       WebUI base URL, e.g. http://127.0.0.1:7860
  --username U / --password-env VAR   --api-auth user, and the variable holding its password
  --ui-username U / --ui-password-env VAR   --gradio-auth login for the lock proof (default: the API ones)
  --exposure api-and-ui|api-only  what the deployment serves (default api-and-ui)
  --outputs-dir DIR               host folder mounted as the outputs volume
  --container-outputs-dir PATH    where it is mounted in the container (default ${DEFAULTS.containerOutputsDir})
  --container-workdir PATH        the WebUI's working dir / data root (default ${DEFAULTS.containerWorkdir})
  --models-dir DIR                host models folder (named in the no-checkpoint hint)
  --container NAME                container name/id, for diagnosing failures through the host's docker CLI
  --expected-uid N                uid the image runs as (default ${DEFAULTS.expectedUid})
  --timeout S                     limit for the whole smoke (default ${DEFAULTS.timeoutS})
  --connect-timeout S             TCP connect timeout (default ${DEFAULTS.connectTimeoutS})
  --img2img                       prove the img2img path instead of txt2img
  --prompt P --steps N --width W --height H   the proof image (default ${DEFAULTS.steps} steps, ${DEFAULTS.width}x${DEFAULTS.height})
  --checkpoint NAME=SHA256        a checkpoint the WebUI must list with this hash (repeatable; NAME relative to
                                  models/Stable-diffusion)
  --loaded-checkpoint NAME        the one it must have loaded (default: the first --checkpoint)
  --json                          print one JSON object on stdout
  --ssh-host H --ssh-user U [--ssh-port N] [--ssh-identity FILE | --ssh-identity-env VAR]
  [--ssh-known-hosts FILE | --ssh-known-hosts-env VAR] [--ssh-strict-host-key-checking yes|accept-new|no]
                                  reach a remote Docker host's folders over SSH`;

export function parseCli(argv: string[]): CliFlags | "help" {
  const pw = argv.find((a) => /^--(ui-)?password(=|$)/.test(a));
  if (pw !== undefined)
    throw new SmokeError("usage", `there is no ${pw.split("=")[0]} flag: a password is never a flag value; put it in an environment variable and pass ${pw.split("=")[0]}-env VAR`);
  let values: Record<string, unknown>;
  try {
    const options = Object.fromEntries([
      ...STRING_FLAGS.map((k) => [k, { type: "string" as const }]),
      ["img2img", { type: "boolean" as const }],
      ["json", { type: "boolean" as const }],
      ["checkpoint", { type: "string" as const, multiple: true }],
      ["help", { type: "boolean" as const, short: "h" }],
    ]);
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (e) {
    // parseArgs quotes the offending argument; drop any "=value" part so no value is echoed.
    throw new SmokeError("usage", `${(e as Error).message.replace(/'(--?[^'=]*)=[^']*'/g, "'$1=…'")}\n${USAGE}`);
  }
  if (values.help) return "help";
  const r = CliSchema.safeParse(values);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`);
    throw new SmokeError("usage", `${msgs.join("; ")}\n${USAGE}`);
  }
  const f = r.data;
  const declared = f.checkpoint.map((c) => c.slice(0, c.lastIndexOf("=")));
  if (f["loaded-checkpoint"] !== undefined && !declared.includes(f["loaded-checkpoint"]))
    throw new SmokeError("usage", `--loaded-checkpoint ${f["loaded-checkpoint"]} is not one of the --checkpoint names (${declared.join(", ") || "none given"})`);
  if (f["ssh-host"] === undefined) {
    if (!isAbsolute(f["outputs-dir"])) f["outputs-dir"] = resolve(f["outputs-dir"]);
    if (f["models-dir"] && !isAbsolute(f["models-dir"])) f["models-dir"] = resolve(f["models-dir"]);
  } else {
    if (!f["ssh-user"]) throw new SmokeError("usage", "--ssh-host needs --ssh-user");
    if (!f["outputs-dir"].startsWith("/")) throw new SmokeError("usage", "--outputs-dir must be an absolute path on the SSH host");
    if (f["ssh-identity"] && f["ssh-identity-env"]) throw new SmokeError("usage", "give --ssh-identity or --ssh-identity-env, not both");
    if (f["ssh-known-hosts"] && f["ssh-known-hosts-env"]) throw new SmokeError("usage", "give --ssh-known-hosts or --ssh-known-hosts-env, not both");
  }
  return f;
}

/** Read a secret from the environment variable a flag names; a clear error when it is unset. */
export function secretFromEnv(flag: string, name: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env[name];
  // The name is not echoed: a password typed where the variable's name belongs would be printed.
  if (v === undefined || v === "") throw new SmokeError("usage", `${flag}: the environment variable it names is not set or empty; export it with the password and pass its name`);
  return v;
}
