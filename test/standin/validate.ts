// The txt2img/img2img request models as pydantic v1 sees them (modules/api/models.py): every field
// optional with the WebUI's default, unknown keys ignored, v1 coercion rules, and FastAPI's 422 body.

type T = "str" | "int" | "float" | "bool" | "list" | "dict" | "liststr" | "any";
type Field = [name: string, type: T, def: unknown];

const COMMON_HEAD: Field[] = [
  ["prompt", "str", ""],
  ["negative_prompt", "str", ""],
  ["styles", "liststr", null],
  ["seed", "int", -1],
  ["subseed", "int", -1],
  ["subseed_strength", "float", 0],
  ["seed_resize_from_h", "int", -1],
  ["seed_resize_from_w", "int", -1],
  ["sampler_name", "str", null],
  ["scheduler", "str", null],
  ["batch_size", "int", 1],
  ["n_iter", "int", 1],
  ["steps", "int", 50],
  ["cfg_scale", "float", 7.0],
  ["width", "int", 512],
  ["height", "int", 512],
  ["restore_faces", "bool", null],
  ["tiling", "bool", null],
  ["do_not_save_samples", "bool", false],
  ["do_not_save_grid", "bool", false],
  ["eta", "float", null],
];
const COMMON_MID: Field[] = [
  ["s_min_uncond", "float", null],
  ["s_churn", "float", null],
  ["s_tmax", "float", null],
  ["s_tmin", "float", null],
  ["s_noise", "float", null],
  ["override_settings", "dict", null],
  ["override_settings_restore_afterwards", "bool", true],
  ["refiner_checkpoint", "str", null],
  ["refiner_switch_at", "float", null],
  ["disable_extra_networks", "bool", false],
  ["firstpass_image", "str", null],
  ["comments", "dict", null],
];
const TAIL: Field[] = [
  ["force_task_id", "str", null],
  ["sampler_index", "str", "Euler"],
  ["script_name", "str", null],
  ["script_args", "list", []],
  ["send_images", "bool", true],
  ["save_images", "bool", false],
  ["alwayson_scripts", "dict", {}],
  ["infotext", "str", null],
];

export const TXT2IMG_FIELDS: Field[] = [
  ...COMMON_HEAD,
  ["denoising_strength", "float", null],
  ...COMMON_MID,
  ["enable_hr", "bool", false],
  ["firstphase_width", "int", 0],
  ["firstphase_height", "int", 0],
  ["hr_scale", "float", 2.0],
  ["hr_upscaler", "str", null],
  ["hr_second_pass_steps", "int", 0],
  ["hr_resize_x", "int", 0],
  ["hr_resize_y", "int", 0],
  ["hr_checkpoint_name", "str", null],
  ["hr_sampler_name", "str", null],
  ["hr_scheduler", "str", null],
  ["hr_prompt", "str", ""],
  ["hr_negative_prompt", "str", ""],
  ...TAIL,
];

export const IMG2IMG_FIELDS: Field[] = [
  ...COMMON_HEAD,
  ["denoising_strength", "float", 0.75],
  ...COMMON_MID,
  ["init_images", "list", null],
  ["resize_mode", "int", 0],
  ["image_cfg_scale", "float", null],
  ["mask", "str", null],
  ["mask_blur_x", "int", 4],
  ["mask_blur_y", "int", 4],
  ["mask_blur", "int", null],
  ["mask_round", "bool", true],
  ["inpainting_fill", "int", 0],
  ["inpaint_full_res", "bool", true],
  ["inpaint_full_res_padding", "int", 0],
  ["inpainting_mask_invert", "int", 0],
  ["initial_noise_multiplier", "float", null],
  ["latent_mask", "str", null],
  ["include_init_images", "bool", false],
  ...TAIL,
];

export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
}

const TRUE = new Set(["1", "on", "t", "true", "y", "yes"]);
const FALSE = new Set(["0", "off", "f", "false", "n", "no"]);

function coerce(t: T, v: unknown, loc: (string | number)[], errs: FieldError[]): unknown {
  if (v === null || t === "any") return v;
  const bad = (msg: string, type: string): undefined => {
    errs.push({ loc, msg, type });
    return undefined;
  };
  switch (t) {
    case "str":
      if (typeof v === "string") return v;
      if (typeof v === "number") return String(v);
      return bad("str type expected", "type_error.str");
    case "int": {
      if (typeof v === "boolean") return v ? 1 : 0;
      if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
      if (typeof v === "string" && /^\s*[-+]?\d+\s*$/.test(v)) return parseInt(v, 10);
      return bad("value is not a valid integer", "type_error.integer");
    }
    case "float": {
      if (typeof v === "boolean") return v ? 1 : 0;
      if (typeof v === "number") return v;
      if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
      return bad("value is not a valid float", "type_error.float");
    }
    case "bool":
      if (typeof v === "boolean") return v;
      if (v === 0 || v === 1) return v === 1;
      if (typeof v === "string" && TRUE.has(v.toLowerCase())) return true;
      if (typeof v === "string" && FALSE.has(v.toLowerCase())) return false;
      return bad("value could not be parsed to a boolean", "type_error.bool");
    case "list":
      return Array.isArray(v) ? v : bad("value is not a valid list", "type_error.list");
    case "liststr":
      if (!Array.isArray(v)) return bad("value is not a valid list", "type_error.list");
      return v.map((x, i) => coerce("str", x, [...loc, i], errs));
    case "dict":
      return typeof v === "object" && !Array.isArray(v) ? v : bad("value is not a valid dict", "type_error.dict");
  }
}

export type Validated = { ok: true; req: Record<string, unknown> } | { ok: false; detail: FieldError[] };

/** Parse the raw body as FastAPI would for a required pydantic body parameter. */
export function validateBody(raw: string, fields: Field[]): Validated {
  if (raw.trim() === "")
    return { ok: false, detail: [{ loc: ["body"], msg: "field required", type: "value_error.missing" }] };
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const pos = m ? parseInt(m[1]!, 10) : 0;
    const before = raw.slice(0, pos);
    const lineno = before.split("\n").length;
    const colno = pos - before.lastIndexOf("\n");
    const msg = "Expecting value";
    return {
      ok: false,
      detail: [
        {
          loc: ["body", pos],
          msg: `${msg}: line ${lineno} column ${colno} (char ${pos})`,
          type: "value_error.jsondecode",
          ctx: { msg, doc: raw, pos, lineno, colno },
        },
      ],
    };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, detail: [{ loc: ["body"], msg: "value is not a valid dict", type: "type_error.dict" }] };
  }
  const src = body as Record<string, unknown>;
  const req: Record<string, unknown> = {};
  const errs: FieldError[] = [];
  for (const [name, t, def] of fields) {
    req[name] = name in src ? coerce(t, src[name], ["body", name], errs) : structuredClone(def);
  }
  return errs.length ? { ok: false, detail: errs } : { ok: true, req };
}
