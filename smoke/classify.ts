// Turn a failed generation (HTTP error from txt2img/img2img) into a failure class naming the fix.
import type { HttpError } from "./client.js";
import { SmokeError } from "./errors.js";
import { describeErrorBody } from "./schemas.js";

export interface GenerationContext {
  expectedUid: number;
  hostOutputsDir: string;
  modelsHint: string;
}

export function classifyGenerationError(e: HttpError, ctx: GenerationContext): SmokeError {
  const text = describeErrorBody(e.body);
  if (e.status === 401)
    return new SmokeError(
      "unauthorized",
      `the API refused the credentials (401 ${text}): check the user name and the password variable against --api-auth`,
    );
  if (e.status === 404 && /Not Found/i.test(text))
    return new SmokeError(
      "api-disabled",
      `${e.path} answered 404 (${text}): the API is not enabled; start the WebUI with --api`,
    );
  if (/PermissionError|Permission denied|EACCES/i.test(text))
    return new SmokeError(
      "permission-denied",
      `the WebUI could not write its image (${text}): the host folder ${ctx.hostOutputsDir} must be writable by uid ${ctx.expectedUid} ` +
        `(the uid the profile expects); run: chown -R ${ctx.expectedUid}:${ctx.expectedUid} ${ctx.hostOutputsDir}`,
    );
  if (/No checkpoints found|FileNotFoundError.*checkpoint/i.test(text))
    return new SmokeError(
      "no-checkpoint",
      `the WebUI has no checkpoint (${text}): put a .safetensors file in ${ctx.modelsHint}/Stable-diffusion (or declare it in the stack's checkpoints setting) and restart the container`,
    );
  if (e.status === 422) return new SmokeError("bad-response", `${e.path} rejected the request (422 ${text})`);
  return new SmokeError(
    "generation-failed",
    `${e.path} failed with HTTP ${e.status}: ${text}. See the container logs.`,
  );
}
