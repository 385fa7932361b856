// tls internal on the test cluster, through the real Pulumi engine and the real Kubernetes provider: Caddy in
// every WebUI pod, all issuing from the one CA the Job keeps in a Secret; the Service offers only the proxy's
// port; the smoke Job pins the CA and proves the PNG over HTTPS; a client pinning the root reaches every pod;
// destroy leaves the CA Secret, and a recreate issues from the same root.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { TestContext } from "node:test";
import type { EngineProject } from "../helpers/pulumi-cli.js";
import { engineProject, requireToolchain } from "../helpers/pulumi-cli.js";
import { FAKE_GPUS, kubeconfigText, requireCluster, stopCluster, STORAGE_CLASS } from "../helpers/cluster.js";
import type { TestCluster } from "../helpers/cluster.js";
import { makeModelsDir, STANDIN_IMAGE } from "../helpers/standin.js";
import { ensureCaddyImage } from "../helpers/tls-builds.js";
import { makeCa, makeLeaf } from "../helpers/certs.js";
import { PROXY_PORTS } from "../../infra/tls/caddyfile.js";

const NS = "sdwebui-tls";
const STACK = "tlsk";
const BASE = `sdwebui-${STACK}`;
const hostRoot = join(tmpdir(), "sdwebui-tls-volumes");

/** GET over HTTPS to `host:port` trusting only `ca`, naming `servername`: the status and the leaf's issuer, or the error. */
function get(
  host: string,
  port: number,
  ca: string,
  servername?: string,
): Promise<{ status: number; issuerCa: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path: "/sdapi/v1/options",
        ca,
        ...(servername ? { servername, headers: { host: servername } } : {}),
        agent: false,
        timeout: 15_000,
      },
      (res) => {
        const cert = (res.socket as import("node:tls").TLSSocket).getPeerCertificate(true);
        res.resume();
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            issuerCa: String(cert.issuerCertificate?.subject?.CN ?? ""),
            fingerprint: cert.fingerprint256,
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

describe("tls internal on a real cluster, through the real engine", { concurrency: false }, () => {
  let cluster: TestCluster | undefined;
  let project: EngineProject | undefined;
  let failed = false;
  let root = "";
  const need = (t: TestContext) => {
    if (failed) return (t.skip("an earlier step failed"), false);
    if (!project) setUp(t);
    return Boolean(cluster && project);
  };
  const up = (extra: string[] = []) => project!.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK, ...extra]);
  const set = (key: string, value: string, ...flags: string[]) => {
    const r = project!.pulumi(["config", "set", ...flags, "--stack", STACK, `sdwebui:${key}`], value);
    assert.equal(r.status, 0, r.stderr);
  };
  const caRoot = () =>
    Buffer.from(
      cluster!.json<{ data: Record<string, string> }>(["-n", NS, "get", "secret", `${BASE}-tls-ca`]).data["root.crt"]!,
      "base64",
    ).toString();
  const clusterIp = () =>
    cluster!.json<{ spec: { clusterIP: string } }>(["-n", NS, "get", "service", BASE]).spec.clusterIP;

  function setUp(t: TestContext) {
    if (!requireToolchain(t)) return;
    cluster = requireCluster(t);
    if (!cluster) return;
    const caddy = ensureCaddyImage();
    cluster.load(caddy);
    rmSync(hostRoot, { recursive: true, force: true });
    cluster.kubectl(["delete", "namespace", NS, "--wait=true", "--ignore-not-found"]);
    for (const pv of ["sdwebui-tls-outputs", "sdwebui-tls-models"])
      cluster.kubectl(["delete", "pv", pv, "--ignore-not-found"]);
    assert.equal(cluster.kubectl(["create", "namespace", NS]).status, 0);
    cluster.hostFolderVolume("sdwebui-tls-outputs", join(hostRoot, "outputs"), {
      namespace: NS,
      name: `${BASE}-outputs`,
    });
    cluster.hostFolderVolume("sdwebui-tls-models", makeModelsDir(join(hostRoot, "models")), {
      namespace: NS,
      name: `${BASE}-models`,
    });
    project = engineProject("tlsk");
    assert.equal(project.pulumi(["stack", "init", STACK]).status, 0);
    for (const [k, v] of [
      ["target", "kubernetes"],
      ["image", STANDIN_IMAGE],
      ["namespace", NS],
      ["replicas", String(FAKE_GPUS)],
      ["storageClass", STORAGE_CLASS],
      ["outputsStorageSize", "1Gi"],
      ["modelsStorageSize", "1Gi"],
      ["rolloutTimeoutSeconds", "90"],
      ["smokeTimeoutSeconds", "120"],
      ["tls", "internal"],
      ["tlsProxyImage", caddy],
    ])
      set(k!, v!);
    set("kubeconfig", kubeconfigText(cluster), "--secret");
    set("apiPassword", "fleet-tls-secret-7702", "--secret");
    set("firewallAllowlist[0]", "10.99.0.0/24", "--path");
  }
  after(() => {
    project?.cleanUp();
    cluster?.kubectl(["delete", "namespace", NS, "--wait=false", "--ignore-not-found"]);
    stopCluster();
    rmSync(hostRoot, { recursive: true, force: true });
  });

  it(`replicas = ${FAKE_GPUS}: the smoke Job proves the PNG over HTTPS pinning the CA the Job keeps; only the proxy's port is served`, (t) => {
    if (!need(t)) return;
    failed = true;
    const r = up();
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const outputs = JSON.parse(project!.pulumi(["stack", "output", "--json", "--stack", STACK]).stdout) as Record<
      string,
      unknown
    >;
    assert.match(String(outputs.apiUrl), /^https:\/\//);
    root = caRoot();
    assert.ok(new X509Certificate(root).ca, "the Secret holds a CA root");
    const service = cluster!.json<{ spec: { ports: { name: string; targetPort: string | number }[] } }>([
      "-n",
      NS,
      "get",
      "service",
      BASE,
    ]);
    assert.deepEqual(
      service.spec.ports.map((p) => [p.name, p.targetPort]),
      [["https", "https"]],
      "the WebUI's own port is not in the Service",
    );
    const np = cluster!.json<{ spec: { ingress: { ports: { port: number }[] }[] } }>([
      "-n",
      NS,
      "get",
      "networkpolicy",
      `${BASE}-ingress`,
    ]);
    assert.deepEqual(
      np.spec.ingress[0]!.ports.map((p) => p.port),
      [PROXY_PORTS.https],
    );
    failed = false;
  });

  it("every pod's proxy serves a certificate from the one root: a client pinning it reaches each pod", async (t) => {
    if (!need(t)) return;
    const pods = cluster!.json<{ items: { status: { podIP: string } }[] }>([
      "-n",
      NS,
      "get",
      "pods",
      "-l",
      "app.kubernetes.io/component=webui",
    ]).items;
    assert.equal(pods.length, FAKE_GPUS);
    for (const p of pods) {
      const answer = await get(p.status.podIP, PROXY_PORTS.https, root, `${BASE}.${NS}.svc`);
      assert.equal(answer.status, 401, "the proxy passes the request to the WebUI, which wants its password");
    }
    const viaService = await get(clusterIp(), 7860, root);
    assert.equal(viaService.status, 401, "the Service's cluster IP is a name of the certificate");
  });

  it("pulumi up --expect-no-changes after the deploy", (t) => {
    if (!need(t)) return;
    const r = up(["--expect-no-changes"]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  });

  it("destroy leaves the CA Secret; a recreate issues from the same root, so the old pin still works", async (t) => {
    if (!need(t)) return;
    const down = project!.pulumi(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
    assert.equal(down.status, 0, `${down.stdout}\n${down.stderr}`);
    assert.equal(caRoot(), root, "the CA outlives the stack");
    const again = up();
    assert.equal(again.status, 0, `${again.stdout}\n${again.stderr}`);
    assert.equal(caRoot(), root, "the same CA");
    assert.equal((await get(clusterIp(), 7860, root)).status, 401);
  });

  it("tls files: the pods serve the given certificate for tlsDomain, and the smoke Job checks it against that name", async (t) => {
    if (!need(t)) return;
    const ca = makeCa();
    const leaf = makeLeaf(ca, ["sd.cluster.test"]);
    set("tls", "files");
    set("tlsDomain", "sd.cluster.test");
    set("tlsCaRoots", ca.cert);
    set("tlsCertificate", leaf.cert, "--secret");
    set("tlsKey", leaf.key, "--secret");
    const r = up();
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const served = await get(clusterIp(), 7860, ca.cert, "sd.cluster.test");
    assert.equal(
      served.fingerprint,
      new X509Certificate(leaf.cert).fingerprint256,
      "the given certificate, from every pod behind the Service",
    );
    assert.ok(!`${r.stdout}${r.stderr}`.includes(leaf.key.split("\n")[1]!), "the key in no output");
  });
});
