// Connection settings for an ssh:// Docker host, shared by the docker provider (system ssh, through
// sshOpts) and the command resources (Go ssh client, through `connection`). Host keys are always
// verified: from the sshKnownHosts setting when given (read by config/known-hosts.ts), else from the
// user's known_hosts.
import type * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import type { DockerHost } from "../config/docker-host.js";
import { shellJoin, shellQuote } from "../../lib/shell.js";
import { commandHostKey, parseKnownHosts } from "../config/known-hosts.js";

type SshHost = Extract<DockerHost, { kind: "ssh" }>;

/**
 * The exact string a remote ssh session runs for a script of the program (folders, checkpoints, port
 * check, firewall): always sh, whatever the login shell is; `sudo -n` for a login that is not root.
 */
export function remoteWrap(script: string, sudo = false): string {
  return `${sudo ? "sudo -n " : ""}sh -c ${shellQuote(script)}`;
}

/** ssh options for the docker provider (it runs the system ssh client with them, no shell). */
export function sshOpts(knownHosts: string | undefined): string[] {
  const opts = ["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20"];
  if (knownHosts !== undefined) {
    const lines = parseKnownHosts(knownHosts).map((k) => k.line);
    // KnownHostsCommand (OpenSSH 8.5+) feeds the pinned keys without writing a file. ssh expands
    // %-tokens in it (so %% for printf's %) and splits it into words with quotes, without a shell.
    opts.push(
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      `KnownHostsCommand=${shellJoin(["/usr/bin/printf", "%%s\\n", ...lines])}`,
    );
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
  if (knownHosts !== undefined && !pinned)
    throw new Error(
      `sshKnownHosts pins only RSA keys for ${host.host}, which the command provider cannot check; validation refuses this`,
    );
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
