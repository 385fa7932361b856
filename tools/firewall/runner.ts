// Runs a rule set's scripts with /bin/sh on this machine (the CLI, the tests and the benchmark share it).
// The Pulumi resource does not use this: the command provider runs the same scripts itself.
import { spawnSync } from "node:child_process";
import type { FirewallRuleSet } from "../../infra/firewall/rules.js";

export interface RunOptions {
  /** Prefix for the shell, e.g. ["ip", "netns", "exec", "ns1"] or ["sudo", "-n"]. */
  wrap?: string[];
  /** Hard limit for the script; the create script's own DOCKER-USER wait is inside it. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Wall time of the script, milliseconds. */
  ms: number;
}

function runScript(what: string, script: string, opts: RunOptions): RunResult {
  if (!script) return { stdout: "", stderr: `firewall ${what}: backend none, nothing to run\n`, ms: 0 };
  const argv = [...(opts.wrap ?? []), "sh", "-c", script];
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: opts.timeoutMs ?? 120_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw new Error(`firewall ${what}: could not run ${argv[0]}: ${r.error.message}`);
  if (r.status !== 0) {
    const why = r.signal ? `was stopped by ${r.signal} (limit ${opts.timeoutMs ?? 120_000} ms)` : `exited ${r.status}`;
    throw new Error(`firewall ${what} ${why}: ${(r.stderr || r.stdout).trim()}`);
  }
  return { stdout: r.stdout, stderr: r.stderr, ms };
}

export const applyFirewall = (rules: FirewallRuleSet, opts: RunOptions = {}): RunResult =>
  runScript("apply", rules.createScript, opts);
export const deleteFirewall = (rules: FirewallRuleSet, opts: RunOptions = {}): RunResult =>
  runScript("delete", rules.deleteScript, opts);
export const firewallStatus = (rules: FirewallRuleSet, opts: RunOptions = {}): RunResult =>
  runScript("status", rules.statusScript, opts);
