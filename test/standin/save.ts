// Saving as modules/images.py does: `<outdir>/<dirname>/<NNNNN>-<decoration>.<ext>` with the per-folder
// counter (get_next_sequence_number), grids as `grid-NNNN`, `.tmp` then rename; and the infotext
// (processing.create_infotext) that goes into the `parameters` chunk.
import * as fs from "node:fs";
import * as path from "node:path";

export const VERSION = "v1.10.1";

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");
export const dateStr = (d: Date): string => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
export const stamp = (d: Date): string =>
  `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;

/** Python's str(float): 7 -> "7.0". */
export const pyFloat = (n: number): string => (Number.isInteger(n) ? `${n}.0` : String(n));

/** infotext_utils.quote: JSON-quote values containing , : or newline. */
function quote(v: string): string {
  return /[,:\n]/.test(v) ? JSON.stringify(v) : v;
}

export interface InfoParams {
  prompt: string;
  negative: string;
  steps: number;
  sampler: string;
  scheduler: string;
  cfg: number;
  imageCfg?: number | null;
  seed: number;
  width: number;
  height: number;
  modelHash: string | null;
  modelName: string | null;
  subseed: number;
  subseedStrength: number;
  denoising?: number | null;
  tiling?: boolean;
  restoreFaces?: boolean;
  faceModel?: string;
  addVersion: boolean;
  seedResizeW?: number;
  seedResizeH?: number;
}

export function createInfotext(p: InfoParams): string {
  const params: [string, unknown][] = [
    ["Steps", p.steps],
    ["Sampler", p.sampler],
    ["Schedule type", p.scheduler],
    ["CFG scale", pyFloat(p.cfg)],
    ["Image CFG scale", p.imageCfg == null ? null : pyFloat(p.imageCfg)],
    ["Seed", p.seed],
    ["Face restoration", p.restoreFaces ? p.faceModel : null],
    ["Size", `${p.width}x${p.height}`],
    ["Model hash", p.modelHash],
    ["Model", p.modelName],
    ["Variation seed", p.subseedStrength === 0 ? null : p.subseed],
    ["Variation seed strength", p.subseedStrength === 0 ? null : pyFloat(p.subseedStrength)],
    [
      "Seed resize from",
      (p.seedResizeW ?? -1) <= 0 || (p.seedResizeH ?? -1) <= 0 ? null : `${p.seedResizeW}x${p.seedResizeH}`,
    ],
    ["Denoising strength", p.denoising == null ? null : pyFloat(p.denoising)],
    ["Tiling", p.tiling ? "True" : null],
    ["Version", p.addVersion ? VERSION : null],
  ];
  const line = params
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${quote(String(v))}`)
    .join(", ");
  const neg = p.negative ? `\nNegative prompt: ${p.negative}` : "";
  return `${p.prompt}${neg}\n${line}`.trim(); // Python's .strip(): an empty prompt leaves no blank first line
}

const INVALID = /[#<>:"/\\|?*\n\r\t]/g;
/** images.sanitize_filename_part (non-unix mode): replace invalid chars, trim, cap length. */
export function sanitize(s: string, max = 128): string {
  let t = s
    .replace(INVALID, "_")
    .replace(/^ +/, "")
    .replace(/[ .]+$/, "");
  if (t.length > max) t = t.slice(0, max);
  return t;
}

export interface NameCtx {
  seed: number;
  seedFirst: number;
  seedLast: number;
  prompt: string;
  steps: number;
  cfg: number;
  width: number;
  height: number;
  sampler: string;
  modelName: string;
  modelHash: string;
  now: Date;
  jobTimestamp: string;
}

/** FilenameGenerator.apply for the common tokens; unknown tokens are kept as written. */
export function applyPattern(pattern: string, c: NameCtx, maxPromptWords = 8): string {
  const words = c.prompt.split(/[\s,]+/).filter(Boolean);
  const map: Record<string, () => string> = {
    seed: () => String(c.seed),
    seed_first: () => String(c.seedFirst),
    seed_last: () => String(c.seedLast),
    steps: () => String(c.steps),
    cfg: () => pyFloat(c.cfg),
    width: () => String(c.width),
    height: () => String(c.height),
    sampler: () => c.sampler,
    model_name: () => c.modelName,
    model_hash: () => c.modelHash,
    date: () => dateStr(c.now),
    datetime: () => stamp(c.now),
    job_timestamp: () => c.jobTimestamp,
    prompt: () => sanitize(c.prompt),
    prompt_spaces: () => sanitize(c.prompt),
    prompt_words: () => sanitize(words.slice(0, maxPromptWords).join(" ") || "empty"),
    prompt_no_styles: () => sanitize(c.prompt),
    none: () => "",
  };
  return pattern.replace(/\[(\w+)(?:<[^>]*>)?\]/g, (all, name: string) => {
    const f = map[name.toLowerCase()];
    return f ? sanitize(f()) : all;
  });
}

/** images.get_next_sequence_number: max of the leading numbers of files starting with basename-, plus 1. */
export function nextSequence(dir: string, basename: string): number {
  let result = -1;
  const prefix = basename ? `${basename}-` : "";
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    /* new folder */
  }
  for (const f of names) {
    if (!f.startsWith(prefix)) continue;
    const stem = f.slice(prefix.length).replace(/\.[^.]*$/, "");
    const first = stem.split("-")[0]!;
    if (/^\s*[-+]?\d+\s*$/.test(first)) result = Math.max(result, parseInt(first, 10));
  }
  return result + 1;
}

export interface SaveOpts {
  dir: string;
  basename: string;
  decoration: string;
  ext: string;
  addNumber: boolean;
  replace: boolean;
}

/** Pick the file name (counter, up to 500 probes), write `<name>.tmp`, rename. Returns the path. */
export function saveFile(o: SaveOpts, data: Buffer): string {
  fs.mkdirSync(o.dir, { recursive: true });
  const addNumber = o.addNumber || o.decoration === "";
  const deco = o.decoration !== "" && addNumber ? `-${o.decoration}` : o.decoration;
  let full = "";
  if (addNumber) {
    const base = nextSequence(o.dir, o.basename);
    for (let i = 0; i < 500; i++) {
      const n = base + i;
      const fn = o.basename === "" ? String(n).padStart(5, "0") : `${o.basename}-${String(n).padStart(4, "0")}`;
      full = path.join(o.dir, `${fn}${deco}.${o.ext}`);
      if (!fs.existsSync(full)) break;
    }
  } else {
    full = path.join(o.dir, `${deco}.${o.ext}`);
    if (fs.existsSync(full) && !o.replace) {
      for (let n = 1; fs.existsSync(full); n++) full = path.join(o.dir, `${deco}_${n}.${o.ext}`);
    }
  }
  const tmp = `${full}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, full);
  return full;
}
