// Typed HTTP client for the WebUI on undici: pre-emptive Basic auth (A1111 sends no WWW-Authenticate
// challenge, so a client that waits for one never authenticates), a connect timeout, and a whole-request timeout (generation blocks for a long time).
// Network failures become NetError with a kind the readiness wait and the classifier act on.
import { Agent, request } from "undici";
import type { z } from "zod";
import { parseOrThrow } from "./schemas.js";

export type NetKind = "refused" | "reset" | "connect-timeout" | "timeout" | "dns" | "other";

export class NetError extends Error {
  readonly kind: NetKind;
  readonly code: string;
  constructor(kind: NetKind, code: string, message: string) {
    super(message);
    this.name = "NetError";
    this.kind = kind;
    this.code = code;
  }
}

export class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly path: string;
  constructor(status: number, path: string, body: unknown) {
    super(`HTTP ${status} from ${path}`);
    this.name = "HttpError";
    this.status = status;
    this.path = path;
    this.body = body;
  }
}

export interface ClientOptions {
  baseUrl: string;
  username?: string;
  password?: string;
  connectTimeoutMs: number;
  /** HTTPS: the root certificate(s) to trust, PEM (default: the system's). */
  ca?: string;
  /** HTTPS: the name to send and check the certificate against (default: the URL's host). */
  servername?: string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RawOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
  /** Send the Basic credentials (default true). The lock proof sends none. */
  auth?: boolean;
}

/** Map an undici/Node network error to a NetKind. */
export function classifyNetError(e: unknown): NetError {
  const err = e as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code ?? err.name ?? "UNKNOWN";
  const msg = err.message ?? String(e);
  if (err.name === "TimeoutError" || err.name === "AbortError" || code === "UND_ERR_ABORTED")
    return new NetError("timeout", code, msg);
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "ETIMEDOUT") return new NetError("connect-timeout", code, msg);
  if (code === "ECONNREFUSED") return new NetError("refused", code, msg);
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE") return new NetError("reset", code, msg);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new NetError("dns", code, msg);
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return new NetError("connect-timeout", code, msg);
  return new NetError("other", code, msg);
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly agent: Agent;
  private readonly authHeader: string | undefined;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    // headers/body timeouts off: the whole-request AbortSignal bounds a call instead.
    this.agent = new Agent({
      connect: {
        timeout: opts.connectTimeoutMs,
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.servername ? { servername: opts.servername } : {}),
      },
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.authHeader =
      opts.username !== undefined && opts.password !== undefined
        ? "Basic " + Buffer.from(`${opts.username}:${opts.password}`).toString("base64")
        : undefined;
  }

  /** One request; throws NetError on network failure, returns any HTTP status. */
  async raw(method: "GET" | "POST" | "HEAD", path: string, o: RawOptions): Promise<RawResponse> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.auth !== false && this.authHeader) headers.authorization = this.authHeader;
    try {
      const res = await request(this.baseUrl + path, {
        method,
        headers,
        body: o.body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      return { status: res.statusCode, headers: res.headers, body };
    } catch (e) {
      throw classifyNetError(e);
    }
  }

  /** GET/POST JSON; non-2xx throws HttpError with the parsed body; the 2xx body is schema-checked. */
  async json<T extends z.ZodType>(
    method: "GET" | "POST",
    path: string,
    schema: T,
    o: { body?: unknown; timeoutMs: number },
  ): Promise<z.infer<T>> {
    const res = await this.raw(method, path, {
      timeoutMs: o.timeoutMs,
      headers:
        o.body === undefined
          ? { accept: "application/json" }
          : { accept: "application/json", "content-type": "application/json" },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
    const parsed = jsonOrText(res.body);
    if (res.status < 200 || res.status > 299) throw new HttpError(res.status, path, parsed);
    return parseOrThrow(schema, parsed, `${method} ${path}`);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** A response body as JSON, or (not JSON) its first 500 characters of text: what errors show and schemas check. */
export function jsonOrText(b: Buffer): unknown {
  const s = b.toString("utf8");
  try {
    return JSON.parse(s);
  } catch {
    return s.slice(0, 500);
  }
}
