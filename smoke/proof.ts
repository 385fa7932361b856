// The proof request: save_images true, send_images false, a unique run id in the prompt, a random fixed
// seed, a small size and few steps. The answer must carry no image bytes; the seed comes from `info`.
import { randomBytes, randomInt } from "node:crypto";
import { ApiClient, HttpError, jsonOrText, NetError } from "./client.js";
import { classifyGenerationError } from "./classify.js";
import type { GenerationContext } from "./classify.js";
import { SmokeError } from "./errors.js";
import { encodePng } from "./png-encode.js";
import { withProgress } from "./readiness.js";
import type { Clock } from "./readiness.js";
import { GenerationInfoSchema, GenerationResponseSchema, SchemaError, parseOrThrow } from "./schemas.js";
import type { GenerationInfo } from "./schemas.js";

export type ProofMode = "txt2img" | "img2img";

export interface ProofSettings {
  mode: ProofMode;
  prompt: string;
  steps: number;
  width: number;
  height: number;
  runId: string;
  seed: number;
}

export function newRunId(): string {
  return `smoke-${randomBytes(6).toString("hex")}`;
}

/** A random seed in the WebUI's own range [0, 4294967294). */
export function newSeed(): number {
  return randomInt(0, 2 ** 32 - 2);
}

function proofPrompt(settings: Pick<ProofSettings, "prompt" | "runId">): string {
  return `${settings.prompt} ${settings.runId}`;
}

export function proofBody(settings: ProofSettings): Record<string, unknown> {
  const body: Record<string, unknown> = {
    prompt: proofPrompt(settings),
    negative_prompt: "",
    seed: settings.seed,
    steps: settings.steps,
    width: settings.width,
    height: settings.height,
    batch_size: 1,
    n_iter: 1,
    save_images: true,
    send_images: false,
  };
  if (settings.mode === "img2img") {
    const init = encodePng(settings.width, settings.height, (x, y) => [(x * 4) & 255, (y * 4) & 255, 128]);
    body.init_images = [init.toString("base64")];
    body.denoising_strength = 0.5;
  }
  return body;
}

export interface ProofResult {
  seed: number;
  info: GenerationInfo;
}

/** Check the answer: no image bytes, `info` parses, and it names one seed. */
export function checkProofResponse(raw: unknown, settings: ProofSettings): ProofResult {
  const path = `POST /sdapi/v1/${settings.mode}`;
  const resp = parseOrThrow(GenerationResponseSchema, raw, path);
  if (resp.images.length > 0)
    throw new SmokeError(
      "bad-response",
      `${path} returned ${resp.images.length} image(s) although send_images was false: the WebUI ignored the request options`,
    );
  let infoJson: unknown;
  try {
    infoJson = JSON.parse(resp.info);
  } catch {
    throw new SmokeError("bad-response", `${path}: field "info" is not a JSON string`);
  }
  const info = parseOrThrow(GenerationInfoSchema, infoJson, `${path} info`);
  const seed = info.all_seeds[info.index_of_first_image ?? 0] ?? info.seed;
  return { seed, info };
}

export async function runProof(
  client: ApiClient,
  c: Clock,
  settings: ProofSettings,
  ctx: GenerationContext,
): Promise<ProofResult> {
  const path = `/sdapi/v1/${settings.mode}`;
  try {
    const raw = await withProgress(
      client,
      c,
      `the proof image (${settings.mode} ${settings.width}x${settings.height}, ${settings.steps} steps)`,
      async (t) => {
        const r = await client.raw("POST", path, {
          timeoutMs: t,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(proofBody(settings)),
        });
        const body = jsonOrText(r.body);
        if (r.status !== 200) throw new HttpError(r.status, path, body);
        return body;
      },
    );
    return checkProofResponse(raw, settings);
  } catch (e) {
    if (e instanceof HttpError) throw classifyGenerationError(e, ctx);
    if (e instanceof SchemaError) throw new SmokeError("bad-response", e.message);
    if (e instanceof NetError && e.kind === "timeout")
      throw new SmokeError(
        "model-timeout",
        `timed out waiting for the proof generation (${settings.mode}) within the limit: raise --timeout, or lower --steps/--width/--height`,
      );
    if (e instanceof NetError)
      throw new SmokeError(
        "unreachable",
        `the connection broke during the proof generation (${e.kind}: ${e.code}): see the container logs (did it restart?)`,
      );
    throw e;
  }
}
