// Scale-out through the real CLI: `hosts` lists two remote hosts (stock sshd, own engines with the stand-in
// NVIDIA hook, so Docker's GPU path runs up to the hook), two GPUs on one and one on the other: one
// container per GPU, each with its own device, port, outputs sub-folder, firewall rules and proof; the
// models folder shared read-only; all in the stack outputs; destroy removes the containers and rules and
// keeps every proof.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { firewallRuleSet } from "../../infra/firewall/rules.js";
import {
  ensureSmokeBuilt,
  inspectContainer,
  stackContainers,
  taggedRules,
  type HostView,
} from "../helpers/host-state.js";
import { requireEngine } from "../helpers/pulumi-cli.js";
import { requireRemoteHost, startRemoteHost, type RemoteHost } from "../helpers/remote-host.js";
import { startAgent, type SshAgent } from "../helpers/ssh-agent.js";
import { ensureStandinImage, STANDIN_IMAGE } from "../helpers/standin.js";
import { programStack } from "./fixture.js";

let hosts: RemoteHost[] = [];
let agent: SshAgent | undefined;
before(async () => {
  if (process.getuid?.() !== 0) return;
  ensureStandinImage();
  ensureSmokeBuilt();
  hosts = [
    await startRemoteHost({ nvidiaHook: true, images: [STANDIN_IMAGE] }),
    await startRemoteHost({ nvidiaHook: true, images: [STANDIN_IMAGE] }),
  ];
  agent = await startAgent(
    hosts[0]!.dir,
    hosts.map((h) => h.client.file),
  );
});
after(async () => {
  await agent?.stop();
  for (const h of hosts) await h.stop();
});

test(
  "two hosts, three GPUs: a container per GPU with its device, port, sub-folder, rules and proof",
  { timeout: 600_000 },
  async (t) => {
    if (!requireEngine(t) || !requireRemoteHost(t)) return;
    const [a, b] = hosts as [RemoteHost, RemoteHost];
    const port = 7860;
    const s = programStack({
      hostPort: port,
      remote: { host: a, agentSock: agent!.sock },
      settings: {
        dockerHost: undefined,
        gpus: undefined,
        hosts: [`${a.dockerHost()}#0,1`, `${b.dockerHost()}#1`],
        sshKnownHosts: `${a.knownHosts}\n${b.knownHosts}`,
        firewallAllowlist: [`${a.peerAddr}/32`, `${b.peerAddr}/32`],
      },
    });
    t.after(async () => {
      await s.cleanUp();
      for (const h of [a, b])
        for (const c of stackContainers(s.name, { dockerSocket: h.dockerSocket })) h.docker(["rm", "-f", c]);
    });
    const t0 = Date.now();
    s.up();
    t.diagnostic(`deploy of 3 containers on 2 hosts with 3 proofs: ${Date.now() - t0} ms`);

    const expected: { host: RemoteHost; view: HostView; slot: string; device: string; port: number }[] = [
      { host: a, view: { dockerSocket: a.dockerSocket, netns: a.ns }, slot: "gpu0", device: "0", port },
      { host: a, view: { dockerSocket: a.dockerSocket, netns: a.ns }, slot: "gpu1", device: "1", port: port + 1 },
      { host: b, view: { dockerSocket: b.dockerSocket, netns: b.ns }, slot: "gpu1", device: "1", port },
    ];
    for (const e of expected) {
      const name = `sdwebui-${s.name}-${e.slot}`;
      const c = inspectContainer(name, e.view);
      assert.equal(c.State.Running, true, `${name} runs on ${e.host.addr}`);
      assert.deepEqual(
        c.HostConfig.DeviceRequests?.map((d) => [d.Driver, d.DeviceIDs]),
        [["nvidia", [e.device]]],
        `${name} asks for GPU ${e.device} alone`,
      );
      assert.equal(c.HostConfig.PortBindings["8080/tcp"]?.[0]?.HostPort, String(e.port));
      const outputs = c.Mounts.find((m) => m.Destination.endsWith("/outputs"))!;
      const models = c.Mounts.find((m) => m.Destination.endsWith("/models"))!;
      assert.deepEqual([outputs.Source, outputs.RW], [join(s.outputsDir, e.slot), true]);
      const shared = e.host === a;
      assert.deepEqual(
        [models.Source, models.RW],
        [s.modelsDir, !shared],
        shared ? "two containers share the models folder read-only" : "one container: read-write",
      );
      const tag = s.tag(e.port);
      assert.equal(
        taggedRules(tag, e.view).length,
        firewallRuleSet({ tag, port: e.port, allowlist: s.settings.firewallAllowlist as string[] }).rules.iptables
          .length,
        `complete rules for ${tag} on ${e.host.addr}`,
      );
    }
    // Docker's own NVIDIA path ran: the hook saw each container's device.
    assert.deepEqual(
      a
        .gpuHookCalls()
        .map((l) => l.split(" ")[1])
        .sort(),
      ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_VISIBLE_DEVICES=1"],
    );
    assert.deepEqual(
      b.gpuHookCalls().map((l) => l.split(" ")[1]),
      ["NVIDIA_VISIBLE_DEVICES=1"],
    );

    const endpoints = s.stack.outputs().endpoints as {
      host: string;
      apiUrl: string;
      outputsDir: string;
      containerName: string;
      smokeFile: string;
    }[];
    assert.deepEqual(
      endpoints.map((e) => [e.apiUrl, e.outputsDir, e.containerName]),
      expected.map((e) => [
        `http://${e.host.addr}:${e.port}`,
        join(s.outputsDir, e.slot),
        `sdwebui-${s.name}-${e.slot}`,
      ]),
    );
    for (const e of endpoints)
      assert.ok(e.smokeFile.startsWith(`${e.outputsDir}/`) && existsSync(e.smokeFile), `its own proof: ${e.smokeFile}`);
    s.up(["--expect-no-changes"]);

    s.stack.destroy();
    for (const e of expected) {
      assert.deepEqual(stackContainers(s.name, e.view), []);
      assert.deepEqual(taggedRules(s.tag(e.port), e.view), []);
    }
    for (const e of endpoints) assert.ok(existsSync(e.smokeFile), `${e.smokeFile} kept`);
  },
);
