// Several hosts and GPUs from one stack, and remote (ssh://) hosts, evaluated under mocks.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { hostLayouts } from "../../infra/docker/host-layout.js";
import {
  installMocks,
  MockEngine,
  resolveOutputs,
  setStackConfig,
  unwrapSecrets,
  visiblePart,
} from "../helpers/pulumi-mocks.js";

const PASSWORD = "correct-horse-battery-9";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
const KNOWN = "gpu-1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
let engine: MockEngine;
let deployStack: () => Promise<Record<string, unknown>>;

before(async () => {
  engine = await installMocks({ stack: "lab" });
  ({ deployStack } = await import("../../infra/program.js"));
});

async function evaluate(settings: Record<string, unknown>) {
  engine.reset();
  setStackConfig({ apiPassword: PASSWORD, ...settings });
  return resolveOutputs(await deployStack());
}
const inputsOf = (r: { inputs: Record<string, unknown> }) => unwrapSecrets(r.inputs) as Record<string, unknown>;

describe("host layouts (pure)", () => {
  const base = {
    hosts: [] as string[],
    dockerHost: "unix:///var/run/docker.sock",
    gpus: "all",
    hostPort: 7860,
    outputsDir: "/o",
    bindAddress: "0.0.0.0",
  };
  it("one host, one container by default", () => {
    const [h] = hostLayouts(base, "dev");
    assert.equal(h!.instances.length, 1);
    assert.deepEqual(h!.instances[0], {
      slot: "",
      gpus: { kind: "all" },
      hostPort: 7860,
      outputsDir: "/o",
      containerName: "sdwebui-dev",
      firewallTag: "sdwebui.dev.7860",
    });
  });
  it("one container per GPU with consecutive ports and own outputs sub-folders", () => {
    const plan = hostLayouts({ ...base, hosts: ["ssh://ops@gpu-1#0,1", "unix:///var/run/docker.sock#cpu:2"] }, "lab");
    assert.deepEqual(
      plan.map((h) => [h.key, h.apiHost, h.sharedModels]),
      [
        ["gpu-1", "gpu-1", true],
        ["local", "127.0.0.1", true],
      ],
    );
    assert.deepEqual(
      plan[0]!.instances.map((i) => [
        `${plan[0]!.key}-${i.slot}`,
        i.hostPort,
        i.outputsDir,
        i.containerName,
        i.firewallTag,
      ]),
      [
        ["gpu-1-gpu0", 7860, "/o/gpu0", "sdwebui-lab-gpu0", "sdwebui.lab.7860"],
        ["gpu-1-gpu1", 7861, "/o/gpu1", "sdwebui-lab-gpu1", "sdwebui.lab.7861"],
      ],
    );
    assert.deepEqual(plan[0]!.instances[1]!.gpus, { kind: "devices", ids: ["1"] });
    assert.deepEqual(
      plan[1]!.instances.map((i) => i.gpus.kind),
      ["none", "none"],
    );
  });
});

describe("scale-out under mocks", () => {
  it("one component per host; per container: pinned GPU, own port, own outputs, firewall, smoke; shared read-only models", async () => {
    const out = await evaluate({
      hosts: ["ssh://root@gpu-1#0,1", "ssh://ops@gpu-2:2222#3"],
      sshKnownHosts: KNOWN,
      sshPrivateKey: KEY,
    });
    assert.equal(engine.byType("sdwebui:index:WebUi").length, 2);
    // In the hosts' and GPUs' order: registration order depends on when each one's inputs resolve.
    const containers = engine
      .byType("docker:index/container:Container")
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(inputsOf);
    assert.deepEqual(
      containers.map((c) => (c.deviceRequests as { deviceIds: string[] }[])[0]!.deviceIds),
      [["0"], ["1"], ["3"]],
    );
    assert.deepEqual(
      containers.map((c) => (c.ports as { external: number }[])[0]!.external),
      [7860, 7861, 7860],
    );
    assert.deepEqual(
      containers.map((c) =>
        (c.mounts as { source: string; readOnly: boolean }[]).map((m) => `${m.source}:${m.readOnly}`),
      ),
      [
        ["/srv/sd-webui/outputs/gpu0:false", "/srv/sd-webui/models:true"],
        ["/srv/sd-webui/outputs/gpu1:false", "/srv/sd-webui/models:true"],
        [
          "/srv/sd-webui/outputs/gpu3:false",
          "/srv/sd-webui/models:false",
          "/srv/sd-webui/models/Stable-diffusion:true",
        ],
      ],
    );
    const remote = engine.byType("command:remote:Command");
    assert.equal(
      remote.filter((r) => r.name.includes("-firewall-")).length,
      3,
      "firewall rules per port, on the host itself",
    );
    assert.equal(remote.filter((r) => r.name.endsWith("-folders")).length, 2);
    assert.equal(
      engine.byType("command:local:Command").filter((r) => r.name.endsWith("-smoke")).length,
      3,
      "a proof per container, run from the deployer",
    );
    const endpoints = out.endpoints as { host: string; apiUrl: string }[];
    assert.deepEqual(
      endpoints.map((e) => e.apiUrl),
      ["http://gpu-1:7860", "http://gpu-1:7861", "http://gpu-2:7860"],
    );
    const ids = engine.resources.map((r) => `${r.type}::${r.name}`);
    assert.equal(new Set(ids).size, ids.length, "no two resources of one type share a name");
  });

  it("remote hosts: docker over ssh with pinned host keys, non-root logins use sudo, the key stays secret", async () => {
    await evaluate({ dockerHost: "ssh://ops@gpu-1:2222", sshKnownHosts: KNOWN, sshPrivateKey: KEY });
    const provider = inputsOf(engine.one("pulumi:providers:docker"));
    assert.equal(provider.host, "ssh://ops@gpu-1:2222");
    assert.ok((provider.sshOpts as string[]).includes("StrictHostKeyChecking=yes"));
    const folders = engine.byType("command:remote:Command").find((r) => r.name.endsWith("-folders"))!;
    const conn = inputsOf(folders).connection as Record<string, unknown>;
    assert.deepEqual(
      [conn.host, conn.port, conn.user, conn.hostKey],
      ["gpu-1", 2222, "ops", KNOWN.split(" ").slice(1).join(" ")],
    );
    assert.match(String(inputsOf(folders).create), /^sudo -n sh -c /);
    const smoke = engine.byType("command:local:Command").find((r) => r.name.endsWith("-smoke"))!;
    assert.match(String(inputsOf(smoke).create), /--ssh-host gpu-1 --ssh-user ops --ssh-port 2222 --ssh-identity-env /);
    for (const r of engine.resources)
      assert.ok(!visiblePart(r.inputs).includes("b3BlbnNzaC1rZXktdjEAAAAA"), `${r.name} shows the key`);
  });
});
