// Shared set-up of the remote-host tests: one SSH test host with an agent holding its client key,
// stack settings that deploy the stand-in to it through ssh://, and a tear-down that removes what a
// test left (containers of the stack, firewall rules with its tags, temp folders) even on failure.
import { randomBytes } from "node:crypto";
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluateProgram, type Evaluation, type StackInput } from "../e2e/harness/evaluate.js";
import { purgeTaggedRules, removeStackContainers } from "../e2e/harness/host.js";
import { makeModelsDir, STANDIN_IMAGE } from "../helpers/standin.js";
import type { TestSshHost } from "../helpers/ssh-host.js";
import { T } from "../e2e/harness/plan.js";

export interface RemoteStack {
  stack: string;
  root: string;
  outputsDir: string;
  modelsDir: string;
  username: string;
  password: string;
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
  input(over?: Record<string, unknown>, secrets?: Record<string, string>): StackInput;
  cleanup(tags: string[]): void;
}

/** A stack deploying the stand-in (no GPUs) to the SSH test host, its API allowed from the host's link. */
export function remoteStack(h: TestSshHost, hostPort: number, extra: Record<string, unknown> = {}): RemoteStack {
  const stack = `rmt-${process.pid}-${randomBytes(2).toString("hex")}`;
  const root = mkdtempSync(join(tmpdir(), "sdwebui-remote-"));
  const outputsDir = join(root, "outputs"); // created over SSH by the program's folders step
  const modelsDir = makeModelsDir(join(root, "models"));
  for (const p of [modelsDir, join(modelsDir, "Stable-diffusion"), ...readdirSync(join(modelsDir, "Stable-diffusion")).map((f) => join(modelsDir, "Stable-diffusion", f))]) chownSync(p, 1000, 1000);
  const password = `rmt-${randomBytes(12).toString("base64url")}`;
  const username = "remote-user";
  const settings: Record<string, unknown> = {
    image: STANDIN_IMAGE, gpus: "none", outputsDir, modelsDir, hostPort, apiUsername: username,
    dockerHost: h.dockerHost, sshKnownHosts: h.knownHostsLine,
    // The deployer's packets reach the "remote" from the namespace address (see helpers/ssh-host.ts).
    firewallAllowlist: [`${h.addr}/32`],
    smokeTimeoutSeconds: 30, smokeSteps: 2, smokeWidth: 128, smokeHeight: 128, shmSizeMb: 64,
    ...extra,
  };
  const secrets = { apiPassword: password, sshPrivateKey: h.client.privateKey };
  return {
    stack, root, outputsDir, modelsDir, username, password, settings, secrets,
    input: (over = {}, sec = {}) => ({ stack, settings: dropUndefined({ ...settings, ...over }), secrets: { ...secrets, ...sec } }),
    cleanup: (tags) => {
      removeStackContainers(stack);
      for (const t of tags) purgeTaggedRules(t);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const dropUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export const evaluate = (input: StackInput): Promise<Evaluation> => evaluateProgram(input);

/** The registrations of one type whose name ends with `suffix`. */
export function named(ev: Evaluation, type: string, suffix: string) {
  return ev.resources.filter((r) => r.type === type && r.name.endsWith(suffix));
}

/** Firewall tags the evaluation would apply (from the firewall command names: <id>-firewall-<backend>-<tag>). */
export function firewallTags(ev: Evaluation): string[] {
  return ev.resources.filter((r) => (r.type === T.remote || r.type === T.local) && /-firewall-(iptables|nftables)-/.test(r.name)).map((r) => r.name.replace(/^.*-firewall-(iptables|nftables)-/, ""));
}
