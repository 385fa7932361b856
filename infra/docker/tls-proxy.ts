// HTTPS in front of the WebUI on a Docker host: per host, the stack's own network, the proxy image, the
// proxies' folders and files, and (tls: internal) the root certificate of their CA; per WebUI container,
// a Caddy container publishing the HTTPS port and passing requests to the WebUI over that network, and a
// reload step that makes it read a changed configuration or certificate without a restart.
import { createHash, X509Certificate } from "node:crypto";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { PublicSettings } from "../config/schema.js";
import type { HostLayout, ContainerSlot } from "./host-layout.js";
import { hostCommand, type HostCommand, type HostTarget } from "./steps/host-command.js";
import { hostScript } from "./steps/host-script.js";
import type { Profile } from "../webui/profiles.js";
import { caddyfile, PROXY_PATHS, PROXY_PORTS, type ProxySite } from "../tls/caddyfile.js";

export type TlsSettings = Pick<
  PublicSettings,
  "tls" | "tlsDir" | "tlsEmail" | "tlsAcmeDirectory" | "tlsCaRoots" | "tlsHttpPort" | "tlsProxyImage" | "bindAddress"
>;
export type TlsOn = TlsSettings & { tls: Exclude<PublicSettings["tls"], "off"> };

/** Seconds the root reader waits for the first proxy to make its CA. */
const ROOT_WAIT_SECONDS = 120;

/** One proxy's names: its container and its site folder (under <tlsDir>/sites). */
function proxyNames(instance: ContainerSlot): { container: string; site: string } {
  return { container: `${instance.containerName}-tls`.slice(0, 63), site: instance.containerName };
}

/** The Caddyfile of one WebUI container's proxy. */
function siteConfig(settings: TlsOn, hostLayout: HostLayout, instance: ContainerSlot, profile: Profile): string {
  const site: ProxySite = {
    mode: settings.tls,
    host: hostLayout.apiHost,
    publicPort: instance.hostPort,
    upstream: { host: instance.containerName, port: profile.internalPort },
    ...(settings.tls === "acme"
      ? {
          acme: {
            email: settings.tlsEmail ?? "",
            directory: settings.tlsAcmeDirectory,
            hasCaRoots: settings.tlsCaRoots !== undefined,
          },
        }
      : {}),
  };
  return caddyfile(site);
}

export interface TlsHostArgs {
  settings: TlsOn;
  hostLayout: HostLayout;
  profile: Profile;
  target: HostTarget;
  /** The name of the stack's network on this host. */
  networkName: string;
  labels: { label: string; value: string }[];
  /** files: the certificate chain and key (secrets). */
  certificate?: pulumi.Output<string>;
  key?: pulumi.Output<string>;
  hostIdentity: string;
  provider: docker.Provider;
  /** What must run first (the port checks). */
  dependsOn: pulumi.Resource[];
}

export interface TlsHost {
  network: docker.Network;
  image: docker.RemoteImage;
  siteFiles: HostCommand;
  /** A digest of every proxy's files (secret: it covers the key); a change reloads the proxies. */
  filesDigest: pulumi.Output<string>;
}

/** The host's share of the proxies: network, image, folders and files. */
export function declareTlsHost(name: string, a: TlsHostArgs, parent: pulumi.Resource): TlsHost {
  const settings = a.settings;
  const onHost = { parent, provider: a.provider, replacementTrigger: a.hostIdentity };
  // A fixed name: the old network must go (after its containers) before the new one can be made.
  const network = new docker.Network(
    `${name}-network`,
    { name: a.networkName, labels: a.labels },
    { ...onHost, deleteBeforeReplace: true, dependsOn: a.dependsOn },
  );
  const image = new docker.RemoteImage(
    `${name}-proxy-image`,
    { name: settings.tlsProxyImage, keepLocally: true },
    { ...onHost, dependsOn: a.dependsOn },
  );
  const sites = a.hostLayout.instances.flatMap((i) => [
    proxyNames(i).site,
    siteConfig(settings, a.hostLayout, i, a.profile),
  ]);
  const script = hostScript("tls-site-files.sh", [settings.tlsDir, settings.tls, settings.tlsCaRoots ?? "", ...sites]);
  const material =
    settings.tls === "files" && a.certificate && a.key
      ? pulumi.secret(pulumi.all([a.certificate, a.key]).apply(([c, k]) => `${c.trim()}\n${k.trim()}\n`))
      : undefined;
  const siteFiles = hostCommand(
    `${name}-tls`,
    a.target,
    { create: script, update: script, sudo: true, ...(material ? { stdin: material } : {}) },
    {
      parent,
      dependsOn: a.dependsOn,
      // The folders hold the proxies' CA and certificates: never removed, not even by destroy.
      retainOnDelete: true,
    },
  );
  const filesDigest = pulumi.secret(
    pulumi
      .all([pulumi.output(script), material ?? ""])
      .apply(([t, m]) => createHash("sha256").update(t).update(m).digest("hex")),
  );
  return { network, image, siteFiles, filesDigest };
}

/** tls: internal: the root certificate (PEM) of the proxies' CA, read on the host once the proxy has made it. */
export function declareRootCertificate(
  name: string,
  target: HostTarget,
  tlsDir: string,
  proxy: docker.Container,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const script = hostScript("tls-read-root.sh", [tlsDir, ROOT_WAIT_SECONDS]);
  // Read again whenever the proxy is replaced; the CA itself outlives every proxy.
  const reader = hostCommand(
    name,
    target,
    { create: script, update: script, sudo: true, stdin: proxy.id.apply((id) => `${id}\n`) },
    { parent, dependsOn: [proxy] },
  );
  return reader.stdout.apply((pem) => {
    const cert = new X509Certificate(pem);
    if (!cert.ca)
      throw new pulumi.ResourceError(`the proxy's root certificate in ${tlsDir} is not a CA certificate`, parent);
    return cert.toString();
  });
}

export interface ProxyArgs {
  settings: TlsOn;
  instance: ContainerSlot;
  target: HostTarget;
  host: TlsHost;
  spec: { labels: { label: string; value: string }[]; logDriver: string; logOpts: Record<string, string> };
  provider: docker.Provider;
  hostIdentity: string;
  /** The firewall must hold before the port is published; the WebUI container is the upstream. */
  dependsOn: pulumi.Resource[];
}

/** One WebUI container's proxy, and the step that reloads it when its files change. */
export function declareProxy(
  name: string,
  a: ProxyArgs,
  parent: pulumi.Resource,
): { container: docker.Container; reload: HostCommand } {
  const settings = a.settings;
  const names = proxyNames(a.instance);
  const ports: { internal: number; external: number; ip: string; protocol: string }[] = [
    { internal: PROXY_PORTS.https, external: a.instance.hostPort, ip: settings.bindAddress, protocol: "tcp" },
  ];
  if (settings.tls === "acme")
    ports.push({
      internal: PROXY_PORTS.http,
      external: settings.tlsHttpPort,
      ip: settings.bindAddress,
      protocol: "tcp",
    });
  const container = new docker.Container(
    name,
    {
      image: a.host.image.imageId,
      name: names.container,
      networkMode: a.host.network.name,
      ports,
      mounts: [
        { type: "bind", source: `${settings.tlsDir}/data`, target: PROXY_PATHS.data, readOnly: false },
        { type: "bind", source: `${settings.tlsDir}/sites/${names.site}`, target: PROXY_PATHS.site, readOnly: true },
      ],
      restart: "unless-stopped",
      labels: [...a.spec.labels, { label: "sdwebui.role", value: "tls-proxy" }],
      logDriver: a.spec.logDriver,
      logOpts: a.spec.logOpts,
      wait: false,
      destroyGraceSeconds: 10,
    },
    {
      parent,
      provider: a.provider,
      dependsOn: [a.host.siteFiles, ...a.dependsOn],
      deleteBeforeReplace: true,
      replaceOnChanges: ["mounts", "#initerror"],
      ignoreChanges: ["logOpts"],
      replacementTrigger: a.hostIdentity,
    },
  );
  const dockerHost = a.target.host.kind === "unix" ? a.target.host.uri : "";
  const reload = hostCommand(
    `${name}-reload`,
    a.target,
    {
      // A new proxy starts with the files as they are; only a change of them needs a reload.
      create: `echo "tls: ${names.container} started with its configuration and certificates"`,
      update: hostScript("tls-reload.sh", [dockerHost, names.container]),
      sudo: false,
      stdin: a.host.filesDigest.apply((d) => `${d}\n`),
    },
    { parent, dependsOn: [container, a.host.siteFiles] },
  );
  return { container, reload };
}
