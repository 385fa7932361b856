// The real Pulumi CLI (built by npm run toolchain) on a private copy of this project, or on a tiny program
// of a test's own: each gets its own project folder, PULUMI_HOME and file backend, and removes them (and
// its stacks) at the end. The provider plugins in that PULUMI_HOME are the stand-ins from test/plugins,
// installed with `pulumi plugin install --file`, or, with SDWEBUI_TEST_PLUGINS=real, the real plugins
// `pulumi plugin ls` shows in the user's own PULUMI_HOME.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import {
  REPO_ROOT,
  readManifest,
  STANDIN_NAMES,
  standinBinary,
  toolchainLayout,
} from "../../tools/toolchain/layout.js";
import type { Manifest, StandinName } from "../../tools/toolchain/layout.js";
import { requireOrSkip } from "./requirements.js";

export const PASSPHRASE = "engine-test-passphrase";

/** The switch that runs every engine suite against the real docker and command plugins instead of the stand-ins. */
export const PLUGINS_ENV = "SDWEBUI_TEST_PLUGINS";
export type PluginMode = "standins" | "real";

export function pluginMode(env: NodeJS.ProcessEnv = process.env): PluginMode {
  const v = env[PLUGINS_ENV];
  if (v === undefined || v === "" || v === "standins") return "standins";
  if (v === "real") return "real";
  throw new Error(`${PLUGINS_ENV}=${v}: use "real" (the plugins pulumi plugin ls shows) or "standins" (the default)`);
}

/** The toolchain's manifest when the CLI and language host are built; skips (fails under CI) otherwise. */
export function requireToolchain(t: TestContext): Manifest | undefined {
  const layout = toolchainLayout();
  const manifest = readManifest(layout);
  const ready =
    manifest?.pieces.pulumi?.binary &&
    manifest.pieces["pulumi-language-nodejs"]?.binary &&
    existsSync(join(layout.binDir, "pulumi"));
  if (!requireOrSkip(t, ready ? "" : `the Pulumi toolchain is not built in ${layout.root} (npm run toolchain)`))
    return undefined;
  if (!requireOrSkip(t, existsSync(join(REPO_ROOT, "dist/infra/index.js")) ? "" : "dist/ is not built (npm run build)"))
    return undefined;
  return manifest;
}

/** What keeps the docker and command plugins from being installed ("" when nothing does). */
export function pluginsMissing(env: NodeJS.ProcessEnv = process.env): string {
  const layout = toolchainLayout();
  if (pluginMode(env) === "real") {
    const missing = STANDIN_NAMES.filter((n) => !realPluginDir(n, env));
    return missing.length
      ? `${PLUGINS_ENV}=real but ${realPluginsHome(env)}/plugins has no ${missing.map((n) => `${n} ${layout.versions.plugins[n]}`).join(", ")} (pulumi plugin install resource NAME VERSION)`
      : "";
  }
  const missing = STANDIN_NAMES.filter((n) => !existsSync(standinBinary(layout, n)));
  return missing.length
    ? `the stand-in plugins ${missing.join(", ")} are not built in ${layout.standinsDir} (npm run toolchain)`
    : "";
}

/** The toolchain (CLI, language host, built program) and the docker and command plugins; skips (fails under CI) without them. */
export function requireEngine(t: TestContext): Manifest | undefined {
  const manifest = requireToolchain(t);
  if (!manifest) return undefined;
  return requireOrSkip(t, pluginsMissing()) ? manifest : undefined;
}

/** The PULUMI_HOME whose plugins the real-plugin mode uses: SDWEBUI_REAL_PULUMI_HOME, PULUMI_HOME, else ~/.pulumi. */
function realPluginsHome(env: NodeJS.ProcessEnv): string {
  return env.SDWEBUI_REAL_PULUMI_HOME || env.PULUMI_HOME || join(homedir(), ".pulumi");
}

function realPluginDir(name: StandinName, env: NodeJS.ProcessEnv): string | undefined {
  const dir = join(realPluginsHome(env), "plugins", `resource-${name}-v${toolchainLayout().versions.plugins[name]}`);
  return existsSync(dir) ? dir : undefined;
}

/** This process's own PULUMI_HOME holding the stand-ins, installed once by `pulumi plugin install --file`. */
let standinHome: string | undefined;

function installStandins(cli: string, env: NodeJS.ProcessEnv): string {
  if (standinHome) return standinHome;
  const layout = toolchainLayout();
  const home = mkdtempSync(join(tmpdir(), "sdwebui-standin-plugins-"));
  process.once("exit", () => rmSync(home, { recursive: true, force: true }));
  for (const name of STANDIN_NAMES) {
    const version = layout.versions.plugins[name];
    const binary = standinBinary(layout, name);
    if (!existsSync(binary)) continue;
    const r = spawnSync(cli, ["plugin", "install", "resource", name, version, "--file", binary], {
      env: { ...env, PULUMI_HOME: home, PULUMI_SKIP_UPDATE_CHECK: "true" },
      encoding: "utf8",
      timeout: 60_000,
    });
    if (r.status !== 0)
      throw new Error(
        `pulumi plugin install resource ${name} ${version} --file ${binary}: ${r.stderr || r.error?.message}`,
      );
  }
  return (standinHome = home);
}

/**
 * A PULUMI_HOME's plugins/: the Kubernetes plugin the toolchain built, and the docker and command plugins:
 * the stand-ins as `pulumi plugin install --file` installed them (once per test process, into a home of the
 * tests' own), or the real ones from the user's home. Hard-linked, so a test's home costs no copy.
 */
export function preparePluginHome(home: string, env: NodeJS.ProcessEnv = process.env): void {
  const layout = toolchainLayout();
  const plugins = join(home, "plugins");
  mkdirSync(plugins, { recursive: true });
  // The CLI does not follow a symlinked plugin entry: each entry is a real folder of hard links (a copy
  // where the two homes are on different file systems).
  const link = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      const r = spawnSync("cp", ["-al", join(dir, entry), join(plugins, entry)], { encoding: "utf8" });
      if (r.status !== 0) cpSync(join(dir, entry), join(plugins, entry), { recursive: true });
    }
  };
  link(join(layout.pluginHome, "plugins"));
  const cli = join(layout.binDir, "pulumi");
  if (!existsSync(cli)) return;
  if (pluginMode(env) === "standins") return link(join(installStandins(cli, env), "plugins"));
  for (const name of STANDIN_NAMES) {
    const dir = realPluginDir(name, env);
    if (!dir) continue;
    const entry = `resource-${name}-v${layout.versions.plugins[name]}`;
    const r = spawnSync("cp", ["-al", dir, join(plugins, entry)], { encoding: "utf8" });
    if (r.status !== 0) cpSync(dir, join(plugins, entry), { recursive: true });
    writeFileSync(join(plugins, `${entry}.lock`), "");
  }
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface EngineProject {
  dir: string;
  home: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  /** `pulumi <args>` in the project, synchronously. */
  pulumi(args: string[], input?: string): CliResult;
  /** The same, without blocking the event loop (for long runs and signals). */
  pulumiAsync(
    args: string[],
    extraEnv?: NodeJS.ProcessEnv,
  ): { child: ReturnType<typeof spawn>; done: Promise<CliResult> };
  cleanUp(): void;
}

/** A project folder with its own PULUMI_HOME (plugins prepared) and file backend, under a fresh temp root. */
function projectAt(root: string, dir: string, baseEnv: NodeJS.ProcessEnv): EngineProject {
  const layout = toolchainLayout();
  const home = join(root, "pulumi-home");
  mkdirSync(home, { recursive: true });
  preparePluginHome(home, baseEnv);
  const stateDir = join(dir, ".pulumi-state");
  mkdirSync(stateDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    PATH: `${layout.binDir}:${baseEnv.PATH ?? ""}`,
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
  };
  const run = (args: string[], input?: string): CliResult => {
    const r = spawnSync("pulumi", [...args, "--non-interactive"], {
      cwd: dir,
      env,
      input: input ?? "",
      encoding: "utf8",
      timeout: 10 * 60_000,
      maxBuffer: 256 * 2 ** 20,
    });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? r.error?.message ?? "" };
  };
  return {
    dir,
    home,
    stateDir,
    env,
    pulumi: run,
    pulumiAsync(args, extraEnv = {}) {
      const child = spawn("pulumi", [...args, "--non-interactive"], {
        cwd: dir,
        env: { ...env, ...extraEnv },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const done = new Promise<CliResult>((res) => child.on("close", (status) => res({ status, stdout, stderr })));
      return { child, done };
    },
    cleanUp() {
      const stacks = run(["stack", "ls", "--json"]);
      try {
        for (const s of JSON.parse(stacks.stdout || "[]") as { name: string }[])
          run(["stack", "rm", "--force", "--yes", "--stack", s.name]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A copy of the project as a user has it after `npm ci` (Pulumi.yaml, package.json, the built program, node_modules
 * linked), with `extraFiles` written into it. The backend is the copy's own .pulumi-state, which is what
 * Pulumi.yaml declares; PULUMI_BACKEND_URL says the same so nothing can reach another state. `source` is
 * another checkout of the project (built), e.g. an earlier commit's.
 */
export function engineProject(
  name: string,
  extraFiles: Record<string, string> = {},
  baseEnv: NodeJS.ProcessEnv = process.env,
  source = REPO_ROOT,
): EngineProject {
  const root = mkdtempSync(join(tmpdir(), `sdwebui-engine-${name}-`));
  const dir = join(root, "project");
  mkdirSync(dir);
  for (const f of ["Pulumi.yaml", "package.json"]) cpSync(join(source, f), join(dir, f));
  // What Pulumi.yaml runs, the smoke step it starts and what both import (not the compiled tests); a checkout
  // of an older commit has no dist/lib.
  for (const d of ["dist/infra", "dist/smoke", "dist/lib"])
    if (existsSync(join(source, d))) cpSync(join(source, d), join(dir, d), { recursive: true });
  symlinkSync(join(source, "node_modules"), join(dir, "node_modules"));
  for (const [f, text] of Object.entries(extraFiles)) writeFileSync(join(dir, f), text);
  return projectAt(root, dir, baseEnv);
}

/**
 * A tiny Node.js program of a test's own (JavaScript, no build step) with this repository's node_modules:
 * the SDKs at the versions the program uses. `main` is where Pulumi.yaml points (the engine starts the
 * plugins in its folder).
 */
export function tinyProgram(
  name: string,
  source: string,
  opts: { main?: string; files?: Record<string, string>; baseEnv?: NodeJS.ProcessEnv } = {},
): EngineProject {
  const main = opts.main ?? "index.js";
  const root = mkdtempSync(join(tmpdir(), `sdwebui-tiny-${name}-`));
  const dir = join(root, "project");
  mkdirSync(join(dir, dirname(main)), { recursive: true });
  writeFileSync(
    join(dir, "Pulumi.yaml"),
    `name: ${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: ${main}\n`,
  );
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name, private: true, main })}\n`);
  writeFileSync(join(dir, main), source);
  for (const [f, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  return projectAt(root, dir, opts.baseEnv ?? process.env);
}

/** Every file under `dir` that contains `needle` (state, history, backups, logs). */
export function filesContaining(dir: string, needle: string): string[] {
  const r = spawnSync("grep", ["-rlF", "--", needle, dir], { encoding: "utf8" });
  return r.stdout.split("\n").filter(Boolean);
}
