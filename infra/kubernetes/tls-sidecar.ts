// HTTPS on Kubernetes as plain data: Caddy as a second container in each WebUI pod, the Service and the
// NetworkPolicy on its port, and (tls internal) a one-off Job that keeps the stack's CA in a Secret that
// outlives the stack, so every pod issues from one root and clients' pins survive rollouts and recreates.
// Pure, like manifests.ts.
import type { PublicSettings } from "../config/schema.js";
import type { Profile } from "../webui/profiles.js";
import { caddyfile, PROXY_PATHS, PROXY_PORTS, SITE_FILES } from "../tls/caddyfile.js";

export type FleetTls = Pick<PublicSettings, "tls" | "tlsDomain" | "tlsProxyImage" | "namespace" | "smokeImage">;

export interface TlsObjectNames {
  /** The ConfigMap of the proxies' Caddyfile (auto-named from this prefix). */
  site: string;
  /** tls internal: the Secret holding the CA (kept: the Job makes it once, Pulumi never deletes it). */
  caSecret: string;
  /** tls internal: the Job, its ServiceAccount, Role and RoleBinding. */
  caJob: string;
  /** tls files: the Secret of the certificate and key (auto-named from this prefix). */
  files: string;
}

export const tlsObjectNames = (base: string): TlsObjectNames => ({
  site: `${base}-tls`,
  caSecret: `${base}-tls-ca`,
  caJob: `${base}-tls-ca`,
  files: `${base}-tls-files`,
});

/** The names a pod's certificate covers: the Service's DNS names, its cluster IP, and tlsDomain. */
export function serviceNames(
  base: string,
  namespace: string,
  clusterIp: string,
  tlsDomain: string | undefined,
): string[] {
  return [
    clusterIp,
    base,
    `${base}.${namespace}`,
    `${base}.${namespace}.svc`,
    `${base}.${namespace}.svc.cluster.local`,
    ...(tlsDomain ? [tlsDomain] : []),
  ];
}

/** Every pod's Caddyfile: the WebUI on the pod's loopback, clients without SNI (the cluster IP) served its certificate. */
export function podCaddyfile(
  settings: FleetTls & { tls: "internal" | "files" },
  profile: Profile,
  names: string[],
  servicePort: number,
): string {
  return caddyfile({
    mode: settings.tls,
    host: names[0]!,
    alsoNames: names.slice(1),
    publicPort: servicePort,
    upstream: { host: "127.0.0.1", port: profile.internalPort },
    sharedCaRoot: settings.tls === "internal",
    noAdmin: true,
  });
}

/** The Job's Caddyfile: a CA and one internal site, just enough for `caddy validate` to make the root. */
export const CA_CADDYFILE = `{\n\tskip_install_trust\n\tpki {\n\t\tca local {\n\t\t\tname "sd-webui"\n\t\t}\n\t}\n}\nhttps://localhost {\n\ttls internal\n\trespond "sd-webui CA"\n}\n`;

/** The proxy container of a WebUI pod. */
export function proxyContainer(settings: FleetTls) {
  return {
    name: "tls-proxy",
    image: settings.tlsProxyImage,
    ports: [{ name: "https", containerPort: PROXY_PORTS.https, protocol: "TCP" }],
    readinessProbe: { tcpSocket: { port: PROXY_PORTS.https }, periodSeconds: 5, failureThreshold: 3 },
    securityContext: { allowPrivilegeEscalation: false },
    volumeMounts: [
      { name: "tls-site", mountPath: PROXY_PATHS.site, readOnly: true },
      { name: "tls-data", mountPath: PROXY_PATHS.data },
    ],
  };
}

/** The proxy's volumes: its Caddyfile with the CA (internal) or the certificate (files); its own storage. */
export function proxyVolumes(
  settings: FleetTls,
  n: TlsObjectNames,
  configMap: string,
  filesSecret: string | undefined,
) {
  const material =
    settings.tls === "internal"
      ? {
          secret: {
            name: n.caSecret,
            items: [
              { key: SITE_FILES.caRoot, path: SITE_FILES.caRoot },
              { key: SITE_FILES.caKey, path: SITE_FILES.caKey },
            ],
          },
        }
      : {
          secret: {
            name: filesSecret!,
            items: [
              { key: SITE_FILES.cert, path: SITE_FILES.cert },
              { key: SITE_FILES.key, path: SITE_FILES.key },
            ],
          },
        };
  return [
    {
      name: "tls-site",
      projected: {
        sources: [
          { configMap: { name: configMap, items: [{ key: SITE_FILES.caddyfile, path: SITE_FILES.caddyfile }] } },
          material,
        ],
      },
    },
    { name: "tls-data", emptyDir: {} },
  ];
}

/** The CA Job: Caddy makes a root in its storage, then the smoke image keeps it in the Secret unless one is there. */
export function caJobSpec(settings: FleetTls, n: TlsObjectNames, configMap: string, labels: Record<string, string>) {
  const labelArgs = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return {
    backoffLimit: 2,
    template: {
      metadata: { labels },
      spec: {
        restartPolicy: "Never",
        serviceAccountName: n.caJob,
        automountServiceAccountToken: true,
        enableServiceLinks: false,
        securityContext: { runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, runAsNonRoot: true },
        initContainers: [
          {
            name: "make-root",
            image: settings.tlsProxyImage,
            command: ["caddy", "validate", "--config", `${PROXY_PATHS.site}/ca.Caddyfile`, "--adapter", "caddyfile"],
            securityContext: { allowPrivilegeEscalation: false },
            volumeMounts: [
              { name: "site", mountPath: PROXY_PATHS.site, readOnly: true },
              { name: "data", mountPath: PROXY_PATHS.data },
            ],
          },
        ],
        containers: [
          {
            name: "keep-root",
            image: settings.smokeImage,
            command: [
              "/usr/bin/node",
              "/opt/sdwebui/dist/smoke/tls-ca-secret.js",
              settings.namespace,
              n.caSecret,
              `${PROXY_PATHS.data}/caddy/pki/authorities/local`,
              ...labelArgs,
            ],
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
            volumeMounts: [{ name: "data", mountPath: PROXY_PATHS.data, readOnly: true }],
          },
        ],
        volumes: [
          { name: "site", configMap: { name: configMap, items: [{ key: "ca.Caddyfile", path: "ca.Caddyfile" }] } },
          { name: "data", emptyDir: {} },
        ],
      },
    },
  };
}

/** What the CA Job may do: read its Secret, and create Secrets (the API cannot limit a create to one name). */
export const caRoleRules = (n: TlsObjectNames) => [
  { apiGroups: [""], resources: ["secrets"], resourceNames: [n.caSecret], verbs: ["get"] },
  { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
];
