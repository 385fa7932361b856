// Readiness: poll GET /sdapi/v1/sd-models until the API answers (connection refused/reset, 502-504 and
// 5xx "not ready" retried with capped backoff; 401/404/422 final), then one tiny generation proves the
// model is loaded (the WebUI answers HTTP before its model has loaded). Progress lines say what is awaited, elapsed, and the limit.
import { ApiClient, HttpError, jsonOrText, NetError } from "./client.js";
import type { NetKind } from "./client.js";
import { SmokeError } from "./errors.js";
import { ProgressSchema, SchemaError, SdModelsSchema, describeErrorBody } from "./schemas.js";
import type { SdModels } from "./schemas.js";
import { classifyGenerationError } from "./classify.js";

export interface Clock {
  /** Epoch ms when the smoke started; the limit counts from here. */
  start: number;
  /** Epoch ms after which no further wait may begin. */
  deadline: number;
  log: (line: string) => void;
}

function remaining(c: Clock): number {
  return Math.max(0, c.deadline - Date.now());
}

function secs(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

function progressLine(c: Clock, what: string, why: string): string {
  return `waiting for ${what}: ${why}; ${secs(Date.now() - c.start)} elapsed of ${secs(c.deadline - c.start)} limit`;
}

/** The API did not answer in time, or answered with dropped connections: the caller diagnoses it. */
export class NotReachedError extends Error {
  readonly lastKind: NetKind | "http";
  readonly lastStatus?: number;
  constructor(lastKind: NetKind | "http", detail: string, lastStatus?: number) {
    super(detail);
    this.name = "NotReachedError";
    this.lastKind = lastKind;
    this.lastStatus = lastStatus;
  }
}

export interface WaitOptions {
  modelsHint: string;
  /** Consecutive connect timeouts after which the wait stops (packets are being dropped). */
  connectTimeoutsToGiveUp?: number;
}

export async function waitForApi(client: ApiClient, c: Clock, o: WaitOptions): Promise<SdModels> {
  let backoff = 250;
  let lastLog = 0;
  let connectTimeouts = 0;
  const what = `the API (GET ${client.baseUrl}/sdapi/v1/sd-models)`;
  for (;;) {
    let why: string;
    let kind: NetKind | "http";
    let status: number | undefined;
    try {
      const models = await client.json("GET", "/sdapi/v1/sd-models", SdModelsSchema, {
        timeoutMs: Math.max(1000, Math.min(30_000, remaining(c))),
      });
      if (models.length === 0)
        throw new SmokeError(
          "no-checkpoint",
          `the WebUI lists no checkpoint (GET /sdapi/v1/sd-models is empty): put a .safetensors file in ${o.modelsHint}/Stable-diffusion (or declare it in the stack's checkpoints setting) ` +
            `and restart the container`,
        );
      return models;
    } catch (e) {
      if (e instanceof SmokeError) throw e;
      if (e instanceof SchemaError) throw new SmokeError("bad-response", e.message);
      if (e instanceof HttpError) {
        if (e.status === 401)
          throw new SmokeError(
            "unauthorized",
            `the API refused the credentials (401 ${describeErrorBody(e.body)}): check the user name and the password variable against --api-auth`,
          );
        if (e.status === 404)
          throw new SmokeError(
            "api-disabled",
            `GET /sdapi/v1/sd-models answered 404 (${describeErrorBody(e.body)}): the API is not enabled; start the WebUI with --api`,
          );
        if (e.status < 500)
          throw new SmokeError(
            "bad-response",
            `GET /sdapi/v1/sd-models answered ${e.status}: ${describeErrorBody(e.body)}`,
          );
        why = `HTTP ${e.status} (not ready)`;
        kind = "http";
        status = e.status;
        connectTimeouts = 0;
      } else if (e instanceof NetError) {
        why =
          e.kind === "refused"
            ? "connection refused"
            : e.kind === "reset"
              ? "connection closed without an answer"
              : `${e.kind} (${e.code})`;
        kind = e.kind;
        connectTimeouts = e.kind === "connect-timeout" ? connectTimeouts + 1 : 0;
        if (connectTimeouts >= (o.connectTimeoutsToGiveUp ?? 2)) throw new NotReachedError("connect-timeout", why);
        if (e.kind === "dns")
          throw new SmokeError("unreachable", `cannot resolve the host of ${client.baseUrl} (${e.code}): check --url`);
      } else throw e;
    }
    if (remaining(c) <= 0) throw new NotReachedError(kind, why, status);
    if (Date.now() - lastLog >= 5000) {
      c.log(progressLine(c, what, why));
      lastLog = Date.now();
    }
    await new Promise((r) => setTimeout(r, Math.min(backoff, remaining(c))));
    backoff = Math.min(backoff * 2, 5000);
  }
}

/**
 * Run a blocking generation call while printing progress every 10 s (with the WebUI's own progress
 * when GET /sdapi/v1/progress answers). The call's timeout is what is left of the limit.
 */
export async function withProgress<T>(
  client: ApiClient,
  c: Clock,
  what: string,
  call: (timeoutMs: number) => Promise<T>,
): Promise<T> {
  let stopped = false;
  const ticker = setInterval(() => {
    void client
      .json("GET", "/sdapi/v1/progress?skip_current_image=true", ProgressSchema, { timeoutMs: 3000 })
      .then((p) =>
        p.state.sampling_steps > 0 ? `step ${p.state.sampling_step}/${p.state.sampling_steps}` : p.state.job || "busy",
      )
      .catch(() => "busy")
      .then((why) => {
        if (!stopped) c.log(progressLine(c, what, why));
      });
  }, 10_000);
  try {
    return await call(Math.max(1000, remaining(c)));
  } finally {
    stopped = true;
    clearInterval(ticker);
  }
}

/** One tiny generation (nothing saved): a 200 means the model is loaded and usable. */
export async function waitForModel(
  client: ApiClient,
  c: Clock,
  ctx: { expectedUid: number; hostOutputsDir: string; modelsHint: string },
): Promise<void> {
  const body = {
    prompt: "smoke readiness",
    steps: 1,
    width: 64,
    height: 64,
    batch_size: 1,
    n_iter: 1,
    save_images: false,
    send_images: false,
  };
  for (;;) {
    try {
      await withProgress(client, c, "the model (a 1-step 64x64 txt2img)", (t) =>
        client
          .raw("POST", "/sdapi/v1/txt2img", {
            timeoutMs: t,
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          })
          .then((r) => {
            if (r.status !== 200) throw new HttpError(r.status, "/sdapi/v1/txt2img", jsonOrText(r.body));
          }),
      );
      return;
    } catch (e) {
      if (e instanceof NetError && e.kind === "timeout")
        throw new SmokeError(
          "model-timeout",
          `timed out waiting for the model: the readiness generation did not finish within the ${secs(c.deadline - c.start)} limit; raise --timeout or check the container logs`,
        );
      if (e instanceof HttpError && (e.status === 502 || e.status === 503 || e.status === 504) && remaining(c) > 0) {
        c.log(progressLine(c, "the model", `HTTP ${e.status} (not ready)`));
        await new Promise((r) => setTimeout(r, Math.min(2000, remaining(c))));
        continue;
      }
      if (e instanceof HttpError) throw classifyGenerationError(e, ctx);
      if (e instanceof NetError && remaining(c) > 0 && (e.kind === "reset" || e.kind === "refused")) {
        c.log(progressLine(c, "the model", "connection dropped; retrying"));
        await new Promise((r) => setTimeout(r, Math.min(2000, remaining(c))));
        continue;
      }
      throw e;
    }
  }
}
