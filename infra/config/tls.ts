// The `tls*` settings: HTTPS in front of the API through a TLS proxy (Caddy). Pure: the settings, the
// certificate checks (node's X509Certificate, the OpenSSL parser) and the rules across keys. The mode
// decides where certificates come from: the proxy's own CA (internal), an ACME CA (acme) or files the
// user gives (files); off keeps the plain HTTP API.
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { isIP } from "node:net";
import { z } from "zod";
import { hostPath, imageRef, tcpPort } from "./fields.js";
import { CERTIFICATE_SOURCES, PROXY_PORTS } from "../tls/caddyfile.js";

const PROXY_HTTPS_PORT = PROXY_PORTS.https;

const TLS_MODES = ["off", ...CERTIFICATE_SOURCES] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** Let's Encrypt's production ACME directory, the default CA of acme mode. */
const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";
/** The official Caddy image, at the version the tests build from Caddy's Go module. */
export const DEFAULT_PROXY_IMAGE = "caddy:2.11.9";

const PEM_CERT = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle in order, or a message saying what is wrong with the text. */
function parsePemCertificates(text: string): X509Certificate[] | string {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0)
    return "holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)";
  const rest = text.replace(PEM_CERT, "").trim();
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(rest))
    return "holds a private key: give the certificate chain here and the key in tlsKey";
  if (rest !== "") return "holds text other than PEM certificates";
  const certs: X509Certificate[] = [];
  for (const [i, b] of blocks.entries()) {
    try {
      certs.push(new X509Certificate(b));
    } catch {
      return `certificate ${i + 1} of the PEM text does not parse as X.509`;
    }
  }
  return certs;
}

/** The private key of a PEM text, or a message: an encrypted key is refused (the proxy cannot ask for its passphrase). */
function parsePemKey(text: string): KeyObject | string {
  if (/ENCRYPTED/.test(text))
    return "is an encrypted key; the proxy cannot ask for a passphrase: decrypt it (openssl pkey -in key.pem -out plain.pem)";
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text))
    return "holds no PEM private key (-----BEGIN PRIVATE KEY----- ...)";
  try {
    return createPrivateKey(text);
  } catch {
    return "does not parse as a private key";
  }
}

/** Does the certificate name the host (a DNS name or an IP address) the way a TLS client checks it? */
function certificateCovers(cert: X509Certificate, host: string): boolean {
  return isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host, { subject: "never" }) !== undefined;
}

/** What is wrong with a chain (leaf first) and key for the hosts clients use, at time `now`; [] when nothing. */
function certificateProblems(
  chainText: string,
  keyText: string,
  hosts: readonly string[],
  now = new Date(),
): { key: "tlsCertificate" | "tlsKey"; message: string }[] {
  const out: { key: "tlsCertificate" | "tlsKey"; message: string }[] = [];
  const chain = parsePemCertificates(chainText);
  const key = parsePemKey(keyText);
  if (typeof key === "string") out.push({ key: "tlsKey", message: key });
  if (typeof chain === "string") return [{ key: "tlsCertificate", message: chain }, ...out];
  const leaf = chain[0]!;
  if (typeof key !== "string" && !leaf.checkPrivateKey(key))
    out.push({
      key: "tlsKey",
      message: `does not belong to the certificate (${leaf.subject.replace(/\n/g, ", ")}): give the key the certificate was issued for`,
    });
  for (const [i, c] of chain.entries()) {
    const which = i === 0 ? "the certificate" : `chain certificate ${i + 1}`;
    if (new Date(c.validFrom) > now)
      out.push({ key: "tlsCertificate", message: `${which} is not valid yet (from ${c.validFrom})` });
    if (new Date(c.validTo) < now)
      out.push({ key: "tlsCertificate", message: `${which} has expired (${c.validTo}); renew it` });
  }
  for (let i = 0; i + 1 < chain.length; i++)
    if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey))
      out.push({
        key: "tlsCertificate",
        message: `is not a chain in order: certificate ${i + 1} is not issued by certificate ${i + 2}; put the server certificate first, then each issuer`,
      });
  if (leaf.ca)
    out.push({
      key: "tlsCertificate",
      message: "starts with a CA certificate; the first certificate must be the server's own",
    });
  for (const h of hosts)
    if (!certificateCovers(leaf, h))
      out.push({
        key: "tlsCertificate",
        message: `does not cover ${h}, the address clients use (apiHost); its names: ${leaf.subjectAltName ?? "none"}`,
      });
  return out;
}

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

type Problem = { key: string; message: string; fix: string };
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
function clientHosts(
  raw: Record<string, unknown>,
  parseHosts: (raw: Record<string, unknown>) => { sshHost?: string }[],
): string[] {
  if (typeof raw.apiHost === "string") return [raw.apiHost];
  const bind =
    typeof raw.bindAddress === "string" && !["0.0.0.0", "::"].includes(raw.bindAddress) ? raw.bindAddress : "127.0.0.1";
  return [...new Set(parseHosts(raw).map((h) => h.sshHost ?? bind))];
}

/**
 * What cannot work with the chosen mode: missing or foreign keys, a domain clients do not use, a port clash,
 * a certificate that a client would refuse. `isDefault(key)`: the raw value is the declared default.
 * `parseHosts` gives the stack's Docker hosts from the raw values (the ssh host, if any, of each).
 */
export function tlsProblems(
  raw: Record<string, unknown>,
  isDefault: (key: string) => boolean,
  parseHosts: (raw: Record<string, unknown>) => { sshHost?: string }[],
): Problem[] {
  const out: Problem[] = [];
  const add = (key: string, message: string, fix: string) => out.push({ key, message, fix });
  const mode = (TLS_MODES as readonly string[]).includes(String(raw.tls)) ? (raw.tls as TlsMode) : "off";
  const set = (k: string) => raw[k] !== undefined && !isDefault(k);
  for (const [k, modes] of Object.entries(MODE_ONLY))
    if (set(k) && !modes.includes(mode))
      add(
        k,
        `is only used with tls: ${modes.join(" or ")} (this stack has tls: ${mode})`,
        `pulumi config rm <ns>:${k}, or pulumi config set <ns>:tls ${modes[0]}`,
      );
  const kubernetes = raw.target === "kubernetes";
  // tlsDomain: the ACME certificate's domain on Docker hosts; on Kubernetes, the name clients use besides the Service's.
  const domainModes: readonly TlsMode[] = kubernetes ? ["internal", "files"] : ["acme"];
  if (set("tlsDomain") && !domainModes.includes(mode))
    add(
      "tlsDomain",
      `is only used with tls: ${domainModes.join(" or ")} on target ${kubernetes ? "kubernetes" : "docker"} (this stack has tls: ${mode})`,
      "pulumi config rm <ns>:tlsDomain",
    );
  if (mode === "acme") {
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
  if (kubernetes && mode !== "off" && String(raw.profilePort) === String(PROXY_HTTPS_PORT))
    add(
      "profilePort",
      `is ${PROXY_HTTPS_PORT}, the port the TLS proxy listens on in each pod (the two share the pod's network)`,
      "pulumi config set <ns>:profilePort <another port>",
    );
  if (mode === "files") {
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
    if (typeof raw.tlsCertificate === "string" && typeof raw.tlsKey === "string") {
      const hosts = kubernetes
        ? typeof raw.tlsDomain === "string"
          ? [raw.tlsDomain]
          : []
        : clientHosts(raw, parseHosts);
      for (const p of certificateProblems(raw.tlsCertificate, raw.tlsKey, hosts))
        add(
          p.key,
          p.message,
          p.key === "tlsKey"
            ? "pulumi config set --secret <ns>:tlsKey < key.pem"
            : "pulumi config set --secret <ns>:tlsCertificate < fullchain.pem",
        );
    }
  }
  return out;
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
