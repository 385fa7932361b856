// Extra WebUI flags from the user. The program owns the flags that decide exposure and layout, so those
// are refused here; flags that widen what is reachable or what runs need an explicit opt-in; flags (and
// token lists) with which the WebUI exits at start-up, or starts unable to make an image, are refused.
import { z } from "zod";
import { readArgv } from "../webui/argv.js";
import { CPU_MODE_FLAGS, resolveFlag } from "../webui/flag-table.js";

/** Flags the program sets itself (a user value would silently fight the program's). */
export const OWNED_FLAGS = [
  "--api",
  "--api-auth",
  "--listen",
  "--port",
  "--server-name",
  "--nowebui",
  "--gradio-auth",
  "--gradio-auth-path",
  "--data-dir",
  "--models-dir",
  "--subpath",
] as const;
/** Flags set by `gpus: none` (the tokens' flag names; the values, e.g. `all`, are left out). */
const CPU_FLAGS: readonly string[] = CPU_MODE_FLAGS.filter((t) => t.startsWith("--"));
/** Flags that would undo the checkpoints setting: another first model, or no hashes for the smoke to check. */
const CHECKPOINT_FLAGS = ["--ckpt", "--no-hashing"] as const;

/** Flags that widen what is reachable or what runs: allowed only with allowInsecureFlags, each for this reason. */
export const INSECURE_FLAGS: Readonly<Record<string, string>> = {
  "--share": "opens the server to the internet through a public gradio.live tunnel, around the firewall",
  "--ngrok": "opens the server to the internet through an ngrok tunnel, around the firewall",
  "--ngrok-options": "configures that ngrok tunnel (the internet, around the firewall)",
  "--enable-insecure-extension-access":
    "opens the Extensions tab to UI users: installing an extension runs its code in the container",
  "--allow-code": "lets UI and API users run their own Python code in the container (the Custom code script)",
  "--disable-safe-unpickle": "turns off the check that keeps a .ckpt or .pt file from running code when it is loaded",
  "--gradio-allowed-path": "lets /file= serve that folder to every UI user (with / the container's whole filesystem)",
  "--cors-allow-origins": "lets pages of those web origins make requests with an operator's browser credentials",
  "--cors-allow-origins-regex":
    "lets pages of every origin the pattern matches (.+ is any web page) make requests with an operator's browser credentials",
  "--api-server-stop":
    "adds /sdapi/v1/server-kill, server-restart and server-stop: every API client can stop the WebUI",
  "--add-stop-route": "adds an unauthenticated POST /_stop in WebUI images before 1.6 (in 1.10 it does nothing)",
  "--administrator": "lets extensions such as the image browser open any folder of the container",
  "--update-all-extensions": "pulls and runs the newest code of every installed extension at each start, unpinned",
};

/** Flags with which the WebUI exits at start-up, or starts unable to make an image: refused, each for this reason. */
export const STOPPING_FLAGS: Readonly<Record<string, string>> = {
  "--dump-sysinfo": "writes a system-info file and exits instead of starting the WebUI",
  "--test-server":
    "sets the WebUI up for its own test suite: it loads an empty test checkpoint instead of a model, so no image can be made",
  "--ui-debug-mode": "starts the WebUI without loading any model: no image can be made",
};
/** launch.py exits after preparing the environment when this exact token is on its command line. */
const EXIT_TOKEN = "--exit";
/** The WebUI's own TLS: not supported (the tls setting's proxy is), each for this reason. */
const NO_TLS = "is not supported: set tls (internal, acme or files) and the program puts an HTTPS proxy in front";
const TLS_FILE = `${NO_TLS}; with --nowebui the WebUI ignores it, and with the UI the health check and the smoke speak plain HTTP, so the WebUI never counts as started`;
export const TLS_FLAGS: Readonly<Record<string, string>> = {
  "--tls-keyfile": TLS_FILE,
  "--tls-certfile": TLS_FILE,
  "--disable-tls-verify": `only concerns the WebUI's own TLS (--tls-keyfile), which ${NO_TLS}`,
};

/** Flags whose value is a credential: an error message shows them as `--flag=[secret]`. */
const CREDENTIAL_FLAGS = ["--api-auth", "--gradio-auth", "--ngrok", "--ngrok-options"] as const;

/** Linux's limit on one argument or environment string (MAX_ARG_STRLEN, its terminating NUL included). */
const MAX_ARG_BYTES = 128 * 1024;
/** What the program's own flags may take of one such string (credentials, paths, names): extraArgs get the rest. */
const OWN_FLAGS_BYTES = 4 * 1024;
const MAX_EXTRA_ARGS_BYTES = MAX_ARG_BYTES - OWN_FLAGS_BYTES;

/** The tokens with every credential flag's value replaced by [secret] (`--flag=v` and `--flag v`). */
export function redactCredentialArgs(tokens: readonly string[]): string[] {
  const isCredential = (t: string | undefined) => {
    if (t === undefined || !t.startsWith("--")) return false;
    const r = resolveFlag(t);
    return "flag" in r && (CREDENTIAL_FLAGS as readonly string[]).includes(r.flag);
  };
  return tokens.map((t, i) => {
    if (isCredential(t) && t.includes("=")) return `${flagName(t)}=[secret]`;
    return isCredential(tokens[i - 1]) && !t.startsWith("--") ? "[secret]" : t;
  });
}

/** One token: a flag (`--name` or `--name=value`) or a value; no characters a shell would act on. */
export const extraArg = z
  .string()
  .regex(
    /^[A-Za-z0-9_.,:=/+@%-]+$/,
    "must be a flag such as --medvram or a plain value, without spaces, quotes or shell characters",
  );

function flagName(token: string): string | undefined {
  return token.startsWith("--") ? token.split("=")[0] : undefined;
}

/** The settings extraArgs depend on. */
export interface ExtraArgContext {
  allowInsecureFlags: boolean;
  /** Set when some container runs in CPU mode (the program passes the CPU flags): the setting that says so. */
  cpuModeBy?: string;
  checkpointsDeclared?: boolean;
  /** The GPUs a container sees (the fewest, when they differ), and the setting that says so; unknown for gpus: all. */
  gpus?: { perContainer: number; by: string };
}

/** --device-id picks a CUDA device by index among those the container sees (0 .. n-1). */
function deviceIdProblem(spelled: string, value: string | undefined, ctx: ExtraArgContext): string {
  if (value === undefined) return "";
  if (!/^\d+$/.test(value))
    return `${spelled} ${value} is not a CUDA device index (0, 1, …): the WebUI fails on cuda:${value} when it loads a model; remove it`;
  if (ctx.cpuModeBy)
    return `${spelled} ${value} selects a GPU, but ${ctx.cpuModeBy} runs the WebUI without one; remove it`;
  if (ctx.gpus && Number(value) >= ctx.gpus.perContainer)
    return `${spelled} ${value} selects GPU ${value}, but each container sees ${ctx.gpus.perContainer} GPU${ctx.gpus.perContainer === 1 ? "" : "s"} (${ctx.gpus.by}), numbered from 0: the WebUI fails when it loads a model; use ${ctx.gpus.perContainer === 1 ? "0" : `0 to ${ctx.gpus.perContainer - 1}`}, or remove it`;
  return "";
}

/** Problems with the extra flags, given the other settings they depend on. */
export function extraArgProblems(args: readonly string[], ctx: ExtraArgContext): string[] {
  const read = readArgv(args);
  const problems: string[] = [];
  for (const use of read.uses) {
    const name = use.flag;
    if (name === undefined) continue;
    // The rules apply to the flag the WebUI will take the token for, abbreviations included.
    const spelled = name === use.given ? name : `${use.given} (an abbreviation the WebUI reads as ${name})`;
    if ((OWNED_FLAGS as readonly string[]).includes(name))
      problems.push(
        `${spelled} is set by the program; remove it from extraArgs (use the hostPort, exposure, apiUsername/apiPassword or profile settings instead)`,
      );
    else if (ctx.checkpointsDeclared && (CHECKPOINT_FLAGS as readonly string[]).includes(name))
      problems.push(
        `${spelled} conflicts with the checkpoints setting (the program passes --ckpt for the loadFirst entry, and the smoke checks the hashes the WebUI reports); remove it from extraArgs`,
      );
    else if (ctx.cpuModeBy && CPU_FLAGS.includes(name))
      problems.push(`${spelled} is already set by ${ctx.cpuModeBy}; remove it from extraArgs`);
    else if (name in STOPPING_FLAGS) problems.push(`${spelled} ${STOPPING_FLAGS[name]}; remove it from extraArgs`);
    else if (name in TLS_FLAGS) problems.push(`${spelled} ${TLS_FLAGS[name]}; remove it from extraArgs`);
    else if (!ctx.allowInsecureFlags && name in INSECURE_FLAGS)
      problems.push(
        `${spelled} ${INSECURE_FLAGS[name]}; remove it, or set allowInsecureFlags: true if you accept that`,
      );
    else if (name === "--device-id") {
      const p = deviceIdProblem(spelled, use.value, ctx);
      if (p) problems.push(p);
    }
  }
  problems.push(...read.exits);
  if (args.includes(EXIT_TOKEN))
    problems.push(
      `${EXIT_TOKEN} makes launch.py exit after preparing the environment, instead of starting the WebUI; remove it from extraArgs`,
    );
  const bytes = Buffer.byteLength(args.join(" "));
  if (bytes > MAX_EXTRA_ARGS_BYTES)
    problems.push(
      `are ${bytes} bytes together: Linux refuses to start a process with one argument or variable over ${MAX_ARG_BYTES / 1024} KiB, and images that take their flags in one variable hold all of them in it; keep extraArgs to at most ${MAX_EXTRA_ARGS_BYTES} bytes (the program's own flags need the rest)`,
    );
  return problems;
}

/** README "Security model": every WebUI flag extraArgs refuses or gates, and why (npm run docs:tables). */
export function flagRulesTable(): string {
  const row = (flag: string | readonly string[], rule: string, why: string) =>
    `| ${[flag]
      .flat()
      .map((f) => `\`${f}\``)
      .join(", ")} | ${rule} | ${why.replaceAll("|", "\\|")} |`;
  return [
    "| flag | in extraArgs | why |",
    "|---|---|---|",
    row(OWNED_FLAGS, "refused", "set by the program (hostPort, exposure, the credentials, the profile)"),
    ...Object.entries(INSECURE_FLAGS).map(([f, why]) => row(f, "only with `allowInsecureFlags: true`", why)),
    ...Object.entries(STOPPING_FLAGS).map(([f, why]) => row(f, "refused", why)),
    row(EXIT_TOKEN, "refused", "makes launch.py exit after preparing the environment"),
    ...Object.entries(TLS_FLAGS).map(([f, why]) => row(f, "refused", why)),
    row(
      CHECKPOINT_FLAGS,
      "refused with `checkpoints`",
      "the program passes --ckpt for the loadFirst entry; the smoke checks the hashes the WebUI reports",
    ),
    row(CPU_FLAGS, "refused in CPU mode", "already set by gpus: none, gpusPerPod: 0 or a hosts entry with #cpu:<n>"),
    row(
      "--device-id",
      "refused beyond the container's GPUs",
      "CUDA numbers the GPUs a container sees from 0; another index fails when the model loads",
    ),
  ].join("\n");
}
