// Settings (`opts`) as the WebUI keeps them: `data` holds only what config.json had (a fresh install
// starts empty), reads fall back to the defaults of modules/shared_options.py, POST /options writes
// config.json with all of `data`. Output dirs are `truncate_path`-relative to the working dir.
import * as fs from "node:fs";
import * as path from "node:path";
import type { CmdOpts } from "./args.js";

/** util.truncate_path: relative to base when under it, else absolute. */
export function truncatePath(target: string, base: string): string {
  const abs = path.resolve(target);
  const b = path.resolve(base);
  if (abs === b) return ".";
  return abs.startsWith(b + path.sep) ? path.relative(b, abs) : abs;
}

export function defaults(cmd: CmdOpts, cwd: string): Record<string, unknown> {
  const out = (sub: string): string => truncatePath(path.join(cmd.data_dir, sub), cwd);
  return {
    samples_save: true,
    samples_format: "png",
    samples_filename_pattern: "",
    save_images_add_number: true,
    save_images_replace_action: "Replace",
    grid_save: true,
    grid_format: "png",
    grid_extended_filename: false,
    grid_only_if_multiple: true,
    grid_prevent_empty_spots: false,
    grid_zip_filename_pattern: "",
    n_rows: -1,
    font: "",
    grid_text_active_color: "#000000",
    grid_text_inactive_color: "#999999",
    grid_background_color: "#ffffff",
    save_images_before_face_restoration: false,
    save_images_before_highres_fix: false,
    save_images_before_color_correction: false,
    save_mask: false,
    save_mask_composite: false,
    jpeg_quality: 80,
    webp_lossless: false,
    export_for_4chan: true,
    img_downscale_threshold: 4.0,
    target_side_length: 4000.0,
    img_max_size_mp: 200.0,
    use_original_name_batch: true,
    use_upscaler_name_as_suffix: false,
    save_selected_only: true,
    save_init_img: false,
    temp_dir: "",
    clean_temp_dir_at_start: false,
    save_incomplete_images: false,
    notification_audio: true,
    notification_volume: 100,
    outdir_samples: "",
    outdir_txt2img_samples: out("outputs/txt2img-images"),
    outdir_img2img_samples: out("outputs/img2img-images"),
    outdir_extras_samples: out("outputs/extras-images"),
    outdir_grids: "",
    outdir_txt2img_grids: out("outputs/txt2img-grids"),
    outdir_img2img_grids: out("outputs/img2img-grids"),
    outdir_save: out("log/images"),
    outdir_init_images: out("outputs/init-images"),
    save_to_dirs: true,
    grid_save_to_dirs: true,
    use_save_to_dirs_for_ui: false,
    directories_filename_pattern: "[date]",
    directories_max_prompt_words: 8,
    enable_pnginfo: true,
    save_txt: false,
    add_model_name_to_info: true,
    add_model_hash_to_info: true,
    add_vae_name_to_info: true,
    add_vae_hash_to_info: true,
    add_user_name_to_info: false,
    add_version_to_infotext: true,
    return_grid: true,
    do_not_show_images: false,
    sd_model_checkpoint: null,
    sd_checkpoints_limit: 1,
    sd_checkpoints_keep_in_cpu: true,
    sd_checkpoint_cache: 0,
    sd_unet: "Automatic",
    enable_quantization: false,
    emphasis: "Original",
    enable_batch_seeds: true,
    comma_padding_backtrack: 20,
    CLIP_stop_at_last_layers: 1,
    upcast_attn: false,
    randn_source: "GPU",
    tiling: false,
    hires_fix_refiner_pass: "second pass",
    sd_vae: "Automatic",
    sd_vae_overrides_per_model_preferences: true,
    auto_vae_precision: true,
    sd_vae_encode_method: "Full",
    sd_vae_decode_method: "Full",
    eta_noise_seed_delta: 0,
    api_enable_requests: true,
    api_forbid_local_requests: true,
    api_useragent: "",
    samples_log_stdout: false,
    multiple_tqdm: true,
    enable_upscale_progressbar: true,
    show_progressbar: true,
    live_previews_enable: true,
    face_restoration: false,
    face_restoration_model: "CodeFormer",
  };
}

/** Options that `--hide-ui-dir-config` freezes (shared_options: restrict via hide_dirs). */
export const DIR_OPTIONS = new Set([
  "outdir_samples",
  "outdir_txt2img_samples",
  "outdir_img2img_samples",
  "outdir_extras_samples",
  "outdir_grids",
  "outdir_txt2img_grids",
  "outdir_img2img_grids",
  "outdir_save",
  "outdir_init_images",
  "samples_filename_pattern",
  "save_to_dirs",
  "grid_save_to_dirs",
  "directories_filename_pattern",
  "samples_format",
  "save_images_add_number",
  "temp_dir",
]);
const RESTRICT_API = new Set(["api_enable_requests", "api_forbid_local_requests", "api_useragent"]);

export class Opts {
  data: Record<string, unknown> = {};
  readonly defaults: Record<string, unknown>;
  constructor(
    private cmd: CmdOpts,
    cwd: string,
  ) {
    this.defaults = defaults(cmd, cwd);
    try {
      this.data = JSON.parse(fs.readFileSync(cmd.ui_settings_file, "utf8")) as Record<string, unknown>;
    } catch {
      this.data = {};
    }
  }
  get<T = unknown>(k: string): T {
    return (k in this.data ? this.data[k] : this.defaults[k]) as T;
  }
  /** opts.set(k, v, is_api=True): dir options frozen by --hide-ui-dir-config, restricted ones ignored. */
  set(k: string, v: unknown): boolean {
    if (this.cmd.hide_ui_dir_config && DIR_OPTIONS.has(k)) return false;
    if (RESTRICT_API.has(k)) return false;
    this.data[k] = v;
    return true;
  }
  all(): Record<string, unknown> {
    return { ...this.defaults, ...this.data };
  }
  save(): void {
    if (this.cmd.freeze_settings)
      throw Object.assign(new Error("changing settings is disabled"), { pyName: "AssertionError" });
    fs.mkdirSync(path.dirname(this.cmd.ui_settings_file), { recursive: true });
    fs.writeFileSync(this.cmd.ui_settings_file, JSON.stringify(this.data, null, 4));
  }
  /**
   * Apply override_settings for one request; returns the restore function. As process_images: only
   * keys already in `data` are restored, others stay in effect in memory.
   */
  override(over: Record<string, unknown> | null | undefined, restore: boolean): () => void {
    if (!over) return () => undefined;
    const stored: Record<string, unknown> = {};
    for (const k of Object.keys(over)) if (k in this.data) stored[k] = this.data[k];
    for (const [k, v] of Object.entries(over)) this.set(k, v);
    return () => {
      if (!restore) return;
      for (const [k, v] of Object.entries(stored)) this.data[k] = v;
    };
  }
}
