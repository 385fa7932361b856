// txt2img/img2img as modules/api/api.py + processing.process_images: seeds, per-request overrides
// (restored only when the key was in opts.data), saving under the outdir fixed before the overrides,
// grids, infotexts, the `info` JSON string — plus the STANDIN_FAULT modes.
import { randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ALWAYSON_SCRIPTS, SELECTABLE_SCRIPTS, samplerAndScheduler } from "./catalog.js";
import type { CmdOpts } from "./args.js";
import { type Checkpoint, hashCheckpoint, noCheckpointMessage, selectCheckpoint, shortHash } from "./models.js";
import type { Opts } from "./options.js";
import { corruptPng, encodePng, grid, looksLikeImage, noiseImage, type RawImage } from "./png.js";
import { applyPattern, createInfotext, type NameCtx, saveFile, stamp, VERSION } from "./save.js";

export const FAULTS = ["ignore-save", "wrong-dir", "error-500", "slow", "corrupt-png"] as const;
export type Fault = (typeof FAULTS)[number] | "";

/** An error rendered through A1111's handler: {error, detail, body, errors}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly detail: string,
    readonly errors = "",
  ) {
    super(detail || errors);
  }
  json(): Record<string, string> {
    return { error: this.error, detail: this.detail, body: "", errors: this.errors };
  }
}
const httpExc = (status: number, detail: string): ApiError => new ApiError(status, "HTTPException", detail);

export interface GenState {
  job: string;
  jobCount: number;
  jobTimestamp: string;
  steps: number;
  started: number;
}

export interface Ctx {
  cmd: CmdOpts;
  opts: Opts;
  checkpoints: Checkpoint[];
  modelReady: Promise<void>;
  fault: Fault;
  slowMs: number;
  wrongDir: string;
  state: GenState | null;
  log: (line: string) => void;
}

let queue: Promise<unknown> = Promise.resolve();
/** The WebUI's queue_lock: one generation at a time, in arrival order. */
function withLock<R>(fn: () => Promise<R>): Promise<R> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function decodeInitImage(s: unknown): void {
  if (typeof s !== "string") throw httpExc(500, "Invalid encoded image");
  if (/^https?:\/\//.test(s)) throw httpExc(500, "Invalid image url"); // the stand-in never fetches
  const b64 = s.startsWith("data:image/") ? ((s.split(";")[1] ?? "").split(",")[1] ?? "") : s;
  if (!looksLikeImage(Buffer.from(b64, "base64"))) throw httpExc(500, "Invalid encoded image");
}

export type Mode = "txt2img" | "img2img";

export async function generate(
  ctx: Ctx,
  mode: Mode,
  r: Record<string, unknown>,
): Promise<{ images: string[]; info: string }> {
  if (mode === "img2img") {
    if (r.init_images == null) throw httpExc(404, "Init image not found");
    (r.init_images as unknown[]).forEach(decodeInitImage);
    if ((r.init_images as unknown[]).length === 0) throw new ApiError(500, "IndexError", "", "list index out of range");
  }
  const script = r.script_name as string | null;
  if (script && !SELECTABLE_SCRIPTS.includes(script.toLowerCase())) throw httpExc(422, `Script '${script}' not found`);
  for (const k of Object.keys((r.alwayson_scripts as object) ?? {})) {
    if (!ALWAYSON_SCRIPTS.includes(k.toLowerCase())) throw httpExc(422, `Script '${k}' not found`);
  }
  const [sampler, scheduler] = samplerAndScheduler(
    (r.sampler_name ?? r.sampler_index) as string | null,
    r.scheduler as string | null,
  );
  return withLock(async () => {
    const ck = selectCheckpoint(ctx.checkpoints, ctx.opts.get("sd_model_checkpoint"));
    if (!ck) throw new ApiError(500, "FileNotFoundError", "", noCheckpointMessage(ctx.cmd));
    await ctx.modelReady; // model loading: generation blocks until the start-up delay has passed
    await hashCheckpoint(ck);
    if (ctx.fault === "error-500") {
      throw new ApiError(
        500,
        "OutOfMemoryError",
        "",
        "CUDA out of memory. Tried to allocate 20.00 MiB (stand-in STANDIN_FAULT=error-500)",
      );
    }
    const o = ctx.opts;
    const outSamples = o.get<string>(`outdir_${mode}_samples`); // read before override_settings apply: a per-request outdir is ignored, as in the WebUI
    const outGrids = o.get<string>(`outdir_${mode}_grids`);
    const restore = o.override(
      r.override_settings as Record<string, unknown> | null,
      r.override_settings_restore_afterwards !== false,
    );
    try {
      return await run(ctx, mode, r, ck, sampler, scheduler, outSamples, outGrids);
    } finally {
      restore();
      ctx.state = null;
    }
  });
}

async function run(
  ctx: Ctx,
  mode: Mode,
  r: Record<string, unknown>,
  ck: Checkpoint,
  sampler: string,
  scheduler: string,
  outSamples: string,
  outGrids: string,
): Promise<{ images: string[]; info: string }> {
  const o = ctx.opts;
  const num = (k: string, d: number): number => (typeof r[k] === "number" ? (r[k] as number) : d);
  const width = num("width", 512),
    height = num("height", 512),
    steps = num("steps", 50),
    cfg = num("cfg_scale", 7);
  const batch = Math.max(1, num("batch_size", 1)),
    n = batch * Math.max(1, num("n_iter", 1));
  const subStrength = num("subseed_strength", 0);
  const fixed = (s: number): number => (s === -1 ? randomInt(0, 4294967294) : s);
  const seed = fixed(num("seed", -1)),
    subseed = fixed(num("subseed", -1));
  const allSeeds = Array.from({ length: n }, (_, i) => seed + (subStrength === 0 ? i : 0));
  const allSubseeds = Array.from({ length: n }, (_, i) => subseed + i);
  const prompt = (r.prompt as string) ?? "",
    negative = (r.negative_prompt as string) ?? "";
  const now = new Date();
  const jobTimestamp = stamp(now);
  ctx.state = { job: `scripts_${mode}`, jobCount: 1, jobTimestamp, steps, started: Date.now() };
  if (ctx.fault === "slow") await sleep(ctx.slowMs);
  const denoising = mode === "img2img" ? num("denoising_strength", 0.75) : null;
  const infotext = (i: number): string =>
    createInfotext({
      prompt,
      negative,
      steps,
      sampler,
      scheduler,
      cfg,
      seed: allSeeds[i]!,
      subseed: allSubseeds[i]!,
      subseedStrength: subStrength,
      width,
      height,
      modelHash: o.get("add_model_hash_to_info") ? shortHash(ck) : null,
      modelName: o.get("add_model_name_to_info") ? ck.modelName : null,
      denoising,
      imageCfg: mode === "img2img" ? (r.image_cfg_scale as number | null) : null,
      tiling: r.tiling === true,
      restoreFaces: r.restore_faces === true,
      faceModel: o.get("face_restoration_model"),
      addVersion: o.get("add_version_to_infotext"),
      seedResizeW: num("seed_resize_from_w", -1),
      seedResizeH: num("seed_resize_from_h", -1),
    });
  const save = r.save_images === true;
  const nameCtx = (i: number): NameCtx => ({
    seed: allSeeds[i]!,
    seedFirst: allSeeds[0]!,
    seedLast: allSeeds[n - 1]!,
    prompt,
    steps,
    cfg,
    width,
    height,
    sampler,
    modelName: ck.modelName,
    modelHash: shortHash(ck) ?? "",
    now,
    jobTimestamp,
  });
  const writeTo = (outdir: string): string => {
    const abs = path.resolve(outdir);
    // wrong-dir fault: same layout, but under another root, so nothing appears in the mapped folder
    return ctx.fault === "wrong-dir" ? path.join(ctx.wrongDir, path.relative("/", abs)) : abs;
  };
  const write = (dir: string, basename: string, deco: string, ext: string, png: Buffer): void => {
    if (ctx.fault === "ignore-save") return;
    const file = saveFile(
      {
        dir,
        basename,
        decoration: deco,
        ext,
        addNumber: o.get("save_images_add_number") === true,
        replace: o.get("save_images_replace_action") !== "Add number suffix",
      },
      ctx.fault === "corrupt-png" ? corruptPng(png) : png,
    );
    ctx.log(`saved ${file}`);
  };
  // processing writes the first infotext to <data>/params.txt unless --no-prompt-history
  if (!ctx.cmd.no_prompt_history) {
    fs.writeFileSync(path.join(ctx.cmd.data_dir, "params.txt"), infotext(0));
  }
  const raws: RawImage[] = [];
  const pngs: Buffer[] = [];
  const infotexts: string[] = [];
  const pnginfo = o.get("enable_pnginfo") === true;
  for (let i = 0; i < n; i++) {
    const img = noiseImage(allSeeds[i]! ^ Math.imul(allSubseeds[i]!, subStrength === 0 ? 0 : 1), width, height);
    const text = infotext(i);
    const png = encodePng(img, pnginfo ? { parameters: text } : {});
    raws.push(img);
    pngs.push(png);
    infotexts.push(text);
    if (save && o.get("samples_save")) {
      const toDirs = o.get("save_to_dirs") === true;
      const dir = toDirs
        ? path.join(
            writeTo(outSamples),
            applyPattern(o.get<string>("directories_filename_pattern") || "[prompt_words]", nameCtx(i))
              .replace(/^ +/, "")
              .replace(/[\\/ ]+$/, ""),
          )
        : writeTo(outSamples);
      const deco = applyPattern(
        o.get<string>("samples_filename_pattern") || (toDirs ? "[seed]" : "[seed]-[prompt_spaces]"),
        nameCtx(i),
      );
      write(dir, "", deco, o.get<string>("samples_format"), png);
    }
  }
  let indexOfFirst = 0;
  if (save && (n >= 2 || !o.get("grid_only_if_multiple"))) {
    const g = grid(raws);
    const text = createInfoMain(infotext);
    const png = encodePng(g, pnginfo ? { parameters: text } : {});
    if (o.get("return_grid")) {
      pngs.unshift(png);
      infotexts.unshift(text);
      indexOfFirst = 1;
    }
    if (o.get("grid_save")) {
      const dir = o.get("grid_save_to_dirs")
        ? path.join(
            writeTo(outGrids),
            applyPattern(o.get<string>("directories_filename_pattern") || "[prompt_words]", nameCtx(0)),
          )
        : writeTo(outGrids);
      write(dir, "grid", "", o.get<string>("grid_format"), png);
    }
  }
  const info = {
    prompt,
    all_prompts: Array(n).fill(prompt),
    negative_prompt: negative,
    all_negative_prompts: Array(n).fill(negative),
    seed,
    all_seeds: allSeeds,
    subseed,
    all_subseeds: allSubseeds,
    subseed_strength: subStrength,
    width,
    height,
    sampler_name: sampler,
    cfg_scale: cfg,
    steps,
    batch_size: batch,
    restore_faces: r.restore_faces ?? false,
    face_restoration_model: null,
    sd_model_name: ck.modelName,
    sd_model_hash: shortHash(ck),
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: num("seed_resize_from_w", -1),
    seed_resize_from_h: num("seed_resize_from_h", -1),
    denoising_strength: denoising,
    extra_generation_params: {
      "Schedule type": scheduler,
      ...(denoising == null ? {} : { "Denoising strength": denoising }),
    },
    index_of_first_image: indexOfFirst,
    infotexts,
    styles: r.styles ?? [],
    job_timestamp: jobTimestamp,
    clip_skip: 1,
    is_using_inpainting_conditioning: false,
    version: VERSION,
  };
  return { images: r.send_images === false ? [] : pngs.map((p) => p.toString("base64")), info: JSON.stringify(info) };
}

/** The grid's infotext: use_main_prompt=True means the first seed. */
const createInfoMain = (infotext: (i: number) => string): string => infotext(0);
