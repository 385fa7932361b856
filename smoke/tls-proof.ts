// The HTTPS proof: the certificate the proxy serves chains to the pinned roots (or, with none pinned, to
// the system's) and names the host the client dials; and nothing reaches the WebUI around the proxy:
// plain HTTP on the HTTPS port is not the API, the WebUI's own port does not answer, and the ACME HTTP
// port only redirects to HTTPS.
import { isIP } from "node:net";
import { connect, type PeerCertificate } from "node:tls";
import { request } from "undici";
import { SmokeError } from "./errors.js";
import type { Clock } from "./readiness.js";

export interface TlsReport {
  /** The names the certificate carries (subjectAltName). */
  names: string;
  issuer: string;
  validTo: string;
  fingerprint256: string;
  /** True when the chain was checked against pinned roots, false for the system's roots. */
  pinned: boolean;
  /** "<what>: <outcome>" for each way around the proxy that was tried and found closed. */
  bypass: string[];
}

/** Verification failures: the certificate is there and a client refuses it; waiting does not help. */
const UNTRUSTED = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);

const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, "");

/** One TLS handshake with full verification; the peer certificate, or the error's code. */
function handshake(
  url: URL,
  ca: string | undefined,
  servername: string | undefined,
  timeoutMs: number,
): Promise<PeerCertificate | { code: string; message: string }> {
  const host = hostOf(url);
  const name = servername ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    const socket = connect(
      {
        host,
        port: Number(url.port || 443),
        ...(name ? { servername: name } : {}),
        ...(ca ? { ca } : {}),
        timeout: timeoutMs,
      },
      () => {
        const cert = socket.getPeerCertificate();
        socket.end();
        resolve(cert);
      },
    );
    socket.on("timeout", () => {
      socket.destroy();
      resolve({ code: "ETIMEDOUT", message: "the TLS handshake timed out" });
    });
    socket.on("error", (e: Error & { code?: string }) => resolve({ code: e.code ?? "UNKNOWN", message: e.message }));
  });
}

/**
 * Waits (with progress) until the proxy serves a certificate, then checks it. A proxy still obtaining its
 * certificate (ACME) refuses handshakes, so those are retried until the deadline; a certificate that a client
 * would refuse fails at once, with the reason and the fix.
 */
export async function proveCertificate(
  url: URL,
  ca: string | undefined,
  servername: string | undefined,
  c: Clock,
): Promise<Omit<TlsReport, "bypass">> {
  let last = "";
  let told = Date.now();
  for (;;) {
    const r = await handshake(url, ca, servername, 10_000);
    if (!("code" in r))
      return {
        names: r.subjectaltname ?? "",
        issuer: String(r.issuer?.CN ?? ""),
        validTo: r.valid_to,
        fingerprint256: r.fingerprint256,
        pinned: ca !== undefined,
      };
    if (UNTRUSTED.has(r.code))
      throw new SmokeError(
        "tls-untrusted",
        `the certificate served at ${url.host}${servername ? ` for ${servername}` : ""} is refused: ${r.message} (${r.code}); ` +
          (ca
            ? "it must chain to the pinned root(s) and name the host clients use (apiHost)"
            : "it must chain to a root this machine trusts and name the host clients use (apiHost); for a private CA set tlsCaRoots"),
      );
    last = `${r.code}: ${r.message}`;
    if (Date.now() >= c.deadline)
      throw new SmokeError(
        "tls-untrusted",
        `no TLS handshake with ${url.host} succeeded in time (last: ${last}); the proxy has no certificate: see its log (docker logs <container>-tls)`,
      );
    if (Date.now() - told >= 15_000) {
      c.log(
        `smoke: waiting for the proxy's certificate at ${url.host} (${last}): ${Math.round((Date.now() - c.start) / 1000)}s elapsed, limit ${Math.round((c.deadline - c.start) / 1000)}s`,
      );
      told = Date.now();
    }
    await new Promise((r2) => setTimeout(r2, 1000));
  }
}

/** GET without credentials over plain HTTP; undefined when nothing answers (refused, reset, timed out). */
async function plainGet(
  url: string,
  timeoutMs: number,
): Promise<{ status: number; location?: string; body: string } | undefined> {
  try {
    // undici's request() does not follow redirects: a 308 comes back as it is.
    const res = await request(url, { method: "GET", signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.body.text()).slice(0, 300);
    const location = res.headers.location;
    return { status: res.statusCode, body, ...(typeof location === "string" ? { location } : {}) };
  } catch {
    return undefined;
  }
}

/** Does an answer come from the WebUI's API itself (a 2xx, or its 401 to a request without credentials)? */
const isWebUi = (r: { status: number; body: string }) =>
  (r.status >= 200 && r.status < 300) || (r.status === 401 && /Not authenticated|detail/.test(r.body));

export interface BypassInput {
  url: URL;
  /** The WebUI's own port (inside its container): it must not answer on the API host. */
  plainPort?: number;
  /** The ACME challenge port: it may only redirect to HTTPS. */
  httpPort?: number;
  timeoutMs: number;
}

/** Tries every way around the proxy this deployment could offer; each must be closed. */
export async function proveNoBypass(i: BypassInput): Promise<string[]> {
  const host = i.url.hostname;
  const closed: string[] = [];
  const probe = async (
    what: string,
    url: string,
    ok: (r: { status: number; location?: string; body: string }) => boolean,
    why: string,
  ) => {
    const r = await plainGet(url, i.timeoutMs);
    if (r && !ok(r)) throw new SmokeError("plain-bypass", `${what} (${url}) answers ${r.status} without TLS: ${why}`);
    closed.push(`${what}: ${r ? r.status : "no answer"}`);
  };
  await probe(
    "plain HTTP on the HTTPS port",
    `http://${host}:${i.url.port || 443}/sdapi/v1/options`,
    (r) => !isWebUi(r),
    "the API is served without TLS on the published port; publish only the proxy (tls setting)",
  );
  if (i.plainPort !== undefined)
    await probe(
      "the WebUI's own port",
      `http://${host}:${i.plainPort}/sdapi/v1/options`,
      (r) => !isWebUi(r),
      `the WebUI itself is reachable on port ${i.plainPort}, around the proxy; it must not be published`,
    );
  if (i.httpPort !== undefined)
    await probe(
      "the ACME HTTP port",
      `http://${host}:${i.httpPort}/sdapi/v1/options`,
      (r) => r.status >= 300 && r.status < 400 && (r.location ?? "").startsWith("https://"),
      "the HTTP port must serve only the ACME challenge and a redirect to HTTPS",
    );
  return closed;
}
