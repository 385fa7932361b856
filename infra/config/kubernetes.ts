// The settings of the Kubernetes target, and which settings belong to which target. Names, sizes and
// selectors are checked with the rules the API server applies to them, so a bad value is refused by
// the program before anything is sent to the cluster.
import { z } from "zod";
import { boolean, imageRef, integer, list, parseJsonText, tcpPort } from "./fields.js";
import { kubeconfig, kubeconfigProblems } from "./kubeconfig.js";
import { serviceExposure } from "./kubernetes-exposure.js";
import { fleetNames } from "./kubernetes-names.js";
import type { Problem } from "./problem.js";
import { DEFAULTS as SMOKE_DEFAULTS } from "../../smoke/cli-flags.js";

const TARGETS = ["docker", "kubernetes"] as const;
export type Target = (typeof TARGETS)[number];
const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer"] as const;

/** A DNS-1123 label (namespace, claim and class names, runtimeClassName), as the API server checks it. */
const dnsLabel = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "must be a DNS-1123 label: lower-case letters, digits and -, starting and ending with a letter or digit",
  )
  .max(63, "must be at most 63 characters");
/** A DNS-1123 subdomain (storage class names may hold dots). */
const dnsSubdomain = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "must be a DNS-1123 subdomain: lower-case letters, digits, - and .",
  )
  .max(253, "must be at most 253 characters");
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Why `s` is not a qualified name ([prefix/]name: a DNS subdomain prefix, a name of at most 63), as apimachinery's IsQualifiedName says, or "". */
function qualifiedNameProblem(s: string): string {
  const parts = s.split("/");
  if (parts.length > 2) return "must be a qualified name: [prefix/]name with one / at most, e.g. nvidia.com/gpu";
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]!];
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return `must be a qualified name: its prefix "${prefix}" must be a DNS subdomain (lower-case letters, digits, - and ., at most 253), e.g. nvidia.com/gpu`;
  if (name!.length === 0 || name!.length > 63 || !QUALIFIED_NAME_PART.test(name!))
    return "must be a qualified name: [prefix/]name, the name at most 63 letters, digits, - _ . starting and ending with a letter or digit, e.g. nvidia.com/gpu";
  return "";
}

/** A label key or taint key: a qualified name (nvidia.com/gpu.present, node.kubernetes.io/instance-type). */
const qualifiedName = z.string().superRefine((s, ctx) => {
  const problem = qualifiedNameProblem(s);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/**
 * A container's GPU request: an extended resource name, by the API server's IsExtendedResourceName (a
 * domain-prefixed name outside kubernetes.io, without the quota form "requests."). A standard resource
 * such as cpu or memory would be accepted by the API server and silently cap the pod at gpusPerPod of it.
 */
const STANDARD_CONTAINER_RESOURCES = ["cpu", "memory", "ephemeral-storage"];

function extendedResourceProblem(s: string): string {
  if (STANDARD_CONTAINER_RESOURCES.includes(s) || s.startsWith("hugepages-"))
    return `is not an extended resource: ${s} is one of Kubernetes' own resources, and as the limit gpusPerPod it would cap each pod at that much ${s} instead of giving it GPUs; use the GPU's extended resource, e.g. nvidia.com/gpu or amd.com/gpu`;
  if (!s.includes("/"))
    return "must be an extended resource name, <vendor domain>/<name> such as nvidia.com/gpu: a name without a domain is Kubernetes' own, and the API server refuses any but cpu, memory, ephemeral-storage and hugepages-* as a container resource";
  if (s.includes("kubernetes.io/"))
    return "is in the kubernetes.io namespace, which is Kubernetes' own; an extended resource has a vendor domain, e.g. nvidia.com/gpu";
  if (s.startsWith("requests."))
    return 'starts with "requests.", the form a ResourceQuota uses; name the resource itself, e.g. nvidia.com/gpu';
  const problem = qualifiedNameProblem(`requests.${s}`);
  return problem ? problem.replace("requests.", "") : "";
}

const labelValue = z
  .string()
  .regex(
    /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/,
    "must be a label value: at most 63 letters, digits, - _ . starting and ending with a letter or digit",
  );
/** A storage quantity as resource.Quantity parses it (20Gi, 500G), and more than zero. */
const storageSize = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/, "must be a storage quantity such as 20Gi or 500G")
  .refine((s) => Number.parseFloat(s) > 0, "must be more than zero");

export const toleration = z
  .object({
    key: qualifiedName.optional(),
    operator: z.enum(["Equal", "Exists"], { error: "must be Equal or Exists" }).default("Equal"),
    value: labelValue.optional(),
    effect: z
      .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], {
        error: "must be NoSchedule, PreferNoSchedule or NoExecute",
      })
      .optional(),
    tolerationSeconds: integer(0, 2 ** 31 - 1, "seconds a NoExecute taint is tolerated").optional(),
  })
  .strict()
  .refine((t) => !(t.operator === "Exists" && t.value !== undefined), "operator Exists takes no value")
  .refine((t) => t.key !== undefined || t.operator === "Exists", "a toleration without a key needs operator: Exists")
  // The API server's ValidateTolerations: a bound on how long a taint is tolerated means eviction, i.e. NoExecute.
  .refine((t) => t.tolerationSeconds === undefined || t.effect === "NoExecute", {
    path: ["effect"],
    message:
      "must be NoExecute when tolerationSeconds is set (the API server refuses the pod otherwise): tolerationSeconds bounds how long a NoExecute taint is tolerated; set effect: NoExecute, or drop tolerationSeconds",
  });

const nodeSelector = z.preprocess(
  parseJsonText,
  z.record(qualifiedName, labelValue, {
    error: 'must be a map of node label to value, e.g. {nvidia.com/gpu.present: "true"}',
  }),
);

export const KUBERNETES_SETTINGS = {
  target: z
    .enum(TARGETS, { error: "must be docker or kubernetes" })
    .default("docker")
    .describe("Where the WebUI runs: docker (Docker hosts) or kubernetes (a cluster)"),
  kubeconfig: kubeconfig
    .optional()
    .describe("kubernetes: the kubeconfig's contents (secret); default: the provider's (KUBECONFIG, ~/.kube/config)"),
  kubeContext: z
    .string()
    .min(1)
    .optional()
    .describe("kubernetes: the kubeconfig context; default: its current context"),
  namespace: dnsLabel.default("default").describe("kubernetes: the namespace (it must exist)"),
  replicas: integer(1, 1000, "pods").default(1).describe("kubernetes: WebUI pods, one per gpusPerPod GPUs"),
  gpuResource: z
    .string()
    .superRefine((s, ctx) => {
      const problem = extendedResourceProblem(s);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .default(SMOKE_DEFAULTS.gpuResource)
    .describe(
      "kubernetes: the extended resource a pod's GPUs are requested as (a vendor-domain name such as nvidia.com/gpu)",
    ),
  gpusPerPod: integer(0, 64, "GPUs per pod").default(1).describe("kubernetes: GPUs each pod requests (0: CPU mode)"),
  runtimeClassName: dnsSubdomain.optional().describe("kubernetes: the pods' RuntimeClass, e.g. nvidia"),
  nodeSelector: nodeSelector
    .optional()
    .describe('kubernetes: node labels the pods require, e.g. {nvidia.com/gpu.present: "true"}'),
  tolerations: list(toleration)
    .optional()
    .describe("kubernetes: tolerations [{key, operator?, value?, effect?}], e.g. for tainted GPU nodes"),
  outputsClaim: dnsSubdomain
    .optional()
    .describe("kubernetes: an existing PersistentVolumeClaim for outputs/; default: a new claim, kept on destroy"),
  modelsClaim: dnsSubdomain
    .optional()
    .describe("kubernetes: an existing PersistentVolumeClaim for models/; default: a new claim, kept on destroy"),
  storageClass: dnsSubdomain
    .optional()
    .describe("kubernetes: storage class of the new claims; default: the cluster's default class"),
  storageAccessMode: z
    .enum(["ReadWriteOnce", "ReadWriteMany"], { error: "must be ReadWriteOnce or ReadWriteMany" })
    .default("ReadWriteOnce")
    .describe("kubernetes: access mode of the new claims; ReadWriteMany when the replicas span several nodes"),
  outputsStorageSize: storageSize.default("20Gi").describe("kubernetes: size of the new outputs claim"),
  modelsStorageSize: storageSize.default("100Gi").describe("kubernetes: size of the new models claim"),
  serviceType: z
    .enum(SERVICE_TYPES, { error: "must be ClusterIP, NodePort or LoadBalancer" })
    .default("ClusterIP")
    .describe("kubernetes: the Service type; LoadBalancer gets loadBalancerSourceRanges from firewallAllowlist"),
  servicePort: tcpPort().default(7860).describe("kubernetes: the Service's port"),
  networkPolicy: boolean()
    .default(true)
    .describe(
      "kubernetes: declare a NetworkPolicy admitting only firewallAllowlist and the smoke Job (false: nothing restricts the pods, so firewallAllowlist must hold 0.0.0.0/0 or ::/0)",
    ),
  // The package's version (npm run smoke:image tags it so; a unit test holds the two together).
  smokeImage: imageRef
    .default("sdwebui-smoke:0.1.0")
    .describe("kubernetes: the smoke Job's image (npm run smoke:image builds it)"),
  rolloutTimeoutSeconds: integer(30, 7200, "seconds")
    .default(SMOKE_DEFAULTS.rolloutTimeoutS)
    .describe("kubernetes: how long pulumi up waits for every pod to be ready"),
};

/** Settings that only one target reads; the other target refuses them instead of ignoring them. */
const TARGET_ONLY: Record<Target, readonly string[]> = {
  docker: [
    "dockerHost",
    "hosts",
    "gpus",
    "hostPort",
    "bindAddress",
    "apiHost",
    "containerName",
    "outputsDir",
    "modelsDir",
    "checkpoints",
    "checkpointToken",
    "firewallBackend",
    "sshPrivateKey",
    "sshKnownHosts",
    "imagePullTimeoutSeconds",
    "tlsEmail",
    "tlsAcmeDirectory",
    "tlsHttpPort",
    "tlsDir",
  ],
  kubernetes: Object.keys(KUBERNETES_SETTINGS).filter((k) => k !== "target"),
};

/** What a setting of the other target would be, said in the error (the fix names the nearest equivalent). */
const KUBERNETES_EQUIVALENT: Record<string, string> = {
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
export function targetProblems(
  raw: Record<string, unknown>,
  isDefault: (key: string) => boolean,
  stack?: string,
): Problem[] {
  const out: Problem[] = [];
  const target: Target = raw.target === "kubernetes" ? "kubernetes" : "docker";
  const other: Target = target === "docker" ? "kubernetes" : "docker";
  for (const key of TARGET_ONLY[other]) {
    if (raw[key] === undefined || isDefault(key)) continue;
    const instead =
      target === "kubernetes" && KUBERNETES_EQUIVALENT[key] ? `; on kubernetes use ${KUBERNETES_EQUIVALENT[key]}` : "";
    out.push({
      key,
      message: `is a setting of target ${other}, and this stack's target is ${target}${instead}`,
      fix: `pulumi config rm <ns>:${key}, or pulumi config set <ns>:target ${other}`,
    });
  }
  if (target !== "kubernetes") return out;
  if (typeof raw.kubeconfig === "string")
    out.push(...kubeconfigProblems(raw.kubeconfig, typeof raw.kubeContext === "string" ? raw.kubeContext : undefined));
  if (String(raw.gpusPerPod) === "0" && raw.runtimeClassName !== undefined)
    out.push({
      key: "runtimeClassName",
      message: "is set with gpusPerPod 0 (CPU mode); a GPU runtime class is for GPU pods",
      fix: "pulumi config rm <ns>:runtimeClassName, or pulumi config set <ns>:gpusPerPod <value>",
    });
  out.push(...claimProblems(raw, stack), ...allowlistProblems(raw));
  return out;
}

/** One claim for outputs and models: the smoke Job mounts each claim at /claims/<name>, and the API server refuses two mounts on one path. */
function claimProblems(raw: Record<string, unknown>, stack: string | undefined): Problem[] {
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  // Without the stack's name only the names the user gave can be compared.
  const names =
    stack === undefined
      ? { outputsClaim: str(raw.outputsClaim), modelsClaim: str(raw.modelsClaim) }
      : fleetNames(stack, { outputsClaim: str(raw.outputsClaim), modelsClaim: str(raw.modelsClaim) });
  if (names.modelsClaim === undefined || names.modelsClaim !== names.outputsClaim) return [];
  return [
    {
      key: raw.modelsClaim !== undefined ? "modelsClaim" : "outputsClaim",
      message: `is the claim outputs go to as well (${names.modelsClaim}): the smoke Job would mount it twice on one path, which the API server refuses after the WebUI has rolled out, and the models would share a volume root with the images (on Docker hosts modelsDir and outputsDir must be apart too)`,
      fix: `pulumi config set <ns>:${raw.modelsClaim !== undefined ? "modelsClaim" : "outputsClaim"} <another claim>, or pulumi config rm <ns>:${raw.modelsClaim !== undefined ? "modelsClaim" : "outputsClaim"} (the program then makes a claim of its own)`,
    },
  ];
}

/** The allowlist on Kubernetes means what it means on Docker hosts: a way in that nothing restricts needs 0.0.0.0/0 or ::/0, said on purpose. */
function allowlistProblems(raw: Record<string, unknown>): Problem[] {
  const serviceType = KUBERNETES_SETTINGS.serviceType.safeParse(raw.serviceType).data;
  const networkPolicy = KUBERNETES_SETTINGS.networkPolicy.safeParse(raw.networkPolicy).data;
  const parsed = parseJsonText(raw.firewallAllowlist ?? []);
  if (
    serviceType === undefined ||
    networkPolicy === undefined ||
    !Array.isArray(parsed) ||
    !parsed.every((c) => typeof c === "string")
  )
    return [];
  const allowlist = parsed as string[];
  const e = serviceExposure({ serviceType, networkPolicy, firewallAllowlist: allowlist });
  if (e.unguarded.length === 0 || e.anyAddress.length > 0) return [];
  const meaning =
    allowlist.length === 0 ? "is empty, which means no remote client" : `admits ${allowlist.join(", ")} only`;
  const why =
    allowlist.length === 0
      ? ""
      : serviceType === "LoadBalancer"
        ? ", and loadBalancerSourceRanges cover the load balancer's address only"
        : `, and serviceType ${serviceType} takes no source ranges`;
  return [
    {
      key: "firewallAllowlist",
      message: `${meaning}, but nothing enforces that on ${e.unguarded.join(" and ")}: networkPolicy is false${why}`,
      fix: `pulumi config set <ns>:networkPolicy true (its default); or, to admit any address on purpose, pulumi config set --path --type string '<ns>:firewallAllowlist[0]' -- 0.0.0.0/0 (and [1] ::/0)`,
    },
  ];
}
