// A test "remote Docker host" reached over real SSH: a network namespace with a veth link to this
// machine (10.232.N.0/24: this side .1, the namespace .2) running Debian's sshd on its own config,
// host key and authorized key, all made by the test in a temp dir. Commands that log in run in THIS
// machine's network namespace (ForceCommand + nsenter), so over SSH they see the same filesystem,
// Docker engine and iptables as a real remote host sees its own. TCP to the namespace address on any
// other port is forwarded (DNAT + masquerade) to this machine's end of the link: the deployer reaches
// the "remote" published ports from outside, through DOCKER-USER, with source address .2.
// The host logs every command a login runs (commands()) and can refuse writes under given paths
// (setReadOnly()), to make one host's step fail for real.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { processAlive, requireOrSkip } from "./requirements.js";
import { shellJoin, shellQuote } from "../../infra/shell.js";

const PREFIX = "sdssh";
const SSHD = "/usr/sbin/sshd";
const SSH_PORT = 2222;

export interface KeyPair {
  file: string;
  privateKey: string;
  /** "ssh-ed25519 AAAA…" */
  publicKey: string;
}

export interface SshResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface TestSshHost {
  ns: string;
  /** The remote host's address (sshd listens here) and SSH port. */
  addr: string;
  port: number;
  user: "root";
  /** This machine's end of the link: where forwarded API traffic arrives (source = addr). */
  peerAddr: string;
  /** ssh://root@addr:port, the program's dockerHost. */
  dockerHost: string;
  /** The pinned known_hosts line: "[addr]:port ssh-ed25519 AAAA…". */
  knownHostsLine: string;
  /** The client key authorised for root (a test secret). */
  client: KeyPair;
  dir: string;
  /** Make another ed25519 key pair in the temp dir (a wrong client key, a foreign host key). */
  newKey(name: string): KeyPair;
  /** Run `remoteCommand` over the system ssh with the pinned key and the client key (bounded). */
  ssh(remoteCommand: string, timeoutMs?: number): SshResult;
  sshdLog(): string;
  /** Every command a login ran on the host, in order. */
  commands(): string[];
  /** Make these paths read-only for later logins (a host whose disk refuses writes); [] undoes it. */
  setReadOnly(paths: string[]): void;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], timeout = 10_000): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout });
}

/** What the SSH test host lacks on this machine ("" when nothing): root, sshd, nsenter, ssh-agent. */
export function sshHostMissing(): string {
  if (process.getuid?.() !== 0) return "root (network namespaces, sshd)";
  for (const [bin, pkg] of [[SSHD, "openssh-server"], ["/usr/bin/ssh-agent", "openssh-client"], ["/usr/bin/nsenter", "util-linux"], ["/usr/bin/unshare", "util-linux"]])
    if (!existsSync(bin!)) return `${bin} (apt-get install ${pkg})`;
  return "";
}

/** Skip locally with the reason when the SSH test host cannot run here; fail under CI. */
export function requireSshd(t: TestContext): boolean {
  const missing = sshHostMissing();
  return requireOrSkip(t, missing && `the SSH test host needs ${missing}`);
}


function killNamespace(ns: string): void {
  const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8", timeout: 10_000 }).stdout ?? "";
  for (const p of pids.split("\n").filter(Boolean)) {
    try {
      process.kill(Number(p), "SIGKILL");
    } catch {
      /* gone */
    }
  }
  spawnSync("ip", ["netns", "del", ns], { timeout: 10_000 });
}

/** Remove namespaces (and their sshd) that an earlier, dead test process left behind. */
export function removeStaleSshHosts(): void {
  for (const line of run("ip", ["netns", "list"]).split("\n")) {
    const m = new RegExp(`^(${PREFIX}-(\\d+)-\\d+)\\b`).exec(line);
    if (m && !processAlive(Number(m[2]))) killNamespace(m[1]!);
  }
}

function freeIndex(): number {
  const links = run("ip", ["-o", "link", "show"]);
  const addrs = run("ip", ["-o", "addr", "show"]);
  for (let n = 1; n < 250; n++) if (!links.includes(`${PREFIX}${n}h`) && !addrs.includes(`10.232.${n}.`)) return n;
  throw new Error("no free 10.232.N.0/24 test subnet: remove stale sdssh* links");
}

export function makeKey(dir: string, name: string): KeyPair {
  const file = join(dir, name);
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file]);
  const publicKey = readFileSync(`${file}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  return { file, privateKey: readFileSync(file, "utf8"), publicKey };
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 500 });
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.on("connect", () => done(true));
    s.on("timeout", () => done(false));
    s.on("error", () => done(false));
  });
}

let runDirUsers = 0;
let createdRunDir = false;

/** Start the test host; bounded (10 s for sshd to listen). Everything is removed again on failure. */
export async function startSshHost(): Promise<TestSshHost> {
  removeStaleSshHosts();
  const n = freeIndex();
  const ns = `${PREFIX}-${process.pid}-${n}`;
  const hostIf = `${PREFIX}${n}h`;
  const nsIf = `${PREFIX}${n}n`;
  const addr = `10.232.${n}.2`;
  const peerAddr = `10.232.${n}.1`;
  const dir = mkdtempSync(join(tmpdir(), "sd-ssh-host-"));
  let sshd: ChildProcess | undefined;
  let log = "";
  let exited = false;
  // sshd's privilege separation directory; the openssh-server service creates it, we may not have run it.
  runDirUsers++;
  if (!existsSync("/run/sshd")) {
    mkdirSync("/run/sshd", { mode: 0o755 });
    createdRunDir = true;
  }
  const stop = async (): Promise<void> => {
    if (sshd && !exited) {
      sshd.kill("SIGTERM");
      const t = setTimeout(() => sshd?.kill("SIGKILL"), 3000);
      await new Promise<void>((r) => (exited ? r() : sshd!.once("exit", () => r())));
      clearTimeout(t);
    }
    killNamespace(ns);
    spawnSync("ip", ["link", "del", hostIf], { timeout: 10_000, stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
    if (--runDirUsers === 0 && createdRunDir) {
      try {
        rmdirSync("/run/sshd");
      } catch {
        /* in use or gone */
      }
      createdRunDir = false;
    }
  };
  try {
    const inNs = (args: string[]) => run("ip", ["netns", "exec", ns, ...args]);
    run("ip", ["netns", "add", ns]);
    run("ip", ["link", "add", hostIf, "type", "veth", "peer", "name", nsIf]);
    run("ip", ["link", "set", nsIf, "netns", ns]);
    run("ip", ["addr", "add", `${peerAddr}/24`, "dev", hostIf]);
    run("ip", ["link", "set", hostIf, "up"]);
    inNs(["ip", "link", "set", "lo", "up"]);
    inNs(["ip", "addr", "add", `${addr}/24`, "dev", nsIf]);
    inNs(["ip", "link", "set", nsIf, "up"]);
    // Forward every other TCP port to this machine's end of the link, as the remote's published ports.
    inNs(["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    inNs(["iptables", "-t", "nat", "-A", "PREROUTING", "-d", addr, "-p", "tcp", "!", "--dport", String(SSH_PORT), "-j", "DNAT", "--to-destination", peerAddr]);
    inNs(["iptables", "-t", "nat", "-A", "POSTROUTING", "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE"]);

    const hostKey = makeKey(dir, "ssh_host_ed25519_key");
    const client = makeKey(dir, "client_ed25519");
    writeFileSync(join(dir, "authorized_keys"), `${client.publicKey} sd-test-client\n`, { mode: 0o600 });
    const knownHostsLine = `[${addr}]:${SSH_PORT} ${hostKey.publicKey}`;
    writeFileSync(join(dir, "known_hosts"), `${knownHostsLine}\n`);
    // Logged-in commands run in this machine's network namespace (dockerd, its iptables rules); each
    // command is logged (NUL-separated); paths listed in `readonly` are read-only for the session.
    const shell = join(dir, "remote-shell");
    const enter = `/usr/bin/nsenter --net=/proc/${process.pid}/ns/net --`;
    writeFileSync(
      shell,
      [
        "#!/bin/sh",
        `[ -n "\${SSH_ORIGINAL_COMMAND:-}" ] || { echo "test host: commands only" >&2; exit 1; }`,
        `printf '%s\\0' "$SSH_ORIGINAL_COMMAND" >> ${shellQuote(join(dir, "commands.log"))}`,
        `ro=${shellQuote(join(dir, "readonly"))}`,
        `if [ -s "$ro" ]; then`,
        `  exec ${enter} /usr/bin/unshare --mount --propagation private -- /bin/sh -c 'while IFS= read -r p; do mount --bind -o ro "$p" "$p" || exit 1; done < "$0"; exec "$SHELL" -c "$SSH_ORIGINAL_COMMAND"' "$ro"`,
        "fi",
        `exec ${enter} "\${SHELL:-/bin/sh}" -c "$SSH_ORIGINAL_COMMAND"`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const config = join(dir, "sshd_config");
    writeFileSync(
      config,
      [
        `Port ${SSH_PORT}`, `ListenAddress ${addr}`, `HostKey ${hostKey.file}`, `PidFile ${join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`, "PermitRootLogin prohibit-password", "AllowUsers root",
        "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
        // the temp dir sits under /tmp (world-writable): StrictModes would refuse the key file
        "StrictModes no", `ForceCommand ${shell}`, "X11Forwarding no", "AllowTcpForwarding no", "PermitTTY no",
        "MaxStartups 64:30:128", "MaxSessions 32", "LogLevel VERBOSE", "",
      ].join("\n"),
    );
    run(SSHD, ["-t", "-f", config]);
    sshd = spawn("ip", ["netns", "exec", ns, SSHD, "-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    sshd.stderr!.on("data", (d: Buffer) => { log += d.toString(); });
    sshd.once("exit", () => { exited = true; });
    const t0 = Date.now();
    while (!(await tcpOpen(addr, SSH_PORT))) {
      if (exited) throw new Error(`sshd exited before listening:\n${log}`);
      if (Date.now() - t0 > 10_000) throw new Error(`sshd did not listen on ${addr}:${SSH_PORT} within 10 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const sshArgs = (cmd: string) => [
      "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`,
      "-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
      "-i", client.file, "-o", "IdentitiesOnly=yes", "-p", String(SSH_PORT), "-l", "root", "--", addr, cmd,
    ];
    return {
      ns, addr, port: SSH_PORT, user: "root", peerAddr, dockerHost: `ssh://root@${addr}:${SSH_PORT}`, knownHostsLine, client, dir,
      newKey: (name) => makeKey(dir, name),
      ssh: (cmd, timeoutMs = 20_000) => {
        const r = spawnSync("ssh", sshArgs(cmd), { encoding: "utf8", timeout: timeoutMs });
        return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? r.error?.message ?? "" };
      },
      sshdLog: () => log,
      commands: () => (existsSync(join(dir, "commands.log")) ? readFileSync(join(dir, "commands.log"), "utf8").split("\0").slice(0, -1) : []),
      setReadOnly: (paths) => writeFileSync(join(dir, "readonly"), paths.map((p) => `${p}\n`).join("")),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A shell line that runs argv on the host (for ssh's remote command). */
export const remoteLine = (argv: string[]): string => shellJoin(argv);
