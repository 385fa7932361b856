// Bad tls configurations ([settings, key, message pattern], as in bad-config-cases.ts): every refusal of
// the four modes, with certificates made here by openssl (expired, not yet valid, for another name, a key
// of another certificate, an encrypted key, a chain out of order).
import { execFileSync } from "node:child_process";
import { makeCa, makeLeaf } from "../helpers/certs.js";

const ca = makeCa();
const good = makeLeaf(ca, ["127.0.0.1", "sd.example.com"]);
const other = makeLeaf(ca, ["127.0.0.1"]);
const expired = makeLeaf(ca, ["127.0.0.1"], { startDaysAgo: 10, days: 2 });
const early = makeLeaf(ca, ["127.0.0.1"], { startDaysAgo: -5, days: 30 });
const foreign = makeLeaf(ca, ["elsewhere.example.com"]);
const encryptedKey = execFileSync("openssl", ["pkey", "-aes256", "-passout", "pass:secret-pass"], {
  input: good.key,
  encoding: "utf8",
});

const files = (cert: string, key: string, extra: Record<string, unknown> = {}) => ({
  tls: "files",
  tlsCertificate: cert,
  tlsKey: key,
  ...extra,
});
const acme = (extra: Record<string, unknown> = {}) => ({
  tls: "acme",
  tlsDomain: "sd.example.com",
  tlsEmail: "ops@example.com",
  ...extra,
});

export const TLS_BAD: [Record<string, unknown>, string, RegExp][] = [
  [{ tls: "https" }, "tls", /one of off, internal, acme, files/],
  [{ tls: "acme", tlsEmail: "ops@example.com" }, "tlsDomain", /required with tls: acme/],
  [{ tls: "acme", tlsDomain: "sd.example.com" }, "tlsEmail", /required with tls: acme/],
  [acme({ tlsDomain: "https://sd.example.com" }), "tlsDomain", /without a scheme/],
  [acme({ tlsDomain: "sd.example.com:8443" }), "tlsDomain", /without a port/],
  [acme({ tlsDomain: "*.example.com" }), "tlsDomain", /wildcard/],
  [acme({ tlsDomain: "203.0.113.9" }), "tlsDomain", /not an IP address/],
  [acme({ tlsEmail: "ops-at-example.com" }), "tlsEmail", /e-mail address/],
  [acme({ apiHost: "other.example.com" }), "tlsDomain", /is not apiHost \(other\.example\.com\)/],
  [
    acme({
      hosts: ["ssh://ops@gpu-1#0", "ssh://ops@gpu-2#0"],
      sshKnownHosts: "gpu-1 ssh-ed25519 AAAA\ngpu-2 ssh-ed25519 AAAA",
    }),
    "tls",
    /one domain from one Docker host/,
  ],
  [acme({ hostPort: "8443", tlsHttpPort: "8443" }), "tlsHttpPort", /challenge port and the HTTPS port must differ/],
  [acme({ tlsAcmeDirectory: "http://acme.example.com/directory" }), "tlsAcmeDirectory", /https:\/\/ URL/],
  [acme({ target: "kubernetes" }), "tls", /cert-manager/],
  [{ tls: "internal", tlsEmail: "ops@example.com" }, "tlsEmail", /only used with tls: acme/],
  [{ tls: "internal", tlsCertificate: good.cert }, "tlsCertificate", /only used with tls: files/],
  [{ tls: "internal", tlsCaRoots: "not a certificate" }, "tlsCaRoots", /holds no PEM certificate/],
  [{ tls: "files", tlsKey: good.key }, "tlsCertificate", /required with tls: files/],
  [{ tls: "files", tlsCertificate: good.cert }, "tlsKey", /required with tls: files/],
  [files(good.cert, other.key), "tlsKey", /does not belong to the certificate/],
  [files(expired.cert, expired.key), "tlsCertificate", /has expired/],
  [files(early.cert, early.key), "tlsCertificate", /not valid yet/],
  [files(foreign.cert, foreign.key), "tlsCertificate", /does not cover 127\.0\.0\.1/],
  [files(good.cert, good.key, { apiHost: "gpu.example.net" }), "tlsCertificate", /does not cover gpu\.example\.net/],
  [files(good.cert, encryptedKey), "tlsKey", /encrypted key/],
  [files(`${ca.cert}${good.cert}`, good.key), "tlsCertificate", /not a chain in order/],
  [files(`${good.cert}${good.key}`, good.key), "tlsCertificate", /holds a private key/],
];

/** Text that must never appear in an error: the keys' bodies. */
export const TLS_KEY_LINES = [good.key, other.key, expired.key, early.key, foreign.key, encryptedKey].map((k) =>
  k.split("\n").find((l) => l.length > 40)!,
);
