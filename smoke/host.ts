// Access to the Docker host's filesystem (and its docker CLI): the local implementation here, the SSH
// one in ssh-host.ts. The locator only lists the few dated folders it needs, through this interface.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";

export type ListResult = { kind: "ok"; names: string[] } | { kind: "missing" } | { kind: "denied" };

export interface HostStat {
  size: number;
  uid: number;
  gid: number;
  /** Permission bits (e.g. 0o755). */
  perm: number;
  isDir: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostAccess {
  /** "local filesystem" or "ssh user@host:port", for messages. */
  readonly description: string;
  /** Names in a directory (no "." / ".."), or why there are none. */
  listDir(path: string): Promise<ListResult>;
  /** null when the path does not exist; throws HostDeniedError when it cannot be read. */
  stat(path: string): Promise<HostStat | null>;
  /** Whole file; throws HostDeniedError / HostMissingError. */
  readFile(path: string): Promise<Buffer>;
  /** Run a program on the host (used for `docker inspect`); never through a local shell. */
  run(argv: string[], timeoutMs: number): Promise<RunResult>;
}

export class HostDeniedError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`permission denied reading ${path}`);
    this.name = "HostDeniedError";
    this.path = path;
  }
}

export class HostMissingError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`${path} does not exist`);
    this.name = "HostMissingError";
    this.path = path;
  }
}

function errCode(e: unknown): string {
  return (e as { code?: string }).code ?? "";
}

export class LocalHost implements HostAccess {
  readonly description = "local filesystem";

  async listDir(path: string): Promise<ListResult> {
    try {
      return { kind: "ok", names: await fs.readdir(path) };
    } catch (e) {
      const c = errCode(e);
      if (c === "ENOENT" || c === "ENOTDIR") return { kind: "missing" };
      if (c === "EACCES" || c === "EPERM") return { kind: "denied" };
      throw e;
    }
  }

  async stat(path: string): Promise<HostStat | null> {
    try {
      const s = await fs.stat(path);
      return { size: s.size, uid: s.uid, gid: s.gid, perm: s.mode & 0o7777, isDir: s.isDirectory() };
    } catch (e) {
      const c = errCode(e);
      if (c === "ENOENT" || c === "ENOTDIR") return null;
      if (c === "EACCES" || c === "EPERM") throw new HostDeniedError(path);
      throw e;
    }
  }

  async readFile(path: string): Promise<Buffer> {
    try {
      return await fs.readFile(path);
    } catch (e) {
      const c = errCode(e);
      if (c === "ENOENT" || c === "ENOTDIR") throw new HostMissingError(path);
      if (c === "EACCES" || c === "EPERM") throw new HostDeniedError(path);
      throw e;
    }
  }

  run(argv: string[], timeoutMs: number): Promise<RunResult> {
    return runProgram(argv[0] ?? "", argv.slice(1), timeoutMs);
  }
}

/** execFile wrapper that resolves with the exit code (and raw stdout) instead of throwing on non-zero. */
export function runProgramRaw(
  file: string,
  args: string[],
  timeoutMs: number,
  maxBuffer = 256 * 1024 * 1024,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer, encoding: "buffer" }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number | string; killed?: boolean }) | null;
      let code = 0;
      if (e) code = typeof e.code === "number" ? e.code : e.killed ? 124 : 127;
      const errText = stderr.toString("utf8") || (e && typeof e.code !== "number" ? e.message : "");
      resolve({ code, stdout, stderr: errText });
    });
  });
}

export async function runProgram(file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  const r = await runProgramRaw(file, args, timeoutMs);
  return { code: r.code, stdout: r.stdout.toString("utf8"), stderr: r.stderr };
}
