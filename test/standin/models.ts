// Checkpoints as sd_models.list_models finds them: `<models>/Stable-diffusion/**.{ckpt,safetensors}`
// (VAE files excluded), `--ckpt-dir`, and the `--ckpt` file if it exists. Hashes are computed when the
// "model loads" (after the start-up delay), as the WebUI hashes on load; until then `hash` is null.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { CmdOpts } from "./args.js";

export interface Checkpoint {
  filename: string;
  name: string;
  modelName: string;
  sha256: string | null;
}

export function modelsPath(cmd: CmdOpts): string {
  return path.resolve(cmd.models_dir ?? path.join(cmd.data_dir, "models"));
}
export const ckptDir = (cmd: CmdOpts): string => path.join(modelsPath(cmd), "Stable-diffusion");

function walk(dir: string, out: string[]): void {
  let ents: fs.Dirent[] = [];
  try {
    ents = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of ents) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.(ckpt|safetensors)$/i.test(e.name) && !/\.vae\.(ckpt|safetensors)$/i.test(e.name)) out.push(p);
  }
}

export function listCheckpoints(cmd: CmdOpts): Checkpoint[] {
  const files: string[] = [];
  if (fs.existsSync(cmd.ckpt) && fs.statSync(cmd.ckpt).isFile()) files.push(path.resolve(cmd.ckpt));
  const roots = [ckptDir(cmd), ...(cmd.ckpt_dir ? [path.resolve(cmd.ckpt_dir)] : [])];
  for (const r of roots) {
    const found: string[] = [];
    walk(r, found);
    files.push(...found.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  }
  const seen = new Set<string>();
  return files
    .filter((f) => !seen.has(f) && seen.add(f))
    .map((f) => {
      const root = roots.find((r) => f.startsWith(r + path.sep));
      const name = root ? path.relative(root, f) : path.basename(f);
      return { filename: f, name, modelName: name.replace(/\.[^.]+$/, "").replace(/[\\/]/g, "_"), sha256: null };
    });
}

export const shortHash = (c: Checkpoint): string | null => (c.sha256 ? c.sha256.slice(0, 10) : null);
export const title = (c: Checkpoint): string => (c.sha256 ? `${c.name} [${shortHash(c)}]` : c.name);

export async function hashCheckpoint(c: Checkpoint): Promise<void> {
  if (c.sha256) return;
  const h = createHash("sha256");
  await new Promise<void>((res, rej) => {
    fs.createReadStream(c.filename)
      .on("data", (d) => h.update(d))
      .on("end", () => res())
      .on("error", rej);
  });
  c.sha256 = h.digest("hex");
}

export function sdModelsJson(list: Checkpoint[]): unknown[] {
  return list.map((c) => ({
    title: title(c),
    model_name: c.modelName,
    hash: shortHash(c),
    sha256: c.sha256,
    filename: c.filename,
    config: null,
  }));
}

/** sd_models.select_checkpoint's message when nothing is found (including its missing newline). */
export function noCheckpointMessage(cmd: CmdOpts): string {
  let m = "No checkpoints found. When searching for checkpoints, looked at:";
  m += `\n - file ${path.resolve(cmd.ckpt)}`;
  m += `\n - directory ${ckptDir(cmd)}`;
  if (cmd.ckpt_dir) m += `\n - directory ${path.resolve(cmd.ckpt_dir)}`;
  m += "Can't run without a checkpoint. Find and place a .ckpt or .safetensors file into any of those locations.";
  return m;
}

/** The checkpoint `sd_model_checkpoint` names (title, name or model name), else the first. */
export function selectCheckpoint(list: Checkpoint[], wanted: unknown): Checkpoint | undefined {
  if (typeof wanted === "string") {
    const hit = list.find((c) => [title(c), c.name, c.modelName, shortHash(c)].includes(wanted));
    if (hit) return hit;
  }
  return list[0];
}
