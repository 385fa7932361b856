// The Kubernetes objects of a fleet as plain data (the API's own field names): names, labels, the
// WebUI's pod template, the Service, the NetworkPolicy and the smoke Job. Pure: derived from settings
// and the profile alone, so it is tested without an engine and two evaluations give identical specs.
// Credentials never appear here: the pod spec names the Secret's keys, and Kubernetes expands $(VAR).
import type { PublicSettings } from "../config/schema.js";
import { fleetNames, type FleetNames } from "../config/kubernetes-names.js";
import { webuiFlags, launchSpec, healthPath } from "../common/launch-flags.js";
import type { Profile } from "../webui/profiles.js";
import { ENV as SMOKE_ENV, proofSettings, smokeCliArgs } from "../common/smoke-step.js";
import { PROXY_PORTS, SITE_FILES } from "../tls/caddyfile.js";
import { proxyContainer, proxyVolumes, tlsObjectNames } from "./tls-sidecar.js";

/** The credentials Secret's data keys: the WebUI's two auth flag values, and the passwords alone for the smoke Job. */
export const CREDENTIAL_KEYS = { apiAuth: "api-auth", uiAuth: "ui-auth", apiPassword: "api-password", uiPassword: "ui-password" } as const;
/** Environment variables the WebUI container gets from the Secret; its flags reference them as $(VAR). */
export { fleetNames, type FleetNames };

const AUTH_ENV = { api: "SDWEBUI_API_AUTH", ui: "SDWEBUI_UI_AUTH" } as const;
/** Where the smoke Job mounts a claim, read-only: named after it, so the smoke's hints name the claim. */
const proofMount = (claim: string) => `/claims/${claim}`;

export type FleetSettings = Pick<
  PublicSettings,
  | "namespace" | "replicas" | "gpuResource" | "gpusPerPod" | "runtimeClassName" | "nodeSelector" | "tolerations" | "outputsClaim" | "modelsClaim"
  | "storageClass" | "storageAccessMode" | "outputsStorageSize" | "modelsStorageSize" | "serviceType" | "servicePort" | "firewallAllowlist" | "exposure" | "extraArgs"
  | "shmSizeMb" | "apiUsername" | "uiUsername" | "smokeImage" | "smokeTimeoutSeconds" | "smokePrompt" | "smokeSteps" | "smokeWidth" | "smokeHeight"
  | "rolloutTimeoutSeconds" | "tls" | "tlsDomain" | "tlsProxyImage"
>;

/** With tls on: the objects the proxies read, by their (auto-made) names. */
export interface FleetTlsObjects {
  configMap: string;
  /** tls files: the Secret of the certificate and key. */
  filesSecret?: string;
  /** tls files: the root(s) the smoke pins ("" for the system's). */
  pinnedRoots?: string;
}

export function fleetLabels(stack: string, component: "webui" | "smoke" | "tls-ca"): Record<string, string> {
  return { "app.kubernetes.io/name": "sdwebui", "app.kubernetes.io/instance": fleetNames(stack, {}).base, "app.kubernetes.io/component": component };
}

/** Kubernetes expands $(VAR) in command, args and env values; a literal $ is written $$. */
const literal = (s: string) => s.replaceAll("$", "$$");

/** The WebUI's flags with the credentials as $(VAR) references, passed the way the profile takes them. */
export function webuiLaunch(s: FleetSettings, profile: Profile): { command?: string[]; args?: string[]; env: { name: string; value: string }[] } {
  const gpus = s.gpusPerPod > 0 ? { kind: "count" as const, count: s.gpusPerPod } : { kind: "none" as const };
  const placeholder = "\u0000";
  const flags = webuiFlags(s, profile, gpus, { api: { username: placeholder, password: "a" }, ui: { username: placeholder, password: "u" } })
    .map((f) => (f === `${placeholder}:a` ? `$(${AUTH_ENV.api})` : f === `${placeholder}:u` ? `$(${AUTH_ENV.ui})` : literal(f)));
  const spec = launchSpec(profile, flags);
  // Docker's "command" is the image's CMD, which Kubernetes calls args (the ENTRYPOINT stays).
  const env = spec.envs.map((e) => ({ name: e.slice(0, e.indexOf("=")), value: e.slice(e.indexOf("=") + 1) }));
  return { ...(spec.command ? { args: spec.command } : {}), env };
}

const secretEnv = (name: string, secret: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });

/** The WebUI container of a pod: its flags with the credentials as $(VAR) from the Secret, its probes and folders. */
function webuiContainerSpec(s: FleetSettings, profile: Profile, image: string, secret: string) {
  const launch = webuiLaunch(s, profile);
  const probe = { httpGet: { path: healthPath(s.exposure), port: profile.internalPort } };
  const gpuLimits = s.gpusPerPod > 0 ? { [s.gpuResource]: String(s.gpusPerPod) } : {};
  return {
    name: "webui",
    image,
    ...(launch.args ? { args: launch.args } : {}),
    workingDir: profile.dataRoot,
    // The auth variables come first: the flag variables below may reference them.
    env: [
      secretEnv(AUTH_ENV.api, secret, CREDENTIAL_KEYS.apiAuth),
      ...(s.exposure === "api-and-ui" ? [secretEnv(AUTH_ENV.ui, secret, CREDENTIAL_KEYS.uiAuth)] : []),
      ...launch.env,
    ],
    ports: [{ name: "http", containerPort: profile.internalPort, protocol: "TCP" }],
    resources: { limits: gpuLimits, requests: gpuLimits },
    startupProbe: { ...probe, periodSeconds: 10, timeoutSeconds: 10, failureThreshold: Math.ceil(s.rolloutTimeoutSeconds / 10) },
    readinessProbe: { ...probe, periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 3 },
    livenessProbe: { ...probe, periodSeconds: 30, timeoutSeconds: 15, failureThreshold: 3 },
    securityContext: { allowPrivilegeEscalation: false },
    volumeMounts: [
      { name: "outputs", mountPath: profile.outputsPath },
      { name: "models", mountPath: profile.modelsPath, readOnly: s.replicas > 1 && profile.sharedModelsReadOnly },
      { name: "shm", mountPath: "/dev/shm" },
    ],
  };
}
export type WebUiContainerSpec = ReturnType<typeof webuiContainerSpec>;

/** `secret`: the credentials Secret's name (auto-named: new credentials are a new Secret, so the pods roll). */
function webuiPodTemplate(s: FleetSettings, profile: Profile, image: string, stack: string, secret: string, tls?: FleetTlsObjects) {
  const names = fleetNames(stack, s);
  const modelsReadOnly = s.replicas > 1 && profile.sharedModelsReadOnly;
  return {
    metadata: { labels: fleetLabels(stack, "webui") },
    spec: {
      ...(s.runtimeClassName ? { runtimeClassName: s.runtimeClassName } : {}),
      ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
      ...(s.tolerations ? { tolerations: s.tolerations } : {}),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      // OnRootMismatch: re-own a claim only when its root is not the image's group, not every file at every start.
      securityContext: { runAsUser: profile.uid, runAsGroup: profile.gid, fsGroup: profile.gid, fsGroupChangePolicy: "OnRootMismatch", ...(profile.uid !== 0 ? { runAsNonRoot: true } : {}) },
      // With tls the pod's HTTPS port is the proxy's; it reaches the WebUI on the pod's loopback.
      containers: [webuiContainerSpec(s, profile, image, secret), ...(tls ? [proxyContainer(s)] : [])],
      volumes: [
        { name: "outputs", persistentVolumeClaim: { claimName: names.outputsClaim } },
        { name: "models", persistentVolumeClaim: { claimName: names.modelsClaim, readOnly: modelsReadOnly } },
        { name: "shm", emptyDir: { medium: "Memory", sizeLimit: `${s.shmSizeMb}Mi` } },
        ...(tls ? proxyVolumes(s, tlsObjectNames(names.base), tls.configMap, tls.filesSecret) : []),
      ],
    },
  };
}

export function deploymentSpec(s: FleetSettings, profile: Profile, image: string, stack: string, secret: string, tls?: FleetTlsObjects) {
  return {
    replicas: s.replicas,
    selector: { matchLabels: fleetLabels(stack, "webui") },
    // A new pod needs a free GPU: replace one pod at a time instead of surging past the GPUs there are.
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
    progressDeadlineSeconds: s.rolloutTimeoutSeconds,
    template: webuiPodTemplate(s, profile, image, stack, secret, tls),
  };
}

export function claimSpec(s: FleetSettings, which: "outputs" | "models") {
  return {
    // A setting, not derived from replicas: a claim's access mode cannot change once it exists.
    accessModes: [s.storageAccessMode],
    ...(s.storageClass ? { storageClassName: s.storageClass } : {}),
    resources: { requests: { storage: which === "outputs" ? s.outputsStorageSize : s.modelsStorageSize } },
  };
}

export function serviceSpec(s: FleetSettings, profile: Profile, stack: string) {
  const external = s.serviceType !== "ClusterIP";
  return {
    type: s.serviceType,
    selector: fleetLabels(stack, "webui"),
    // With tls only the proxy's port is in the Service; the WebUI's own port is not.
    ports: [s.tls === "off" ? { name: "http", port: s.servicePort, targetPort: profile.internalPort, protocol: "TCP" } : { name: "https", port: s.servicePort, targetPort: "https", protocol: "TCP" }],
    // A UI login lives in one pod's memory: keep each client on its pod, or its next request gets 401.
    sessionAffinity: "ClientIP",
    // Keep the client's address, so the NetworkPolicy's ipBlocks see who is calling.
    ...(external ? { externalTrafficPolicy: "Local" } : {}),
    ...(s.serviceType === "LoadBalancer" && s.firewallAllowlist.length > 0 ? { loadBalancerSourceRanges: s.firewallAllowlist } : {}),
  };
}

/** Ingress to the WebUI pods: the allow-listed networks and the smoke Job's pods, on the WebUI port only. */
export function networkPolicySpec(s: FleetSettings, profile: Profile, stack: string) {
  return {
    podSelector: { matchLabels: fleetLabels(stack, "webui") },
    policyTypes: ["Ingress"],
    ingress: [
      {
        from: [{ podSelector: { matchLabels: fleetLabels(stack, "smoke") } }, ...s.firewallAllowlist.map((cidr) => ({ ipBlock: { cidr } }))],
        ports: [{ protocol: "TCP", port: s.tls === "off" ? profile.internalPort : PROXY_PORTS.https }],
      },
    ],
  };
}

/** The smoke Job: the smoke CLI against the Service, with the claims mounted read-only where it looks for the PNG. */
export function smokeJobSpec(s: FleetSettings, profile: Profile, stack: string, serviceUrl: string, secret: string, tls?: FleetTlsObjects) {
  const names = fleetNames(stack, s);
  const args = smokeCliArgs(
    {
      exposure: s.exposure,
      hostOutputsDir: proofMount(names.outputsClaim),
      hostModelsDir: proofMount(names.modelsClaim),
      ...proofSettings(s, profile),
      kubernetesRollout: { namespace: s.namespace, deployment: names.base, gpuResource: s.gpuResource, timeoutSeconds: s.rolloutTimeoutSeconds },
      // The WebUI's own port must not answer on the Service; a files certificate names tlsDomain, not the cluster IP.
      ...(tls ? { tls: { ca: "", plainPort: profile.internalPort, ...(s.tls === "files" && s.tlsDomain ? { servername: s.tlsDomain } : {}) } } : {}),
    },
    { url: serviceUrl, username: s.apiUsername, ...(s.exposure === "api-and-ui" ? { uiUsername: s.uiUsername ?? s.apiUsername } : {}) },
    s.exposure === "api-and-ui",
  );
  return {
    backoffLimit: 0,
    activeDeadlineSeconds: s.rolloutTimeoutSeconds + s.smokeTimeoutSeconds + 60,
    template: {
      metadata: { labels: fleetLabels(stack, "smoke") },
      spec: {
        restartPolicy: "Never",
        // Its token lets the smoke read the rollout (the Role grants get on Deployments and list on pods only).
        serviceAccountName: names.smokeAccount,
        automountServiceAccountToken: true,
        // Beside a WebUI pod where it can (a ReadWriteOnce claim mounts on that node only), but never waiting for
        // one: when no WebUI pod is placed, the smoke is what reports why. It tolerates the GPU nodes' taints.
        affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: fleetLabels(stack, "webui") }, topologyKey: "kubernetes.io/hostname" } }] } },
        ...(s.tolerations ? { tolerations: s.tolerations } : {}),
        enableServiceLinks: false,
        securityContext: { runAsUser: profile.uid, runAsGroup: profile.gid, ...(profile.uid !== 0 ? { runAsNonRoot: true } : {}) },
        containers: [smokeContainer(s, names, args, secret, tls)],
        volumes: [
          { name: "outputs", persistentVolumeClaim: { claimName: names.outputsClaim, readOnly: true } },
          { name: "models", persistentVolumeClaim: { claimName: names.modelsClaim, readOnly: true } },
          { name: "tmp", emptyDir: {} },
        ],
      },
    },
  };
}

/** The smoke container: the CLI with the passwords from the Secret, the claims read-only under their names. */
function smokeContainer(s: FleetSettings, names: FleetNames, args: string[], secret: string, tls?: FleetTlsObjects) {
  return {
    name: "smoke",
    image: s.smokeImage,
    args: args.map(literal),
    env: [
      secretEnv(SMOKE_ENV.apiPassword, secret, CREDENTIAL_KEYS.apiPassword),
      ...(s.exposure === "api-and-ui" ? [secretEnv(SMOKE_ENV.uiPassword, secret, CREDENTIAL_KEYS.uiPassword)] : []),
      // The root to pin: the stack's CA (internal) from its Secret, or the roots the settings give (files).
      ...(tls ? [s.tls === "internal" ? secretEnv(SMOKE_ENV.tlsCa, tlsObjectNames(names.base).caSecret, SITE_FILES.caRoot) : { name: SMOKE_ENV.tlsCa, value: tls.pinnedRoots ?? "" }] : []),
    ],
    // The smoke's last lines (its failure class and fix) become the pod's termination message.
    terminationMessagePolicy: "FallbackToLogsOnError",
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
    volumeMounts: [
      { name: "outputs", mountPath: proofMount(names.outputsClaim), readOnly: true },
      { name: "models", mountPath: proofMount(names.modelsClaim), readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ],
  };
}

/** What the smoke Job may read: its Deployment, and the pods (for the scheduler's verdict). Nothing else. */
export function smokeRoleRules(names: FleetNames) {
  return [
    { apiGroups: ["apps"], resources: ["deployments"], resourceNames: [names.base], verbs: ["get"] },
    { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
  ];
}
