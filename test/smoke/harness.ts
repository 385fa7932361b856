// Test harness for the smoke's integration tests: host folders for a stand-in container, a container
// started with the docker CLI (published on 127.0.0.1 only), and the smoke CLI run as a real process.
import { execFileSync, spawn } from "node:child_process";
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { docker } from "../helpers/docker.js";
import { STANDIN_IMAGE, ensureStandinImage } from "../helpers/standin.js";

export { STANDIN_IMAGE };
export const ROOT = "/app/stable-diffusion-webui";
export const API_USER = "sd";
export const API_PW = "api-pw-7Hq2";
export const UI_USER = "viewer";
export const UI_PW = "ui-pw-K9x1";

export interface Dirs {
  root: string;
  outputs: string;
  models: string;
}

/** Host folders (outputs + models with one checkpoint), owned by uid 1000 like the profile expects. */
export function makeDirs(t: { after: (f: () => void) => void }, o: { checkpoint?: boolean; outputsOwner?: number } = {}): Dirs {
  const root = mkdtempSync(join(tmpdir(), "smoke-it-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const outputs = join(root, "outputs");
  const models = join(root, "models");
  mkdirSync(outputs, { mode: 0o755 });
  mkdirSync(join(models, "Stable-diffusion"), { recursive: true });
  if (o.checkpoint !== false) writeFileSync(join(models, "Stable-diffusion", "tiny.safetensors"), "stand-in checkpoint");
  const owner = o.outputsOwner ?? 1000;
  chownSync(outputs, owner, owner);
  for (const p of [models, join(models, "Stable-diffusion")]) chownSync(p, 1000, 1000);
  return { root, outputs, models };
}

export interface Started {
  name: string;
  url: string;
  ip: string;
  pid: number;
  logs(): string;
}

export interface RunOpts {
  args: string[];
  env?: Record<string, string>;
  /** Mount the outputs folder (default true). */
  mountOutputs?: boolean;
  /** Replace the image's ENTRYPOINT (e.g. to start without --listen). */
  entrypoint?: string;
}

/** Start the stand-in image (ENTRYPOINT already has --listen --port 8080; args are appended). */
export function startContainer(t: { after: (f: () => void) => void }, dirs: Dirs, o: RunOpts): Started {
  const name = `smoke-it-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const argv = ["run", "-d", "--name", name, "-p", "127.0.0.1::8080", "-v", `${dirs.models}:${ROOT}/models`];
  if (o.mountOutputs !== false) argv.push("-v", `${dirs.outputs}:${ROOT}/outputs`);
  for (const [k, v] of Object.entries(o.env ?? {})) argv.push("-e", `${k}=${v}`);
  if (o.entrypoint !== undefined) argv.push("--entrypoint", o.entrypoint);
  argv.push(STANDIN_IMAGE, ...o.args);
  t.after(() => {
    try {
      docker(["rm", "-f", "-v", name]);
    } catch {
      /* already gone */
    }
  });
  docker(argv);
  const port = docker(["port", name, "8080/tcp"]).trim().split("\n")[0]?.split(":").pop() ?? "";
  const ip = docker(["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name]).trim();
  const pid = Number(docker(["inspect", "-f", "{{.State.Pid}}", name]).trim());
  return { name, url: `http://127.0.0.1:${port}`, ip, pid, logs: () => docker(["logs", name]) };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

/** Run the smoke CLI as a process (bounded by `limitMs`). */
export function runSmokeCli(args: string[], env: Record<string, string> = {}, limitMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", "smoke/cli.ts", ...args], {
      cwd: join(__dirname, "..", ".."),
      env: { ...process.env, SMOKE_IT_API_PW: API_PW, SMOKE_IT_UI_PW: UI_PW, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), limitMs);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(stdout.trim().split("\n").pop() ?? "") as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}

/** The common smoke flags for a started container. */
export function smokeArgs(c: Started, dirs: Dirs, extra: string[] = []): string[] {
  return [
    "--url", c.url, "--username", API_USER, "--password-env", "SMOKE_IT_API_PW",
    "--ui-username", UI_USER, "--ui-password-env", "SMOKE_IT_UI_PW",
    "--outputs-dir", dirs.outputs, "--models-dir", dirs.models, "--timeout", "30", "--json", ...extra,
  ];
}

/** The locked-down flags (api-and-ui). */
export const LOCKED = ["--api", "--api-auth", `${API_USER}:${API_PW}`, "--gradio-auth", `${UI_USER}:${UI_PW}`];

/** Build the stand-in image if it is missing; false (with the reason) when that fails. */
export function imagePresent(): boolean {
  try {
    ensureStandinImage();
    execFileSync("docker", ["image", "inspect", STANDIN_IMAGE], { stdio: "ignore", timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}
