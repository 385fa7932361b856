// What a test needs from the machine (Docker, root, sshd, ...): without it the test is skipped with
// the reason locally, and fails under CI (CI=true), where everything must be there.
import { spawnSync } from "node:child_process";
import type { TestContext } from "node:test";

/** `missing` names what is absent ("" or undefined: nothing is). Returns true when the test can run. */
export function requireOrSkip(t: TestContext, missing: string | undefined): boolean {
  if (!missing) return true;
  if (process.env.CI) throw new Error(`CI=true but ${missing}`);
  t.skip(missing);
  return false;
}

/** Whether a process exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** shellcheck (Debian package) is on PATH. */
export function requireShellcheck(t: TestContext): boolean {
  const present = spawnSync("shellcheck", ["--version"]).status === 0;
  return requireOrSkip(t, present ? "" : "shellcheck is missing (apt-get install shellcheck)");
}
