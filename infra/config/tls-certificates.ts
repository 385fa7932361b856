// The certificate checks of tls: files: PEM text read by node's X509Certificate (the OpenSSL parser), and
// what a TLS client would refuse in a chain and key for the hosts clients use.
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { isIP } from "node:net";

const PEM_CERT = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle in order, or a message saying what is wrong with the text. */
export function parsePemCertificates(text: string): X509Certificate[] | string {
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

type CertificateProblem = { key: "tlsCertificate" | "tlsKey"; message: string };

/** What is wrong with a chain (leaf first) and key for the hosts clients use, at time `now`; [] when nothing. */
export function certificateProblems(
  chainText: string,
  keyText: string,
  hosts: readonly string[],
  now = new Date(),
): CertificateProblem[] {
  const out: CertificateProblem[] = [];
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
  const certificate = (message: string) => out.push({ key: "tlsCertificate", message });
  for (const m of chainProblems(chain, now)) certificate(m);
  if (leaf.ca) certificate("starts with a CA certificate; the first certificate must be the server's own");
  for (const h of hosts)
    if (!certificateCovers(leaf, h))
      certificate(
        `does not cover ${h}, the address clients use (apiHost); its names: ${leaf.subjectAltName ?? "none"}`,
      );
  return out;
}

/** Each certificate valid at `now`, and each issued by the next one (the order a client walks the chain). */
function chainProblems(chain: X509Certificate[], now: Date): string[] {
  const out: string[] = [];
  for (const [i, c] of chain.entries()) {
    const which = i === 0 ? "the certificate" : `chain certificate ${i + 1}`;
    if (new Date(c.validFrom) > now) out.push(`${which} is not valid yet (from ${c.validFrom})`);
    if (new Date(c.validTo) < now) out.push(`${which} has expired (${c.validTo}); renew it`);
  }
  for (let i = 0; i + 1 < chain.length; i++)
    if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey))
      out.push(
        `is not a chain in order: certificate ${i + 1} is not issued by certificate ${i + 2}; put the server certificate first, then each issuer`,
      );
  return out;
}
