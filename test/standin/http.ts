// Small response type shared by the route modules, and the error bodies of FastAPI and A1111.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export interface Res {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer | string;
}

export function json(status: number, obj: unknown, headers: Record<string, string | string[]> = {}): Res {
  return { status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(obj) };
}

export function html(body: string, status = 200): Res {
  return { status, headers: { "content-type": "text/html; charset=utf-8" }, body };
}

export const notFound = (): Res => json(404, { detail: "Not Found" });
export const methodNotAllowed = (allow: string[]): Res =>
  json(405, { detail: "Method Not Allowed" }, { allow: allow.join(", ") });

/**
 * A fastapi HTTPException as the client sees it: A1111's handler (registered only when its Api is
 * mounted) rebuilds it as {error, detail, body, errors} and drops the headers (no WWW-Authenticate).
 */
export function httpException(status: number, detail: string, apiMounted: boolean): Res {
  return json(status, apiMounted ? { error: "HTTPException", detail, body: "", errors: "" } : { detail });
}

/** secrets.compare_digest on UTF-8 bytes (length leak only, as Python's). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** fastapi.security.HTTPBasic + Api.auth. Returns null when accepted, else the 401 detail. */
export function basicAuthFailure(req: IncomingMessage, creds: Map<string, string>): string | null {
  const h = req.headers.authorization;
  if (!h) return "Not authenticated";
  const sp = h.indexOf(" ");
  const scheme = sp < 0 ? h : h.slice(0, sp);
  const param = sp < 0 ? "" : h.slice(sp + 1);
  if (scheme.toLowerCase() !== "basic") return "Not authenticated";
  // base64.b64decode (non-strict): drop non-alphabet chars, then padding must be right; then ASCII.
  const cleaned = param.replace(/[^A-Za-z0-9+/=]/g, "");
  if (cleaned.length % 4 !== 0 || /=[^=]/.test(cleaned)) return "Invalid authentication credentials";
  const bytes = Buffer.from(cleaned, "base64");
  if (bytes.some((b) => b > 0x7f)) return "Invalid authentication credentials";
  const data = bytes.toString("latin1");
  const colon = data.indexOf(":");
  if (colon < 0) return "Invalid authentication credentials";
  const user = data.slice(0, colon);
  const pass = data.slice(colon + 1);
  const want = creds.get(user);
  if (want !== undefined && safeEqual(pass, want)) return null;
  return "Incorrect username or password";
}

export function parseCookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}
