// Test harness for the smoke's integration tests: host folders for a stand-in container, a container
// started with the docker CLI (published on 127.0.0.1 only), and the smoke CLI run as a real process.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { TestContext } from "node:test";
import { SshHost } from "../../smoke/ssh-host.js";
import type { SshSettings } from "../../smoke/ssh-host.js";
import { requireOrSkip } from "../helpers/requirements.js";
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
export function makeDirs(
  t: { after: (f: () => void) => void },
  o: { checkpoint?: boolean; outputsOwner?: number } = {},
): Dirs {
  const root = mkdtempSync(join(tmpdir(), "smoke-it-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const outputs = join(root, "outputs");
  const models = join(root, "models");
  mkdirSync(outputs, { mode: 0o755 });
  mkdirSync(join(models, "Stable-diffusion"), { recursive: true });
  if (o.checkpoint !== false)
    writeFileSync(join(models, "Stable-diffusion", "tiny.safetensors"), "stand-in checkpoint");
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
    "--url",
    c.url,
    "--username",
    API_USER,
    "--password-env",
    "SMOKE_IT_API_PW",
    "--ui-username",
    UI_USER,
    "--ui-password-env",
    "SMOKE_IT_UI_PW",
    "--outputs-dir",
    dirs.outputs,
    "--models-dir",
    dirs.models,
    "--timeout",
    "30",
    "--json",
    ...extra,
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

const SSHD = "/usr/sbin/sshd";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

export interface Sshd {
  settings: SshSettings;
  key: string;
  knownHosts: string;
}

export async function startSshd(t: TestContext): Promise<Sshd | undefined> {
  // Through the one skip rule: skipped locally with the reason, a failure under CI=true.
  if (!requireOrSkip(t, existsSync(SSHD) && process.getuid?.() === 0 ? "" : "needs root and openssh-server"))
    return undefined;
  const dir = mkdtempSync(join(tmpdir(), "smoke-sshd-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  if (!existsSync("/run/sshd")) {
    mkdirSync("/run/sshd", { mode: 0o755 });
    t.after(() => rmSync("/run/sshd", { recursive: true, force: true }));
  }
  const kg = (f: string) =>
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, f)], { timeout: 20_000 });
  kg("host");
  kg("client");
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client.pub")), { mode: 0o600 });
  const port = await freePort();
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      `PidFile ${join(dir, "sshd.pid")}`,
      "",
    ].join("\n"),
  );
  const proc: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" });
  t.after(() => {
    proc.kill("SIGTERM");
  });
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${readFileSync(join(dir, "host.pub"), "utf8")}`);
  const settings: SshSettings = {
    user: "root",
    host: "127.0.0.1",
    port,
    identityFile: join(dir, "client"),
    knownHostsFile: knownHosts,
    strictHostKeyChecking: "yes",
    connectTimeoutS: 5,
  };
  const h = new SshHost(settings);
  for (let i = 0; i < 50 && !(await h.ping()); i++) await new Promise((r) => setTimeout(r, 100));
  return { settings, key: readFileSync(join(dir, "client"), "utf8"), knownHosts: readFileSync(knownHosts, "utf8") };
}
