// The Kubernetes target through the real Pulumi engine and the real Kubernetes provider, on the test
// cluster (test/cluster/cluster.sh: etcd, apiserver, scheduler, controller manager, kubelet on
// containerd, kube-proxy, a fake device plugin with FAKE_GPUS nvidia.com/gpu). The outputs claim is a
// host folder, so "the PNG is on the volume" is checked on this machine's disk.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import type { TestContext } from "node:test";
import type { EngineProject } from "../helpers/pulumi-cli.js";
import { engineProject, filesContaining, requireToolchain } from "../helpers/pulumi-cli.js";
import { FAKE_GPUS, kubeconfigText, requireCluster, stopCluster, STORAGE_CLASS } from "../helpers/cluster.js";
import type { TestCluster } from "../helpers/cluster.js";
import { makeModelsDir, STANDIN_IMAGE } from "../helpers/standin.js";

/** The stand-in under a second tag: a new image for the Deployment, the same bytes. */
const ROLLOUT_IMAGE = STANDIN_IMAGE.replace(/:[^:]+$/, ":rollout");

const PASSWORD = "fleet-secret-value-5521";
const NEW_PASSWORD = "fleet-rotated-value-8804";
const NS = "sdwebui-e2e";
const STACK = "fleet";
const hostRoot = join(tmpdir(), "sdwebui-fleet-volumes");
const outputsDir = join(hostRoot, "outputs");

/** Every PNG under a folder, by its WebUI sequence number (the name's leading digits). */
function pngs(dir: string): { path: string; seq: number }[] {
  const out: { path: string; seq: number }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith(".png"))
        out.push({ path: join(d, e.name), seq: Number(/^(\d+)/.exec(e.name)?.[1] ?? -1) });
    }
  };
  walk(dir);
  return out.sort((a, b) => a.seq - b.seq);
}

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string; runtimeClassName?: string; containers: { env?: { name: string; value?: string }[] }[] };
  status: { phase: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

describe("the Kubernetes target on a real cluster, through the real engine", { concurrency: false }, () => {
  let cluster: TestCluster | undefined;
  let project: EngineProject | undefined;
  let failed = false;
  const need = (t: TestContext) => {
    if (failed) return (t.skip("an earlier step failed"), false);
    if (!project) setUp(t);
    return Boolean(cluster && project);
  };
  const up = (extra: string[] = []) => project!.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK, ...extra]);
  const set = (key: string, value: string, ...flags: string[]) => {
    // The value on stdin: it may start with "-" (--medvram), and a kubeconfig is long.
    const r = project!.pulumi(["config", "set", ...flags, "--stack", STACK, `sdwebui:${key}`], value);
    assert.equal(r.status, 0, r.stderr);
  };
  const webuiPods = () =>
    cluster!.json<{ items: Pod[] }>(["-n", NS, "get", "pods", "-l", "app.kubernetes.io/component=webui"]).items;

  /** Once, from the first test (a skip needs a test's context): the cluster, the namespace, the volumes, the stack. */
  function setUp(t: TestContext) {
    if (!requireToolchain(t)) return;
    cluster = requireCluster(t);
    if (!cluster) return;
    rmSync(hostRoot, { recursive: true, force: true });
    cluster.kubectl(["delete", "namespace", NS, "--wait=true", "--ignore-not-found"]);
    for (const pv of ["sdwebui-e2e-outputs", "sdwebui-e2e-models"])
      cluster.kubectl(["delete", "pv", pv, "--ignore-not-found"]);
    assert.equal(cluster.kubectl(["create", "namespace", NS]).status, 0);
    cluster.hostFolderVolume("sdwebui-e2e-outputs", outputsDir, { namespace: NS, name: "sdwebui-fleet-outputs" });
    cluster.hostFolderVolume("sdwebui-e2e-models", makeModelsDir(join(hostRoot, "models")), {
      namespace: NS,
      name: "sdwebui-fleet-models",
    });
    project = engineProject("fleet");
    assert.equal(project.pulumi(["stack", "init", STACK]).status, 0);
    set("target", "kubernetes");
    set("kubeconfig", kubeconfigText(cluster), "--secret");
    set("apiPassword", PASSWORD, "--secret");
    set("image", STANDIN_IMAGE);
    set("namespace", NS);
    set("replicas", String(FAKE_GPUS));
    set("runtimeClassName", "nvidia");
    set("storageClass", STORAGE_CLASS);
    set("outputsStorageSize", "1Gi");
    set("modelsStorageSize", "1Gi");
    set("firewallAllowlist[0]", "10.99.0.0/24", "--path");
    set("rolloutTimeoutSeconds", "60");
    set("smokeTimeoutSeconds", "120");
  }
  after(() => {
    project?.cleanUp();
    stopCluster();
    rmSync(hostRoot, { recursive: true, force: true });
  });

  it(`replicas = ${FAKE_GPUS} fake GPUs: every pod Running on its own device, the smoke Job proves the PNG on the volume`, (t) => {
    if (!need(t)) return;
    failed = true;
    const r = up();
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const pods = webuiPods();
    assert.equal(pods.length, FAKE_GPUS);
    for (const p of pods) {
      assert.equal(p.status.phase, "Running", p.metadata.name);
      assert.equal(p.spec.runtimeClassName, "nvidia", "the GPU runtime class (its handler is plain runc here)");
    }
    const devices = pods.map((p) => {
      const exec = cluster!.kubectl([
        "-n",
        NS,
        "exec",
        p.metadata.name,
        "--",
        "/usr/bin/node",
        "-e",
        "console.log(process.env.NVIDIA_VISIBLE_DEVICES)",
      ]);
      assert.equal(exec.status, 0, exec.stderr);
      return exec.stdout.trim();
    });
    assert.equal(new Set(devices).size, FAKE_GPUS, `one device each: ${devices.join(", ")}`);
    const files = pngs(outputsDir);
    assert.equal(files.length, 1, "the smoke's one image is in the outputs claim's host folder");
    assert.ok(statSync(files[0]!.path).size > 0);
    const outputs = JSON.parse(project!.pulumi(["stack", "output", "--json", "--stack", STACK]).stdout) as Record<
      string,
      unknown
    >;
    assert.match(String(outputs.smokeJob), /^sdwebui-fleet-smoke-[0-9a-f]{10}$/);
    assert.match(String(outputs.apiUrl), /^http:\/\/10\.223\.0\.\d+:7860$/);
    const job = cluster!.json<{ status: { succeeded?: number } }>(["-n", NS, "get", "job", String(outputs.smokeJob)]);
    assert.equal(job.status.succeeded, 1);
    failed = false;
  });

  it("no password in the pod spec, the stack state, the engine's output or the Job's log; no kubeconfig key in the state", (t) => {
    if (!need(t)) return;
    const deployment = cluster!.kubectl(["-n", NS, "get", "deployment", "sdwebui-fleet", "-o", "json"]);
    assert.equal(deployment.status, 0, deployment.stderr);
    assert.ok(!deployment.stdout.includes(PASSWORD), "the Deployment names the Secret's keys, never the value");
    assert.match(deployment.stdout, /\$\(SDWEBUI_API_AUTH\)/);
    const jobs = cluster!.kubectl(["-n", NS, "logs", "-l", "app.kubernetes.io/component=smoke", "--tail=-1"]);
    assert.ok(!jobs.stdout.includes(PASSWORD));
    assert.deepEqual(filesContaining(project!.dir, PASSWORD), [], "state and history hold it encrypted only");
    const clientKey = /client-key-data: (\S+)/.exec(kubeconfigText(cluster!))![1]!;
    assert.deepEqual(
      filesContaining(project!.dir, clientKey.slice(0, 60)),
      [],
      "the kubeconfig setting is a secret in the state too",
    );
  });

  it("the NetworkPolicy is declared from firewallAllowlist (plus the smoke Job's pods)", (t) => {
    if (!need(t)) return;
    const np = cluster!.json<{
      spec: { ingress: { from: { ipBlock?: { cidr: string }; podSelector?: unknown }[]; ports: { port: number }[] }[] };
    }>(["-n", NS, "get", "networkpolicy", "sdwebui-fleet-ingress"]);
    const from = np.spec.ingress[0]!.from;
    assert.deepEqual(
      from.filter((f) => f.ipBlock).map((f) => f.ipBlock!.cidr),
      ["10.99.0.0/24"],
    );
    assert.equal(from.filter((f) => f.podSelector).length, 1, "the smoke Job's pods");
    assert.deepEqual(
      np.spec.ingress[0]!.ports.map((p) => p.port),
      [8080],
      "the WebUI port only",
    );
  });

  it("pulumi up --expect-no-changes after the deploy", (t) => {
    if (!need(t)) return;
    const r = up(["--expect-no-changes"]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  });

  it("an image and flag change rolls out and proves again with a new smoke Job", (t) => {
    if (!need(t)) return;
    failed = true;
    const before = JSON.parse(
      project!.pulumi(["stack", "output", "smokeJob", "--json", "--stack", STACK]).stdout,
    ) as string;
    // The same stand-in under a second tag: a new image reference for the Deployment.
    assert.equal(spawnSync("docker", ["tag", STANDIN_IMAGE, ROLLOUT_IMAGE]).status, 0);
    cluster!.load(ROLLOUT_IMAGE);
    set("image", ROLLOUT_IMAGE);
    set("extraArgs[0]", "--medvram", "--path");
    const r = up();
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const after = JSON.parse(
      project!.pulumi(["stack", "output", "smokeJob", "--json", "--stack", STACK]).stdout,
    ) as string;
    assert.notEqual(after, before, "a new Job ran");
    const webui = cluster!.json<{ spec: { template: { spec: { containers: { args: string[]; image: string }[] } } } }>([
      "-n",
      NS,
      "get",
      "deployment",
      "sdwebui-fleet",
    ]).spec.template.spec.containers[0]!;
    assert.ok(webui.args.includes("--medvram"));
    assert.equal(webui.image, ROLLOUT_IMAGE);
    for (const p of webuiPods()) assert.equal(p.status.phase, "Running");
    assert.equal(pngs(outputsDir).length, 2, "a second proof image");
    failed = false;
  });

  it("a new password is a new Secret: the pods roll, the old Secret goes, the smoke proves with the new one", (t) => {
    if (!need(t)) return;
    failed = true;
    const secretOf = () =>
      cluster!
        .json<{
          spec: {
            template: { spec: { containers: { env: { valueFrom?: { secretKeyRef?: { name: string } } }[] }[] } };
          };
        }>(["-n", NS, "get", "deployment", "sdwebui-fleet"])
        .spec.template.spec.containers[0]!.env.find((e) => e.valueFrom?.secretKeyRef)!.valueFrom!.secretKeyRef!.name;
    const before = secretOf();
    set("apiPassword", NEW_PASSWORD, "--secret");
    const r = up();
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.notEqual(secretOf(), before, "the pod template names the new Secret");
    assert.notEqual(cluster!.kubectl(["-n", NS, "get", "secret", before]).status, 0, "the old Secret is deleted");
    assert.equal(pngs(outputsDir).length, 3, "the proof ran again, with the new password");
    assert.deepEqual(filesContaining(project!.dir, NEW_PASSWORD), []);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(NEW_PASSWORD));
    failed = false;
  });

  it(`replicas = ${FAKE_GPUS + 1}: one pod Pending, and pulumi up says the GPUs are short`, (t) => {
    if (!need(t)) return;
    set("replicas", String(FAKE_GPUS + 1));
    const t0 = Date.now();
    const r = up();
    const seconds = (Date.now() - t0) / 1000;
    const text = `${r.stdout}\n${r.stderr}`;
    assert.notEqual(r.status, 0, text);
    assert.match(text, /Insufficient nvidia\.com\/gpu/, "the scheduler's reason reaches the user");
    assert.match(text, /gpus-short, exit 27/, "as its own failure class");
    t.diagnostic(`pulumi up failed in ${seconds.toFixed(0)} s: ${/cannot be scheduled[^\n]*/.exec(text)?.[0] ?? ""}`);
    assert.ok(seconds < 60 + 90, `failed within the rollout limit (took ${seconds.toFixed(0)} s)`);
    const pending = webuiPods().filter((p) => p.status.phase === "Pending");
    assert.equal(pending.length, 1);
    set("replicas", String(FAKE_GPUS));
    const back = up();
    assert.equal(back.status, 0, `${back.stdout}\n${back.stderr}`);
  });

  it("destroy keeps the volume's files; recreate continues the counter", (t) => {
    if (!need(t)) return;
    const before = pngs(outputsDir);
    const down = project!.pulumi(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
    assert.equal(down.status, 0, `${down.stdout}\n${down.stderr}`);
    assert.deepEqual(
      pngs(outputsDir).map((f) => f.path),
      before.map((f) => f.path),
      "every image is still on the disk",
    );
    assert.equal(
      cluster!.kubectl(["-n", NS, "get", "pvc", "sdwebui-fleet-outputs"]).status,
      0,
      "the claim is kept (retainOnDelete)",
    );
    // The Deployment is gone; its pods go after their grace period.
    for (let i = 0; i < 60 && webuiPods().length > 0; i++) spawnSync("sleep", ["1"]);
    assert.equal(webuiPods().length, 0, "the pods are gone");
    const again = up();
    assert.equal(again.status, 0, `${again.stdout}\n${again.stderr}`);
    const now = pngs(outputsDir);
    assert.equal(now.length, before.length + 1);
    // The WebUI numbers images per dated folder: the new one continues its folder's count (a run that
    // crosses midnight UTC starts a new folder at 00000).
    const added = now.find((f) => !before.some((b) => b.path === f.path))!;
    const sameFolder = before.filter((b) => dirname(b.path) === dirname(added.path));
    if (sameFolder.length > 0)
      assert.ok(
        added.seq > Math.max(...sameFolder.map((b) => b.seq)),
        `numbering continues: ${sameFolder.at(-1)!.seq} then ${added.seq}`,
      );
    else assert.equal(added.seq, 0, "a new dated folder starts at 00000");
  });
});
