// The webui-mode (gradio 3.41.2) surface: `/` (login page when --gradio-auth is set and no cookie),
// `/login` (cookie), `/config`, `/file=` with gradio's rules, `/internal/*`; and the always-open docs.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import type { IncomingMessage } from "node:http";
import * as path from "node:path";
import { API_PATHS } from "./api.js";
import { html, httpException, json, methodNotAllowed, parseCookies, type Res, safeEqual } from "./http.js";

export interface UiCtx {
  gradioAuth: Map<string, string> | null;
  apiMounted: boolean;
  cwd: string;
  allowedPaths: string[];
  tokens: Map<string, string>;
  nowebui: boolean;
}

const MIME: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".txt": "text/plain; charset=utf-8",
  ".json": "application/json",
  ".html": "text/html; charset=utf-8",
  ".gif": "image/gif",
};

function user(ui: UiCtx, req: IncomingMessage): string | undefined {
  // gradio 3.41 names the cookies access-token / access-token-unsecure; later 3.x append "-<cookie_id>".
  const c = parseCookies(req);
  const names = Object.keys(c).filter((k) => /^access-token(-unsecure)?(-.+)?$/.test(k));
  for (const k of names) {
    const u = ui.tokens.get(c[k]!);
    if (u !== undefined) return u;
  }
  return undefined;
}
/** gradio's login_check dependency: null when allowed. */
function loginCheck(ui: UiCtx, req: IncomingMessage): Res | null {
  if (!ui.gradioAuth || user(ui, req) !== undefined) return null;
  return httpException(401, "Not authenticated", ui.apiMounted);
}

function page(config: Record<string, unknown>): Res {
  return html(
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Stable Diffusion</title></head>\n<body>` +
      `<gradio-app></gradio-app><script>window.gradio_config = ${JSON.stringify(config)};</script></body></html>\n`,
  );
}

const within = (p: string, root: string): boolean => {
  const rel = path.relative(path.resolve(root), p);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
};

/** gradio routes.file(): 403 dot component / dir / outside the allowed roots, 404 missing. */
function fileRoute(ui: UiCtx, req: IncomingMessage, rawPath: string): Res {
  const denied = loginCheck(ui, req);
  if (denied) return denied;
  const p = rawPath;
  // pathlib keeps ".." in absolute paths and drops "." and empty parts; relative paths are resolved.
  const parts = path.isAbsolute(p)
    ? p.split("/").filter((x) => x !== "" && x !== ".")
    : path.resolve(ui.cwd, p).split("/").filter(Boolean);
  const abs = "/" + parts.join("/");
  const forbidden = (): Res => httpException(403, `File not allowed: ${p}.`, ui.apiMounted);
  if (parts.some((x) => x.startsWith("."))) return forbidden();
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(abs);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) return forbidden();
  // Allowed roots are checked before existence, so a missing file outside them is 403, not 404.
  const tmp = process.env.GRADIO_TEMP_DIR || "/tmp/gradio";
  if (![ui.cwd, ...ui.allowedPaths, tmp].some((r) => within(abs, r))) return forbidden();
  if (!st) return httpException(404, `File not found: ${p}.`, ui.apiMounted);
  const body = req.method === "HEAD" ? "" : fs.readFileSync(abs);
  return {
    status: 200,
    body,
    headers: {
      "content-type": MIME[path.extname(abs).toLowerCase()] ?? "application/octet-stream",
      "accept-ranges": "bytes",
      "content-length": String(st.size),
      "last-modified": st.mtime.toUTCString(),
      etag: `"${st.mtimeMs.toString(16)}-${st.size.toString(16)}"`,
    },
  };
}

function login(ui: UiCtx, body: string): Res {
  if (!ui.gradioAuth) return { status: 302, headers: { location: "/" }, body: "" };
  const form = new URLSearchParams(body);
  const missing = ["username", "password"].filter((k) => !form.has(k));
  if (missing.length)
    return json(422, {
      detail: missing.map((k) => ({ loc: ["body", k], msg: "field required", type: "value_error.missing" })),
    });
  const u = form.get("username")!.trim();
  const want = ui.gradioAuth.get(u);
  if (want === undefined || !safeEqual(form.get("password")!, want))
    return httpException(400, "Incorrect credentials.", ui.apiMounted);
  const token = randomBytes(16).toString("base64url");
  ui.tokens.set(token, u);
  return json(
    200,
    { success: true },
    {
      "set-cookie": [
        `access-token=${token}; HttpOnly; Path=/; SameSite=none; Secure`,
        `access-token-unsecure=${token}; HttpOnly; Path=/; SameSite=lax`,
      ],
    },
  );
}

function openapi(ui: UiCtx): unknown {
  const paths: Record<string, unknown> = {};
  const add = (p: string): void => {
    paths[p] = { get: { summary: p } };
  };
  if (ui.apiMounted) API_PATHS.forEach(add);
  if (!ui.nowebui)
    [
      "/internal/ping",
      "/internal/sysinfo",
      "/internal/pending-tasks",
      "/file={path_or_url}",
      "/login",
      "/config",
    ].forEach(add);
  return { openapi: "3.0.2", info: { title: "FastAPI", version: "0.1.0" }, paths };
}

const DOCS =
  `<!DOCTYPE html>\n<html><head><title>FastAPI - Swagger UI</title></head><body><div id="swagger-ui"></div>` +
  `<script>const ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui'})</script></body></html>\n`;

/** Routes other than /sdapi. null → not a route here (404). */
export function handleUi(ui: UiCtx, req: IncomingMessage, route: string, body: string): Res | null {
  const m = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
  const only = (allowed: string[], f: () => Res): Res => (allowed.includes(m) ? f() : methodNotAllowed(allowed));
  if (route === "/docs") return only(["GET"], () => html(DOCS));
  if (route === "/redoc")
    return only(["GET"], () =>
      html(
        '<!DOCTYPE html><html><head><title>FastAPI - ReDoc</title></head><body><redoc spec-url="/openapi.json"></redoc></body></html>\n',
      ),
    );
  if (route === "/openapi.json") return only(["GET"], () => json(200, openapi(ui)));
  if (ui.nowebui) return null;
  if (route.startsWith("/file=")) return only(["GET"], () => fileRoute(ui, req, route.slice("/file=".length)));
  switch (route) {
    case "/":
      return only(["GET"], () =>
        !ui.gradioAuth || user(ui, req) !== undefined
          ? page({ version: "3.41.2", mode: "blocks", title: "Stable Diffusion", is_space: false, root: "" })
          : page({ auth_required: true, auth_message: null, space_id: null, root: "" }),
      );
    case "/login":
    case "/login/":
      return only(["POST"], () => login(ui, body));
    case "/logout":
      return only(["GET"], () => {
        const c = parseCookies(req);
        ui.tokens.delete(c["access-token"] ?? c["access-token-unsecure"] ?? "");
        return {
          status: 302,
          headers: {
            location: "/",
            "set-cookie": ["access-token=; Max-Age=0; Path=/", "access-token-unsecure=; Max-Age=0; Path=/"],
          },
          body: "",
        };
      });
    case "/config":
      return only(
        ["GET"],
        () => loginCheck(ui, req) ?? json(200, { version: "3.41.2", mode: "blocks", components: [], root: "" }),
      );
    case "/internal/ping":
      return only(["GET"], () => json(200, {}));
    case "/internal/pending-tasks":
      return only(["GET"], () => json(200, []));
    case "/internal/progress":
      return only(["POST"], () =>
        json(200, {
          active: false,
          queued: false,
          completed: true,
          progress: null,
          eta: null,
          live_preview: null,
          id_live_preview: -1,
          textinfo: null,
        }),
      );
    case "/internal/sysinfo":
      return only(["GET"], () =>
        json(200, { Platform: process.platform, Python: "3.10.14", Version: "v1.10.1", Commandline: "<hidden>" }),
      );
    case "/internal/quicksettings-hint":
      return only(["GET"], () => json(200, []));
    default:
      return null;
  }
}
