// The remote-host path for real: a network namespace running sshd stands for the GPU server
// (helpers/ssh-host.ts). The program is evaluated under mocks with dockerHost ssh://root@<ns>:2222 and
// what it registered is realised THROUGH SSH (realise.ts): the Engine API over the provider's ssh
// command with the program's sshOpts, the folders/firewall scripts over ssh with their `connection`,
// the smoke's command line run here, reaching the API at the namespace address and the files over ssh.
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { after, before, describe, it, type TestContext } from "node:test";
import { sshOpts } from "../../infra/remote.js";
import { firewallPlan } from "../../infra/firewall/rules.js";
import { parseSmokeStdout } from "../../smoke/resource.js";
import { ensureSmokeBuilt, taggedRules } from "../e2e/harness/host.js";
import { runLocalCommand } from "../e2e/harness/local-command.js";
import { T } from "../e2e/harness/plan.js";
import { dockerStatus, requireDocker } from "../helpers/docker.js";
import { unwrapSecrets } from "../helpers/pulumi-mocks.js";
import { requireSshd, sshHostMissing, startSshHost, type TestSshHost } from "../helpers/ssh-host.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { dockerCliOverSsh, SshEngineApi, sshWrapperBin, startAgent, type SshAgent } from "./docker-ssh.js";
import { evaluate, firewallTags, named, remoteStack, type RemoteStack } from "./fixture.js";
import { Realiser, RealiseError } from "./realise.js";

let host: TestSshHost | undefined;
let agent: SshAgent | undefined;

before(async () => {
  if (!dockerStatus().ok || sshHostMissing()) return; // each test skips (or fails under CI) with the reason
  ensureStandinImage();
  ensureSmokeBuilt();
  host = await startSshHost();
  agent = await startAgent(host.dir, [host.client.file]);
});
after(async () => {
  await agent?.stop();
  await host?.stop();
});

/** Skip (locally) or fail (CI) when the parts are missing; returns the host. */
function need(t: TestContext): TestSshHost | undefined {
  if (!requireDocker(t) || !requireSshd(t)) return undefined;
  if (!host) throw new Error("the SSH test host did not start (see the before hook's error)");
  return host;
}

const smokeOf = (ev: Awaited<ReturnType<typeof evaluate>>) => {
  const r = named(ev, T.local, "-smoke")[0]!;
  return unwrapSecrets(r.inputs) as { create: string; environment: Record<string, string> };
};
const runSmoke = (ev: Awaited<ReturnType<typeof evaluate>>) => {
  const s = smokeOf(ev);
  return runLocalCommand({ script: s.create, environment: s.environment, addPreviousOutputInEnv: false }, 90_000);
};

describe("docker over ssh with the program's own ssh options", () => {
  it("the provider's sshOpts (pinned known_hosts line via KnownHostsCommand) reach the engine: docker CLI and Engine API", async (t) => {
    const h = need(t);
    if (!h) return;
    const opts = sshOpts(h.knownHostsLine);
    const cli = dockerCliOverSsh(h.dockerHost, ["version", "--format", "{{.Server.Version}}"], { bin: sshWrapperBin(h.dir, opts), agentSock: agent!.sock });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /^\d+\.\d+/);
    const api = new SshEngineApi(h.dockerHost, opts, { ...process.env, SSH_AUTH_SOCK: agent!.sock });
    assert.equal((await api.expect("GET", "/_ping", [200])).text, "OK");
    assert.ok(h.commands().includes("docker system dial-stdio"), "the engine was reached by dial-stdio over the SSH login");
  });
});

describe("deploy through ssh:// to the test host", () => {
  let stack: RemoteStack | undefined;
  let realiser: Realiser | undefined;
  let tags: string[] = [];
  after(async () => {
    await realiser?.destroy();
    stack?.cleanup(tags);
  });

  it("container, folders and firewall go to the host over SSH; the smoke proves the file over SSH", async (t) => {
    const h = need(t);
    if (!h) return;
    stack = remoteStack(h, await freePort());
    const ev = await evaluate(stack.input());
    tags = firewallTags(ev);
    const provider = unwrapSecrets(ev.resources.find((r) => r.type === T.provider)!.inputs) as { host: string; sshOpts: string[] };
    assert.equal(provider.host, h.dockerHost);
    realiser = new Realiser({ agentSock: agent!.sock, log: (l) => t.diagnostic(l) });
    const before = h.commands().length;
    await realiser.deploy(ev);

    const ran = h.commands().slice(before);
    assert.ok(ran.filter((c) => c === "docker system dial-stdio").length >= 3, "image, container create/start went over ssh");
    assert.ok(ran.some((c) => c.includes("sdwebui folders")), "the folders script ran on the host");
    assert.ok(ran.some((c) => c.includes("DOCKER-USER")), "the firewall script ran on the host");
    assert.equal(statSync(stack.outputsDir).uid, 1000, "the folders step (over ssh) created the outputs folder for uid 1000");
    assert.equal(taggedRules(tags[0]!).length, firewallPlan({ tag: tags[0]!, port: stack.settings.hostPort as number, allowlist: [`${h.addr}/32`] }).rules.iptables.length);

    const smoke = realiser.done.find((d) => d.reg.name.endsWith("-smoke"))!;
    const proof = parseSmokeStdout(smoke.stdout);
    assert.ok(proof.file.startsWith(`${stack.outputsDir}/`), proof.file);
    assert.ok(existsSync(proof.file) && readFileSync(proof.file).subarray(1, 4).toString() === "PNG");
    assert.match(smoke.inputs.create as string, new RegExp(`--url http://${h.addr.replace(/\./g, "\\.")}:\\d+ .*--ssh-host ${h.addr.replace(/\./g, "\\.")} --ssh-user root --ssh-port 2222`));
    assert.ok(ran.some((c) => c.includes("exec cat --") && c.includes(proof.file)), "the smoke read the proven file over ssh");
    for (const c of ran) assert.ok(!c.includes(stack.password), "no secret on a remote command line");
  });

  it("a wrong client key: the smoke's SSH access and docker over ssh each say Permission denied (publickey)", async (t) => {
    const h = need(t);
    if (!h || !realiser?.done.length) return t.skip("needs the deployment of the previous test");
    const wrong = h.newKey("wrong_client");
    const r = await runSmoke(await evaluate(stack!.input({}, { sshPrivateKey: wrong.privateKey })));
    assert.equal(r.exitCode, 25, r.stderr);
    assert.match(r.stderr, /cannot reach the Docker host over SSH \(ssh root@10\.232\.\d+\.2:2222\): .*Permission denied \(publickey\)/);
    const wrongAgent = await startAgent(h.dir, [wrong.file]);
    t.after(() => wrongAgent.stop());
    const env = { ...process.env, SSH_AUTH_SOCK: wrongAgent.sock };
    await assert.rejects(new SshEngineApi(h.dockerHost, sshOpts(h.knownHostsLine), env).call("GET", "/_ping"), /ssh:\/\/root@10\.232\.\d+\.2:2222.*Permission denied \(publickey\)/);
    const cli = dockerCliOverSsh(h.dockerHost, ["version"], { bin: sshWrapperBin(h.dir, sshOpts(h.knownHostsLine)), agentSock: wrongAgent.sock });
    assert.notEqual(cli.status, 0);
    assert.match(cli.stderr, /Permission denied \(publickey\)/);
  });

  it("a host key mismatch: docker over ssh (provider sshOpts, docker CLI) says Host key verification failed", async (t) => {
    const h = need(t);
    if (!h) return;
    const foreign = `[${h.addr}]:${h.port} ${h.newKey("foreign_host").publicKey}`;
    const env = { ...process.env, SSH_AUTH_SOCK: agent!.sock };
    await assert.rejects(new SshEngineApi(h.dockerHost, sshOpts(foreign), env).call("GET", "/_ping"), /HOST IDENTIFICATION HAS CHANGED.*Host key verification failed/s);
    const cli = dockerCliOverSsh(h.dockerHost, ["version"], { bin: sshWrapperBin(h.dir, sshOpts(foreign)), agentSock: agent!.sock });
    assert.notEqual(cli.status, 0);
    assert.match(cli.stderr, /Host key verification failed/);
  });

  it("a host key mismatch: the smoke's SSH access names it", async (t) => {
    const h = need(t);
    if (!h || !realiser?.done.length) return t.skip("needs the deployment of the previous test");
    const foreign = `[${h.addr}]:${h.port} ${h.newKey("foreign_host2").publicKey}`;
    const r = await runSmoke(await evaluate(stack!.input({ sshKnownHosts: foreign })));
    assert.equal(r.exitCode, 25, r.stderr);
    assert.match(r.stderr, /cannot reach the Docker host over SSH \(ssh root@10\.232\.\d+\.2:2222\): .*(Host key verification failed|HOST IDENTIFICATION HAS CHANGED)/);
  });

  it("when the deployer's address is not in the allowlist, the smoke says the firewall drops it", async (t) => {
    const h = need(t);
    if (!h || !realiser?.done.length) return t.skip("needs the deployment of the previous test");
    // An allowlist change is an update of the firewall command: its (atomic) create script runs again.
    const ev = await evaluate(stack!.input({ firewallAllowlist: ["198.51.100.0/24"] }));
    const fw = unwrapSecrets(ev.resources.find((r) => r.type === T.remote && r.name.includes("-firewall-"))!.inputs) as { update: string };
    const conn = unwrapSecrets(ev.resources.find((r) => r.type === T.remote)!.inputs) as { connection: Record<string, unknown> };
    const { runRemote } = await import("./realise.js");
    const applied = runRemote(conn.connection as never, fw.update, { timeoutMs: 60_000 });
    assert.equal(applied.status, 0, applied.stderr);
    const t0 = Date.now();
    const r = await runSmoke(ev);
    t.diagnostic(`smoke gave up after ${Date.now() - t0} ms`);
    assert.equal(r.exitCode, 11, r.stderr);
    assert.match(r.stderr, /times out while the Docker host is up \(ssh root@10\.232\.\d+\.2:2222 answers\): a firewall drops the packets\. Allow this machine's address/);
  });
});

describe("a failure on one host", () => {
  let stack: RemoteStack | undefined;
  let realiser: Realiser | undefined;
  let tags: string[] = [];
  after(async () => {
    host?.setReadOnly([]);
    await realiser?.destroy();
    stack?.cleanup(tags);
  });

  it("names that host and leaves the other host's firewall rules complete, none of its own", async (t) => {
    const h = need(t);
    if (!h) return;
    stack = remoteStack(h, await freePort());
    // Host 1: the local engine, one CPU container. Host 2: the SSH host, GPU 7, whose disk refuses writes.
    const ev = await evaluate(stack.input({ dockerHost: undefined, gpus: undefined, hosts: ["unix:///var/run/docker.sock#cpu:1", `${h.dockerHost}#7`] }));
    tags = firewallTags(ev);
    h.setReadOnly([stack.root]);
    realiser = new Realiser({ agentSock: agent!.sock, hostByHost: true, log: (l) => t.diagnostic(l) });
    const before = h.commands().length;
    const err = await realiser.deploy(ev).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof RealiseError, `deploy should fail, got ${String(err)}`);
    const slug = h.addr.replace(/\./g, "-");
    assert.equal(err.resource.name, `sdwebui-${slug}-folders`, "the failing resource carries the host in its name");
    assert.match(err.message, new RegExp(`on ssh root@${h.addr.replace(/\./g, "\\.")}:2222: create exited 1: .*sdwebui folders: cannot create ${stack.outputsDir}/gpu7`, "s"));

    // Host 1 finished: its container, firewall and proof; exactly one complete rule set for its port.
    const names = realiser.done.map((d) => d.reg.name);
    for (const n of ["sdwebui-local-cpu0-container", "sdwebui-local-cpu0-smoke"]) assert.ok(names.includes(n), `${n} missing: ${names.join(", ")}`);
    const port = stack.settings.hostPort as number;
    const expected = firewallPlan({ tag: tags[0]!, port, allowlist: [`${h.addr}/32`] }).rules.iptables.length;
    assert.equal(taggedRules(tags[0]!).length, expected);
    // Host 2 applied nothing after the failure: no container, no firewall script ran over its SSH.
    assert.ok(!names.some((n) => n.startsWith(`sdwebui-${slug}-`) && /container|firewall|smoke/.test(n)), names.join(", "));
    assert.ok(!h.commands().slice(before).some((c) => c.includes("DOCKER-USER")), "no firewall script ran on host 2");
  });
});
