// Command-line flags as the WebUI's argparse parser takes them (modules/cmd_args.py, v1.10.1):
// argv plus shlex-split COMMANDLINE_ARGS, `--flag=value`, unique-prefix abbreviations, and the same
// usage/error text and exit status 2 for anything it does not know.

type Kind = "bool" | "str" | "int" | "list" | "append";
interface Spec {
  flag: string;
  kind: Kind;
  def?: unknown;
  choices?: string[];
  lower?: boolean;
}

const B = (flag: string): Spec => ({ flag, kind: "bool", def: false });
const S = (flag: string, def: unknown = null): Spec => ({ flag, kind: "str", def });
const I = (flag: string, def: number | null = null): Spec => ({ flag, kind: "int", def });

// Order as in cmd_args.py (it shapes the usage text). Defaults that depend on paths are filled in parse().
export const SPECS: Spec[] = [
  B("-f"),
  B("--update-all-extensions"),
  B("--skip-python-version-check"),
  B("--skip-torch-cuda-test"),
  B("--reinstall-xformers"),
  B("--reinstall-torch"),
  B("--update-check"),
  B("--test-server"),
  B("--log-startup"),
  B("--skip-prepare-environment"),
  B("--skip-install"),
  B("--dump-sysinfo"),
  S("--loglevel"),
  B("--do-not-download-clip"),
  S("--data-dir"),
  S("--models-dir"),
  S("--config"),
  S("--ckpt"),
  S("--ckpt-dir"),
  S("--vae-dir"),
  S("--gfpgan-dir"),
  S("--gfpgan-model"),
  B("--no-half"),
  B("--no-half-vae"),
  B("--no-progressbar-hiding"),
  I("--max-batch-count", 16),
  S("--embeddings-dir"),
  S("--textual-inversion-templates-dir"),
  S("--hypernetwork-dir"),
  S("--localizations-dir"),
  B("--allow-code"),
  B("--medvram"),
  B("--medvram-sdxl"),
  B("--lowvram"),
  B("--lowram"),
  B("--always-batch-cond-uncond"),
  B("--unload-gfpgan"),
  { flag: "--precision", kind: "str", def: "autocast", choices: ["full", "half", "autocast"] },
  B("--upcast-sampling"),
  B("--share"),
  S("--ngrok"),
  S("--ngrok-region", ""),
  S("--ngrok-options"),
  B("--enable-insecure-extension-access"),
  S("--codeformer-models-path"),
  S("--gfpgan-models-path"),
  S("--esrgan-models-path"),
  S("--bsrgan-models-path"),
  S("--realesrgan-models-path"),
  S("--dat-models-path"),
  S("--clip-models-path"),
  B("--xformers"),
  B("--force-enable-xformers"),
  B("--xformers-flash-attention"),
  B("--deepdanbooru"),
  B("--opt-split-attention"),
  B("--opt-sub-quad-attention"),
  I("--sub-quad-q-chunk-size", 1024),
  I("--sub-quad-kv-chunk-size"),
  I("--sub-quad-chunk-threshold"),
  B("--opt-split-attention-invokeai"),
  B("--opt-split-attention-v1"),
  B("--opt-sdp-attention"),
  B("--opt-sdp-no-mem-attention"),
  B("--disable-opt-split-attention"),
  B("--disable-nan-check"),
  { flag: "--use-cpu", kind: "list", def: [], lower: true },
  B("--use-ipex"),
  B("--disable-model-loading-ram-optimization"),
  B("--listen"),
  I("--port"),
  B("--show-negative-prompt"),
  S("--ui-config-file"),
  B("--hide-ui-dir-config"),
  B("--freeze-settings"),
  S("--freeze-settings-in-sections"),
  S("--freeze-specific-settings"),
  S("--ui-settings-file"),
  B("--gradio-debug"),
  S("--gradio-auth"),
  S("--gradio-auth-path"),
  S("--gradio-img2img-tool"),
  S("--gradio-inpaint-tool"),
  { flag: "--gradio-allowed-path", kind: "append", def: [] },
  B("--opt-channelslast"),
  { flag: "--styles-file", kind: "append", def: [] },
  B("--autolaunch"),
  S("--theme"),
  B("--use-textbox-seed"),
  B("--disable-console-progressbars"),
  B("--enable-console-prompts"),
  S("--vae-path"),
  B("--disable-safe-unpickle"),
  B("--api"),
  S("--api-auth"),
  B("--api-log"),
  B("--nowebui"),
  B("--ui-debug-mode"),
  S("--device-id"),
  B("--administrator"),
  S("--cors-allow-origins"),
  S("--cors-allow-origins-regex"),
  S("--tls-keyfile"),
  S("--tls-certfile"),
  B("--disable-tls-verify"),
  S("--server-name"),
  { flag: "--gradio-queue", kind: "bool", def: true },
  B("--no-gradio-queue"),
  B("--skip-version-check"),
  B("--no-hashing"),
  B("--no-download-sd-model"),
  S("--subpath"),
  B("--add-stop-route"),
  B("--api-server-stop"),
  I("--timeout-keep-alive", 30),
  B("--disable-all-extensions"),
  B("--disable-extra-extensions"),
  B("--skip-load-model-at-start"),
  B("--unix-filenames-sanitization"),
  I("--filenames-max-length", 128),
  B("--no-prompt-history"),
];

export const PROG = "launch.py";

export type CmdOpts = Record<string, unknown> & {
  api: boolean;
  api_auth: string | null;
  listen: boolean;
  port: number | null;
  data_dir: string;
  models_dir: string | null;
  nowebui: boolean;
  ckpt_dir: string | null;
  ckpt: string;
  gradio_auth: string | null;
  gradio_auth_path: string | null;
  gradio_allowed_path: string[];
  server_name: string | null;
  hide_ui_dir_config: boolean;
  freeze_settings: boolean;
  ui_settings_file: string;
  api_log: boolean;
  no_hashing: boolean;
};

/** argparse's exit: usage plus `prog: error: msg` on stderr, status 2. */
export class ArgError extends Error {
  constructor(message: string) {
    super(message);
  }
  text(): string {
    return `${usage()}\n${PROG}: error: ${this.message}\n`;
  }
}

const dest = (flag: string): string => flag.replace(/^-+/, "").replace(/-/g, "_");

function usageItem(s: Spec): string {
  const meta = s.choices ? `{${s.choices.join(",")}}` : dest(s.flag).toUpperCase();
  if (s.kind === "bool") return `[${s.flag}]`;
  if (s.kind === "list") return `[${s.flag} ${meta} [${meta} ...]]`;
  return `[${s.flag} ${meta}]`;
}

/** The usage block, wrapped as argparse does (continuation lines indented under the first item). */
export function usage(): string {
  const head = `usage: ${PROG} `;
  const lines: string[] = [];
  let line = head;
  for (const item of ["[-h]", ...SPECS.map(usageItem)]) {
    if (line.length + item.length + 1 > 80 && line.trim() !== head.trim()) {
      lines.push(line.trimEnd());
      line = " ".repeat(head.length);
    }
    line += item + " ";
  }
  lines.push(line.trimEnd());
  return lines.join("\n");
}

/** Python's shlex.split (POSIX mode): quotes, backslash escapes, whitespace. Throws like shlex. */
export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let has = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      if (has) {
        out.push(cur);
        cur = "";
        has = false;
      }
      i++;
      continue;
    }
    has = true;
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      if (j < 0) throw new Error("No closing quotation");
      cur += s.slice(i + 1, j);
      i = j + 1;
      continue;
    }
    if (c === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new Error("No closing quotation");
        const d = s[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === "\\" && i + 1 < s.length && '\\"$`\n'.includes(s[i + 1]!)) {
          cur += s[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      continue;
    }
    if (c === "\\") {
      if (i + 1 >= s.length) throw new Error("No escaped character");
      cur += s[i + 1];
      i += 2;
      continue;
    }
    cur += c;
    i++;
  }
  if (has) out.push(cur);
  return out;
}

function match(opt: string): Spec | "help" {
  if (opt === "-h" || opt === "--help") return "help";
  const exact = SPECS.find((s) => s.flag === opt);
  if (exact) return exact;
  if (!opt.startsWith("--")) throw new Error("unknown");
  const cands = SPECS.filter((s) => s.flag.startsWith(opt));
  if (cands.length === 1) return cands[0]!;
  if (cands.length > 1) {
    throw new ArgError(`ambiguous option: ${opt} could match ${cands.map((c) => c.flag).join(", ")}`);
  }
  throw new Error("unknown");
}

/** Parse argv (already including COMMANDLINE_ARGS). Throws ArgError; returns null for --help. */
export function parseArgs(argv: string[], installDir: string): CmdOpts | null {
  const o: Record<string, unknown> = {};
  for (const s of SPECS) o[dest(s.flag)] = Array.isArray(s.def) ? [...s.def] : s.def;
  const unknown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-" || arg === "--") {
      unknown.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    let spec: Spec | "help";
    try {
      spec = match(name);
    } catch (e) {
      if (e instanceof ArgError) throw e;
      unknown.push(arg);
      continue;
    }
    if (spec === "help") return null;
    const d = dest(spec.flag);
    if (spec.kind === "bool") {
      if (eq > 0) throw new ArgError(`argument ${spec.flag}: ignored explicit argument '${arg.slice(eq + 1)}'`);
      o[d] = spec.flag === "--disable-tls-verify" ? false : true;
      continue;
    }
    const values: string[] = [];
    if (eq > 0) values.push(arg.slice(eq + 1));
    else if (spec.kind === "list") {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith("-")) values.push(argv[++i]!);
    } else if (i + 1 < argv.length && !/^-[^\d]/.test(argv[i + 1]!)) values.push(argv[++i]!);
    if (values.length === 0) {
      const need = spec.kind === "list" ? "expected at least one argument" : "expected one argument";
      throw new ArgError(`argument ${spec.flag}: ${need}`);
    }
    const v = values[0]!;
    if (spec.kind === "int") {
      if (!/^\s*[-+]?\d+\s*$/.test(v)) throw new ArgError(`argument ${spec.flag}: invalid int value: '${v}'`);
      o[d] = parseInt(v, 10);
    } else if (spec.kind === "list") o[d] = values.map((x) => (spec.lower ? x.toLowerCase() : x));
    else if (spec.kind === "append") (o[d] as string[]).push(v);
    else {
      if (spec.choices && !spec.choices.includes(v)) {
        throw new ArgError(
          `argument ${spec.flag}: invalid choice: '${v}' (choose from ${spec.choices.map((c) => `'${c}'`).join(", ")})`,
        );
      }
      o[d] = v;
    }
  }
  if (unknown.length) throw new ArgError(`unrecognized arguments: ${unknown.join(" ")}`);
  const data = (o.data_dir as string | null) ?? installDir;
  o.data_dir = data;
  o.ckpt ??= `${installDir}/model.ckpt`;
  o.ui_settings_file ??= `${data}/config.json`;
  o.ui_config_file ??= `${data}/ui-config.json`;
  o.embeddings_dir ??= `${data}/embeddings`;
  if ((o.styles_file as string[]).length === 0) o.styles_file = [`${data}/styles.csv`];
  o.gradio_allowed_path = [data, ...(o.gradio_allowed_path as string[])];
  return o as CmdOpts;
}

/** Full argv as the WebUI sees it: command line, then COMMANDLINE_ARGS shlex-split and appended. */
export function effectiveArgv(argv: string[], env: NodeJS.ProcessEnv): string[] {
  const extra = env.COMMANDLINE_ARGS ? shlexSplit(env.COMMANDLINE_ARGS) : [];
  return [...argv, ...extra];
}
