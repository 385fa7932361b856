// zod schemas for every WebUI response the smoke reads (sd-models, options, progress, txt2img). Types come from
// z.infer. Unknown keys pass through: the WebUI adds fields between versions.
import { z } from "zod";

/** `info` of txt2img/img2img: a JSON-encoded string; only the keys the smoke uses are required. */
export const GenerationInfoSchema = z.looseObject({
  seed: z.number().int(),
  all_seeds: z.array(z.number().int()).min(1),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  prompt: z.string().optional(),
  index_of_first_image: z.number().int().optional(),
  infotexts: z.array(z.string()).optional(),
  job_timestamp: z.string().optional(),
});
export type GenerationInfo = z.infer<typeof GenerationInfoSchema>;

export const GenerationResponseSchema = z.looseObject({
  images: z.array(z.string()),
  parameters: z.record(z.string(), z.unknown()),
  info: z.string(),
});

/** GET /sdapi/v1/options: the outdir, file-name and infotext keys, with the WebUI's defaults. */
export const OptionsSchema = z.looseObject({
  outdir_txt2img_samples: z.string(),
  outdir_img2img_samples: z.string(),
  samples_save: z.boolean().default(true),
  samples_format: z.string().default("png"),
  samples_filename_pattern: z.string().default(""),
  save_images_add_number: z.boolean().default(true),
  save_to_dirs: z.boolean().default(true),
  directories_filename_pattern: z.string().default("[date]"),
  enable_pnginfo: z.boolean().default(true),
  sd_model_checkpoint: z.string().nullable().optional(),
  add_model_hash_to_info: z.boolean().default(true),
  add_model_name_to_info: z.boolean().default(true),
});
export type Options = z.infer<typeof OptionsSchema>;

const SdModelSchema = z.looseObject({
  title: z.string(),
  model_name: z.string(),
  hash: z.string().nullable().optional(),
  sha256: z.string().nullable().optional(),
  filename: z.string(),
  config: z.string().nullable().optional(),
});
export const SdModelsSchema = z.array(SdModelSchema);
export type SdModels = z.infer<typeof SdModelsSchema>;

export const ProgressSchema = z.looseObject({
  progress: z.number(),
  eta_relative: z.number(),
  state: z.looseObject({
    job: z.string(),
    job_count: z.number().int(),
    sampling_step: z.number().int(),
    sampling_steps: z.number().int(),
  }),
  current_image: z.string().nullable(),
  textinfo: z.string().nullable(),
});
export type Progress = z.infer<typeof ProgressSchema>;

/** A1111's handler (`api_middleware.handle_exception`), e.g. 401 and 500 bodies. */
const A1111ErrorSchema = z.looseObject({
  error: z.string(),
  detail: z.unknown(),
  body: z.unknown().optional(),
  errors: z.unknown().optional(),
});

/** FastAPI's own bodies: 404/405 `{"detail":"Not Found"}` and 422 `{"detail":[{loc,msg,type}]}`. */
const FastApiErrorSchema = z.object({
  detail: z.union([
    z.string(),
    z.array(z.looseObject({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() })),
  ]),
});

/** One line describing an error body, for messages (never includes request data). */
export function describeErrorBody(body: unknown): string {
  const a = A1111ErrorSchema.safeParse(body);
  if (a.success) {
    const parts = [
      a.data.error,
      typeof a.data.detail === "string" ? a.data.detail : "",
      typeof a.data.errors === "string" ? a.data.errors : "",
    ];
    return parts.filter((p) => p !== "").join(": ");
  }
  const f = FastApiErrorSchema.safeParse(body);
  if (f.success) {
    if (typeof f.data.detail === "string") return f.data.detail;
    return f.data.detail.map((d) => `${d.loc.join(".")}: ${d.msg}`).join("; ");
  }
  const s = typeof body === "string" ? body : JSON.stringify(body);
  return (s ?? "").slice(0, 200);
}

/** Parse `value` with `schema`; on failure throw an Error naming the field path(s) that failed. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const fields = r.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
  throw new SchemaError(
    `${what}: response does not match the expected schema (${fields})`,
    r.error.issues.map((i) => i.path.join(".")),
  );
}

export class SchemaError extends Error {
  readonly fields: string[];
  constructor(message: string, fields: string[]) {
    super(message);
    this.name = "SchemaError";
    this.fields = fields;
  }
}
