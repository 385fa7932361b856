// The WebUI's command-line flags, AUTOMATIC1111 v1.10.1: modules/cmd_args.py plus the flags its built-in
// extensions add (extensions-builtin/*/preload.py, parsed by the same parser), each with what it takes.
// Its argparse parser resolves a `--name` token so: an exact name wins, else a unique prefix is taken as
// that flag (`--shar` is `--share`), and a prefix of several is an error that stops the WebUI. Other
// extensions may add flags of their own, so a token matching none of these is not known to be wrong.

/** What a flag takes: nothing, one string, one int, one JSON text, one or more values, or one of `choices`. */
export type FlagKind = "bool" | "str" | "int" | "json" | "list" | "choice" | "help";
export interface FlagSpec {
  kind: FlagKind;
  choices?: readonly string[];
}

const bool = (...names: string[]) => names.map((n) => [n, { kind: "bool" }] as const);
const str = (...names: string[]) => names.map((n) => [n, { kind: "str" }] as const);
const int = (...names: string[]) => names.map((n) => [n, { kind: "int" }] as const);

export const WEBUI_FLAGS: Readonly<Record<string, FlagSpec>> = Object.fromEntries([
  // argparse's own help, and -f (webui.sh's "allow root", a no-op for the parser)
  ["-h", { kind: "help" }],
  ["--help", { kind: "help" }],
  ...bool("-f"),
  // launch.py
  ...bool(
    "--update-all-extensions",
    "--skip-python-version-check",
    "--skip-torch-cuda-test",
    "--reinstall-xformers",
    "--reinstall-torch",
    "--update-check",
    "--test-server",
    "--log-startup",
    "--skip-prepare-environment",
    "--skip-install",
    "--dump-sysinfo",
  ),
  ...str("--loglevel"),
  ...bool("--do-not-download-clip"),
  // paths and models
  ...str(
    "--data-dir",
    "--models-dir",
    "--config",
    "--ckpt",
    "--ckpt-dir",
    "--vae-dir",
    "--gfpgan-dir",
    "--gfpgan-model",
  ),
  ...bool("--no-half", "--no-half-vae", "--no-progressbar-hiding"),
  ...int("--max-batch-count"),
  ...str("--embeddings-dir", "--textual-inversion-templates-dir", "--hypernetwork-dir", "--localizations-dir"),
  ...bool(
    "--allow-code",
    "--medvram",
    "--medvram-sdxl",
    "--lowvram",
    "--lowram",
    "--always-batch-cond-uncond",
    "--unload-gfpgan",
  ),
  ["--precision", { kind: "choice", choices: ["full", "half", "autocast"] }],
  ...bool("--upcast-sampling", "--share"),
  ...str("--ngrok", "--ngrok-region"),
  ["--ngrok-options", { kind: "json" }],
  ...bool("--enable-insecure-extension-access"),
  ...str(
    "--codeformer-models-path",
    "--gfpgan-models-path",
    "--esrgan-models-path",
    "--bsrgan-models-path",
    "--realesrgan-models-path",
    "--dat-models-path",
    "--clip-models-path",
  ),
  // attention and memory
  ...bool(
    "--xformers",
    "--force-enable-xformers",
    "--xformers-flash-attention",
    "--deepdanbooru",
    "--opt-split-attention",
    "--opt-sub-quad-attention",
  ),
  ...int("--sub-quad-q-chunk-size", "--sub-quad-kv-chunk-size", "--sub-quad-chunk-threshold"),
  ...bool(
    "--opt-split-attention-invokeai",
    "--opt-split-attention-v1",
    "--opt-sdp-attention",
    "--opt-sdp-no-mem-attention",
    "--disable-opt-split-attention",
    "--disable-nan-check",
  ),
  ["--use-cpu", { kind: "list" }],
  ...bool("--use-ipex", "--disable-model-loading-ram-optimization"),
  // server and UI
  ...bool("--listen"),
  ...int("--port"),
  ...bool("--show-negative-prompt"),
  ...str("--ui-config-file"),
  ...bool("--hide-ui-dir-config", "--freeze-settings"),
  ...str("--freeze-settings-in-sections", "--freeze-specific-settings", "--ui-settings-file"),
  ...bool("--gradio-debug"),
  ...str(
    "--gradio-auth",
    "--gradio-auth-path",
    "--gradio-img2img-tool",
    "--gradio-inpaint-tool",
    "--gradio-allowed-path",
  ),
  ...bool("--opt-channelslast"),
  ...str("--styles-file"),
  ...bool("--autolaunch"),
  ...str("--theme"),
  ...bool("--use-textbox-seed", "--disable-console-progressbars", "--enable-console-prompts"),
  ...str("--vae-path"),
  ...bool("--disable-safe-unpickle", "--api"),
  ...str("--api-auth"),
  ...bool("--api-log", "--nowebui", "--ui-debug-mode"),
  ...str("--device-id"),
  ...bool("--administrator"),
  ...str("--cors-allow-origins", "--cors-allow-origins-regex", "--tls-keyfile", "--tls-certfile"),
  ...bool("--disable-tls-verify"),
  ...str("--server-name"),
  ...bool("--gradio-queue", "--no-gradio-queue", "--skip-version-check", "--no-hashing", "--no-download-sd-model"),
  ...str("--subpath"),
  ...bool("--add-stop-route", "--api-server-stop"),
  ...int("--timeout-keep-alive"),
  ...bool(
    "--disable-all-extensions",
    "--disable-extra-extensions",
    "--skip-load-model-at-start",
    "--unix-filenames-sanitization",
  ),
  ...int("--filenames-max-length"),
  ...bool("--no-prompt-history"),
  // built-in extensions: LDSR, Lora, ScuNET, SwinIR
  ...str("--ldsr-models-path", "--lora-dir", "--lyco-dir-backcompat", "--scunet-models-path", "--swinir-models-path"),
]);

/** The flags of the built-in extensions (a separate list: the stand-in models cmd_args.py alone). */
export const BUILTIN_EXTENSION_FLAGS = [
  "--ldsr-models-path",
  "--lora-dir",
  "--lyco-dir-backcompat",
  "--scunet-models-path",
  "--swinir-models-path",
] as const;

const LONG_FLAGS = Object.keys(WEBUI_FLAGS).filter((f) => f.startsWith("--"));

export type FlagResolution = { flag: string } | { ambiguous: string[] } | { unknown: true };

/** The flag a `--name` or `--name=value` token stands for, as the WebUI's parser decides it. */
export function resolveFlag(token: string): FlagResolution {
  const name = token.split("=")[0]!;
  if (LONG_FLAGS.includes(name)) return { flag: name };
  const candidates = LONG_FLAGS.filter((f) => f.startsWith(name));
  if (candidates.length === 1) return { flag: candidates[0]! };
  if (candidates.length > 1) return { ambiguous: candidates };
  return { unknown: true };
}

/** The WebUI's CPU mode, as its own docs give it (gpus: none). */
export const CPU_MODE_FLAGS = ["--use-cpu", "all", "--skip-torch-cuda-test", "--no-half"] as const;
