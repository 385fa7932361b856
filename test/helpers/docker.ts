// Tests that need a real Docker engine call `requireDocker(t)`: without an engine they are skipped
// with the reason, except under CI (CI=true), where a missing engine is a failure.
import { execFileSync } from "node:child_process";
import type { TestContext } from "node:test";
import { requireOrSkip } from "./requirements.js";

let cached: string | undefined;

/** The engine's answer to `docker info`, or the reason it is unreachable. */
export function dockerStatus(): { ok: boolean; detail: string } {
  if (cached !== undefined) return { ok: cached === "", detail: cached };
  try {
    execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "pipe", timeout: 15_000 });
    cached = "";
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    cached = (err.stderr?.toString() || err.message).trim().split("\n")[0] ?? "docker info failed";
  }
  return { ok: cached === "", detail: cached };
}

/** Returns true when the engine is reachable; otherwise skips the test (or throws under CI). */
export function requireDocker(t: TestContext): boolean {
  const s = dockerStatus();
  if (s.ok) return true;
  return requireOrSkip(t, `no Docker engine reachable (${s.detail}); start dockerd or run bash .ci/run`);
}

/** Run the docker CLI and return stdout (throws with stderr on failure). */
export function docker(args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  return execFileSync("docker", args, {
    input: opts.input,
    stdio: ["pipe", "pipe", "pipe"],
    timeout: opts.timeoutMs ?? 60_000,
    encoding: "utf8",
  });
}
