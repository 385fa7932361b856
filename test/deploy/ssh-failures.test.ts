// What a user sees through the real CLI when an ssh:// deploy cannot work, on remote test hosts with a
// stock sshd: a wrong client key and a host key that is not the pinned one fail at the first step on the
// host, naming the cause, with nothing created there; a deployer outside the allowlist gets the smoke's
// "a firewall drops the packets"; with two hosts, one whose image cannot be had fails naming that host,
// and the other host's deploy completes, rules and proof included.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { firewallRuleSet } from "../../infra/firewall/rules.js";
import { ofType, output } from "../helpers/engine-stack.js";
import { ensureSmokeBuilt, stackContainers, taggedRules } from "../helpers/host-state.js";
import { requireEngine } from "../helpers/pulumi-cli.js";
import { makeKey, requireRemoteHost, startRemoteHost, type RemoteHost } from "../helpers/remote-host.js";
import { startAgent, type SshAgent } from "../helpers/ssh-agent.js";
import { ensureStandinImage, STANDIN_IMAGE } from "../helpers/standin.js";
import { programStack, type ProgramStack } from "./fixture.js";

describe("ssh:// deploys that cannot work", { timeout: 900_000 }, () => {
  let a: RemoteHost | undefined;
  let b: RemoteHost | undefined;
  let agent: SshAgent | undefined;
  const stacks: ProgramStack[] = [];
  before(async () => {
    if (process.getuid?.() !== 0) return;
    ensureStandinImage();
    ensureSmokeBuilt();
    a = await startRemoteHost({ nvidiaHook: true, images: [STANDIN_IMAGE] });
    // Host B lacks the image, and no registry holds it.
    b = await startRemoteHost({ nvidiaHook: true });
    agent = await startAgent(a.dir, [a.client.file, b.client.file]);
  });
  after(async () => {
    for (const s of stacks) await s.cleanUp();
    await agent?.stop();
    await a?.stop();
    await b?.stop();
  });
  const stack = (port: number, settings: Record<string, unknown>, agentSock = agent!.sock) => {
    const s = programStack({ hostPort: port, remote: { host: a!, agentSock }, settings });
    stacks.push(s);
    return s;
  };
  const failedUp = (s: ProgramStack) => {
    const r = s.stack.run(["up", "--yes", "--skip-preview"]);
    s.printed.push(output(r));
    assert.notEqual(r.status, 0, "pulumi up fails");
    return output(r);
  };

  it("a client key the host does not accept: the first step on the host fails after its retries, nothing is created there", async (t) => {
    if (!requireEngine(t) || !requireRemoteHost(t)) return;
    const wrong = makeKey(a!.dir, "wrong_client");
    const wrongAgent = await startAgent(a!.dir, [wrong.file]);
    t.after(() => wrongAgent.stop());
    const s = stack(7860, {}, wrongAgent.sock);
    s.stack.setConfig({ sshPrivateKey: wrong.privateKey }, ["sshPrivateKey"], "sdwebui");
    const text = failedUp(s);
    assert.match(text, /after 3 failed attempts: ssh: handshake failed: ssh: unable to authenticate/);
    assert.deepEqual(stackContainers(s.name, s.view), []);
    assert.equal(ofType(s.stack.resources(), "docker:index/container:Container").length, 0);
    assert.ok(!text.includes(wrong.privateKey.split("\n")[1]!), "the key is not printed");
  });

  it("a host key other than the pinned one: the step fails with host key mismatch, nothing is created there", (t) => {
    if (!requireEngine(t) || !requireRemoteHost(t)) return;
    const foreign = `[${a!.addr}]:${a!.port} ${makeKey(a!.dir, "foreign_host").publicKey}`;
    const s = stack(7861, { sshKnownHosts: foreign });
    const text = failedUp(s);
    assert.match(text, /ssh: handshake failed: ssh: host key mismatch/);
    assert.deepEqual(stackContainers(s.name, s.view), []);
  });

  it("the deployer's address outside the allowlist: the smoke says a firewall drops the packets, and how to allow it", (t) => {
    if (!requireEngine(t) || !requireRemoteHost(t)) return;
    const s = stack(7862, { firewallAllowlist: ["198.51.100.0/24"], smokeTimeoutSeconds: "20" });
    const t0 = Date.now();
    const text = failedUp(s);
    t.diagnostic(`up failed after ${Date.now() - t0} ms`);
    assert.match(
      text,
      /times out while the Docker host is up \(ssh root@10\.233\.\d+\.2:2222 answers\): a firewall drops the packets\. Allow this machine's address/,
    );
    assert.ok(taggedRules(s.tag(), s.view).length > 0, "the rules that drop it are in place");
  });

  it("two hosts, one without the image: the error names that host's step; the other host's container, rules and proof are complete", (t) => {
    if (!requireEngine(t) || !requireRemoteHost(t)) return;
    const s = stack(7870, {
      dockerHost: undefined,
      gpus: undefined,
      hosts: [`${a!.dockerHost()}#0`, `${b!.dockerHost()}#0`],
      sshKnownHosts: `${a!.knownHosts}\n${b!.knownHosts}`,
      firewallAllowlist: [`${a!.peerAddr}/32`, `${b!.peerAddr}/32`],
    });
    const text = failedUp(s);
    const slugB = b!.addr.replace(/\./g, "-");
    assert.match(
      text,
      new RegExp(`command:remote:Command \\(sdwebui-${slugB}-gpu0-preflight\\)`),
      "the failing step carries host B in its name",
    );
    assert.ok(text.includes(`docker pull ${STANDIN_IMAGE} failed`), text);
    const viewA = { dockerSocket: a!.dockerSocket, netns: a!.ns };
    const viewB = { dockerSocket: b!.dockerSocket, netns: b!.ns };
    assert.deepEqual(stackContainers(s.name, viewA), [`sdwebui-${s.name}-gpu0`], "host A's container");
    const tag = s.tag(7870);
    assert.equal(
      taggedRules(tag, viewA).length,
      firewallRuleSet({ tag, port: 7870, allowlist: s.settings.firewallAllowlist as string[] }).rules.iptables.length,
      "host A's rules are complete",
    );
    const smokes = s.stack.resources().filter((r) => r.urn.endsWith("-gpu0-smoke"));
    assert.equal(smokes.length, 1, "host A's proof ran");
    assert.ok(smokes[0]!.urn.includes(a!.addr.replace(/\./g, "-")));
    assert.deepEqual(stackContainers(s.name, viewB), [], "host B: no container");
    assert.deepEqual(taggedRules(tag, viewB), [], "host B: no rules (its firewall waits for its preflight)");
  });
});
