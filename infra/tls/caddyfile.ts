// The TLS proxy's configuration: one Caddyfile per WebUI container, as plain text from validated values.
// Pure. Caddy terminates TLS on its HTTPS port and passes every request to the WebUI on the stack's own
// network: long generations, large img2img bodies and the UI's websockets and event streams included.

/** Where the proxy's certificates come from: its own CA, an ACME CA, or files the user gives. */
export const CERTIFICATE_SOURCES = ["internal", "acme", "files"] as const;
export type CertificateSource = (typeof CERTIFICATE_SOURCES)[number];

/** Where the proxy listens inside its container: unprivileged ports, apart from the WebUI's own (a pod shares them). */
export const PROXY_PORTS = { https: 8443, http: 8880 } as const;
/** Paths inside the proxy container: its own storage (CA, ACME account, certificates) and this site's files. */
export const PROXY_PATHS = { data: "/data", site: "/etc/caddy", caddyfile: "/etc/caddy/Caddyfile" } as const;
/** File names in the site folder. */
export const SITE_FILES = {
  caddyfile: "Caddyfile",
  cert: "cert.pem",
  key: "key.pem",
  acmeRoots: "acme-ca-roots.pem",
  caRoot: "root.crt",
  caKey: "root.key",
} as const;

export interface ProxySite {
  mode: CertificateSource;
  /** The name or address clients use: the certificate names it, and clients without SNI (an IP) get it. */
  host: string;
  /** Further names the certificate(s) cover (a Service's DNS names in a cluster). */
  alsoNames?: string[];
  /** The port clients dial on the host (a redirect from the HTTP port points there). */
  publicPort: number;
  /** The WebUI as the proxy reaches it: its container name on the stack network (or localhost in a pod) and port. */
  upstream: { host: string; port: number };
  acme?: { email: string; directory: string; hasCaRoots: boolean };
  /** A CA root the proxy must issue from (several proxies sharing one CA, in a Kubernetes pod), in the site folder. */
  sharedCaRoot?: boolean;
  /**
   * No admin endpoint: in a pod the WebUI shares the proxy's loopback and could reconfigure it through one;
   * there a change rolls the pods instead of reloading the proxy.
   */
  noAdmin?: boolean;
}

/** A Caddyfile token from a validated value: nothing that would end the token or open a block or placeholder. */
function token(v: string, what: string): string {
  if (!/^[A-Za-z0-9._:/@+%=?&~-]+$/.test(v))
    throw new Error(`tls: ${what} "${v}" cannot be written into the proxy's configuration`);
  return v;
}

const siteFile = (name: string) => `${PROXY_PATHS.site}/${name}`;

function globalOptions(s: ProxySite): string[] {
  const lines = [
    "{",
    // The admin endpoint stays inside the container: `caddy reload` reaches it there, nobody else can.
    s.noAdmin ? "\tadmin off" : "\tadmin localhost:2019",
    // The configuration is the Caddyfile, nothing else: no copy kept in the container.
    "\tpersist_config off",
    // The container has no trust store worth changing, and clients pin the root themselves.
    "\tskip_install_trust",
    // Clients that connect by IP address send no server name: give them the certificate of the host.
    `\tdefault_sni ${token(s.host, "host")}`,
    `\thttp_port ${PROXY_PORTS.http}`,
    `\thttps_port ${PROXY_PORTS.https}`,
    // Caddy's own redirect would point at its inside port; the acme site below redirects to the public one.
    "\tauto_https disable_redirects",
  ];
  if (s.mode === "acme" && s.acme) {
    lines.push(`\temail ${token(s.acme.email, "e-mail")}`, `\tacme_ca ${token(s.acme.directory, "ACME directory")}`);
    if (s.acme.hasCaRoots) lines.push(`\tacme_ca_root ${siteFile(SITE_FILES.acmeRoots)}`);
  }
  if (s.mode === "internal") {
    lines.push("\tpki {", "\t\tca local {", '\t\t\tname "sd-webui"');
    if (s.sharedCaRoot)
      lines.push(
        "\t\t\troot {",
        `\t\t\t\tcert ${siteFile(SITE_FILES.caRoot)}`,
        `\t\t\t\tkey ${siteFile(SITE_FILES.caKey)}`,
        "\t\t\t}",
      );
    lines.push("\t\t}", "\t}");
  }
  // A generation can take minutes before the first byte of its answer: no read or write deadline on a
  // request once its headers are in; idle keep-alive connections still end. No HTTP/3: its UDP port inside
  // the container is not published, so advertising it would only send clients to a dead end.
  lines.push(
    "\tservers {",
    "\t\tprotocols h1 h2",
    "\t\ttimeouts {",
    "\t\t\tread_header 30s",
    "\t\t\tidle 5m",
    "\t\t}",
    "\t}",
    "}",
  );
  return lines;
}

export function caddyfile(s: ProxySite): string {
  const host = token(s.host, "host");
  const tls =
    s.mode === "internal"
      ? ["\ttls internal"]
      : s.mode === "files"
        ? [`\ttls ${siteFile(SITE_FILES.cert)} ${siteFile(SITE_FILES.key)}`]
        : // The HTTP challenge only: TLS-ALPN would be validated on port 443 of the host, which is not the proxy's.
          ["\ttls {", "\t\tissuer acme {", "\t\t\tdisable_tlsalpn_challenge", "\t\t}", "\t}"];
  const lines = [
    ...globalOptions(s),
    "",
    `${[host, ...(s.alsoNames ?? []).map((n) => token(n, "name"))].map((h) => `https://${h.includes(":") ? `[${h}]` : h}`).join(", ")} {`,
    ...tls,
    "\treverse_proxy " + `${token(s.upstream.host, "upstream")}:${s.upstream.port}` + " {",
    // Streams (progress, the UI's event stream) reach the client as they are written.
    "\t\tflush_interval -1",
    // A reload (a new certificate) leaves open websockets and streams their time instead of cutting them.
    "\t\tstream_close_delay 10m",
    "\t\ttransport http {",
    // Many clients at once: keep enough upstream connections open to reuse them.
    "\t\t\tkeepalive_idle_conns_per_host 64",
    "\t\t}",
    "\t}",
    "}",
    "",
    // Any other Host would get an empty 200 from Caddy: answer what it is instead.
    "https:// {",
    // It names no host to get a certificate for: internal and files name their certificate; acme's is the site's.
    ...(s.mode === "acme" ? [] : tls),
    `\trespond "misdirected request: this server answers as ${host}" 421`,
    "}",
  ];
  if (s.mode === "acme")
    // The HTTP port serves the ACME challenge (Caddy answers it before any route) and otherwise only this.
    lines.push("", `http://${host} {`, `\tredir https://${host}:${s.publicPort}{uri} 308`, "}");
  return `${lines.join("\n")}\n`;
}
