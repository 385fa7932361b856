// The Kubernetes target as one component: the credentials Secret, the claims for outputs/ and models/
// (kept on destroy), the WebUI Deployment, its Service and NetworkPolicy, and the smoke Job that proves,
// after the rollout, that an image was saved on the outputs volume. The specs come from manifests.ts; the
// tls objects from fleet-tls.ts, the Jobs from fleet-jobs.ts.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { resolveProfile } from "../webui/profiles.js";
import { onResource } from "../common/resource-error.js";
import {
  claimSpec,
  deploymentSpec,
  fleetLabels,
  fleetNames,
  networkPolicySpec,
  CREDENTIAL_KEYS,
  serviceSpec,
} from "./manifests.js";
import { tlsObjectNames } from "./tls-sidecar.js";
import { exposureWarnings } from "../config/kubernetes-exposure.js";
import type { FleetContext, KubernetesFleetArgs } from "./fleet-args.js";
import { declareSmokeJob } from "./fleet-jobs.js";
import { declareFleetTls, type FleetTls } from "./fleet-tls.js";

export type { KubernetesFleetArgs, KubernetesFleetSettings } from "./fleet-args.js";

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
    this.warnings = exposureWarnings(settings);
    for (const w of this.warnings) pulumi.log.warn(w, this);
    const provider = new k8s.Provider(
      `${name}-provider`,
      {
        ...(args.secrets.kubeconfig ? { kubeconfig: args.secrets.kubeconfig } : {}),
        ...(settings.kubeContext ? { context: settings.kubeContext } : {}),
        namespace: settings.namespace,
      },
      { parent: this },
    );
    const ctx: FleetContext = {
      name,
      args,
      profile: onResource(this, () => resolveProfile(settings)),
      names: fleetNames(args.stack, settings),
      child: (deps = []) => ({ parent: this, provider, dependsOn: deps }),
    };
    const secret = this.credentials(ctx);
    const { service, deployment, spec, tls } = this.workload(ctx, secret);
    const scheme = settings.tls === "off" ? "http" : "https";
    const serviceUrl = service.spec.clusterIP.apply(
      (ip) => `${scheme}://${ip.includes(":") ? `[${ip}]` : ip}:${settings.servicePort}`,
    );
    const smokeJob = settings.smokeEnabled
      ? declareSmokeJob(ctx, serviceUrl, { deployment, spec }, secret, tls?.objects)
      : pulumi.output("");
    const apiUrl = this.apiUrl(service, serviceUrl, scheme);
    this.endpoint = {
      apiUrl,
      docsUrl: apiUrl.apply((u) => `${u}/docs`),
      service: ctx.names.base,
      namespace: settings.namespace,
      replicas: settings.replicas,
      outputsClaim: ctx.names.outputsClaim,
      modelsClaim: ctx.names.modelsClaim,
      smokeJob,
      ...(settings.tls === "internal" ? { tlsRootSecret: tlsObjectNames(ctx.names.base).caSecret } : {}),
    };
    this.registerOutputs({ endpoint: this.endpoint, warnings: this.warnings });
  }

  /** Metadata of a fleet object in the stack's namespace, labelled for `component`. */
  private meta(
    ctx: FleetContext,
    objectName: string,
    component: "webui" | "smoke" = "webui",
    annotations: Record<string, pulumi.Input<string>> = {},
  ) {
    const labels = fleetLabels(ctx.args.stack, component);
    return { name: objectName, namespace: ctx.args.settings.namespace, labels, annotations };
  }

  /** The claims this stack owns (kept on destroy), the Service, the tls objects, the Deployment, its policy. */
  private workload(ctx: FleetContext, secret: k8s.core.v1.Secret) {
    const { name, args, profile, names, child } = ctx;
    const settings = args.settings;
    const claims = names.ownClaims.map(
      (which) =>
        new k8s.core.v1.PersistentVolumeClaim(
          `${name}-${which}`,
          {
            metadata: this.meta(ctx, which === "outputs" ? names.outputsClaim : names.modelsClaim, "webui", {
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
      { metadata: this.meta(ctx, names.base), spec: serviceSpec(settings, profile, args.stack) },
      child(),
    );
    const tls: FleetTls | undefined = settings.tls === "off" ? undefined : declareFleetTls(ctx, service);
    const spec = pulumi
      .all([secret.metadata.name, tls?.objects])
      .apply(([secretName, objects]) =>
        deploymentSpec(settings, profile, settings.image ?? profile.defaultImage, args.stack, secretName, objects),
      );
    // With the smoke on, its Job waits for the rollout and names an unschedulable pod's reason at once (the
    // provider's own wait says nothing of it on a scale-up); without it, the provider waits.
    const awaitBy: Record<string, string> = settings.smokeEnabled
      ? { "pulumi.com/skipAwait": "true" }
      : { "pulumi.com/timeoutSeconds": String(settings.rolloutTimeoutSeconds) };
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-webui`,
      { metadata: this.meta(ctx, names.base, "webui", awaitBy), spec },
      child([secret, ...claims, ...(tls?.ready ?? [])]),
    );
    if (settings.networkPolicy)
      new k8s.networking.v1.NetworkPolicy(
        `${name}-ingress`,
        { metadata: this.meta(ctx, `${names.base}-ingress`), spec: networkPolicySpec(settings, profile, args.stack) },
        child(),
      );
    return { service, deployment, spec, tls };
  }

  /**
   * The Secret the WebUI's flags and the smoke Job read: both auth flag values and the passwords alone.
   * Auto-named and immutable: new credentials replace it under a new name, so the pods roll and read them.
   */
  private credentials({ name, args, child }: FleetContext) {
    const metadata = { namespace: args.settings.namespace, labels: fleetLabels(args.stack, "webui") };
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
      child(),
    );
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
