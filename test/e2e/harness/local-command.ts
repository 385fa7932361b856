// Runs a command:local:Command script the way pulumi-command 1.2.1 does: `interpreter` (default
// /bin/sh -c) + the script, in `dir` (default: the directory `pulumi up` runs in = the repo root),
// with the process environment plus `environment`, and, unless addPreviousOutputInEnv is false,
// PULUMI_COMMAND_STDOUT/STDERR of the previous run. Bounded; stdout/stderr captured.
import { spawn } from "node:child_process";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "../../..");

export interface CommandRun { exitCode: number | null; stdout: string; stderr: string; ms: number; timedOut: boolean }

export interface CommandSpec {
  script: string;
  interpreter?: string[];
  dir?: string;
  environment?: Record<string, string>;
  stdin?: string;
  previous?: { stdout: string; stderr: string };
  addPreviousOutputInEnv?: boolean;
}

export function runLocalCommand(spec: CommandSpec, timeoutMs: number): Promise<CommandRun> {
  const [bin, ...args] = spec.interpreter && spec.interpreter.length ? spec.interpreter : ["/bin/sh", "-c"];
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...(spec.environment ?? {}) };
  if (spec.addPreviousOutputInEnv !== false && spec.previous) {
    env.PULUMI_COMMAND_STDOUT = spec.previous.stdout;
    env.PULUMI_COMMAND_STDERR = spec.previous.stderr;
  }
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin!, [...args, spec.script], { cwd: spec.dir ?? REPO_ROOT, env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    // Kill the whole process group: the script's children too.
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-child.pid!, "SIGKILL"); } catch { /* gone */ } }, timeoutMs);
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("close", (code) => { clearTimeout(timer); resolve({ exitCode: code, stdout, stderr, ms: Date.now() - t0, timedOut }); });
    // A script that exits without reading its stdin closes the pipe first (EPIPE); its outcome is its
    // exit code, read on "close", so the write error says nothing and must not crash the test process.
    child.stdin.on("error", () => {});
    child.stdin.end(spec.stdin ?? "");
  });
}
