// HostAccess over the system `ssh` client, with the program's connection settings (user, host, port,
// identity file, known_hosts, host key checking). Every remote command is a constant `sh -c` script
// with the values passed as positional parameters, each shell-quoted: no value is ever spliced into
// script text, and the remote login shell only has to parse single-quoted words.
import { shellJoin } from "../lib/shell.js";
import { confiningRoot, HostDeniedError, HostLinkError, HostMissingError, runProgram, runProgramRaw } from "./host.js";
import type { HostAccess, HostStat, ListResult, RunResult } from "./host.js";
import { SmokeError } from "./errors.js";
import { isTcpPort, TCP_PORT_RULE } from "../lib/tcp-port.js";

export const STRICT_MODES = ["yes", "accept-new", "no"] as const;

export interface SshSettings {
  user: string;
  host: string;
  port: number;
  /** Private key file (mode 0600). */
  identityFile?: string;
  /** known_hosts file; without it ssh uses the user's own. */
  knownHostsFile?: string;
  strictHostKeyChecking: (typeof STRICT_MODES)[number];
  connectTimeoutS: number;
}

const HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^[0-9a-fA-F:]+$/;
const USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/i;

/** Throws a usage error naming the setting when an SSH setting could be misread by ssh. */
function validateSsh(settings: SshSettings): void {
  if (!HOST_RE.test(settings.host))
    throw new SmokeError("usage", `--ssh-host "${settings.host}" is not a host name or IP address`);
  if (!USER_RE.test(settings.user))
    throw new SmokeError("usage", `--ssh-user "${settings.user}" is not a valid user name`);
  if (!isTcpPort(settings.port)) throw new SmokeError("usage", `--ssh-port ${settings.port} is not ${TCP_PORT_RULE}`);
  for (const [flag, v] of [
    ["--ssh-identity", settings.identityFile],
    ["--ssh-known-hosts", settings.knownHostsFile],
  ] as const) {
    // ssh splits -o values on whitespace and treats quotes specially: refuse such paths outright.
    if (v !== undefined && (!v.startsWith("/") || /[\s"'\\]/.test(v)))
      throw new SmokeError("usage", `${flag} must be an absolute path without spaces or quotes (got "${v}")`);
  }
}

/** The argv for `ssh` running `remoteCommand` (one string, already quoted) on the host. */
export function sshArgv(settings: SshSettings, remoteCommand: string): string[] {
  validateSsh(settings);
  const argv = [
    "-o",
    "BatchMode=yes",
    "-o",
    `ConnectTimeout=${Math.max(1, Math.round(settings.connectTimeoutS))}`,
    "-o",
    `StrictHostKeyChecking=${settings.strictHostKeyChecking}`,
    "-o",
    "LogLevel=ERROR",
  ];
  if (settings.knownHostsFile)
    argv.push("-o", `UserKnownHostsFile=${settings.knownHostsFile}`, "-o", "GlobalKnownHostsFile=/dev/null");
  if (settings.identityFile) argv.push("-i", settings.identityFile, "-o", "IdentitiesOnly=yes");
  argv.push("-p", String(settings.port), "-l", settings.user, "--", settings.host, remoteCommand);
  return argv;
}

// Remote scripts: constants; $1 is the path, $2 the folder above it that a container writes ("" for none).
// Exit 44 = missing, 45 = permission denied, 46 = a link below $2 (printed on stdout), which is never
// followed. A path behind a folder the login may not search tests as absent too: `why` finds the nearest
// ancestor that exists and says denied when that one is a folder the login cannot search (a 0700 parent).
const WHY = `why() { a=$1; while [ "$a" != / ] && ! [ -e "$a" ]; do a=$(dirname -- "$a"); done; if [ -d "$a" ] && ! [ -x "$a" ]; then exit 45; fi; exit 44; }; `;
const NO_LINK = `nolink() { [ -n "$2" ] || return 0; a=$2; set -f; IFS=/; for c in \${1#"$2"}; do [ -n "$c" ] || continue; a=$a/$c; if [ -L "$a" ]; then printf '%s' "$a"; exit 46; fi; [ -e "$a" ] || break; done; set +f; unset IFS; }; nolink "$1" "$2"; `;
export const LIST_SCRIPT =
  `${WHY}${NO_LINK}[ -d "$1" ] || why "$1"; cd -- "$1" 2>/dev/null || exit 45; [ -r . ] || exit 45; ` +
  `for f in * .[!.]* ..?*; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\\0' "$f"; fi; done`;
export const STAT_SCRIPT = `${WHY}${NO_LINK}[ -e "$1" ] || why "$1"; stat -L -c '%s %u %g %f' -- "$1" || exit 45`;
// Not through a link at the name either (nofollow), and never waiting on a FIFO planted there (nonblock).
export const READ_SCRIPT = `${WHY}${NO_LINK}[ -L "$1" ] && { printf '%s' "$1"; exit 46; }; [ -e "$1" ] || why "$1"; [ -r "$1" ] || exit 45; [ -f "$1" ] || exit 44; exec dd if="$1" iflag=nofollow,nonblock bs=1048576 status=none`;

/** The remote command string for a script with positional parameters. */
export function remoteScript(script: string, ...params: string[]): string {
  return shellJoin(["sh", "-c", script, "sh", ...params]);
}

export class SshHost implements HostAccess {
  readonly description: string;
  private readonly s: SshSettings;
  private readonly timeoutMs: number;

  /** `confine`: folders a container writes; below them no link is followed. */
  constructor(
    settings: SshSettings,
    timeoutMs = 60_000,
    private readonly confine: readonly string[] = [],
  ) {
    validateSsh(settings);
    this.s = settings;
    this.timeoutMs = timeoutMs;
    this.description = `ssh ${settings.user}@${settings.host}:${settings.port}`;
  }

  private async exec(
    remote: string,
    timeoutMs = this.timeoutMs,
  ): Promise<{ code: number; stdout: Buffer; stderr: string }> {
    const r = await runProgramRaw("ssh", sshArgv(this.s, remote), timeoutMs);
    if (r.code === 255 || r.code === 127 || r.code === 124) {
      throw new SmokeError(
        "host-access",
        `cannot reach the Docker host over SSH (${this.description}): ${sshErrorSummary(r.stderr) || `exit ${r.code}`}. ` +
          `Check the SSH user, key, port and known_hosts settings (and that this machine may log in).`,
      );
    }
    return r;
  }

  /** A remote script on `path`, with the folder a container writes above it. */
  private script(script: string, path: string) {
    return this.exec(remoteScript(script, path, confiningRoot(this.confine, path) ?? ""));
  }

  async listDir(path: string): Promise<ListResult> {
    const r = await this.script(LIST_SCRIPT, path);
    if (r.code === 46) return { kind: "link", link: r.stdout.toString("utf8") };
    if (r.code === 44) return { kind: "missing" };
    if (r.code === 45) return { kind: "denied" };
    if (r.code !== 0) throw new Error(`listing ${path} over SSH failed (exit ${r.code}): ${r.stderr.trim()}`);
    return {
      kind: "ok",
      names: r.stdout
        .toString("utf8")
        .split("\0")
        .filter((n) => n !== ""),
    };
  }

  async stat(path: string): Promise<HostStat | null> {
    const r = await this.script(STAT_SCRIPT, path);
    if (r.code === 46) throw new HostLinkError(r.stdout.toString("utf8"));
    if (r.code === 44) return null;
    if (r.code === 45) throw new HostDeniedError(path);
    if (r.code !== 0) throw new Error(`stat ${path} over SSH failed (exit ${r.code}): ${r.stderr.trim()}`);
    return parseStat(r.stdout.toString("utf8"));
  }

  async readFile(path: string): Promise<Buffer> {
    const r = await this.script(READ_SCRIPT, path);
    if (r.code === 46) throw new HostLinkError(r.stdout.toString("utf8"));
    if (r.code === 44) throw new HostMissingError(path);
    if (r.code === 45) throw new HostDeniedError(path);
    if (r.code !== 0) throw new Error(`reading ${path} over SSH failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  async run(argv: string[], timeoutMs: number): Promise<RunResult> {
    const r = await this.exec(shellJoin(argv), timeoutMs);
    return { code: r.code, stdout: r.stdout.toString("utf8"), stderr: r.stderr };
  }

  /** True when the host accepts the SSH login (used to tell "host down" from "port dropped"). */
  async ping(): Promise<boolean> {
    const r = await runProgram("ssh", sshArgv(this.s, "true"), this.timeoutMs);
    return r.code === 0;
  }
}

/**
 * The decisive part of ssh's stderr: its last real line (skipping the "@@@" banner), prefixed with the
 * banner's headline when the host key changed.
 */
export function sshErrorSummary(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.replace(/\r/g, "").trim())
    .filter((l) => l !== "" && !/^@+$/.test(l));
  const last = lines[lines.length - 1] ?? "";
  const changed = lines.find((l) => /REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(l));
  return changed && changed !== last ? `REMOTE HOST IDENTIFICATION HAS CHANGED; ${last}` : last;
}

/** Parse `stat -c '%s %u %g %f'` output. */
export function parseStat(out: string): HostStat {
  const m = /^(\d+) (\d+) (\d+) ([0-9a-fA-F]+)\s*$/.exec(out.trim());
  if (!m) throw new Error(`unexpected stat output: ${out.slice(0, 80)}`);
  const mode = parseInt(m[4] ?? "0", 16);
  return {
    size: Number(m[1]),
    uid: Number(m[2]),
    gid: Number(m[3]),
    perm: mode & 0o7777,
    isDir: (mode & 0o170000) === 0o040000,
  };
}
