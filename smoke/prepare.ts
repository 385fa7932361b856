// Before the proof request: the API answers with its model loaded, its save settings are read and the
// declared checkpoints are checked against what it serves.
import { ApiClient, HttpError, NetError } from "./client.js";
import { checkCheckpoints, parseDeclared } from "./checkpoint-proof.js";
import type { CheckpointsReport } from "./checkpoint-proof.js";
import { classifyGenerationError } from "./classify.js";
import type { GenerationContext } from "./classify.js";
import type { CliFlags } from "./cli-flags.js";
import { diagnoseNotReached } from "./diagnose.js";
import { SmokeError } from "./errors.js";
import { NotReachedError, waitForApi, waitForModel } from "./readiness.js";
import type { Clock } from "./readiness.js";
import type { SmokeInput } from "./run-types.js";
import { OptionsSchema, SchemaError, SdModelsSchema } from "./schemas.js";
import type { Options } from "./schemas.js";

/** The API answers and the model is loaded; a silent API is diagnosed (container, firewall, bind). */
export async function waitUntilReady(
  client: ApiClient,
  c: Clock,
  i: SmokeInput,
  ctx: GenerationContext,
): Promise<void> {
  const f = i.flags;
  try {
    await waitForApi(client, c, { modelsHint: ctx.modelsHint });
  } catch (e) {
    if (e instanceof NotReachedError)
      throw await diagnoseNotReached(e, {
        url: f.url,
        host: i.host,
        hostUp: i.hostUp,
        container: f.container,
        limitS: f.timeout,
      });
    throw e;
  }
  await waitForModel(client, c, ctx);
}

export async function getOptions(client: ApiClient, c: Clock, ctx: GenerationContext): Promise<Options> {
  try {
    return await client.json("GET", "/sdapi/v1/options", OptionsSchema, {
      timeoutMs: Math.max(5000, Math.min(60_000, c.deadline - Date.now())),
    });
  } catch (e) {
    if (e instanceof HttpError) throw classifyGenerationError(e, ctx);
    if (e instanceof SchemaError) throw new SmokeError("bad-response", e.message);
    if (e instanceof NetError)
      throw new SmokeError("unreachable", `GET /sdapi/v1/options failed (${e.kind}: ${e.code})`);
    throw e;
  }
}

/** The declared checkpoints against what the WebUI lists and has loaded (the model is loaded by now). */
export async function proveCheckpoints(
  client: ApiClient,
  c: Clock,
  options: Options,
  f: CliFlags,
): Promise<CheckpointsReport> {
  const declared = parseDeclared(f.checkpoint);
  let models;
  try {
    models = await client.json("GET", "/sdapi/v1/sd-models", SdModelsSchema, {
      timeoutMs: Math.max(5000, Math.min(30_000, c.deadline - Date.now())),
    });
  } catch (e) {
    if (e instanceof SchemaError) throw new SmokeError("bad-response", e.message);
    if (e instanceof HttpError) throw new SmokeError("bad-response", `GET /sdapi/v1/sd-models answered ${e.status}`);
    if (e instanceof NetError)
      throw new SmokeError("unreachable", `GET /sdapi/v1/sd-models failed (${e.kind}: ${e.code})`);
    throw e;
  }
  return checkCheckpoints(models, options.sd_model_checkpoint, declared, f["loaded-checkpoint"] ?? declared[0]!.name);
}
