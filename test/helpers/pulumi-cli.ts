// The real Pulumi CLI (built by npm run toolchain) on a private copy of this project: each test gets its
// own project folder, PULUMI_HOME and file backend, and removes them (and its stacks) at the end.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { REPO_ROOT, readManifest, toolchainLayout } from "../../toolchain/layout.js";
import type { Manifest } from "../../toolchain/layout.js";
import { requireOrSkip } from "./requirements.js";

export const PASSPHRASE = "engine-test-passphrase";

/** The toolchain's manifest when the CLI and language host are built; skips (fails under CI) otherwise. */
export function requireToolchain(t: TestContext): Manifest | undefined {
  const layout = toolchainLayout();
  const manifest = readManifest(layout);
  const ready = manifest?.pieces.pulumi?.binary && manifest.pieces["pulumi-language-nodejs"]?.binary && existsSync(join(layout.binDir, "pulumi"));
  if (!requireOrSkip(t, ready ? "" : `the Pulumi toolchain is not built in ${layout.root} (npm run toolchain)`)) return undefined;
  if (!requireOrSkip(t, existsSync(join(REPO_ROOT, "dist/infra/index.js")) ? "" : "dist/ is not built (npm run build)")) return undefined;
  return manifest;
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
  pulumiAsync(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<CliResult> };
  cleanUp(): void;
}

/**
 * A copy of the project as a user has it after `npm ci` (Pulumi.yaml, package.json, the built program, node_modules
 * linked), with `extraFiles` written into it. The backend is the copy's own .pulumi-state, which is what
 * Pulumi.yaml declares; PULUMI_BACKEND_URL says the same so nothing can reach another state.
 */
export function engineProject(name: string, extraFiles: Record<string, string> = {}, baseEnv: NodeJS.ProcessEnv = process.env): EngineProject {
  const layout = toolchainLayout();
  const root = mkdtempSync(join(tmpdir(), `sdwebui-engine-${name}-`));
  const dir = join(root, "project");
  const home = join(root, "pulumi-home");
  mkdirSync(dir);
  mkdirSync(home);
  symlinkSync(join(layout.pluginHome, "plugins"), join(home, "plugins"));
  for (const f of ["Pulumi.yaml", "package.json"]) cpSync(join(REPO_ROOT, f), join(dir, f));
  // What Pulumi.yaml runs and the smoke step it starts (not the compiled tests).
  for (const d of ["dist/infra", "dist/smoke"]) cpSync(join(REPO_ROOT, d), join(dir, d), { recursive: true });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  for (const [f, text] of Object.entries(extraFiles)) writeFileSync(join(dir, f), text);
  const stateDir = join(dir, ".pulumi-state");
  mkdirSync(stateDir);
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
    const r = spawnSync("pulumi", [...args, "--non-interactive"], { cwd: dir, env, input: input ?? "", encoding: "utf8", timeout: 10 * 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    dir,
    home,
    stateDir,
    env,
    pulumi: run,
    pulumiAsync(args) {
      const child = spawn("pulumi", [...args, "--non-interactive"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
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
        for (const s of JSON.parse(stacks.stdout || "[]") as { name: string }[]) run(["stack", "rm", "--force", "--yes", "--stack", s.name]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

/** Every file under `dir` that contains `needle` (state, history, backups, logs). */
export function filesContaining(dir: string, needle: string): string[] {
  const r = spawnSync("grep", ["-rlF", "--", needle, dir], { encoding: "utf8" });
  return r.stdout.split("\n").filter(Boolean);
}
