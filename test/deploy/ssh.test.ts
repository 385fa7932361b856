// The program through the real CLI onto remote Docker hosts over ssh://, each an unmodified Debian sshd
// with its own engine (test/helpers/remote-host.ts). Host A lists an RSA host key first (the command
// provider's client must not be pinned to it), its daemon.json adds default log options (merged into the
// container's), and it lacks the image: the preflight pulls it from a registry, with progress. Then the
// stack moves to host B and must run there and nowhere else; then a sudo user deploys to A.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import {
  ensureSmokeBuilt,
  httpGet,
  httpsGet,
  inspectContainer,
  stackContainers,
  taggedRules,
} from "../helpers/host-state.js";
import { makeCa, makeLeaf } from "../helpers/certs.js";
import { ensureCaddyImage } from "../helpers/tls-builds.js";
import { filesContaining, requireEngine } from "../helpers/pulumi-cli.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { requireRemoteHost, startRemoteHost, SUDO_USER, type RemoteHost } from "../helpers/remote-host.js";
import { startAgent, type SshAgent } from "../helpers/ssh-agent.js";
import { ensureStandinImage, STANDIN_IMAGE } from "../helpers/standin.js";
import { programStack, type ProgramStack } from "./fixture.js";

const ports = { a: 7860, b: 7960, sudo: 8060, tls: 8160 };
/** What the command provider prints when a remote step sends environment by Setenv and sshd refuses it. */
const SETENV_REFUSED = /Unable to set '|setenv failed/;

describe("ssh:// hosts with a stock sshd", { timeout: 900_000 }, () => {
  let a: RemoteHost | undefined;
  let b: RemoteHost | undefined;
  let agent: SshAgent | undefined;
  let registry: TestRegistry | undefined;
  let s: ProgramStack | undefined;
  let image = STANDIN_IMAGE;
  let ready = false;

  before(async () => {
    if (remoteMissing()) return;
    ensureStandinImage();
    ensureSmokeBuilt();
    b = await startRemoteHost({ images: [STANDIN_IMAGE] });
    a = await startRemoteHost({
      rsaHostKey: true,
      sudoUser: true,
      // Docker takes a network here: the test links' addresses, where the registry listens.
      daemonJson: {
        "log-opts": { "max-size": "20m", labels: "sdwebui.stack", "env-regex": "^SDWEBUI_" },
        "insecure-registries": ["10.233.0.0/16"],
      },
      images: [STANDIN_IMAGE],
    });
    // The registry listens on this side of A's link.
    registry = await startRegistry(a.peerAddr);
    image = registry.push(STANDIN_IMAGE, "sdwebui/standin:dev", ["-H", `unix://${a.dockerSocket}`]);
    a.docker(["rmi", image]);
    a.docker(["rmi", STANDIN_IMAGE]);
    agent = await startAgent(a.dir, [a.client.file, b.client.file]);
    ready = true;
  });
  after(async () => {
    await s?.cleanUp();
    await agent?.stop();
    await registry?.stop();
    await a?.stop();
    await b?.stop();
  });
  const remoteMissing = () => (process.getuid?.() === 0 ? "" : "root");

  it("as root: the image is pulled with progress, the PNG is on the host, no Setenv is refused, and the next up changes nothing", (t) => {
    if (!requireEngine(t) || !requireRemoteHost(t, { sudoUser: true })) return;
    assert.ok(ready, "the hosts started");
    s = programStack({
      hostPort: ports.a,
      remote: { host: a!, agentSock: agent!.sock },
      settings: {
        image,
        sshKnownHosts: `${a!.knownHosts}\n${b!.knownHosts}`,
        firewallAllowlist: [`${a!.peerAddr}/32`, `${b!.peerAddr}/32`],
      },
    });
    assert.match(a!.knownHosts.split("\n")[0]!, / ssh-rsa /, "the RSA key is pinned first");
    const up = s.up();
    const text = `${up.stdout}\n${up.stderr}`;
    assert.match(
      text,
      new RegExp(`pulling ${image.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(limit 7200s\\)`),
      "the preflight says what it pulls and its limit",
    );
    assert.match(text, /pulled .* in \d+s/);
    assert.doesNotMatch(text, SETENV_REFUSED);
    const file = String(s.stack.outputs().smokeFile);
    assert.ok(file.startsWith(`${s.outputsDir}/`), file);
    assert.equal(readFileSync(file).subarray(0, 8).toString("hex"), "89504e470d0a1a0a");
    assert.deepEqual(stackContainers(s.name, s.view), [`sdwebui-${s.name}`]);
    const merged = inspectContainer(`sdwebui-${s.name}`, s.view).HostConfig.LogConfig.Config;
    assert.equal(merged.labels, "sdwebui.stack", "the engine merged its default log options into the container's");
    assert.ok(
      taggedRules(s.tag(), s.view).some((r) => r.includes(`--ctorigdstport ${ports.a}`)),
      "the rules are on the remote host",
    );
    s.up(["--expect-no-changes"]);
    assert.deepEqual(filesContaining(s.project.stateDir, s.password), []);
    assert.deepEqual(filesContaining(s.project.stateDir, a!.client.privateKey.split("\n")[1]!), [], "nor the ssh key");
  });

  it("the API answers the deployer with the password, and only with it", async (t) => {
    if (!s) return t.skip("needs the root deploy");
    const url = `http://${a!.addr}:${ports.a}/sdapi/v1/sd-models`;
    assert.equal((await httpGet(url, { username: s.username, password: s.password })).status, 200);
    assert.equal((await httpGet(url)).status, 401);
  });

  it("moving the stack to host B runs it there and nowhere else; the old host's rules are gone", (t) => {
    if (!s) return t.skip("needs the root deploy");
    const first = String(s.stack.outputs().smokeFile);
    s.set({ dockerHost: b!.dockerHost(), image: STANDIN_IMAGE });
    const changes = s.stack.changes();
    t.diagnostic(changes.map((c) => `${c.op} ${c.name}`).join(", "));
    assert.ok(
      changes.some((c) => c.name === "sdwebui-container" && c.op === "replace"),
      "the container is replaced onto the new host",
    );
    s.up();
    assert.deepEqual(stackContainers(s.name, s.view), [], "nothing of the stack is left on host A");
    assert.deepEqual(taggedRules(s.tag(), s.view), [], "nor its rules");
    const viewB = { dockerSocket: b!.dockerSocket, netns: b!.ns };
    assert.equal(inspectContainer(`sdwebui-${s.name}`, viewB).State.Running, true, "it runs on host B");
    assert.ok(taggedRules(s.tag(), viewB).length > 0, "guarded there");
    const file = String(s.stack.outputs().smokeFile);
    assert.notEqual(file, first, "proven again on host B");
    s.up(["--expect-no-changes"]);
    s.stack.destroy();
    assert.deepEqual(stackContainers(s.name, viewB), []);
    assert.ok(readFileSync(first).length > 0 && readFileSync(file).length > 0, "both proofs kept");
  });

  it(`as a sudo user (${SUDO_USER}, in the docker group): deploy, prove, no-op, destroy`, async (t) => {
    if (!requireEngine(t) || !requireRemoteHost(t, { sudoUser: true })) return;
    assert.ok(ready, "the hosts started");
    const u = programStack({
      hostPort: ports.sudo,
      remote: { host: a!, user: SUDO_USER, agentSock: agent!.sock },
      settings: { image },
    });
    try {
      const up = u.up();
      assert.doesNotMatch(`${up.stdout}\n${up.stderr}`, SETENV_REFUSED);
      const file = String(u.stack.outputs().smokeFile);
      assert.ok(file.startsWith(`${u.outputsDir}/`), file);
      // The folders step ran through sudo and gave the folder to the image's uid, not to the login.
      assert.equal(inspectContainer(`sdwebui-${u.name}`, u.view).State.Running, true);
      assert.ok(taggedRules(u.tag(), u.view).length > 0, "iptables ran through sudo -n");
      u.up(["--expect-no-changes"]);
      u.stack.destroy();
      assert.deepEqual(stackContainers(u.name, u.view), []);
      assert.deepEqual(taggedRules(u.tag(), u.view), []);
      assert.ok(readFileSync(join(file)).length > 0, "the proof is kept");
    } finally {
      await u.cleanUp();
    }
  });

  it(`tls over ssh as ${SUDO_USER}: internal (the CA's root read through sudo), then files (the proxy reloaded by the login's docker CLI)`, async (t) => {
    if (!requireEngine(t) || !requireRemoteHost(t, { sudoUser: true })) return;
    assert.ok(ready, "the hosts started");
    const caddy = ensureCaddyImage();
    a!.docker(["load"], execFileSync("docker", ["save", caddy], { maxBuffer: 512 * 2 ** 20, timeout: 120_000 }));
    const u = programStack({
      hostPort: ports.tls,
      remote: { host: a!, user: SUDO_USER, agentSock: agent!.sock },
      settings: { image, tls: "internal", tlsProxyImage: caddy },
    });
    try {
      const up = u.up();
      assert.doesNotMatch(`${up.stdout}\n${up.stderr}`, SETENV_REFUSED);
      const api = String(u.stack.outputs().apiUrl);
      assert.equal(api, `https://${a!.addr}:${ports.tls}`);
      const root = String(u.stack.outputs().tlsRootCertificate);
      const auth = { username: u.username, password: u.password };
      assert.equal(
        (await httpsGet(`${api}/sdapi/v1/sd-models`, root, auth)).status,
        200,
        "a client pinning the root reaches the remote API",
      );
      const webui = () => inspectContainer(`sdwebui-${u.name}`, u.view);
      const started = webui().State.StartedAt;

      const ca = makeCa();
      const leaf = makeLeaf(ca, [a!.addr]);
      u.set({ tls: "files", tlsCaRoots: ca.cert });
      u.stack.setConfig({ tlsCertificate: leaf.cert, tlsKey: leaf.key }, ["tlsCertificate", "tlsKey"], "sdwebui");
      u.up();
      const served = await httpsGet(`${api}/sdapi/v1/sd-models`, ca.cert, auth);
      assert.equal(
        served.fingerprint,
        new X509Certificate(leaf.cert).fingerprint256,
        "the given certificate, after a reload on the remote host",
      );
      assert.equal(webui().State.StartedAt, started, "the WebUI kept running");
      u.up(["--expect-no-changes"]);
      u.stack.destroy();
      assert.deepEqual(stackContainers(u.name, u.view), []);
    } finally {
      await u.cleanUp();
    }
  });
});
