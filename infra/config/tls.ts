// The `tls*` settings: HTTPS in front of the API through a TLS proxy (Caddy). Pure: the settings and the
// rules across keys (the certificate checks are tls-certificates.ts). The mode
// decides where certificates come from: the proxy's own CA (internal), an ACME CA (acme) or files the
// user gives (files); off keeps the plain HTTP API.
import { isIP } from "node:net";
import { z } from "zod";
import { hostPath, imageRef, tcpPort } from "./fields.js";
import { certificateProblems, parsePemCertificates } from "./tls-certificates.js";
import { collect, type Add, type Problem } from "./problem.js";
import { CERTIFICATE_SOURCES, PROXY_PORTS } from "../tls/caddyfile.js";

const PROXY_HTTPS_PORT = PROXY_PORTS.https;

const TLS_MODES = ["off", ...CERTIFICATE_SOURCES] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** Let's Encrypt's production ACME directory, the default CA of acme mode. */
const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";
/** The official Caddy image, at the version the tests build from Caddy's Go module. */
export const DEFAULT_PROXY_IMAGE = "caddy:2.11.9";

/** A DNS name a public CA can validate over HTTP: no scheme, port, path, wildcard or IP address. */
const domainName = z.string().superRefine((d, ctx) => {
  const fail = (message: string) => ctx.addIssue({ code: "custom", message });
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(d)) return fail("must be a domain name alone, without a scheme (https://)");
  if (d.includes("*")) return fail("must be one domain name; the HTTP challenge cannot validate a wildcard");
  if (isIP(d.replace(/^\[|\]$/g, "")))
    return fail("must be a domain name, not an IP address: ACME's HTTP challenge validates domain names");
  if (/[:/]/.test(d)) return fail("must be a domain name alone, without a port or path (the port is hostPort)");
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(d))
    return fail("must be a fully qualified domain name in lower case, e.g. sd.example.com");
});

const pemCertificates = z.string().superRefine((t, ctx) => {
  const r = parsePemCertificates(t);
  if (typeof r === "string") ctx.addIssue({ code: "custom", message: r });
});

const httpsUrl = z
  .string()
  .refine((u) => URL.canParse(u) && new URL(u).protocol === "https:", "must be an https:// URL of an ACME directory");

export const TLS_SETTINGS = {
  tls: z
    .enum(TLS_MODES, { error: `must be one of ${TLS_MODES.join(", ")}` })
    .default("off")
    .describe(
      "HTTPS in front of the API: off, internal (the proxy's own CA), acme (an ACME CA) or files (your certificate)",
    ),
  tlsDomain: domainName
    .optional()
    .describe(
      "acme: the certificate's domain, which clients use (apiHost defaults to it); kubernetes: the name clients use besides the Service's",
    ),
  tlsEmail: z
    .email({ error: "must be an e-mail address, e.g. ops@example.com" })
    .optional()
    .describe("acme: contact address of the ACME account"),
  tlsAcmeDirectory: httpsUrl
    .default(LETS_ENCRYPT_DIRECTORY)
    .describe("acme: the ACME directory URL; default Let's Encrypt"),
  tlsCaRoots: pemCertificates
    .optional()
    .describe(
      "Root certificate(s), PEM, of a private CA: the ACME server's (acme) or the one tlsCertificate chains to (files); the smoke pins them",
    ),
  tlsCertificate: pemCertificates
    .optional()
    .describe("files: the certificate chain, PEM, server certificate first (secret)"),
  tlsKey: z.string().optional().describe("files: the certificate's private key, PEM, unencrypted (secret)"),
  tlsHttpPort: tcpPort()
    .default(80)
    .describe(
      "acme: host port of the HTTP challenge, open to every address (it serves only the challenge and a redirect to HTTPS)",
    ),
  tlsDir: hostPath
    .default("/srv/sd-webui/tls")
    .describe("Host folder of the proxy: its CA, ACME account and certificates (kept on destroy)"),
  tlsProxyImage: imageRef.default(DEFAULT_PROXY_IMAGE).describe("The TLS proxy's image (Caddy)"),
};

/** The tls settings whose values are secrets. */
export const TLS_SECRET_KEYS = ["tlsCertificate", "tlsKey"] as const;

type ParseHosts = (raw: Record<string, unknown>) => { sshHost?: string }[];

/** Settings only one tls mode reads (the others refuse them instead of ignoring them). */
const MODE_ONLY: Record<string, readonly TlsMode[]> = {
  tlsEmail: ["acme"],
  tlsAcmeDirectory: ["acme"],
  tlsHttpPort: ["acme"],
  tlsCertificate: ["files"],
  tlsKey: ["files"],
  tlsCaRoots: ["acme", "files"],
  tlsDir: ["internal", "acme", "files"],
  tlsProxyImage: ["internal", "acme", "files"],
};

/** The addresses clients use per Docker host, as far as the raw values tell (apiHost, else the ssh host, else loopback). */
function clientHosts(raw: Record<string, unknown>, parseHosts: ParseHosts): string[] {
  if (typeof raw.apiHost === "string") return [raw.apiHost];
  const bind =
    typeof raw.bindAddress === "string" && !["0.0.0.0", "::"].includes(raw.bindAddress) ? raw.bindAddress : "127.0.0.1";
  return [...new Set(parseHosts(raw).map((h) => h.sshHost ?? bind))];
}

/** What one tls check reads: the raw values, the mode, the target and the stack's Docker hosts. */
interface TlsCheck {
  raw: Record<string, unknown>;
  mode: TlsMode;
  kubernetes: boolean;
  parseHosts: ParseHosts;
  add: Add;
}

/**
 * What cannot work with the chosen mode: missing or foreign keys, a domain clients do not use, a port clash,
 * a certificate that a client would refuse. `isDefault(key)`: the raw value is the declared default.
 * `parseHosts` gives the stack's Docker hosts from the raw values (the ssh host, if any, of each).
 */
export function tlsProblems(
  raw: Record<string, unknown>,
  isDefault: (key: string) => boolean,
  parseHosts: ParseHosts,
): Problem[] {
  const mode = (TLS_MODES as readonly string[]).includes(String(raw.tls)) ? (raw.tls as TlsMode) : "off";
  return collect((add) => {
    const t: TlsCheck = { raw, mode, kubernetes: raw.target === "kubernetes", parseHosts, add };
    foreignKeyProblems(t, (k) => raw[k] !== undefined && !isDefault(k));
    if (mode === "acme") acmeProblems(t);
    if (t.kubernetes && mode !== "off" && String(raw.profilePort) === String(PROXY_HTTPS_PORT))
      add(
        "profilePort",
        `is ${PROXY_HTTPS_PORT}, the port the TLS proxy listens on in each pod (the two share the pod's network)`,
        "pulumi config set <ns>:profilePort <another port>",
      );
    if (mode === "files") filesProblems(t);
  });
}

/** Keys set (to other than their defaults) that the stack's mode does not read. */
function foreignKeyProblems({ mode, kubernetes, add }: TlsCheck, set: (key: string) => boolean): void {
  for (const [k, modes] of Object.entries(MODE_ONLY))
    if (set(k) && !modes.includes(mode))
      add(
        k,
        `is only used with tls: ${modes.join(" or ")} (this stack has tls: ${mode})`,
        `pulumi config rm <ns>:${k}, or pulumi config set <ns>:tls ${modes[0]}`,
      );
  // tlsDomain: the ACME certificate's domain on Docker hosts; on Kubernetes, the name clients use besides the Service's.
  const domainModes: readonly TlsMode[] = kubernetes ? ["internal", "files"] : ["acme"];
  if (set("tlsDomain") && !domainModes.includes(mode))
    add(
      "tlsDomain",
      `is only used with tls: ${domainModes.join(" or ")} on target ${kubernetes ? "kubernetes" : "docker"} (this stack has tls: ${mode})`,
      "pulumi config rm <ns>:tlsDomain",
    );
}

/** acme: one domain, the one clients use, served from one Docker host with a challenge port of its own. */
function acmeProblems({ raw, kubernetes, parseHosts, add }: TlsCheck): void {
  if (kubernetes)
    add(
      "tls",
      "acme is not offered on kubernetes: in a cluster, certificates from an ACME CA are cert-manager's work, with an Ingress in front of the Service",
      "pulumi config set <ns>:tls internal, or pulumi config set <ns>:tls files",
    );
  for (const k of ["tlsDomain", "tlsEmail"] as const)
    if (raw[k] === undefined) add(k, "is required with tls: acme", `pulumi config set <ns>:${k} <value>`);
  if (typeof raw.tlsDomain === "string" && typeof raw.apiHost === "string" && raw.apiHost !== raw.tlsDomain)
    add(
      "tlsDomain",
      `is not apiHost (${raw.apiHost}): the certificate must name the host clients connect to`,
      `pulumi config set <ns>:apiHost ${raw.tlsDomain}, or pulumi config rm <ns>:apiHost (it then defaults to tlsDomain)`,
    );
  if (parseHosts(raw).length > 1 || (Array.isArray(raw.hosts) && raw.hosts.length > 0))
    add(
      "tls",
      "acme serves one domain from one Docker host, and the hosts setting makes several containers",
      "pulumi config set <ns>:tls internal, or pulumi config set <ns>:tls files (with a certificate naming every host)",
    );
  const port = String(raw.hostPort ?? "7860");
  if (String(raw.tlsHttpPort ?? "80") === port)
    add(
      "tlsHttpPort",
      `is hostPort (${port}): the challenge port and the HTTPS port must differ`,
      "pulumi config set <ns>:tlsHttpPort 80",
    );
}

/** files: the certificate and key given, and a chain a client would accept for the names clients use. */
function filesProblems({ raw, kubernetes, parseHosts, add }: TlsCheck): void {
  for (const k of TLS_SECRET_KEYS)
    if (raw[k] === undefined)
      add(
        k,
        "is required with tls: files",
        `pulumi config set --secret <ns>:${k} < ${k === "tlsKey" ? "key.pem" : "fullchain.pem"}`,
      );
  // In a cluster the smoke reaches the Service by its cluster IP, which no certificate of yours names: it checks tlsDomain.
  if (kubernetes && raw.tlsDomain === undefined)
    add(
      "tlsDomain",
      "is required with tls: files on kubernetes: the name clients use, which the certificate covers (the smoke checks the certificate against it)",
      "pulumi config set <ns>:tlsDomain <the certificate's name, e.g. sd.example.com>",
    );
  if (typeof raw.tlsCertificate !== "string" || typeof raw.tlsKey !== "string") return;
  const hosts = kubernetes ? (typeof raw.tlsDomain === "string" ? [raw.tlsDomain] : []) : clientHosts(raw, parseHosts);
  for (const p of certificateProblems(raw.tlsCertificate, raw.tlsKey, hosts))
    add(
      p.key,
      p.message,
      p.key === "tlsKey"
        ? "pulumi config set --secret <ns>:tlsKey < key.pem"
        : "pulumi config set --secret <ns>:tlsCertificate < fullchain.pem",
    );
}

/** What a preview says about the transport: plain HTTP beyond loopback, or the port the ACME challenge opens. */
export function transportWarnings(settings: {
  tls: TlsMode;
  bindAddress: string;
  hostPort: number;
  tlsHttpPort: number;
  tlsDomain?: string;
}): string[] {
  const loopback = /^127\.|^::1$/.test(settings.bindAddress);
  if (settings.tls === "off" && !loopback)
    return [
      `tls: the API on port ${settings.hostPort} is plain HTTP: its password crosses the network in clear to every allow-listed client; set tls (internal, acme or files) to put HTTPS in front`,
    ];
  if (settings.tls === "acme")
    return [
      `tls: port ${settings.tlsHttpPort} is published to every address for the ACME HTTP challenge (the CA's validation servers have no fixed addresses); it serves only the challenge and a redirect to https://${settings.tlsDomain ?? "<tlsDomain>"}:${settings.hostPort}`,
    ];
  return [];
}

/** The roots a client (the smoke) pins for files and acme: the configured ones, else a self-signed certificate's own. */
export function pinnedRoots(settings: { tlsCaRoots?: string }, chain: string | undefined): string | undefined {
  if (settings.tlsCaRoots !== undefined) return settings.tlsCaRoots;
  if (chain === undefined) return undefined;
  const certs = parsePemCertificates(chain);
  if (typeof certs === "string") return undefined;
  const top = certs[certs.length - 1]!;
  return top.checkIssued(top) ? top.toString() : undefined;
}
