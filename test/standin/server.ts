// Entry point of the WebUI stand-in: flags as the WebUI (argv + COMMANDLINE_ARGS), bind address and
// port as gradio/uvicorn pick them, request routing, one log line per request (never credentials),
// prompt exit on SIGTERM. Run: node --import tsx test/standin/server.ts --api --listen --port N
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import { ArgError, effectiveArgv, parseArgs, PROG, usage } from "./args.js";
import { handleApi } from "./api.js";
import { type Ctx, type Fault, FAULTS } from "./generate.js";
import { json, notFound, type Res } from "./http.js";
import { hashCheckpoint, listCheckpoints, selectCheckpoint, title } from "./models.js";
import { Opts } from "./options.js";
import { handleUi, type UiCtx } from "./webui.js";

const cwd = process.cwd();
const die = (text: string, code: number): never => {
  process.stderr.write(text);
  process.exit(code);
};

/** A Python traceback ending in `exc`, framed as launch.py -> webui -> Api.__init__ (no values shown). */
function traceback(exc: string, where: [string, number, string, string][]): string {
  const frames = [
    [`${cwd}/launch.py`, 48, "<module>", "main()"],
    [`${cwd}/launch.py`, 44, "main", "start()"],
    [`${cwd}/modules/launch_utils.py`, 469, "start", "webui.webui()"],
    ...where,
  ];
  return `Traceback (most recent call last):\n${frames.map(([f, l, fn, src]) => `  File "${f}", line ${l}, in ${fn}\n    ${src}\n`).join("")}${exc}\n`;
}

let argv: string[];
try {
  argv = effectiveArgv(process.argv.slice(2), process.env);
} catch (e) {
  die(traceback(`ValueError: ${(e as Error).message}`, []), 1);
}
let parsed;
try {
  parsed = parseArgs(argv!, cwd);
} catch (e) {
  if (e instanceof ArgError) die(e.text(), 2);
  throw e;
}
if (parsed === null) {
  process.stdout.write(`${usage()}\n`);
  process.exit(0);
}
const cmd = parsed!;
const apiMounted = cmd.api || cmd.nowebui;

// Api.__init__: split(",") then `user, password = auth.split(":")` (a ':' in a password crashes).
let apiCreds: Map<string, string> | null = null;
if (apiMounted && cmd.api_auth) {
  apiCreds = new Map();
  for (const auth of cmd.api_auth.split(",")) {
    const parts = auth.split(":");
    if (parts.length !== 2) {
      const msg =
        parts.length > 2 ? "too many values to unpack (expected 2)" : "not enough values to unpack (expected 2, got 1)";
      die(
        traceback(`ValueError: ${msg}`, [
          [`${cwd}/webui.py`, 89, "webui", "create_api(app)"],
          [`${cwd}/webui.py`, 31, "create_api", "api = Api(app, queue_lock)"],
          [`${cwd}/modules/api/api.py`, 212, "__init__", 'user, password = auth.split(":")'],
        ]),
        1,
      );
    }
    apiCreds.set(parts[0]!, parts[1]!);
  }
}
// initialize_util.get_gradio_auth_creds: split(','), strip, split(':', 1); gradio then indexes [1].
let gradioAuth: Map<string, string> | null = null;
if (!cmd.nowebui && (cmd.gradio_auth || cmd.gradio_auth_path)) {
  const lines = [cmd.gradio_auth ?? ""];
  if (cmd.gradio_auth_path) lines.push(...readFileSync(cmd.gradio_auth_path, "utf8").split("\n"));
  gradioAuth = new Map();
  for (const cred of lines
    .flatMap((l) => l.split(","))
    .map((s) => s.trim())
    .filter(Boolean)) {
    const i = cred.indexOf(":");
    if (i < 0)
      die(
        traceback("IndexError: tuple index out of range", [
          [`${cwd}/webui.py`, 79, "webui", "app, local_url, share_url = shared.demo.launch("],
        ]),
        1,
      );
    gradioAuth.set(cred.slice(0, i), cred.slice(i + 1));
  }
}

const fault = (process.env.STANDIN_FAULT ?? "") as Fault;
if (fault && !(FAULTS as readonly string[]).includes(fault)) {
  die(`stand-in: STANDIN_FAULT=${fault} is not one of ${FAULTS.join(", ")} (unset it for normal behaviour)\n`, 2);
}
const num = (name: string, def: number): number => {
  const v = process.env[name];
  if (v === undefined || v === "") return def;
  if (!/^\d+$/.test(v)) die(`stand-in: ${name}=${v} is not a whole number of milliseconds\n`, 2);
  return parseInt(v, 10);
};
const delayMs = num("STANDIN_STARTUP_DELAY_MS", 0);

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const opts = new Opts(cmd, cwd);
const checkpoints = listCheckpoints(cmd);
// list_models: an existing --ckpt file is registered and becomes sd_model_checkpoint, over config.json's value.
const cmdCkpt = checkpoints.find((c) => c.filename === path.resolve(cmd.ckpt));
if (cmdCkpt) opts.data.sd_model_checkpoint = title(cmdCkpt);
const t0 = Date.now();
// The model "loads" in the background, as initialize_rest's thread: HTTP is up at once.
const modelReady = new Promise<void>((r) => setTimeout(r, delayMs)).then(async () => {
  const ck = selectCheckpoint(checkpoints, opts.get("sd_model_checkpoint"));
  if (!ck) return;
  await hashCheckpoint(ck);
  opts.data.sd_model_checkpoint = title(ck);
  log(`Model loaded in ${((Date.now() - t0) / 1000).toFixed(1)}s (stand-in: ${ck.filename}).`);
});
if (checkpoints.length === 0)
  log(`No checkpoints found in ${cmd.models_dir ?? cmd.data_dir + "/models"}/Stable-diffusion`);

const ctx: Ctx = {
  cmd,
  opts,
  checkpoints,
  modelReady,
  fault,
  slowMs: num("STANDIN_SLOW_MS", 30_000),
  wrongDir: process.env.STANDIN_WRONG_DIR || "/tmp/elsewhere",
  state: null,
  log,
};
const ui: UiCtx = {
  gradioAuth,
  apiMounted,
  cwd,
  allowedPaths: cmd.gradio_allowed_path,
  tokens: new Map(),
  nowebui: cmd.nowebui,
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= 200 * 1024 * 1024) chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

async function route(req: IncomingMessage): Promise<Res> {
  const rawPath = (req.url ?? "/").split("?")[0]!;
  let p: string;
  try {
    p = decodeURIComponent(rawPath);
  } catch {
    p = rawPath;
  }
  let bodyP: Promise<string> | undefined;
  const body = (): Promise<string> => (bodyP ??= readBody(req));
  if (p.startsWith("/sdapi/")) return (apiMounted ? await handleApi(ctx, req, p, apiCreds, body) : null) ?? notFound();
  return handleUi(ui, req, p, await body()) ?? notFound();
}

function send(req: IncomingMessage, res: ServerResponse, r: Res, started: number): void {
  let body = typeof r.body === "string" ? Buffer.from(r.body) : r.body;
  const headers: Record<string, string | string[]> = { ...r.headers };
  if (apiMounted) headers["x-process-time"] = String((Date.now() - started) / 1000);
  // GZipMiddleware(minimum_size=1000), which the WebUI installs in both modes.
  if (body.length >= 1000 && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
    body = gzipSync(body);
    headers["content-encoding"] = "gzip";
    headers.vary = "Accept-Encoding";
  }
  if (req.method !== "HEAD" || !headers["content-length"]) headers["content-length"] = String(body.length);
  res.writeHead(r.status, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}

const server = createServer((req, res) => {
  const started = Date.now();
  route(req)
    .catch((e: unknown) => {
      log(`error: ${(e as Error).stack ?? String(e)}`);
      return json(500, { error: "Exception", detail: "", body: "", errors: String((e as Error).message) });
    })
    .then((r) => {
      send(req, res, r, started);
      // Same fields as --api-log's line; the path only (no query), never headers or bodies.
      const ts = new Date().toISOString().replace("T", " ").replace("Z", "");
      log(
        `API ${ts} ${r.status} http/${req.httpVersion} ${req.method} ${(req.url ?? "/").split("?")[0]} ${req.socket.remoteAddress ?? "-"} ${((Date.now() - started) / 1000).toFixed(4)}`,
      );
    })
    .catch(() => res.destroy());
});
server.keepAliveTimeout = (cmd.timeout_keep_alive as number) * 1000;

const host = cmd.server_name ?? (cmd.listen ? "0.0.0.0" : cmd.nowebui ? undefined : "127.0.0.1");
const firstPort = cmd.port ?? (cmd.nowebui ? 7861 : Number(process.env.GRADIO_SERVER_PORT || 7860));
const tries = cmd.port || cmd.nowebui ? 1 : 100;

function listen(port: number, left: number): void {
  server.once("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EADDRINUSE" && left > 1) return listen(port + 1, left - 1);
    if (cmd.nowebui)
      die(
        `ERROR:    [Errno 98] error while attempting to bind on address ('${host ?? "0.0.0.0"}', ${port}): address already in use\n`,
        1,
      );
    die(
      `OSError: Cannot find empty port in range: ${firstPort}-${firstPort + tries - 1}. You can specify a different port by setting the GRADIO_SERVER_PORT environment variable or passing the \`server_port\` parameter to \`launch()\`.\n`,
      1,
    );
  });
  server.listen(port, host, () => {
    if (cmd.nowebui) log(`INFO:     Uvicorn running on http://${host ?? "0.0.0.0"}:${port} (Press CTRL+C to quit)`);
    else log(`Running on local URL:  http://${host}:${port}`);
    log(
      `stand-in ${PROG} v1.10.1: api=${apiMounted} api-auth=${apiCreds ? "on" : "off"} gradio-auth=${gradioAuth ? "on" : "off"} data-dir=${cmd.data_dir} checkpoints=${checkpoints.length}${fault ? ` fault=${fault}` : ""}${delayMs ? ` startup-delay=${delayMs}ms` : ""}`,
    );
  });
}
listen(firstPort, tries);

for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    log(`${sig}: shutting down`);
    server.close();
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 20).unref();
  });
}
