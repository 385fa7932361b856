// The rules across the Docker host settings: scale-out hosts (each engine once, room for the ports, no
// single-host keys beside them) and ssh hosts (a pinned host key the command resources can use).
import { type DockerHost, engineIdentity, parseDockerHost } from "./docker-host.js";
import { setFix } from "./fix-commands.js";
import { commandHostKey, knownHostsFor } from "./known-hosts.js";
import { collect, type Add } from "./problems.js";
import { hostEntries, isDefaultValue } from "./raw-values.js";
import { settingDefault } from "./schema.js";
import type { RawSettings } from "./schema.js";
import { TCP_PORT_MAX } from "../../lib/tcp-port.js";

type SshHost = Extract<DockerHost, { kind: "ssh" }>;

/** Scale-out hosts: each engine once, room for the ports; ssh hosts need pinned keys. */
export const hostProblems = (raw: RawSettings) =>
  collect((add) => {
    const host = typeof raw.dockerHost === "string" ? parseDockerHost(raw.dockerHost) : undefined;
    const hostList = hostEntries(raw);
    if (hostList.length > 0) scaleOutProblems(raw, hostList, add);
    sshProblems(raw, host, hostList, add);
  });

/** A hosts entry without its GPU part (#0,1 or #cpu:n). */
const bareHost = (h: string) => (h.includes("#") ? h.slice(0, h.lastIndexOf("#")) : h);

function scaleOutProblems(raw: RawSettings, hostList: string[], add: Add): void {
  // Pulumi.yaml's declared defaults reach the program as if set: only a value other than the default counts.
  for (const k of ["dockerHost", "gpus", "containerName"] as const)
    if (!isDefaultValue(raw, k))
      add(k, "is not used with hosts (each hosts entry names its Docker host and GPUs)", `pulumi config rm <ns>:${k}`);
  sameEngineProblems(hostList, add);
  const most = Math.max(
    ...hostList.map((h) =>
      h.includes("#cpu:") ? Number(h.split("#cpu:")[1]) : h.slice(h.lastIndexOf("#") + 1).split(",").length,
    ),
  );
  const port = Number(raw.hostPort ?? settingDefault("hostPort"));
  if (Number.isInteger(port) && port + most - 1 > TCP_PORT_MAX)
    add(
      "hostPort",
      `leaves no room for ${most} consecutive ports (hostPort + n - 1 must be at most ${TCP_PORT_MAX})`,
      setFix("hostPort"),
    );
}

/** One engine under two spellings would get two components on the same ports. */
function sameEngineProblems(hostList: string[], add: Add): void {
  const bare = hostList.map(bareHost);
  const engines = bare.map((h) => {
    const parsed = parseDockerHost(h);
    return typeof parsed === "string" ? h : engineIdentity(parsed);
  });
  const second = engines.findIndex((e, i) => engines.indexOf(e) !== i);
  if (second < 0) return;
  const first = bare[engines.indexOf(engines[second]!)]!;
  const again =
    first === bare[second] ? `${first} twice` : `${first} and ${bare[second]}, which reach the same Docker engine`;
  add("hosts", `lists ${again}; give each host once with all its GPU ids`, setFix("hosts"));
}

function sshProblems(raw: RawSettings, host: DockerHost | string | undefined, hostList: string[], add: Add): void {
  const anySsh = hostList.some((h) => h.startsWith("ssh://")) || (typeof host === "object" && host.kind === "ssh");
  // command resources skip host-key checks without a pinned key, and they run as root on the host.
  if (anySsh && raw.sshKnownHosts === undefined)
    add(
      "sshKnownHosts",
      "is required with an ssh:// host: it pins the host key for the Docker connection and every command run over ssh",
      'pulumi config set <ns>:sshKnownHosts "$(ssh-keyscan -p <port> <host> | grep ed25519)" (compare the fingerprint out of band)',
    );
  for (const k of ["sshPrivateKey", "sshKnownHosts"] as const)
    if (!anySsh && raw[k] !== undefined) add(k, "is only used with an ssh:// dockerHost", `pulumi config rm <ns>:${k}`);
  if (anySsh && typeof raw.sshKnownHosts === "string") {
    const sshHosts = [
      ...(typeof host === "object" && host.kind === "ssh" && hostList.length === 0 ? [host] : []),
      ...hostList.map((h) => parseDockerHost(bareHost(h))),
    ].filter((h): h is SshHost => typeof h === "object" && h.kind === "ssh");
    rsaOnlyProblems(raw.sshKnownHosts, sshHosts, add);
  }
}

/** A host pinned only by an ssh-rsa key: the command resources' ssh client could not connect. */
function rsaOnlyProblems(knownHosts: string, sshHosts: SshHost[], add: Add): void {
  for (const h of sshHosts) {
    let lines: string | undefined;
    try {
      lines = knownHostsFor(knownHosts, h.host);
    } catch {
      continue; // the schema names the bad line
    }
    if (lines !== undefined && !commandHostKey(lines))
      add(
        "sshKnownHosts",
        `pins only an ssh-rsa key for ${h.host}: the command resources' ssh client then offers the host only ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse`,
        `pulumi config set <ns>:sshKnownHosts "$(ssh-keyscan -t ed25519 -p ${h.port} ${h.host})" (pins the host's ed25519 key; compare its fingerprint out of band)`,
      );
  }
}
