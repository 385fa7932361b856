// Connection settings for an ssh:// Docker host, shared by the docker provider (system ssh, through
// sshOpts) and the command resources (Go ssh client, through `connection`). Host keys are always
// verified: from the sshKnownHosts setting when given, else from the user's known_hosts.
import type * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { DockerHost } from "./config/docker-host.js";
import { shellJoin, shellQuote } from "./shell.js";

type SshHost = Extract<DockerHost, { kind: "ssh" }>;

/**
 * The exact string a remote ssh session runs for a script of the program (folders, checkpoints, port
 * check, firewall): always sh, whatever the login shell is; `sudo -n` for a login that is not root.
 */
export function remoteWrap(script: string, sudo = false): string {
  return `${sudo ? "sudo -n " : ""}sh -c ${shellQuote(script)}`;
}

/** One known_hosts line: hosts, key type, base64 key (no options, no comments). */
const KNOWN_HOSTS_LINE = /^([A-Za-z0-9.:[\],*_-]+) ((?:ssh|ecdsa|sk)-[a-z0-9@.-]+) ([A-Za-z0-9+/]+={0,2})$/;

export function parseKnownHosts(text: string): { line: string; keyType: string; key: string }[] {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  return lines.map((line) => {
    const m = KNOWN_HOSTS_LINE.exec(line);
    if (!m) throw new Error(`sshKnownHosts: "${line.slice(0, 60)}" is not a known_hosts line "host key-type base64-key"; get one with: ssh-keyscan -p <port> <host>`);
    return { line, keyType: m[2]!, key: m[3]! };
  });
}

/** The known_hosts lines that name `host` (all lines when none names it: the user pinned one key). */
export function knownHostsFor(knownHosts: string | undefined, host: string): string | undefined {
  if (knownHosts === undefined) return undefined;
  const lines = parseKnownHosts(knownHosts).map((k) => k.line);
  const mine = lines.filter((l) => l.split(" ")[0]!.split(",").some((h) => h === host || h.startsWith(`[${host}]:`)));
  return (mine.length > 0 ? mine : lines).join("\n");
}

/**
 * The pinned key the command resources check: the first that is not RSA. Their ssh client offers the
 * server only the pinned key's own type, and for an RSA key that is "ssh-rsa" (SHA-1), which OpenSSH 8.8
 * and later no longer accept: every command would fail with "no common algorithm for host key".
 */
export function commandHostKey(knownHosts: string): { keyType: string; key: string } | undefined {
  return parseKnownHosts(knownHosts).find((k) => k.keyType !== "ssh-rsa");
}

/** ssh options for the docker provider (it runs the system ssh client with them, no shell). */
export function sshOpts(knownHosts: string | undefined): string[] {
  const opts = ["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20"];
  if (knownHosts !== undefined) {
    const lines = parseKnownHosts(knownHosts).map((k) => k.line);
    // KnownHostsCommand (OpenSSH 8.5+) feeds the pinned keys without writing a file. ssh expands
    // %-tokens in it (so %% for printf's %) and splits it into words with quotes, without a shell.
    opts.push("-o", "UserKnownHostsFile=/dev/null", "-o", `KnownHostsCommand=${shellJoin(["/usr/bin/printf", "%%s\\n", ...lines])}`);
  }
  return opts;
}

/** The `connection` of command.remote resources for the host. */
export function remoteConnection(
  host: SshHost,
  privateKey: pulumi.Output<string> | undefined,
  knownHosts: string | undefined,
): command.types.input.remote.ConnectionArgs {
  const pinned = knownHosts === undefined ? undefined : commandHostKey(knownHosts);
  if (knownHosts !== undefined && !pinned) throw new Error(`sshKnownHosts pins only RSA keys for ${host.host}, which the command provider cannot check; validation refuses this`);
  return {
    host: host.host,
    port: host.port,
    user: host.user,
    ...(privateKey ? { privateKey } : {}),
    ...(pinned ? { hostKey: `${pinned.keyType} ${pinned.key}` } : {}),
    perDialTimeout: 20,
    dialErrorLimit: 3,
  };
}
