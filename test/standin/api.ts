// The `/sdapi/v1/*` routes (modules/api/api.py): Basic auth on every one of them when --api-auth is
// set, checked before the body; FastAPI's 422 for bad bodies; A1111's error shape for the rest.
import * as os from "node:os";
import { samplersJson, schedulersJson } from "./catalog.js";
import { ApiError, type Ctx, generate } from "./generate.js";
import { basicAuthFailure, httpException, json, methodNotAllowed, type Res } from "./http.js";
import { listCheckpoints, sdModelsJson, title } from "./models.js";
import { readPng } from "./png.js";
import { IMG2IMG_FIELDS, TXT2IMG_FIELDS, validateBody } from "./validate.js";
import type { IncomingMessage } from "node:http";

const PY_ERRNO: Record<string, [string, number, string]> = {
  EACCES: ["PermissionError", 13, "Permission denied"],
  EPERM: ["PermissionError", 1, "Operation not permitted"],
  ENOENT: ["FileNotFoundError", 2, "No such file or directory"],
  EROFS: ["OSError", 30, "Read-only file system"],
  ENOSPC: ["OSError", 28, "No space left on device"],
  ENOTDIR: ["NotADirectoryError", 20, "Not a directory"],
};
/** A Node fs error as Python's OSError subclass and str(e), e.g. PermissionError "[Errno 13] Permission denied: 'p'". */
function pyOsError(e: unknown): [string, string] | null {
  const x = e as NodeJS.ErrnoException;
  const m = x?.code ? PY_ERRNO[x.code] : undefined;
  return m ? [m[0], `[Errno ${m[1]}] ${m[2]}: '${x.path ?? ""}'`] : null;
}

type Handler = (ctx: Ctx, body: string) => Promise<Res> | Res;

const ok = (v: unknown): Res => json(200, v);
const notModelled = (): Res =>
  json(500, { error: "NotImplementedError", detail: "", body: "", errors: "not modelled by the stand-in" });
const idleProgress = (ctx: Ctx): unknown => {
  const s = ctx.state;
  return {
    progress: s ? 0.5 : 0.0,
    eta_relative: 0.0,
    state: {
      skipped: false,
      interrupted: false,
      stopping_generation: false,
      job: s?.job ?? "",
      job_count: s ? 1 : 0,
      job_timestamp: s?.jobTimestamp ?? "0",
      job_no: 0,
      sampling_step: 0,
      sampling_steps: s?.steps ?? 0,
    },
    current_image: null,
    textinfo: null,
  };
};

/** A body that must be a JSON object: the object, or FastAPI's 422 response. */
function parseDict(body: string): { d: Record<string, unknown> } | { res: Res } {
  const v = validateBody(body, []);
  return v.ok ? { d: JSON.parse(body) as Record<string, unknown> } : { res: json(422, { detail: v.detail }) };
}

async function genRoute(ctx: Ctx, body: string, mode: "txt2img" | "img2img"): Promise<Res> {
  const v = validateBody(body, mode === "txt2img" ? TXT2IMG_FIELDS : IMG2IMG_FIELDS);
  if (!v.ok) return json(422, { detail: v.detail });
  const echo = structuredClone(v.req);
  if (mode === "img2img" && !v.req.include_init_images) {
    echo.init_images = null;
    echo.mask = null;
  }
  const { images, info } = await generate(ctx, mode, v.req);
  return ok({ images, parameters: echo, info });
}

const GET: Record<string, Handler> = {
  options: (ctx) => ok(ctx.opts.all()),
  "cmd-flags": (ctx) => ok(ctx.cmd),
  samplers: () => ok(samplersJson()),
  schedulers: () => ok(schedulersJson()),
  upscalers: () =>
    ok([
      { name: "None", model_name: null, model_path: null, model_url: null, scale: 4 },
      { name: "Lanczos", model_name: null, model_path: null, model_url: null, scale: 4 },
      { name: "Nearest", model_name: null, model_path: null, model_url: null, scale: 4 },
    ]),
  "latent-upscale-modes": () =>
    ok(
      [
        "Latent",
        "Latent (antialiased)",
        "Latent (bicubic)",
        "Latent (bicubic antialiased)",
        "Latent (nearest)",
        "Latent (nearest-exact)",
      ].map((name) => ({ name })),
    ),
  "sd-models": (ctx) => ok(sdModelsJson(ctx.checkpoints)),
  "sd-vae": () => ok([]),
  hypernetworks: () => ok([]),
  "face-restorers": () =>
    ok([
      { name: "CodeFormer", cmd_dir: null },
      { name: "GFPGAN", cmd_dir: null },
    ]),
  "realesrgan-models": () => ok([]),
  "prompt-styles": () => ok([]),
  embeddings: () => ok({ loaded: {}, skipped: {} }),
  memory: () => {
    const total = os.totalmem(),
      free = os.freemem();
    return ok({ ram: { free, used: total - free, total }, cuda: { error: "unavailable" } });
  },
  scripts: () =>
    ok({
      txt2img: ["prompt matrix", "prompts from file or textbox", "x/y/z plot"],
      img2img: ["prompt matrix", "prompts from file or textbox", "x/y/z plot"],
    }),
  "script-info": () => ok([]),
  extensions: () => ok([]),
  progress: (ctx) => ok(idleProgress(ctx)),
};

const POST: Record<string, Handler> = {
  txt2img: (ctx, b) => genRoute(ctx, b, "txt2img"),
  img2img: (ctx, b) => genRoute(ctx, b, "img2img"),
  options: (ctx, b) => {
    const p = parseDict(b);
    if ("res" in p) return p.res;
    const body = p.d;
    if ("sd_model_checkpoint" in body) {
      const want = body.sd_model_checkpoint;
      const hit = ctx.checkpoints.find((c) => [title(c), c.name, c.modelName].includes(String(want)));
      if (!hit) throw new ApiError(500, "RuntimeError", "", `model '${String(want)}' not found`);
      body.sd_model_checkpoint = title(hit);
    }
    for (const [k, v] of Object.entries(body)) ctx.opts.set(k, v);
    try {
      ctx.opts.save();
    } catch (e) {
      throw new ApiError(500, "AssertionError", "", (e as Error).message);
    }
    return ok(null);
  },
  "png-info": (_ctx, b) => {
    const p = parseDict(b);
    if ("res" in p) return p.res;
    const img = String(p.d.image ?? "");
    if (!img.trim()) return ok({ info: "", items: {}, parameters: {} });
    try {
      const t = readPng(Buffer.from(img.replace(/^data:image\/[^;]+;base64,/, ""), "base64")).text;
      return ok({ info: t.parameters ?? "", items: t, parameters: {} });
    } catch {
      throw new ApiError(500, "HTTPException", "Invalid encoded image");
    }
  },
  interrupt: () => ok(null),
  skip: () => ok(null),
  "refresh-checkpoints": (ctx) => {
    const fresh = listCheckpoints(ctx.cmd);
    for (const f of fresh) f.sha256 = ctx.checkpoints.find((c) => c.filename === f.filename)?.sha256 ?? null;
    ctx.checkpoints.splice(0, ctx.checkpoints.length, ...fresh);
    return ok(null);
  },
  "refresh-vae": () => ok(null),
  "refresh-embeddings": () => ok(null),
  "refresh-loras": () => ok(null),
  "unload-checkpoint": () => ok({}),
  "reload-checkpoint": () => ok({}),
  "extra-single-image": notModelled,
  "extra-batch-images": notModelled,
  interrogate: notModelled,
  "create/embedding": notModelled,
  "create/hypernetwork": notModelled,
  "train/embedding": notModelled,
  "train/hypernetwork": notModelled,
};
const STOP = ["server-kill", "server-restart", "server-stop"];

export const API_PATHS = [...new Set([...Object.keys(GET), ...Object.keys(POST)])].map((p) => `/sdapi/v1/${p}`);

/** Route one /sdapi request; null when the path is not an API route (the caller answers 404). */
export async function handleApi(
  ctx: Ctx,
  req: IncomingMessage,
  route: string,
  creds: Map<string, string> | null,
  body: () => Promise<string>,
): Promise<Res | null> {
  if (!route.startsWith("/sdapi/v1/")) return null;
  const name = route.slice("/sdapi/v1/".length);
  const stop = ctx.cmd.api_server_stop === true && STOP.includes(name);
  const methods = [...(GET[name] ? ["GET"] : []), ...(POST[name] || stop ? ["POST"] : [])];
  if (methods.length === 0) return null;
  const method = req.method === "HEAD" && GET[name] ? "GET" : (req.method ?? "GET");
  if (!methods.includes(method)) return methodNotAllowed(methods);
  let raw = await body();
  // FastAPI parses the body as JSON only without a content-type or with application/json (or +json);
  // otherwise the model gets bytes: 422 "value is not a valid dict" (e.g. `curl -d` without -H).
  const ct = req.headers["content-type"];
  if (ct && !/^application\/([^;]*\+)?json\b/i.test(ct) && raw !== "") raw = JSON.stringify(raw);
  if (creds) {
    const fail = basicAuthFailure(req, creds);
    if (fail) return httpException(401, fail, true); // before the body is even looked at
  }
  if (stop) {
    setTimeout(() => process.exit(0), 50);
    return ok(null);
  }
  try {
    return await (method === "GET" ? GET[name]! : POST[name]!)(ctx, raw);
  } catch (e) {
    if (e instanceof ApiError) return json(e.status, e.json());
    ctx.log(`error in ${route}: ${(e as Error).stack ?? String(e)}`);
    const os = pyOsError(e);
    return json(500, {
      error: os?.[0] ?? ((e as Error).name || "Exception"),
      detail: "",
      body: "",
      errors: os?.[1] ?? String((e as Error).message),
    });
  }
}
