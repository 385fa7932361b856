// The settings of the Kubernetes target, and which settings belong to which target. Names, sizes and
// selectors are checked with the rules the API server applies to them, so a bad value is refused by
// the program before anything is sent to the cluster.
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { boolean, imageRef, integer, list, parseJsonText } from "./fields.js";
import { DEFAULTS as SMOKE_DEFAULTS } from "../../smoke/cli-flags.js";

export const TARGETS = ["docker", "kubernetes"] as const;
export type Target = (typeof TARGETS)[number];
export const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer"] as const;

/** A DNS-1123 label (namespace, claim and class names, runtimeClassName), as the API server checks it. */
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS-1123 label: lower-case letters, digits and -, starting and ending with a letter or digit")
  .max(63, "must be at most 63 characters");
/** A DNS-1123 subdomain (storage class names may hold dots). */
const dnsSubdomain = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "must be a DNS-1123 subdomain: lower-case letters, digits, - and .")
  .max(253, "must be at most 253 characters");
/** A label or resource key: an optional DNS subdomain prefix and a name (nvidia.com/gpu, node.kubernetes.io/instance-type). */
const qualifiedName = z.string().regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
  "must be a qualified name: [prefix/]name, e.g. nvidia.com/gpu");
const labelValue = z.string().regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/, "must be a label value: at most 63 letters, digits, - _ . starting and ending with a letter or digit");
/** A storage quantity as resource.Quantity parses it (20Gi, 500G), and more than zero. */
const storageSize = z.string().regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/, "must be a storage quantity such as 20Gi or 500G")
  .refine((s) => Number.parseFloat(s) > 0, "must be more than zero");

export const toleration = z.object({
  key: qualifiedName.optional(),
  operator: z.enum(["Equal", "Exists"], { error: "must be Equal or Exists" }).default("Equal"),
  value: labelValue.optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], { error: "must be NoSchedule, PreferNoSchedule or NoExecute" }).optional(),
  tolerationSeconds: integer(0, 2 ** 31 - 1, "seconds a NoExecute taint is tolerated").optional(),
}).strict().refine((t) => !(t.operator === "Exists" && t.value !== undefined), "operator Exists takes no value")
  .refine((t) => t.key !== undefined || t.operator === "Exists", "a toleration without a key needs operator: Exists");

/** A kubeconfig's text: YAML with at least one context (the provider reads the same document). */
export const kubeconfig = z.string().superRefine((text, ctx) => {
  let doc: unknown;
  try {
    // logLevel error: the library's warnings quote the source line, and this text is a secret.
    doc = parseYaml(text, { logLevel: "error" });
  } catch {
    ctx.addIssue({ code: "custom", message: "is not a kubeconfig (it does not parse as YAML)" });
    return;
  }
  const contexts = (doc as { contexts?: unknown } | null)?.contexts;
  if (!Array.isArray(contexts) || contexts.length === 0) ctx.addIssue({ code: "custom", message: "is not a kubeconfig: it has no contexts" });
});

/** The context names a kubeconfig's text holds (for the kubeContext check), or undefined when it does not parse. */
export function kubeconfigContexts(text: string): string[] | undefined {
  try {
    const contexts = (parseYaml(text, { logLevel: "error" }) as { contexts?: { name?: unknown }[] } | null)?.contexts;
    return Array.isArray(contexts) ? contexts.map((c) => String(c?.name)) : undefined;
  } catch {
    return undefined;
  }
}

const nodeSelector = z.preprocess(parseJsonText, z.record(qualifiedName, labelValue, { error: 'must be a map of node label to value, e.g. {nvidia.com/gpu.present: "true"}' }));

export const KUBERNETES_SETTINGS = {
  target: z.enum(TARGETS, { error: "must be docker or kubernetes" }).default("docker")
    .describe("Where the WebUI runs: docker (Docker hosts) or kubernetes (a cluster)"),
  kubeconfig: kubeconfig.optional().describe("kubernetes: the kubeconfig's contents (secret); default: the provider's (KUBECONFIG, ~/.kube/config)"),
  kubeContext: z.string().min(1).optional().describe("kubernetes: the kubeconfig context; default: its current context"),
  namespace: dnsLabel.default("default").describe("kubernetes: the namespace (it must exist)"),
  replicas: integer(1, 1000, "pods").default(1).describe("kubernetes: WebUI pods, one per gpusPerPod GPUs"),
  gpuResource: qualifiedName.default(SMOKE_DEFAULTS.gpuResource).describe("kubernetes: the extended resource a pod's GPUs are requested as"),
  gpusPerPod: integer(0, 64, "GPUs per pod").default(1).describe("kubernetes: GPUs each pod requests (0: CPU mode)"),
  runtimeClassName: dnsSubdomain.optional().describe("kubernetes: the pods' RuntimeClass, e.g. nvidia"),
  nodeSelector: nodeSelector.optional().describe("kubernetes: node labels the pods require, e.g. {nvidia.com/gpu.present: \"true\"}"),
  tolerations: list(toleration).optional().describe("kubernetes: tolerations [{key, operator?, value?, effect?}], e.g. for tainted GPU nodes"),
  outputsClaim: dnsSubdomain.optional().describe("kubernetes: an existing PersistentVolumeClaim for outputs/; default: a new claim, kept on destroy"),
  modelsClaim: dnsSubdomain.optional().describe("kubernetes: an existing PersistentVolumeClaim for models/; default: a new claim, kept on destroy"),
  storageClass: dnsSubdomain.optional().describe("kubernetes: storage class of the new claims; default: the cluster's default class"),
  storageAccessMode: z.enum(["ReadWriteOnce", "ReadWriteMany"], { error: "must be ReadWriteOnce or ReadWriteMany" }).default("ReadWriteOnce")
    .describe("kubernetes: access mode of the new claims; ReadWriteMany when the replicas span several nodes"),
  outputsStorageSize: storageSize.default("20Gi").describe("kubernetes: size of the new outputs claim"),
  modelsStorageSize: storageSize.default("100Gi").describe("kubernetes: size of the new models claim"),
  serviceType: z.enum(SERVICE_TYPES, { error: "must be ClusterIP, NodePort or LoadBalancer" }).default("ClusterIP")
    .describe("kubernetes: the Service type; LoadBalancer gets loadBalancerSourceRanges from firewallAllowlist"),
  servicePort: integer(1, 65535, "a TCP port").default(7860).describe("kubernetes: the Service's port"),
  networkPolicy: boolean().default(true).describe("kubernetes: declare a NetworkPolicy admitting only firewallAllowlist and the smoke Job"),
  // The package's version (npm run smoke:image tags it so; a unit test holds the two together).
  smokeImage: imageRef.default("sdwebui-smoke:0.1.0")
    .describe("kubernetes: the smoke Job's image (npm run smoke:image builds it)"),
  rolloutTimeoutSeconds: integer(30, 7200, "seconds").default(SMOKE_DEFAULTS.rolloutTimeoutS).describe("kubernetes: how long pulumi up waits for every pod to be ready"),
};

/** Settings that only one target reads; the other target refuses them instead of ignoring them. */
export const TARGET_ONLY: Record<Target, readonly string[]> = {
  docker: ["dockerHost", "hosts", "gpus", "hostPort", "bindAddress", "apiHost", "containerName", "outputsDir", "modelsDir", "checkpoints", "checkpointToken", "firewallBackend", "sshPrivateKey", "sshKnownHosts", "imagePullTimeoutSeconds"],
  kubernetes: Object.keys(KUBERNETES_SETTINGS).filter((k) => k !== "target"),
};

/** What a setting of the other target would be, said in the error (the fix names the nearest equivalent). */
export const KUBERNETES_EQUIVALENT: Record<string, string> = {
  gpus: "replicas and gpusPerPod",
  hosts: "replicas",
  hostPort: "servicePort",
  outputsDir: "outputsClaim or storageClass",
  modelsDir: "modelsClaim or storageClass",
  dockerHost: "kubeconfig or kubeContext",
  firewallBackend: "networkPolicy",
  checkpoints: "files you place on the models claim (the placement step runs on Docker hosts only)",
};

/**
 * Settings of the other target, the kubeContext a kubeconfig lacks, GPU settings that contradict each other.
 * `isDefault(key)`: the raw value is the setting's default. Pulumi.yaml declares the defaults, so the engine
 * hands them to the program as if set; only a value that differs was set by the user.
 */
export function targetProblems(raw: Record<string, unknown>, isDefault: (key: string) => boolean): { key: string; message: string; fix: string }[] {
  const out: { key: string; message: string; fix: string }[] = [];
  const target: Target = raw.target === "kubernetes" ? "kubernetes" : "docker";
  const other: Target = target === "docker" ? "kubernetes" : "docker";
  for (const key of TARGET_ONLY[other]) {
    if (raw[key] === undefined || isDefault(key)) continue;
    const instead = target === "kubernetes" && KUBERNETES_EQUIVALENT[key] ? `; on kubernetes use ${KUBERNETES_EQUIVALENT[key]}` : "";
    out.push({ key, message: `is a setting of target ${other}, and this stack's target is ${target}${instead}`, fix: `pulumi config rm <ns>:${key}, or pulumi config set <ns>:target ${other}` });
  }
  if (target !== "kubernetes") return out;
  if (typeof raw.kubeconfig === "string" && typeof raw.kubeContext === "string") {
    const names = kubeconfigContexts(raw.kubeconfig);
    if (names && !names.includes(raw.kubeContext))
      out.push({ key: "kubeContext", message: `is not a context of the kubeconfig setting (it has ${names.join(", ")})`, fix: "pulumi config set <ns>:kubeContext <one of those>" });
  }
  if (String(raw.gpusPerPod) === "0" && raw.runtimeClassName !== undefined)
    out.push({ key: "runtimeClassName", message: "is set with gpusPerPod 0 (CPU mode); a GPU runtime class is for GPU pods", fix: "pulumi config rm <ns>:runtimeClassName, or pulumi config set <ns>:gpusPerPod <value>" });
  if (raw.serviceType !== "LoadBalancer" && !isDefault("firewallAllowlist") && String(raw.networkPolicy) === "false")
    out.push({ key: "firewallAllowlist", message: `is enforced by nothing: serviceType ${typeof raw.serviceType === "string" ? raw.serviceType : "ClusterIP"} takes no source ranges and networkPolicy is false`, fix: "pulumi config set <ns>:networkPolicy true, or pulumi config rm <ns>:firewallAllowlist" });
  return out;
}
