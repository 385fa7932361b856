#!/usr/bin/env node
// Entry point: `npm run smoke -- …` / `node dist/smoke/cli.js …`. Exit 0 only when the proof holds;
// otherwise the failure class's exit code (smoke/README.md). Progress goes to stderr, results to stdout.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCli, secretFromEnv, USAGE } from "./cli-flags.js";
import type { CliFlags } from "./cli-flags.js";
import { SmokeError } from "./errors.js";
import { LocalHost } from "./host.js";
import type { HostAccess } from "./host.js";
import { failureReport, humanFailure, humanSuccess } from "./report.js";
import { runSmoke } from "./run.js";
import type { RunState } from "./run.js";
import { newRunId } from "./proof.js";
import { SshHost } from "./ssh-host.js";

interface HostSetup {
  host: HostAccess;
  hostUp: () => Promise<boolean>;
  cleanup: () => void;
}

/** Local filesystem, or SSH with key / known_hosts material written to a private temp dir. */
function makeHost(f: CliFlags, env: NodeJS.ProcessEnv = process.env): HostSetup {
  // The outputs folder is the container's to write: nothing below it is followed through a link.
  const confine = [f["outputs-dir"]];
  if (f["ssh-host"] === undefined) return { host: new LocalHost(confine), hostUp: async () => true, cleanup: () => {} };
  let dir: string | undefined;
  const tmpFile = (name: string, content: string) => {
    dir ??= mkdtempSync(join(tmpdir(), "sd-smoke-ssh-"));
    const p = join(dir, name);
    writeFileSync(p, content.endsWith("\n") ? content : content + "\n", { mode: 0o600 });
    return p;
  };
  const identityFile = f["ssh-identity-env"]
    ? tmpFile("id", secretFromEnv("--ssh-identity-env", f["ssh-identity-env"], env))
    : f["ssh-identity"];
  const knownHostsFile = f["ssh-known-hosts-env"]
    ? tmpFile("known_hosts", secretFromEnv("--ssh-known-hosts-env", f["ssh-known-hosts-env"], env))
    : f["ssh-known-hosts"];
  const host = new SshHost(
    {
      user: f["ssh-user"] ?? "",
      host: f["ssh-host"],
      port: f["ssh-port"],
      identityFile,
      knownHostsFile,
      strictHostKeyChecking: f["ssh-strict-host-key-checking"],
      connectTimeoutS: f["connect-timeout"],
    },
    undefined,
    confine,
  );
  return { host, hostUp: () => host.ping(), cleanup: () => dir && rmSync(dir, { recursive: true, force: true }) };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const state: RunState = { runId: newRunId(), timings: {} };
  let json = argv.includes("--json");
  let setup: HostSetup | undefined;
  try {
    const parsed = parseCli(argv);
    if (parsed === "help") {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    json = parsed.json;
    const apiPassword = secretFromEnv("--password-env", parsed["password-env"], env);
    const uiPassword = parsed["ui-password-env"]
      ? secretFromEnv("--ui-password-env", parsed["ui-password-env"], env)
      : apiPassword;
    // Not a secret, but too long for a flag: the pinned root certificate(s) come in a variable; an empty
    // one pins nothing (the system's roots).
    const tlsCa = parsed["tls-ca-env"] ? env[parsed["tls-ca-env"]] || undefined : undefined;
    setup = makeHost(parsed, env);
    const report = await runSmoke(
      {
        flags: parsed,
        apiPassword,
        uiPassword,
        tlsCa,
        host: setup.host,
        hostUp: setup.hostUp,
        log: (l) => process.stderr.write(`smoke: ${l}\n`),
      },
      state,
    );
    process.stdout.write((json ? JSON.stringify(report) : humanSuccess(report)) + "\n");
    return 0;
  } catch (e) {
    const err =
      e instanceof SmokeError ? e : new SmokeError("internal", `unexpected error: ${(e as Error).stack ?? String(e)}`);
    const f = failureReport(err, state);
    if (json) process.stdout.write(JSON.stringify(f) + "\n");
    process.stderr.write(humanFailure(f) + "\n");
    return err.exitCode;
  } finally {
    setup?.cleanup();
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
