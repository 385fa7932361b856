// The WebUI's long flags (modules/cmd_args.py of AUTOMATIC1111 v1.10.1) and how its argparse parser
// resolves a token to one of them: an exact name wins, else a unique prefix is taken as that flag
// (`--shar` is `--share`), and a prefix of several is an error that stops the WebUI. Extensions may add
// flags of their own, so a token matching none of these is not known to be wrong.
export const WEBUI_FLAGS = [
  "--update-all-extensions", "--skip-python-version-check", "--skip-torch-cuda-test", "--reinstall-xformers",
  "--reinstall-torch", "--update-check", "--tests", "--no-tests", "--skip-install", "--dump-sysinfo", "--loglevel",
  "--do-not-download-clip", "--data-dir", "--models-dir", "--config", "--ckpt", "--ckpt-dir", "--vae-dir",
  "--gfpgan-dir", "--gfpgan-model", "--no-half", "--no-half-vae", "--no-progressbar-hiding", "--max-batch-count",
  "--embeddings-dir", "--textual-inversion-templates-dir", "--hypernetwork-dir", "--localizations-dir",
  "--allow-code", "--medvram", "--medvram-sdxl", "--lowvram", "--lowram", "--always-batch-cond-uncond",
  "--unload-gfpgan", "--precision", "--upcast-sampling", "--share", "--ngrok", "--ngrok-region", "--ngrok-options",
  "--enable-insecure-extension-access", "--codeformer-models-path", "--gfpgan-models-path", "--esrgan-models-path",
  "--bsrgan-models-path", "--realesrgan-models-path", "--dat-models-path", "--clip-models-path", "--xformers",
  "--force-enable-xformers", "--xformers-flash-attention", "--deepdanbooru", "--opt-split-attention",
  "--opt-sub-quad-attention", "--sub-quad-q-chunk-size", "--sub-quad-kv-chunk-size", "--sub-quad-chunk-threshold",
  "--opt-split-attention-invokeai", "--opt-split-attention-v1", "--opt-sdp-attention", "--opt-sdp-no-mem-attention",
  "--disable-opt-split-attention", "--disable-nan-check", "--use-cpu", "--use-ipex",
  "--disable-model-loading-ram-optimization", "--listen", "--port", "--show-negative-prompt", "--ui-config-file",
  "--hide-ui-dir-config", "--freeze-settings", "--ui-settings-file", "--gradio-debug", "--gradio-auth",
  "--gradio-auth-path", "--gradio-img2img-tool", "--gradio-inpaint-tool", "--gradio-allowed-path",
  "--opt-channelslast", "--styles-file", "--autolaunch", "--theme", "--use-textbox-seed",
  "--disable-console-progressbars", "--enable-console-prompts", "--vae-path", "--disable-safe-unpickle", "--api",
  "--api-auth", "--api-log", "--nowebui", "--ui-debug-mode", "--device-id", "--administrator",
  "--cors-allow-origins", "--cors-allow-origins-regex", "--tls-keyfile", "--tls-certfile", "--disable-tls-verify",
  "--server-name", "--gradio-queue", "--no-gradio-queue", "--skip-version-check", "--no-hashing",
  "--no-download-sd-model", "--subpath", "--add-stop-route", "--api-server-stop", "--timeout-keep-alive",
  "--disable-all-extensions", "--disable-extra-extensions", "--skip-load-model-at-start",
  "--unix-filenames-sanitization", "--filenames-max-length", "--no-prompt-history",
] as const;

export type FlagResolution = { flag: string } | { ambiguous: string[] } | { unknown: true };

/** The flag a `--name` or `--name=value` token stands for, as the WebUI's parser decides it. */
export function resolveFlag(token: string): FlagResolution {
  const name = token.split("=")[0]!;
  if ((WEBUI_FLAGS as readonly string[]).includes(name)) return { flag: name };
  const candidates = WEBUI_FLAGS.filter((f) => f.startsWith(name));
  if (candidates.length === 1) return { flag: candidates[0]! };
  if (candidates.length > 1) return { ambiguous: candidates };
  return { unknown: true };
}
