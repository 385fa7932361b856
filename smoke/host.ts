// Access to the Docker host's filesystem (and its docker CLI): the local implementation here, the SSH
// one in ssh-host.ts. The locator only lists the few dated folders it needs, through this interface.
import { execFile } from "node:child_process";
import { constants as fsConstants, promises as fs } from "node:fs";

export type ListResult =
  { kind: "ok"; names: string[] } | { kind: "missing" } | { kind: "denied" } | { kind: "link"; link: string };

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

/** A symbolic link below a folder a container writes: host access never follows one there. */
export class HostLinkError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`${path} is a symbolic link in a folder a container writes; the smoke never follows one there (remove it)`);
    this.name = "HostLinkError";
    this.path = path;
  }
}

/**
 * The folder among `roots` (folders a container writes: the outputs folder) that holds `path`, or undefined.
 * Below it every step is a container's to make, so nothing there is followed through a link.
 */
export function confiningRoot(roots: readonly string[], path: string): string | undefined {
  return roots.find((r) => path === r || path.startsWith(`${r}/`));
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

  /** `confine`: folders a container writes; below them no link is followed (the smoke may run as root). */
  constructor(private readonly confine: readonly string[] = []) {}

  /** The first link on the way from the confining folder down to `path`, if any. */
  private async linkOnTheWay(path: string): Promise<string | undefined> {
    const root = confiningRoot(this.confine, path);
    if (root === undefined) return undefined;
    let at = root;
    for (const part of path
      .slice(root.length)
      .split("/")
      .filter((p) => p !== "")) {
      at = `${at}/${part}`;
      const st = await fs.lstat(at).catch(() => undefined);
      if (!st) return undefined;
      if (st.isSymbolicLink()) return at;
    }
    return undefined;
  }

  async listDir(path: string): Promise<ListResult> {
    const link = await this.linkOnTheWay(path);
    if (link !== undefined) return { kind: "link", link };
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
    const link = await this.linkOnTheWay(path);
    if (link !== undefined) throw new HostLinkError(link);
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
    const link = await this.linkOnTheWay(path);
    if (link !== undefined) throw new HostLinkError(link);
    try {
      // Not through a link at the name either, and never waiting on a FIFO planted there.
      const handle = await fs.open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
      try {
        if (!(await handle.stat()).isFile()) throw new HostMissingError(path);
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (e) {
      const c = errCode(e);
      if (c === "ELOOP") throw new HostLinkError(path);
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
