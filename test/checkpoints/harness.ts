// What the placement tests share: a temporary root (traversable by uid 1000, as a host's /srv is), a few
// checkpoint-shaped files served by a real HTTP server on loopback, and the real script run with /bin/sh as
// the command resource runs it (async: the file server answers in this same process).
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { placementScript } from "../../infra/docker/steps/place-checkpoints.js";
import type { PlacementInput } from "../../infra/docker/steps/place-checkpoints.js";
import { STAGING_DIR } from "../../infra/docker/steps/place-checkpoints.js";
import { resolveCheckpoints } from "../../infra/config/checkpoints.js";
import type { CheckpointEntry } from "../../infra/config/checkpoints.js";
import { startFileServer } from "../helpers/file-server.js";
import type { FileServer, FileServerOptions } from "../helpers/file-server.js";

export const root = mkdtempSync(join(tmpdir(), "sdwebui-ckpt-"));
chmodSync(root, 0o755);
export const served = join(root, "served");
after(() => rmSync(root, { recursive: true, force: true }));

/** Checkpoint-shaped files of a few MB (random bytes: a resumed download that goes wrong shows in the hash). */
export const files: Record<string, Buffer> = {
  "a.safetensors": randomBytes(3 * 1024 * 1024),
  "b.safetensors": randomBytes(2 * 1024 * 1024 + 17),
};
export const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

before(() => {
  mkdirSync(served, { recursive: true });
  for (const [n, b] of Object.entries(files)) writeFileSync(join(served, n), b);
});

let n = 0;
/** A fresh models folder with its checkpoints folder. */
export function modelsDir(): string {
  const d = join(root, `models-${++n}`);
  mkdirSync(join(d, "Stable-diffusion"), { recursive: true });
  return d;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  script: string;
}
export type RunOptions = { stdin?: string; stall?: number; progress?: number } & Partial<
  Omit<PlacementInput, "modelsDir" | "checkpoints">
>;

/** Run the script as the command resource does, bounded at 120 s. */
export function run(models: string, entries: CheckpointEntry[], o: RunOptions = {}): Promise<RunResult> {
  const { stdin, stall, progress, ...rest } = o;
  const script = placementScript({
    modelsDir: models,
    checkpoints: resolveCheckpoints(entries),
    stallSeconds: stall ?? 10,
    attempts: 4,
    progressSeconds: progress ?? 5,
    ...rest,
  });
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", script], { stdio: ["pipe", "pipe", "pipe"], timeout: 120_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdin.on("error", () => {});
    child.stdin.end(stdin ?? "");
    child.on("close", (status) => resolve({ status, stdout, stderr, script }));
  });
}

export const entry = (server: FileServer, file: string, extra: Partial<CheckpointEntry> = {}): CheckpointEntry => ({
  source: `${server.url}/${file}`,
  sha256: sha(files[file]!),
  loadFirst: false,
  useToken: false,
  ...extra,
});

/**
 * Everything in a checkpoints folder (or a sub-folder) that a case may have left: its entries besides the
 * staging folder, and what the staging folder holds besides the per-file lock files.
 */
export function listing(models: string, sub = ""): string[] {
  const dir = join(models, "Stable-diffusion", sub);
  const staging = join(dir, STAGING_DIR);
  const staged = existsSync(staging)
    ? readdirSync(staging)
        .filter((f) => !f.endsWith(".lock"))
        .map((f) => `${STAGING_DIR}/${f}`)
    : [];
  return [...readdirSync(dir).filter((f) => f !== STAGING_DIR), ...staged].sort();
}

export async function withServer(o: Omit<FileServerOptions, "dir">, fn: (s: FileServer) => Promise<void> | void) {
  const s = await startFileServer({ dir: served, ...o });
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}
