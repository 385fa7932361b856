// The Kubernetes target's pure parts (the manifests from settings) and its wiring under Pulumi mocks:
// what the program registers with target: kubernetes, and that no password reaches a pod spec.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { settingDefault, SettingsSchema } from "../../infra/config/schema.js";
import { projectConfigBlock } from "../../infra/config/project-file.js";
import { validateSettings } from "../../infra/config/validate.js";
import {
  deploymentSpec,
  fleetNames,
  networkPolicySpec,
  serviceSpec,
  webuiLaunch,
} from "../../infra/kubernetes/manifests.js";
import { smokeJobSpec } from "../../infra/kubernetes/smoke-job-spec.js";
import { exposureWarnings, serviceExposure } from "../../infra/config/kubernetes-exposure.js";
import type { FleetSettings, WebUiContainerSpec } from "../../infra/kubernetes/manifests.js";
import { PRESETS } from "../../infra/webui/profiles.js";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import {
  allRegistered,
  installMocks,
  MockEngine,
  resolveOutputs,
  setStackConfig,
  unwrapSecrets,
} from "../helpers/pulumi-mocks.js";

const PASSWORD = "k8s-horse-battery-staple-4";
const settings = (extra: Record<string, unknown> = {}): FleetSettings =>
  SettingsSchema.parse({ apiPassword: PASSWORD, target: "kubernetes", ...extra }) as unknown as FleetSettings;

describe("Kubernetes manifests (pure)", () => {
  it("the WebUI's flags name the Secret's variables, never a credential", () => {
    const launch = webuiLaunch(settings(), PRESETS.universonic);
    const args = launch.args!;
    assert.equal(args[args.indexOf("--api-auth") + 1], "$(SDWEBUI_API_AUTH)");
    assert.equal(args[args.indexOf("--gradio-auth") + 1], "$(SDWEBUI_UI_AUTH)");
    assert.ok(!JSON.stringify(launch).includes(PASSWORD));
  });

  it("an env-flags image gets the flags variable after the auth variables it references", () => {
    const spec = deploymentSpec(settings({ imageProfile: "sd-auto" }), PRESETS["sd-auto"], "img:1", "dev", "creds-x");
    const env = (spec.template.spec.containers[0] as WebUiContainerSpec).env as { name: string; value?: string }[];
    const names = env.map((e) => e.name);
    const flagsVar = env.find((e) => e.value?.includes("--api-auth"))!;
    assert.match(flagsVar.value!, /--api-auth \$\(SDWEBUI_API_AUTH\)/);
    assert.ok(names.indexOf("SDWEBUI_API_AUTH") < names.indexOf(flagsVar.name), "defined before it is referenced");
  });

  it("GPUs as the extended resource; gpusPerPod 0 is CPU mode with no GPU limit", () => {
    const gpu = deploymentSpec(
      settings({ gpusPerPod: "2", gpuResource: "amd.com/gpu" }),
      PRESETS.universonic,
      "i:1",
      "dev",
      "s",
    );
    assert.deepEqual((gpu.template.spec.containers[0] as WebUiContainerSpec).resources.limits, { "amd.com/gpu": "2" });
    const cpu = deploymentSpec(settings({ gpusPerPod: "0" }), PRESETS.universonic, "i:1", "dev", "s");
    assert.deepEqual((cpu.template.spec.containers[0] as WebUiContainerSpec).resources.limits, {});
    assert.ok((cpu.template.spec.containers[0] as WebUiContainerSpec).args!.includes("--use-cpu"));
  });

  it("rolls one pod at a time without surging past the GPUs, and shares models read-only across replicas", () => {
    const spec = deploymentSpec(settings({ replicas: "3" }), PRESETS.universonic, "i:1", "dev", "s");
    assert.deepEqual(spec.strategy.rollingUpdate, { maxSurge: 0, maxUnavailable: 1 });
    const models = spec.template.spec.volumes.find((v) => v.name === "models") as {
      persistentVolumeClaim: { readOnly: boolean };
    };
    assert.equal(models.persistentVolumeClaim.readOnly, true);
  });

  it("runtime class, node selector and tolerations reach the pod", () => {
    const spec = deploymentSpec(
      settings({
        runtimeClassName: "nvidia",
        nodeSelector: { "nvidia.com/gpu.present": "true" },
        tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
      }),
      PRESETS.universonic,
      "i:1",
      "dev",
      "s",
    );
    assert.equal(spec.template.spec.runtimeClassName, "nvidia");
    assert.deepEqual(spec.template.spec.nodeSelector, { "nvidia.com/gpu.present": "true" });
    assert.equal(spec.template.spec.tolerations![0]!.operator, "Exists");
  });

  it("firewallAllowlist: source ranges on a LoadBalancer, ipBlocks in the NetworkPolicy", () => {
    const s = settings({ serviceType: "LoadBalancer", firewallAllowlist: ["10.1.0.0/16", "2001:db8::/32"] });
    const svc = serviceSpec(s, PRESETS.universonic, "dev");
    assert.deepEqual(svc.loadBalancerSourceRanges, ["10.1.0.0/16", "2001:db8::/32"]);
    assert.equal(svc.externalTrafficPolicy, "Local", "the client address is kept for the policy");
    assert.equal(svc.sessionAffinity, "ClientIP", "a UI login is one pod's: the client stays on it");
    assert.equal(serviceSpec(settings(), PRESETS.universonic, "dev").loadBalancerSourceRanges, undefined);
    const np = networkPolicySpec(s, PRESETS.universonic, "dev");
    assert.deepEqual(
      np.ingress[0]!.from.flatMap((f) => ("ipBlock" in f ? [f.ipBlock.cidr] : [])),
      ["10.1.0.0/16", "2001:db8::/32"],
    );
    assert.deepEqual(np.ingress[0]!.ports, [{ protocol: "TCP", port: 8080 }]);
  });

  it("the smoke Job mounts the claims read-only where the smoke looks, and reads the passwords from the Secret", () => {
    const job = smokeJobSpec(settings(), PRESETS.universonic, "dev", "http://10.0.0.9:7860", "creds-x");
    const c = job.template.spec.containers[0]!;
    assert.ok(c.volumeMounts.every((m) => m.name === "tmp" || m.readOnly));
    assert.equal(
      c.args[c.args.indexOf("--outputs-dir") + 1],
      "/claims/sdwebui-dev-outputs",
      "named after the claim, for the smoke's hints",
    );
    assert.ok(c.env.every((e) => "valueFrom" in e && e.valueFrom.secretKeyRef.name === "creds-x"));
    assert.equal(job.backoffLimit, 0);
    assert.ok(
      job.template.spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution,
      "beside a WebUI pod when it can, never waiting for one",
    );
  });

  it("names come from the stack, as DNS labels", () => {
    assert.equal(fleetNames("fleet", {}).base, "sdwebui-fleet");
    assert.match(
      fleetNames("Prod_EU.1", {}).base,
      /^sdwebui-prod-eu-1-[0-9a-f]{6}$/,
      "folded: a hash of the stack name keeps it apart",
    );
    assert.notEqual(fleetNames("dev_1", {}).base, fleetNames("dev-1", {}).base);
    assert.ok(fleetNames("x".repeat(80), {}).base.length <= 40);
    assert.deepEqual(fleetNames("dev", { outputsClaim: "mine" }).ownClaims, ["models"]);
  });

  it("the smokeImage default is the image npm run smoke:image builds (the package's version)", () => {
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
    assert.equal(settingDefault("smokeImage"), `sdwebui-smoke:${version}`);
  });
});

describe("the allowlist on Kubernetes: empty means no remote client, as on Docker hosts", () => {
  const ways = (
    serviceType: "ClusterIP" | "NodePort" | "LoadBalancer",
    networkPolicy: boolean,
    firewallAllowlist: string[],
  ) => {
    const e = serviceExposure({ serviceType, networkPolicy, firewallAllowlist });
    const short = (l: string[]) =>
      l.map((w) => (w.includes("cluster IP") ? "clusterIp" : w.includes("node ports") ? "nodePorts" : "loadBalancer"));
    return { unguarded: short(e.unguarded), policyOnly: short(e.policyOnly), any: e.anyAddress };
  };

  it("names the ways in that nothing restricts, and those from outside that only the NetworkPolicy restricts", () => {
    assert.deepEqual(ways("ClusterIP", true, []), { unguarded: [], policyOnly: [], any: [] });
    assert.deepEqual(ways("ClusterIP", false, []), { unguarded: ["clusterIp"], policyOnly: [], any: [] });
    assert.deepEqual(ways("NodePort", true, ["10.0.0.0/8"]), { unguarded: [], policyOnly: ["nodePorts"], any: [] });
    assert.deepEqual(ways("NodePort", false, ["10.0.0.0/8"]), {
      unguarded: ["clusterIp", "nodePorts"],
      policyOnly: [],
      any: [],
    });
    assert.deepEqual(ways("LoadBalancer", true, []), {
      unguarded: [],
      policyOnly: ["nodePorts", "loadBalancer"],
      any: [],
    });
    // Source ranges guard the load balancer's address, never the node ports behind it.
    assert.deepEqual(ways("LoadBalancer", true, ["10.0.0.0/8"]), { unguarded: [], policyOnly: ["nodePorts"], any: [] });
    assert.deepEqual(ways("LoadBalancer", false, ["10.0.0.0/8"]), {
      unguarded: ["clusterIp", "nodePorts"],
      policyOnly: [],
      any: [],
    });
    assert.deepEqual(ways("LoadBalancer", false, []), {
      unguarded: ["clusterIp", "nodePorts", "loadBalancer"],
      policyOnly: [],
      any: [],
    });
    assert.deepEqual(ways("LoadBalancer", false, ["0.0.0.0/0", "::/0"]).any, ["0.0.0.0/0", "::/0"]);
  });

  it("refuses what nothing enforces, unless 0.0.0.0/0 or ::/0 says any address; warns of what only the network plugin enforces", () => {
    const refused = (extra: Record<string, unknown>) => {
      try {
        validateSettings({ apiPassword: PASSWORD, target: "kubernetes", ...extra }, (k) => k === "apiPassword");
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    };
    for (const serviceType of ["ClusterIP", "NodePort", "LoadBalancer"]) {
      assert.match(
        refused({ serviceType, networkPolicy: "false" }),
        /sdwebui:firewallAllowlist = \(not set\): is empty, which means no remote client, but nothing enforces that/,
        serviceType,
      );
      assert.equal(
        refused({ serviceType, networkPolicy: "false", firewallAllowlist: ["0.0.0.0/0"] }),
        "",
        `${serviceType}: any address, said on purpose`,
      );
      assert.equal(refused({ serviceType }), "", `${serviceType}: the NetworkPolicy restricts`);
    }
    const lb = { serviceType: "LoadBalancer" as const, networkPolicy: true, firewallAllowlist: [] };
    assert.match(
      exposureWarnings(lb).join("\n"),
      /only the NetworkPolicy stands between its node ports \(every address that reaches a node\) and the load balancer's address and the WebUI pods/,
    );
    assert.match(
      exposureWarnings({ ...lb, firewallAllowlist: ["10.0.0.0/8"] }).join("\n"),
      /its node ports .*loadBalancerSourceRanges cover the load balancer's address only/,
    );
    assert.match(
      exposureWarnings({ ...lb, networkPolicy: false, firewallAllowlist: ["0.0.0.0/0"] }).join("\n"),
      /holds 0\.0\.0\.0\/0, which admits every address/,
    );
    assert.deepEqual(
      exposureWarnings({ serviceType: "ClusterIP", networkPolicy: true, firewallAllowlist: [] }),
      [],
      "inside the cluster only: no warning",
    );
  });

  it("any address reaches the Service and the NetworkPolicy as written", () => {
    const s = settings({ serviceType: "LoadBalancer", firewallAllowlist: ["0.0.0.0/0", "::/0"] });
    assert.deepEqual(serviceSpec(s, PRESETS.universonic, "dev").loadBalancerSourceRanges, ["0.0.0.0/0", "::/0"]);
    assert.deepEqual(
      networkPolicySpec(s, PRESETS.universonic, "dev").ingress[0]!.from.flatMap((f) =>
        "ipBlock" in f ? [f.ipBlock.cidr] : [],
      ),
      ["0.0.0.0/0", "::/0"],
    );
  });
});

describe("target: kubernetes settings", () => {
  it("the defaults Pulumi.yaml declares reach the program as values, and are not taken for Docker settings set by the user", () => {
    // The engine passes every declared default; Pulumi gives them as strings (lists as JSON text).
    const declared = Object.fromEntries(
      Object.entries(projectConfigBlock()).map(([k, d]) => [
        k,
        typeof d.default === "object" ? JSON.stringify(d.default) : String(d.default),
      ]),
    );
    const { settings: s } = validateSettings(
      { ...declared, target: "kubernetes", apiPassword: PASSWORD },
      (k) => k === "apiPassword",
    );
    assert.equal(s.target, "kubernetes");
    assert.throws(
      () =>
        validateSettings(
          { ...declared, target: "kubernetes", hostPort: "7861", apiPassword: PASSWORD },
          (k) => k === "apiPassword",
        ),
      /hostPort = "7861": is a setting of target docker/,
    );
  });
});

describe("target: kubernetes under mocks", () => {
  let engine: MockEngine;
  let deployStack: () => Promise<Record<string, unknown>>;
  before(async () => {
    // What the API server fills in: the Service's cluster IP, the auto-named Secret's name.
    engine = await installMocks({
      stack: "dev",
      newResource: (args, state) => {
        const inputs = args.inputs as { spec?: object; metadata?: object };
        if (args.type === "kubernetes:core/v1:Service")
          return { ...state, state: { ...inputs, spec: { ...inputs.spec, clusterIP: "10.0.0.10" } } };
        if (args.type === "kubernetes:core/v1:Secret")
          return { ...state, state: { ...inputs, metadata: { ...inputs.metadata, name: `${args.name}-x1y2` } } };
        return state;
      },
    });
    ({ deployStack } = await import("../../infra/program.js"));
  });

  it("registers the fleet component and its Kubernetes objects, and no Docker or command resource", async () => {
    engine.reset();
    setStackConfig({ apiPassword: PASSWORD, target: "kubernetes", replicas: "2" });
    const outputs = await resolveOutputs(await deployStack());
    const fleet = engine.one("sdwebui:index:KubernetesFleet");
    assert.equal(fleet.custom, false);
    const types = engine.resources
      .filter((r) => r !== fleet && r.type !== "pulumi:pulumi:Stack")
      .map((r) => r.type)
      .sort();
    assert.deepEqual(types, [
      "kubernetes:apps/v1:Deployment",
      "kubernetes:batch/v1:Job",
      "kubernetes:core/v1:PersistentVolumeClaim",
      "kubernetes:core/v1:PersistentVolumeClaim",
      "kubernetes:core/v1:Secret",
      "kubernetes:core/v1:Service",
      "kubernetes:core/v1:ServiceAccount",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "kubernetes:rbac.authorization.k8s.io/v1:Role",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
      "pulumi:providers:kubernetes",
    ]);
    assert.ok(!engine.resources.some((r) => r.type.startsWith("docker:") || r.type.startsWith("command:")));
    const deployment = engine.one("kubernetes:apps/v1:Deployment");
    assert.ok(
      !JSON.stringify(unwrapSecrets(deployment.inputs)).includes(PASSWORD),
      "no password in the Deployment's inputs",
    );
    assert.ok("endpoints" in outputs && "smokeJob" in outputs);
    assert.ok(!("warnings" in outputs), "ClusterIP behind the NetworkPolicy: nothing to warn of");
  });

  it("warns at preview, in the stack outputs and the engine's log, when only the NetworkPolicy guards a way in from outside", async () => {
    engine.reset();
    const logged: string[] = [];
    const warn = console.warn;
    // Under mocks the SDK has no engine to send pulumi.log.warn to, and writes it with console.warn.
    console.warn = (m: unknown) => void logged.push(String(m));
    try {
      setStackConfig({ apiPassword: PASSWORD, target: "kubernetes", serviceType: "NodePort" });
      const outputs = await resolveOutputs(await deployStack());
      assert.match(JSON.stringify(outputs.warnings), /only the NetworkPolicy stands between its node ports/);
      // Every registration and log the evaluation started is finished (under mocks a log is written at once).
      await allRegistered();
      assert.ok(
        logged.some((l) => /warning: .*only the NetworkPolicy stands between its node ports/.test(l)),
        logged.join("\n"),
      );
    } finally {
      console.warn = warn;
    }
  });
});
