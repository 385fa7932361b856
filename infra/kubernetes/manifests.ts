// The Kubernetes objects of a fleet as plain data (the API's own field names): names, labels, the
// WebUI's pod template, the Service, the NetworkPolicy and the smoke Job. Pure: derived from settings
// and the profile alone, so it is tested without an engine and two evaluations give identical specs.
// Credentials never appear here: the pod spec names the Secret's keys, and Kubernetes expands $(VAR).
import type { PublicSettings } from "../config/schema.js";
import { fleetNames, type FleetNames } from "../config/kubernetes-names.js";
import { webuiFlags, launchSpec, healthPath } from "../common/launch-flags.js";
import type { Profile } from "../webui/profiles.js";
import { PROXY_PORTS } from "../tls/caddyfile.js";
import { proxyContainer, proxyVolumes, tlsObjectNames } from "./tls-sidecar.js";

/** The credentials Secret's data keys: the WebUI's two auth flag values, and the passwords alone for the smoke Job. */
export const CREDENTIAL_KEYS = {
  apiAuth: "api-auth",
  uiAuth: "ui-auth",
  apiPassword: "api-password",
  uiPassword: "ui-password",
} as const;
/** Environment variables the WebUI container gets from the Secret; its flags reference them as $(VAR). */
export { fleetNames, type FleetNames };

const AUTH_ENV = { api: "SDWEBUI_API_AUTH", ui: "SDWEBUI_UI_AUTH" } as const;

export type FleetSettings = Pick<
  PublicSettings,
  | "namespace"
  | "replicas"
  | "gpuResource"
  | "gpusPerPod"
  | "runtimeClassName"
  | "nodeSelector"
  | "tolerations"
  | "outputsClaim"
  | "modelsClaim"
  | "storageClass"
  | "storageAccessMode"
  | "outputsStorageSize"
  | "modelsStorageSize"
  | "serviceType"
  | "servicePort"
  | "firewallAllowlist"
  | "exposure"
  | "extraArgs"
  | "shmSizeMb"
  | "apiUsername"
  | "uiUsername"
  | "smokeImage"
  | "smokeTimeoutSeconds"
  | "smokePrompt"
  | "smokeSteps"
  | "smokeWidth"
  | "smokeHeight"
  | "rolloutTimeoutSeconds"
  | "tls"
  | "tlsDomain"
  | "tlsProxyImage"
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
  return {
    "app.kubernetes.io/name": "sdwebui",
    "app.kubernetes.io/instance": fleetNames(stack, {}).base,
    "app.kubernetes.io/component": component,
  };
}

/** Kubernetes expands $(VAR) in command, args and env values; a literal $ is written $$. */
export const literal = (s: string) => s.replaceAll("$", "$$");

/** The WebUI's flags with the credentials as $(VAR) references, passed the way the profile takes them. */
export function webuiLaunch(
  settings: FleetSettings,
  profile: Profile,
): { command?: string[]; args?: string[]; env: { name: string; value: string }[] } {
  const gpus =
    settings.gpusPerPod > 0 ? { kind: "count" as const, count: settings.gpusPerPod } : { kind: "none" as const };
  const placeholder = "\u0000";
  const flags = webuiFlags(settings, profile, gpus, {
    api: { username: placeholder, password: "a" },
    ui: { username: placeholder, password: "u" },
  }).map((f) =>
    f === `${placeholder}:a` ? `$(${AUTH_ENV.api})` : f === `${placeholder}:u` ? `$(${AUTH_ENV.ui})` : literal(f),
  );
  const spec = launchSpec(profile, flags);
  // Docker's "command" is the image's CMD, which Kubernetes calls args (the ENTRYPOINT stays).
  const env = spec.envs.map((e) => ({ name: e.slice(0, e.indexOf("=")), value: e.slice(e.indexOf("=") + 1) }));
  return { ...(spec.command ? { args: spec.command } : {}), env };
}

export const secretEnv = (name: string, secret: string, key: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});

/** The WebUI container of a pod: its flags with the credentials as $(VAR) from the Secret, its probes and folders. */
function webuiContainerSpec(settings: FleetSettings, profile: Profile, image: string, secret: string) {
  const launch = webuiLaunch(settings, profile);
  const probe = { httpGet: { path: healthPath(settings.exposure), port: profile.internalPort } };
  const gpuLimits = settings.gpusPerPod > 0 ? { [settings.gpuResource]: String(settings.gpusPerPod) } : {};
  return {
    name: "webui",
    image,
    ...(launch.args ? { args: launch.args } : {}),
    workingDir: profile.dataRoot,
    // The auth variables come first: the flag variables below may reference them.
    env: [
      secretEnv(AUTH_ENV.api, secret, CREDENTIAL_KEYS.apiAuth),
      ...(settings.exposure === "api-and-ui" ? [secretEnv(AUTH_ENV.ui, secret, CREDENTIAL_KEYS.uiAuth)] : []),
      ...launch.env,
    ],
    ports: [{ name: "http", containerPort: profile.internalPort, protocol: "TCP" }],
    resources: { limits: gpuLimits, requests: gpuLimits },
    startupProbe: {
      ...probe,
      periodSeconds: 10,
      timeoutSeconds: 10,
      failureThreshold: Math.ceil(settings.rolloutTimeoutSeconds / 10),
    },
    readinessProbe: { ...probe, periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 3 },
    livenessProbe: { ...probe, periodSeconds: 30, timeoutSeconds: 15, failureThreshold: 3 },
    securityContext: { allowPrivilegeEscalation: false },
    volumeMounts: [
      { name: "outputs", mountPath: profile.outputsPath },
      {
        name: "models",
        mountPath: profile.modelsPath,
        readOnly: settings.replicas > 1 && profile.sharedModelsReadOnly,
      },
      { name: "shm", mountPath: "/dev/shm" },
    ],
  };
}
export type WebUiContainerSpec = ReturnType<typeof webuiContainerSpec>;

/** `secret`: the credentials Secret's name (auto-named: new credentials are a new Secret, so the pods roll). */
function webuiPodTemplate(
  settings: FleetSettings,
  profile: Profile,
  image: string,
  stack: string,
  secret: string,
  tls?: FleetTlsObjects,
) {
  const names = fleetNames(stack, settings);
  const modelsReadOnly = settings.replicas > 1 && profile.sharedModelsReadOnly;
  return {
    metadata: { labels: fleetLabels(stack, "webui") },
    spec: {
      ...(settings.runtimeClassName ? { runtimeClassName: settings.runtimeClassName } : {}),
      ...(settings.nodeSelector ? { nodeSelector: settings.nodeSelector } : {}),
      ...(settings.tolerations ? { tolerations: settings.tolerations } : {}),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      // OnRootMismatch: re-own a claim only when its root is not the image's group, not every file at every start.
      securityContext: {
        runAsUser: profile.uid,
        runAsGroup: profile.gid,
        fsGroup: profile.gid,
        fsGroupChangePolicy: "OnRootMismatch",
        ...(profile.uid !== 0 ? { runAsNonRoot: true } : {}),
      },
      // With tls the pod's HTTPS port is the proxy's; it reaches the WebUI on the pod's loopback.
      containers: [webuiContainerSpec(settings, profile, image, secret), ...(tls ? [proxyContainer(settings)] : [])],
      volumes: [
        { name: "outputs", persistentVolumeClaim: { claimName: names.outputsClaim } },
        { name: "models", persistentVolumeClaim: { claimName: names.modelsClaim, readOnly: modelsReadOnly } },
        { name: "shm", emptyDir: { medium: "Memory", sizeLimit: `${settings.shmSizeMb}Mi` } },
        ...(tls ? proxyVolumes(settings, tlsObjectNames(names.base), tls.configMap, tls.filesSecret) : []),
      ],
    },
  };
}

export function deploymentSpec(
  settings: FleetSettings,
  profile: Profile,
  image: string,
  stack: string,
  secret: string,
  tls?: FleetTlsObjects,
) {
  return {
    replicas: settings.replicas,
    selector: { matchLabels: fleetLabels(stack, "webui") },
    // A new pod needs a free GPU: replace one pod at a time instead of surging past the GPUs there are.
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
    progressDeadlineSeconds: settings.rolloutTimeoutSeconds,
    template: webuiPodTemplate(settings, profile, image, stack, secret, tls),
  };
}

export function claimSpec(settings: FleetSettings, which: "outputs" | "models") {
  return {
    // A setting, not derived from replicas: a claim's access mode cannot change once it exists.
    accessModes: [settings.storageAccessMode],
    ...(settings.storageClass ? { storageClassName: settings.storageClass } : {}),
    resources: {
      requests: { storage: which === "outputs" ? settings.outputsStorageSize : settings.modelsStorageSize },
    },
  };
}

export function serviceSpec(settings: FleetSettings, profile: Profile, stack: string) {
  const external = settings.serviceType !== "ClusterIP";
  return {
    type: settings.serviceType,
    selector: fleetLabels(stack, "webui"),
    // With tls only the proxy's port is in the Service; the WebUI's own port is not.
    ports: [
      settings.tls === "off"
        ? { name: "http", port: settings.servicePort, targetPort: profile.internalPort, protocol: "TCP" }
        : { name: "https", port: settings.servicePort, targetPort: "https", protocol: "TCP" },
    ],
    // A UI login lives in one pod's memory: keep each client on its pod, or its next request gets 401.
    sessionAffinity: "ClientIP",
    // Keep the client's address, so the NetworkPolicy's ipBlocks see who is calling.
    ...(external ? { externalTrafficPolicy: "Local" } : {}),
    ...(settings.serviceType === "LoadBalancer" && settings.firewallAllowlist.length > 0
      ? { loadBalancerSourceRanges: settings.firewallAllowlist }
      : {}),
  };
}

/** Ingress to the WebUI pods: the allow-listed networks and the smoke Job's pods, on the WebUI port only. */
export function networkPolicySpec(settings: FleetSettings, profile: Profile, stack: string) {
  return {
    podSelector: { matchLabels: fleetLabels(stack, "webui") },
    policyTypes: ["Ingress"],
    ingress: [
      {
        from: [
          { podSelector: { matchLabels: fleetLabels(stack, "smoke") } },
          ...settings.firewallAllowlist.map((cidr) => ({ ipBlock: { cidr } })),
        ],
        ports: [{ protocol: "TCP", port: settings.tls === "off" ? profile.internalPort : PROXY_PORTS.https }],
      },
    ],
  };
}
