// Command-line settings of the smoke step: one table of flags (schema, placeholder, help) gives the
// parsing, the usage text and the typed, validated values. Passwords and SSH key material are never
// flag values: flags name environment variables that hold them.
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { SmokeError } from "./errors.js";
import { STRICT_MODES } from "./ssh-host.js";
import { parseDeclared } from "./checkpoint-proof.js";
import { cliTable, CliUsageError, flag, parseTable, tableSchema, usageText } from "../lib/cli-table.js";
import { TCP_PORT_MAX, TCP_PORT_MIN } from "../lib/tcp-port.js";

export const DEFAULTS = {
  containerDataRoot: "/app/stable-diffusion-webui",
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
  gpuResource: "nvidia.com/gpu",
  rolloutTimeoutS: 900,
} as const;

const ENV_NAME = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const dim = int(64, 2048).refine((v) => v % 8 === 0, "must be a multiple of 8");
const posixAbs = z.string().startsWith("/", "must be an absolute path");

const SMOKE_FLAGS = cliTable({
  prog: "npm run smoke --",
  synopsis: "--url <api> --username <u> --password-env <VAR> --outputs-dir <host dir> [options]",
  flags: {
    // zod runs the refinement even when z.url failed, so it must not assume a parsable URL.
    url: flag(
      z
        .url({ protocol: /^https?$/ })
        .refine(
          (u) => !URL.canParse(u) || (!new URL(u).username && !new URL(u).password),
          "must not carry credentials (use --username and --password-env)",
        ),
      { arg: "URL", help: "WebUI base URL, e.g. http://127.0.0.1:7860" },
    ),
    username: flag(
      z
        .string()
        .min(1)
        .refine((u) => !u.includes(":"), "must not contain ':'"),
      { arg: "U", help: "the --api-auth user" },
    ),
    "password-env": flag(ENV_NAME, { arg: "VAR", help: "the variable holding its password" }),
    "ui-username": flag(z.string().min(1).optional(), {
      arg: "U",
      help: "--gradio-auth user for the lock proof (default: --username)",
    }),
    "ui-password-env": flag(ENV_NAME.optional(), {
      arg: "VAR",
      help: "the variable holding its password (default: --password-env's)",
    }),
    exposure: flag(z.enum(["api-and-ui", "api-only"]).default(DEFAULTS.exposure), {
      arg: "MODE",
      help: "what the deployment serves: api-and-ui or api-only",
    }),
    "outputs-dir": flag(z.string().min(1), { arg: "DIR", help: "host folder mounted as the outputs volume" }),
    "models-dir": flag(z.string().min(1).optional(), {
      arg: "DIR",
      help: "host models folder (named in the no-checkpoint hint)",
    }),
    "container-outputs-dir": flag(posixAbs.default(DEFAULTS.containerOutputsDir), {
      arg: "PATH",
      help: "where the outputs folder is mounted in the container",
    }),
    "container-data-root": flag(posixAbs.default(DEFAULTS.containerDataRoot), {
      arg: "PATH",
      help: "the WebUI's working dir / data root in the container",
    }),
    container: flag(
      z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a container name or id")
        .optional(),
      { arg: "NAME", help: "container name/id, for diagnosing failures through the host's docker CLI" },
    ),
    "expected-uid": flag(int(0, 2 ** 31 - 1).default(DEFAULTS.expectedUid), {
      arg: "N",
      help: "uid the image runs as",
    }),
    timeout: flag(int(1, 86_400).default(DEFAULTS.timeoutS), {
      arg: "S",
      help: "limit for the whole smoke, in seconds",
    }),
    "connect-timeout": flag(int(1, 600).default(DEFAULTS.connectTimeoutS), {
      arg: "S",
      help: "TCP connect timeout, in seconds",
    }),
    img2img: flag(z.boolean().default(false), { help: "prove the img2img path instead of txt2img" }),
    prompt: flag(z.string().min(1).max(500).default(DEFAULTS.prompt), {
      arg: "P",
      help: "prompt of the proof image (a run id is appended)",
    }),
    steps: flag(int(1, 150).default(DEFAULTS.steps), { arg: "N", help: "sampling steps of the proof image" }),
    width: flag(dim.default(DEFAULTS.width), { arg: "W", help: "width of the proof image" }),
    height: flag(dim.default(DEFAULTS.height), { arg: "H", help: "height of the proof image" }),
    checkpoint: flag(
      z.array(z.string().regex(/^[^=\s]+=[0-9a-fA-F]{64}$/, "must be <file name>=<sha256>")).default([]),
      {
        arg: "NAME=SHA256",
        multiple: true,
        help: "a checkpoint the WebUI must list with this hash (NAME relative to models/Stable-diffusion)",
      },
    ),
    "loaded-checkpoint": flag(z.string().min(1).optional(), {
      arg: "NAME",
      help: "the one it must have loaded (default: the first --checkpoint)",
    }),
    "kubernetes-rollout": flag(
      z
        .string()
        .regex(/^[a-z0-9-]{1,63}\/[a-z0-9.-]{1,253}$/, "must be <namespace>/<deployment>")
        .optional(),
      {
        arg: "NS/NAME",
        help: "in a pod: first wait for this Deployment's rollout (fails within 15 s on an unschedulable pod)",
      },
    ),
    "gpu-resource": flag(z.string().min(1).default(DEFAULTS.gpuResource), {
      arg: "R",
      help: "the GPU resource the pods request (names the gpus-short failure)",
    }),
    "rollout-timeout": flag(int(1, 86_400).default(DEFAULTS.rolloutTimeoutS), {
      arg: "S",
      help: "limit for the rollout wait, in seconds",
    }),
    "tls-ca-env": flag(ENV_NAME.optional(), {
      arg: "VAR",
      help: "https: the variable holding the root certificate(s) to pin, PEM (unset or empty: the system's roots)",
    }),
    "tls-servername": flag(
      z
        .string()
        .regex(/^[A-Za-z0-9.-]+$/, "must be a DNS name")
        .optional(),
      {
        arg: "NAME",
        help: "https: the name the certificate must cover when the URL's host is an address it does not name (sent as SNI)",
      },
    ),
    "plain-port": flag(int(TCP_PORT_MIN, TCP_PORT_MAX).optional(), {
      arg: "N",
      help: "https: the WebUI's own port, which must not answer on the API host (no way around the proxy)",
    }),
    "http-port": flag(int(TCP_PORT_MIN, TCP_PORT_MAX).optional(), {
      arg: "N",
      help: "https: the ACME challenge port, which may only redirect to HTTPS",
    }),
    json: flag(z.boolean().default(false), { help: "print one JSON object on stdout" }),
    "ssh-host": flag(z.string().min(1).optional(), { arg: "H", help: "reach a remote Docker host's folders over SSH" }),
    "ssh-user": flag(z.string().min(1).optional(), { arg: "U", help: "its login" }),
    "ssh-port": flag(int(TCP_PORT_MIN, TCP_PORT_MAX).default(DEFAULTS.sshPort), { arg: "N", help: "its SSH port" }),
    "ssh-identity": flag(z.string().min(1).optional(), { arg: "FILE", help: "private key file" }),
    "ssh-identity-env": flag(ENV_NAME.optional(), { arg: "VAR", help: "the variable holding the private key" }),
    "ssh-known-hosts": flag(z.string().min(1).optional(), {
      arg: "FILE",
      help: "known_hosts file pinning the host key",
    }),
    "ssh-known-hosts-env": flag(ENV_NAME.optional(), { arg: "VAR", help: "the variable holding known_hosts lines" }),
    "ssh-strict-host-key-checking": flag(z.enum(STRICT_MODES).default(DEFAULTS.strictHostKeyChecking), {
      arg: "MODE",
      help: "yes, accept-new or no",
    }),
  },
  conflicts: [
    ["ssh-identity", "ssh-identity-env"],
    ["ssh-known-hosts", "ssh-known-hosts-env"],
  ],
  requires: [
    ["ssh-host", "ssh-user"],
    ["loaded-checkpoint", "checkpoint"],
  ],
});

export const CliSchema = tableSchema(SMOKE_FLAGS);
export type CliFlags = z.infer<typeof CliSchema>;
export const USAGE = usageText(SMOKE_FLAGS);

export function parseCli(argv: string[]): CliFlags | "help" {
  const pw = argv.find((a) => /^--(ui-)?password(=|$)/.test(a));
  if (pw !== undefined)
    throw new SmokeError(
      "usage",
      `there is no ${pw.split("=")[0]} flag: a password is never a flag value; put it in an environment variable and pass ${pw.split("=")[0]}-env VAR`,
    );
  let parsed;
  try {
    parsed = parseTable(SMOKE_FLAGS, argv);
  } catch (e) {
    if (e instanceof CliUsageError) throw new SmokeError("usage", e.message);
    throw e;
  }
  if (parsed.help) return "help";
  const f = parsed.values;
  const declared = parseDeclared(f.checkpoint).map((d) => d.name);
  if (f["loaded-checkpoint"] !== undefined && !declared.includes(f["loaded-checkpoint"]))
    throw new SmokeError(
      "usage",
      `--loaded-checkpoint ${f["loaded-checkpoint"]} is not one of the --checkpoint names (${declared.join(", ")})`,
    );
  if (f["ssh-host"] === undefined) {
    if (!isAbsolute(f["outputs-dir"])) f["outputs-dir"] = resolve(f["outputs-dir"]);
    if (f["models-dir"] && !isAbsolute(f["models-dir"])) f["models-dir"] = resolve(f["models-dir"]);
  } else if (!f["outputs-dir"].startsWith("/"))
    throw new SmokeError("usage", "--outputs-dir must be an absolute path on the SSH host");
  return f;
}

/** Read a secret from the environment variable a flag names; a clear error when it is unset. */
export function secretFromEnv(flag: string, name: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env[name];
  // The name is not echoed: a password typed where the variable's name belongs would be printed.
  if (v === undefined || v === "")
    throw new SmokeError(
      "usage",
      `${flag}: the environment variable it names is not set or empty; export it with the password and pass its name`,
    );
  return v;
}
