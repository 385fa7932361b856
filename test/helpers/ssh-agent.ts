// An ssh-agent holding test keys, as a user's session has one: the docker provider's ssh (OpenSSH) takes
// its key from the agent (the provider has no key setting), and the command provider uses it too.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface SshAgent {
  sock: string;
  stop(): Promise<void>;
}

/** An agent with `keyFiles` added, its socket in `dir`. Bounded start. */
export async function startAgent(dir: string, keyFiles: string[]): Promise<SshAgent> {
  const sock = join(dir, `agent-${Math.random().toString(36).slice(2, 8)}.sock`);
  const child = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
  let exited = false;
  child.once("exit", () => (exited = true));
  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    await new Promise<void>((r) => (exited ? r() : child.once("exit", () => r())));
  };
  const t0 = Date.now();
  while (!existsSync(sock)) {
    if (exited || Date.now() - t0 > 5000) {
      await stop();
      throw new Error("ssh-agent did not start within 5 s");
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const f of keyFiles) {
    const r = spawnSync("ssh-add", ["-q", f], {
      env: { ...process.env, SSH_AUTH_SOCK: sock },
      encoding: "utf8",
      timeout: 10_000,
    });
    if (r.status !== 0) {
      await stop();
      throw new Error(`ssh-add ${f}: ${r.stderr}`);
    }
  }
  return { sock, stop };
}
