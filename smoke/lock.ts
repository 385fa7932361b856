// Proof of the lock: without credentials, /sdapi/v1/options, /file=<proven file> and (in
// api-and-ui mode) the UI are refused; with the UI login (gradio's cookie, POST /login) the proven file
// downloads through /file= byte-identical to the disk copy. An open surface is its own failure class.
import { ApiClient } from "./client.js";
import type { RawResponse } from "./client.js";
import { SmokeError } from "./errors.js";

export type Exposure = "api-and-ui" | "api-only";

export interface LockInput {
  exposure: Exposure;
  /** The proven file's path as the container sees it (what /file= takes). */
  containerFile: string;
  /** The file's bytes as read from the host. */
  hostBytes: Buffer;
  uiUsername: string;
  uiPassword: string;
  timeoutMs: number;
}

export interface LockReport {
  /** "<what>: <status>" for each unauthenticated probe. */
  refused: string[];
  /** True when the file came through /file= identical to the disk copy (api-and-ui only). */
  fileServed: boolean;
}

const ok = (s: number) => s >= 200 && s < 300;

export function filePath(containerFile: string): string {
  return "/file=" + encodeURI(containerFile).replace(/[?#]/g, encodeURIComponent);
}

/** Does a 200 answer for "/" show gradio's login page rather than the app? */
export function isLoginPage(res: RawResponse): boolean {
  const text = res.body.toString("utf8");
  return /"auth_required"\s*:\s*true/.test(text);
}

export async function proveLock(client: ApiClient, i: LockInput): Promise<LockReport> {
  const refused: string[] = [];
  const get = (p: string) => client.raw("GET", p, { auth: false, timeoutMs: i.timeoutMs });

  const opts = await get("/sdapi/v1/options");
  if (ok(opts.status))
    throw new SmokeError(
      "surface-open",
      `GET /sdapi/v1/options answers ${opts.status} without credentials: the API is open; start the WebUI with --api-auth`,
    );
  refused.push(`GET /sdapi/v1/options without credentials: ${opts.status}`);

  const fp = filePath(i.containerFile);
  const file = await get(fp);
  if (ok(file.status))
    throw new SmokeError(
      "surface-open",
      `GET /file=${i.containerFile} serves the generated image without credentials (${file.status}): ` +
        (i.exposure === "api-and-ui"
          ? "start the WebUI with --gradio-auth (exposure api-and-ui)"
          : "start the WebUI with --nowebui (exposure api-only)"),
    );
  refused.push(`GET /file=<proven file> without credentials: ${file.status}`);

  if (i.exposure === "api-only") {
    const root = await get("/");
    if (ok(root.status))
      throw new SmokeError(
        "surface-open",
        `GET / answers ${root.status} in api-only mode: the UI is running; start the WebUI with --nowebui`,
      );
    refused.push(`GET / without credentials: ${root.status}`);
    return { refused, fileServed: false };
  }

  const root = await get("/");
  if (ok(root.status) && !isLoginPage(root))
    throw new SmokeError(
      "surface-open",
      `GET / serves the UI without a login (${root.status}): start the WebUI with --gradio-auth`,
    );
  const config = await get("/config");
  if (ok(config.status))
    throw new SmokeError(
      "surface-open",
      `GET /config answers ${config.status} without a login: the UI is open; start the WebUI with --gradio-auth`,
    );
  refused.push(
    `GET / without credentials: ${ok(root.status) ? "login page" : root.status}`,
    `GET /config without credentials: ${config.status}`,
  );

  const cookie = await login(client, i);
  const dl = await client.raw("GET", fp, { auth: false, timeoutMs: i.timeoutMs, headers: { cookie } });
  if (!ok(dl.status))
    throw new SmokeError(
      "file-serve",
      `after the UI login, GET /file=${i.containerFile} answered ${dl.status}: /file= does not serve the proven image (check --gradio-allowed-path and the data root)`,
    );
  if (!dl.body.equals(i.hostBytes))
    throw new SmokeError(
      "file-serve",
      `GET /file=${i.containerFile} returned ${dl.body.length} bytes that differ from the ${i.hostBytes.length}-byte file on the host: the WebUI serves another file than the one mounted`,
    );
  return { refused, fileServed: true };
}

/** gradio's login (form POST /login); returns the Cookie header for later requests. */
async function login(client: ApiClient, i: LockInput): Promise<string> {
  const form = new URLSearchParams({ username: i.uiUsername, password: i.uiPassword }).toString();
  const res = await client.raw("POST", "/login", {
    auth: false,
    timeoutMs: i.timeoutMs,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form,
  });
  const set = res.headers["set-cookie"];
  const cookies = (Array.isArray(set) ? set : set ? [set] : [])
    .map((c) => c.split(";")[0] ?? "")
    .filter((c) => c.includes("="));
  if (!(ok(res.status) || res.status === 302 || res.status === 303) || cookies.length === 0)
    throw new SmokeError(
      "file-serve",
      `the UI login (POST /login) failed with ${res.status}: check the UI user name and password variable against --gradio-auth`,
    );
  return cookies.join("; ");
}
