// The Kubernetes target as one component: the credentials Secret, the claims for outputs/ and models/
// (kept on destroy), the WebUI Deployment, its Service and NetworkPolicy, and the smoke Job that proves,
// after the rollout, that an image was saved on the outputs volume. The specs come from manifests.ts.
import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config/load.js";
import { resolveProfile, type ProfileSettings } from "../webui/profiles.js";
import type { PublicSettings } from "../config/schema.js";
import { onResource } from "../common/resource-error.js";
import type { Profile } from "../webui/profiles.js";
import {
  claimSpec,
  deploymentSpec,
  fleetLabels,
  fleetNames,
  networkPolicySpec,
  CREDENTIAL_KEYS,
  serviceSpec,
  smokeJobSpec,
  smokeRoleRules,
} from "./manifests.js";
import type { FleetNames, FleetSettings, FleetTlsObjects } from "./manifests.js";
import { CA_CADDYFILE, caJobSpec, caRoleRules, podCaddyfile, serviceNames, tlsObjectNames } from "./tls-sidecar.js";
import { pinnedRoots } from "../config/tls.js";
import { SITE_FILES } from "../tls/caddyfile.js";
import { exposureWarnings } from "../config/kubernetes-exposure.js";

/**
 * The stack settings the fleet uses, by their schema names (each documented in the schema and in
 * `Pulumi.yaml`'s config block): the pods' and claims' (FleetSettings), the image and its profile, the
 * cluster context, the smoke switch, the NetworkPolicy switch and the pinned tls roots.
 */
export type KubernetesFleetSettings = FleetSettings &
  ProfileSettings &
  Pick<PublicSettings, "image" | "kubeContext" | "smokeEnabled" | "networkPolicy" | "tlsCaRoots">;

export interface KubernetesFleetArgs {
  /** The validated stack settings the fleet uses. */
  settings: KubernetesFleetSettings;
  /** The stack's secrets as Pulumi secret Outputs: API and UI passwords, kubeconfig, tls files. */
  secrets: Pick<StackConfig["secrets"], "apiPassword" | "uiPassword" | "kubeconfig" | "tlsCertificate" | "tlsKey">;
  /** The stack's name: labels, and the default names of the objects. */
  stack: string;
}

export interface FleetEndpoint {
  apiUrl: pulumi.Output<string>;
  docsUrl: pulumi.Output<string>;
  service: string;
  namespace: string;
  replicas: number;
  outputsClaim: string;
  modelsClaim: string;
  /** The smoke Job that proved this rollout ("" when the smoke is off). */
  smokeJob: pulumi.Output<string>;
  /** tls internal: the Secret holding the stack's CA (its root.crt is what clients pin). */
  tlsRootSecret?: string;
}

/** `sdwebui:index:KubernetesFleet`: the WebUI on a cluster, one pod per gpusPerPod GPUs. */
export class KubernetesFleet extends pulumi.ComponentResource {
  readonly endpoint: FleetEndpoint;
  /** What the preview says of the Service's exposure (also logged as the engine's warnings). */
  readonly warnings: string[];

  constructor(name: string, args: KubernetesFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sdwebui:index:KubernetesFleet", name, { settings: args.settings, stack: args.stack }, opts);
    const settings = args.settings;
    const profile = onResource(this, () => resolveProfile(settings));
    const image = settings.image ?? profile.defaultImage;
    const names = fleetNames(args.stack, settings);
    const ns = settings.namespace;
    this.warnings = exposureWarnings(settings);
    for (const w of this.warnings) pulumi.log.warn(w, this);
    const provider = new k8s.Provider(
      `${name}-provider`,
      {
        ...(args.secrets.kubeconfig ? { kubeconfig: args.secrets.kubeconfig } : {}),
        ...(settings.kubeContext ? { context: settings.kubeContext } : {}),
        namespace: ns,
      },
      { parent: this },
    );
    const child = (deps: pulumi.Resource[] = []): pulumi.CustomResourceOptions => ({
      parent: this,
      provider,
      dependsOn: deps,
    });
    const meta = (
      objectName: string,
      component: "webui" | "smoke" = "webui",
      annotations: Record<string, pulumi.Input<string>> = {},
    ) => ({ name: objectName, namespace: ns, labels: fleetLabels(args.stack, component), annotations });

    const secret = this.credentials(name, args, { namespace: ns, labels: fleetLabels(args.stack, "webui") }, child());
    const claims = names.ownClaims.map(
      (which) =>
        new k8s.core.v1.PersistentVolumeClaim(
          `${name}-${which}`,
          {
            metadata: meta(which === "outputs" ? names.outputsClaim : names.modelsClaim, "webui", {
              "pulumi.com/skipAwait": "true",
            }),
            spec: claimSpec(settings, which),
          },
          { ...child(), retainOnDelete: true },
        ),
    );

    // The Service first: with tls its cluster IP is one of the names the proxies' certificates cover.
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      { metadata: meta(names.base), spec: serviceSpec(settings, profile, args.stack) },
      child(),
    );
    const tls = settings.tls === "off" ? undefined : this.tlsObjects(name, args, profile, names, service, child);
    const spec = pulumi
      .all([secret.metadata.name, tls?.objects])
      .apply(([secretName, objects]) => deploymentSpec(settings, profile, image, args.stack, secretName, objects));
    // With the smoke on, its Job waits for the rollout and names an unschedulable pod's reason at once (the
    // provider's own wait says nothing of it on a scale-up); without it, the provider waits.
    const awaitBy: Record<string, string> = settings.smokeEnabled
      ? { "pulumi.com/skipAwait": "true" }
      : { "pulumi.com/timeoutSeconds": String(settings.rolloutTimeoutSeconds) };
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-webui`,
      { metadata: meta(names.base, "webui", awaitBy), spec },
      child([secret, ...claims, ...(tls?.ready ?? [])]),
    );
    if (settings.networkPolicy)
      new k8s.networking.v1.NetworkPolicy(
        `${name}-ingress`,
        { metadata: meta(`${names.base}-ingress`), spec: networkPolicySpec(settings, profile, args.stack) },
        child(),
      );

    const scheme = settings.tls === "off" ? "http" : "https";
    const serviceUrl = service.spec.clusterIP.apply(
      (ip) => `${scheme}://${ip.includes(":") ? `[${ip}]` : ip}:${settings.servicePort}`,
    );
    const smokeJob = settings.smokeEnabled
      ? this.smokeJob(name, args, profile, names, serviceUrl, { deployment, spec }, secret, tls?.objects, child)
      : pulumi.output("");
    const apiUrl = this.apiUrl(service, serviceUrl, scheme);
    this.endpoint = {
      apiUrl,
      docsUrl: apiUrl.apply((u) => `${u}/docs`),
      service: names.base,
      namespace: ns,
      replicas: settings.replicas,
      outputsClaim: names.outputsClaim,
      modelsClaim: names.modelsClaim,
      smokeJob,
      ...(settings.tls === "internal" ? { tlsRootSecret: tlsObjectNames(names.base).caSecret } : {}),
    };
    this.registerOutputs({ endpoint: this.endpoint, warnings: this.warnings });
  }

  /**
   * The Secret the WebUI's flags and the smoke Job read: both auth flag values and the passwords alone.
   * Auto-named and immutable: new credentials replace it under a new name, so the pods roll and read them.
   */
  private credentials(
    name: string,
    args: KubernetesFleetArgs,
    metadata: { namespace: string; labels: Record<string, string> },
    opts: pulumi.CustomResourceOptions,
  ) {
    const settings = args.settings;
    const ui = args.secrets.uiPassword ?? args.secrets.apiPassword;
    const uiUser = settings.uiUsername ?? settings.apiUsername;
    const stringData = pulumi.secret(
      pulumi.all([args.secrets.apiPassword, ui]).apply(([api, uiPw]) => ({
        [CREDENTIAL_KEYS.apiAuth]: `${settings.apiUsername}:${api}`,
        [CREDENTIAL_KEYS.apiPassword]: api,
        ...(settings.exposure === "api-and-ui"
          ? { [CREDENTIAL_KEYS.uiAuth]: `${uiUser}:${uiPw}`, [CREDENTIAL_KEYS.uiPassword]: uiPw }
          : {}),
      })),
    );
    return new k8s.core.v1.Secret(
      `${name}-credentials`,
      { metadata, type: "Opaque", immutable: true, stringData },
      opts,
    );
  }

  private smokeJob(
    name: string,
    args: KubernetesFleetArgs,
    profile: Profile,
    names: FleetNames,
    serviceUrl: pulumi.Output<string>,
    rollout: { deployment: k8s.apps.v1.Deployment; spec: pulumi.Output<unknown> },
    secret: k8s.core.v1.Secret,
    tls: pulumi.Output<FleetTlsObjects> | undefined,
    child: (deps?: pulumi.Resource[]) => pulumi.CustomResourceOptions,
  ): pulumi.Output<string> {
    const settings = args.settings;
    // A Job runs once: a new rollout or scale (the Deployment's spec, which names the Secret) gives a new Job name,
    // so the proof runs again.
    const revision = pulumi
      .all([rollout.spec, serviceUrl])
      .apply(([t, url]) =>
        createHash("sha256")
          .update(JSON.stringify(t))
          .update(url)
          .update(settings.smokeImage)
          .digest("hex")
          .slice(0, 10),
      );
    const spec = pulumi
      .all([serviceUrl, secret.metadata.name, tls])
      .apply(([url, secretName, objects]) => smokeJobSpec(settings, profile, args.stack, url, secretName, objects));
    const account = this.smokeAccount(name, args, names, child);
    const job = new k8s.batch.v1.Job(
      `${name}-smoke`,
      {
        metadata: {
          name: pulumi.interpolate`${names.base}-smoke-${revision}`,
          namespace: settings.namespace,
          labels: fleetLabels(args.stack, "smoke"),
          annotations: {
            "pulumi.com/timeoutSeconds": String(settings.rolloutTimeoutSeconds + settings.smokeTimeoutSeconds + 120),
          },
        },
        spec,
      },
      child([rollout.deployment, ...account]),
    );
    return job.metadata.name;
  }

  /** The smoke Job's identity: a ServiceAccount bound to a Role that reads its Deployment and lists pods. */
  private smokeAccount(
    name: string,
    args: KubernetesFleetArgs,
    names: FleetNames,
    child: (deps?: pulumi.Resource[]) => pulumi.CustomResourceOptions,
  ): pulumi.Resource[] {
    const metadata = {
      name: names.smokeAccount,
      namespace: args.settings.namespace,
      labels: fleetLabels(args.stack, "smoke"),
    };
    const account = new k8s.core.v1.ServiceAccount(
      `${name}-smoke-account`,
      { metadata, automountServiceAccountToken: false },
      child(),
    );
    const role = new k8s.rbac.v1.Role(`${name}-smoke-role`, { metadata, rules: smokeRoleRules(names) }, child());
    const binding = new k8s.rbac.v1.RoleBinding(
      `${name}-smoke-binding`,
      {
        metadata,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.smokeAccount },
        subjects: [{ kind: "ServiceAccount", name: names.smokeAccount, namespace: args.settings.namespace }],
      },
      child([account, role]),
    );
    return [account, role, binding];
  }

  /**
   * With tls: the proxies' Caddyfile (a ConfigMap, auto-named: a change rolls the pods), the certificate and key
   * (files: a Secret, likewise), or the Job that keeps the stack's CA in a Secret of its own (internal).
   */
  private tlsObjects(
    name: string,
    args: KubernetesFleetArgs,
    profile: Profile,
    names: FleetNames,
    service: k8s.core.v1.Service,
    child: (deps?: pulumi.Resource[]) => pulumi.CustomResourceOptions,
  ): { objects: pulumi.Output<FleetTlsObjects>; ready: pulumi.Resource[] } {
    const settings = args.settings;
    const n = tlsObjectNames(names.base);
    const metadata = { namespace: settings.namespace, labels: fleetLabels(args.stack, "webui") };
    const mode = settings.tls as "internal" | "files";
    const caddyfile = service.spec.clusterIP.apply((ip) =>
      podCaddyfile(
        { ...settings, tls: mode },
        profile,
        serviceNames(names.base, settings.namespace, ip, settings.tlsDomain),
        settings.servicePort,
      ),
    );
    const site = new k8s.core.v1.ConfigMap(
      `${name}-tls-site`,
      { metadata, immutable: true, data: { [SITE_FILES.caddyfile]: caddyfile, "ca.Caddyfile": CA_CADDYFILE } },
      child(),
    );
    if (mode === "files") {
      const { tlsCertificate, tlsKey } = args.secrets;
      const stringData = pulumi.secret(
        pulumi.all([tlsCertificate!, tlsKey!]).apply(([c, k]) => ({ [SITE_FILES.cert]: c, [SITE_FILES.key]: k })),
      );
      const files = new k8s.core.v1.Secret(
        `${name}-tls-files`,
        { metadata, type: "Opaque", immutable: true, stringData },
        child(),
      );
      const pins = tlsCertificate!.apply((chain) => pinnedRoots(settings, chain) ?? "");
      return {
        objects: pulumi
          .all([site.metadata.name, files.metadata.name, pins])
          .apply(([configMap, filesSecret, pinned]) => ({ configMap, filesSecret, pinnedRoots: pinned })),
        ready: [site, files],
      };
    }
    const jobMeta = { name: n.caJob, namespace: settings.namespace, labels: fleetLabels(args.stack, "tls-ca") };
    const account = new k8s.core.v1.ServiceAccount(
      `${name}-tls-ca-account`,
      { metadata: jobMeta, automountServiceAccountToken: false },
      child(),
    );
    const role = new k8s.rbac.v1.Role(`${name}-tls-ca-role`, { metadata: jobMeta, rules: caRoleRules(n) }, child());
    const binding = new k8s.rbac.v1.RoleBinding(
      `${name}-tls-ca-binding`,
      {
        metadata: jobMeta,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: n.caJob },
        subjects: [{ kind: "ServiceAccount", name: n.caJob, namespace: settings.namespace }],
      },
      child([account, role]),
    );
    const job = new k8s.batch.v1.Job(
      `${name}-tls-ca`,
      {
        metadata: { ...jobMeta, annotations: { "pulumi.com/timeoutSeconds": "300" } },
        spec: site.metadata.name.apply((configMap) =>
          caJobSpec(settings, n, configMap, fleetLabels(args.stack, "tls-ca")),
        ),
      },
      child([binding, site]),
    );
    return { objects: site.metadata.name.apply((configMap) => ({ configMap })), ready: [site, job] };
  }

  /** What a client outside the cluster calls: the load balancer's address, else the cluster IP (in-cluster only). */
  private apiUrl(
    service: k8s.core.v1.Service,
    clusterUrl: pulumi.Output<string>,
    scheme: string,
  ): pulumi.Output<string> {
    return pulumi.all([service.status, service.spec, clusterUrl]).apply(([status, spec, url]) => {
      const ingress = status?.loadBalancer?.ingress?.[0];
      const host = ingress?.ip ?? ingress?.hostname;
      return host ? `${scheme}://${host.includes(":") ? `[${host}]` : host}:${spec.ports[0]!.port}` : url;
    });
  }
}
