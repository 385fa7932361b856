// With tls on, the objects the pods' proxies read: their Caddyfile (a ConfigMap, auto-named: a change rolls the
// pods), the certificate and key (files: a Secret, likewise), or the Job that keeps the stack's CA in a Secret
// of its own (internal).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { pinnedRoots } from "../config/tls.js";
import { SITE_FILES } from "../tls/caddyfile.js";
import type { FleetContext } from "./fleet-args.js";
import { declareJobAccount } from "./fleet-jobs.js";
import { fleetLabels } from "./manifests.js";
import type { FleetTlsObjects } from "./manifests.js";
import { CA_CADDYFILE, caJobSpec, caRoleRules, podCaddyfile, serviceNames, tlsObjectNames } from "./tls-sidecar.js";

export interface FleetTls {
  objects: pulumi.Output<FleetTlsObjects>;
  /** What the Deployment waits for. */
  ready: pulumi.Resource[];
}

export function declareFleetTls(ctx: FleetContext, service: k8s.core.v1.Service): FleetTls {
  const { name, args, profile, names, child } = ctx;
  const settings = args.settings;
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
  return mode === "files" ? siteFiles(ctx, site, metadata) : stackCa(ctx, site);
}

/** files: the stack's certificate and key as a Secret; clients pin the chain's root (or tlsCaRoots). */
function siteFiles(
  { name, args, child }: FleetContext,
  site: k8s.core.v1.ConfigMap,
  metadata: { namespace: string; labels: Record<string, string> },
): FleetTls {
  const { tlsCertificate, tlsKey } = args.secrets;
  const stringData = pulumi.secret(
    pulumi.all([tlsCertificate!, tlsKey!]).apply(([c, k]) => ({ [SITE_FILES.cert]: c, [SITE_FILES.key]: k })),
  );
  const files = new k8s.core.v1.Secret(
    `${name}-tls-files`,
    { metadata, type: "Opaque", immutable: true, stringData },
    child(),
  );
  const pins = tlsCertificate!.apply((chain) => pinnedRoots(args.settings, chain) ?? "");
  return {
    objects: pulumi
      .all([site.metadata.name, files.metadata.name, pins])
      .apply(([configMap, filesSecret, pinned]) => ({ configMap, filesSecret, pinnedRoots: pinned })),
    ready: [site, files],
  };
}

/** internal: a Job makes the stack's CA once and keeps it in a Secret the proxies and clients read. */
function stackCa({ name, args, names, child }: FleetContext, site: k8s.core.v1.ConfigMap): FleetTls {
  const settings = args.settings;
  const n = tlsObjectNames(names.base);
  const jobMeta = { name: n.caJob, namespace: settings.namespace, labels: fleetLabels(args.stack, "tls-ca") };
  const account = declareJobAccount(`${name}-tls-ca`, jobMeta, caRoleRules(n), child);
  const job = new k8s.batch.v1.Job(
    `${name}-tls-ca`,
    {
      metadata: { ...jobMeta, annotations: { "pulumi.com/timeoutSeconds": "300" } },
      spec: site.metadata.name.apply((configMap) =>
        caJobSpec(settings, n, configMap, fleetLabels(args.stack, "tls-ca")),
      ),
    },
    child([account.binding, site]),
  );
  return { objects: site.metadata.name.apply((configMap) => ({ configMap })), ready: [site, job] };
}
