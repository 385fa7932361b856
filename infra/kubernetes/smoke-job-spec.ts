// The smoke Job's spec: the smoke CLI in a pod against the Service, the claims mounted read-only where it looks
// for the proven PNG, the passwords and the pinned root from Secrets; and what its account may read.
import { ENV as SMOKE_ENV, proofSettings, smokeCliArgs } from "../common/smoke-step.js";
import type { Profile } from "../webui/profiles.js";
import { SITE_FILES } from "../tls/caddyfile.js";
import { CREDENTIAL_KEYS, fleetLabels, fleetNames, literal, secretEnv } from "./manifests.js";
import type { FleetNames, FleetSettings, FleetTlsObjects } from "./manifests.js";
import { tlsObjectNames } from "./tls-sidecar.js";

/** Where the smoke Job mounts a claim, read-only: named after it, so the smoke's hints name the claim. */
const proofMount = (claim: string) => `/claims/${claim}`;

/** The smoke Job: the smoke CLI against the Service, with the claims mounted read-only where it looks for the PNG. */
export function smokeJobSpec(
  settings: FleetSettings,
  profile: Profile,
  stack: string,
  serviceUrl: string,
  secret: string,
  tls?: FleetTlsObjects,
) {
  const names = fleetNames(stack, settings);
  const args = smokeCliArgs(
    {
      exposure: settings.exposure,
      hostOutputsDir: proofMount(names.outputsClaim),
      hostModelsDir: proofMount(names.modelsClaim),
      ...proofSettings(settings, profile),
      kubernetesRollout: {
        namespace: settings.namespace,
        deployment: names.base,
        gpuResource: settings.gpuResource,
        timeoutSeconds: settings.rolloutTimeoutSeconds,
      },
      // The WebUI's own port must not answer on the Service; a files certificate names tlsDomain, not the cluster IP.
      ...(tls
        ? {
            tls: {
              ca: "",
              plainPort: profile.internalPort,
              ...(settings.tls === "files" && settings.tlsDomain ? { servername: settings.tlsDomain } : {}),
            },
          }
        : {}),
    },
    {
      url: serviceUrl,
      username: settings.apiUsername,
      ...(settings.exposure === "api-and-ui" ? { uiUsername: settings.uiUsername ?? settings.apiUsername } : {}),
    },
    settings.exposure === "api-and-ui",
  );
  return {
    backoffLimit: 0,
    activeDeadlineSeconds: settings.rolloutTimeoutSeconds + settings.smokeTimeoutSeconds + 60,
    template: {
      metadata: { labels: fleetLabels(stack, "smoke") },
      spec: {
        restartPolicy: "Never",
        // Its token lets the smoke read the rollout (the Role grants get on Deployments and list on pods only).
        serviceAccountName: names.smokeAccount,
        automountServiceAccountToken: true,
        affinity: besideTheWebUi(stack),
        // It tolerates the GPU nodes' taints.
        ...(settings.tolerations ? { tolerations: settings.tolerations } : {}),
        enableServiceLinks: false,
        securityContext: {
          runAsUser: profile.uid,
          runAsGroup: profile.gid,
          ...(profile.uid !== 0 ? { runAsNonRoot: true } : {}),
        },
        containers: [smokeContainer(settings, names, args, secret, tls)],
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
function smokeContainer(
  settings: FleetSettings,
  names: FleetNames,
  args: string[],
  secret: string,
  tls?: FleetTlsObjects,
) {
  return {
    name: "smoke",
    image: settings.smokeImage,
    args: args.map(literal),
    env: [
      secretEnv(SMOKE_ENV.apiPassword, secret, CREDENTIAL_KEYS.apiPassword),
      ...(settings.exposure === "api-and-ui"
        ? [secretEnv(SMOKE_ENV.uiPassword, secret, CREDENTIAL_KEYS.uiPassword)]
        : []),
      // The root to pin: the stack's CA (internal) from its Secret, or the roots the settings give (files).
      ...(tls
        ? [
            settings.tls === "internal"
              ? secretEnv(SMOKE_ENV.tlsCa, tlsObjectNames(names.base).caSecret, SITE_FILES.caRoot)
              : { name: SMOKE_ENV.tlsCa, value: tls.pinnedRoots ?? "" },
          ]
        : []),
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

/**
 * Beside a WebUI pod where it can (a ReadWriteOnce claim mounts on that node only), but never waiting for one:
 * when no WebUI pod is placed, the smoke is what reports why.
 */
function besideTheWebUi(stack: string) {
  const term = { labelSelector: { matchLabels: fleetLabels(stack, "webui") }, topologyKey: "kubernetes.io/hostname" };
  return { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } };
}
