// A test "remote Docker host" reached over real SSH, as a user's GPU server is: a network namespace with
// a veth link to this machine (10.233.N.0/24: this side .1, the host .2), its own Docker engine (own data
// root, own iptables and DOCKER-USER chain, optionally the stand-in NVIDIA hook and a daemon.json), and
// Debian's sshd on the shipped /etc/ssh/sshd_config, untouched: only a port, the listen address and host
// keys on its command line (remote-host.sh). Logins are root, with a key added to /root/.ssh/authorized_keys
// for the host's lifetime, and optionally a sudo user in the docker group. Only the filesystem is shared
// with this machine, so folders the program creates over ssh are at the same paths here.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { processAlive, requireOrSkip } from "./requirements.js";

const PREFIX = "sdrh";
const SSH_PORT = 2222;
const SHIPPED_CONFIG = "/usr/share/openssh/sshd_config";
const CONFIG = "/etc/ssh/sshd_config";
const SCRIPT = join(__dirname, "remote-host.sh");
/** The sudo user a host can have: in the docker group (the docker provider uses no sudo), sudo without a password. */
export const SUDO_USER = "sdwebui-ops";

export interface KeyPair {
  file: string;
  privateKey: string;
  /** "ssh-ed25519 AAAA…" */
  publicKey: string;
}

export interface RemoteHostOptions {
  /** Put a stand-in nvidia-container-runtime-hook on dockerd's PATH: Docker then accepts GPU requests. */
  nvidiaHook?: boolean;
  /** The engine's daemon.json (e.g. default log-opts). */
  daemonJson?: Record<string, unknown>;
  /** Also create the sudo user SUDO_USER with the client key. */
  sudoUser?: boolean;
  /** Also give sshd an RSA host key (known_hosts lines for both). */
  rsaHostKey?: boolean;
  /** Images to load into the host's engine from this machine's. */
  images?: string[];
}

export interface RemoteHost {
  ns: string;
  /** The host's address (sshd listens here); its published ports are reached at it too. */
  addr: string;
  port: number;
  /** This machine's end of the link: the source address the host sees from the deployer. */
  peerAddr: string;
  /** ssh://<user>@addr:port, a dockerHost for the program. */
  dockerHost(user?: string): string;
  /** known_hosts lines pinning the host keys ("[addr]:port ssh-ed25519 AAAA…", RSA first when there is one). */
  knownHosts: string;
  /** The client key authorised for root (and the sudo user). */
  client: KeyPair;
  dir: string;
  /** The host's engine, reached from this machine. */
  dockerSocket: string;
  docker(args: string[], input?: string | Buffer): string;
  /** The stand-in NVIDIA hook's record: one line per container it was called for (its env's NVIDIA_VISIBLE_DEVICES). */
  gpuHookCalls(): string[];
  sshdLog(): string;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], timeout = 15_000): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout });
}

/** What the remote host needs that this machine lacks ("" when nothing). */
export function remoteHostMissing(sudoUser = false): string {
  if (process.getuid?.() !== 0) return "root (network namespaces, a second dockerd, sshd)";
  for (const [bin, pkg] of [
    ["/usr/sbin/sshd", "openssh-server"],
    ["/usr/sbin/dockerd", "docker.io"],
    ["/usr/bin/unshare", "util-linux"],
    ["/usr/bin/ssh-keygen", "openssh-client"],
    ...(sudoUser ? [["/usr/bin/sudo", "sudo"]] : []),
  ])
    if (!existsSync(bin!)) return `${bin} (apt-get install ${pkg})`;
  if (!existsSync(SHIPPED_CONFIG)) return `${SHIPPED_CONFIG} (Debian's openssh-server ships it)`;
  if (readFileSync(CONFIG, "utf8") !== readFileSync(SHIPPED_CONFIG, "utf8"))
    return `${CONFIG} as Debian ships it (it differs from ${SHIPPED_CONFIG}: restore it with cp ${SHIPPED_CONFIG} ${CONFIG})`;
  return "";
}

export function requireRemoteHost(t: TestContext, opts: { sudoUser?: boolean } = {}): boolean {
  const missing = remoteHostMissing(opts.sudoUser);
  return requireOrSkip(t, missing && `the remote test host needs ${missing}`);
}

function killNamespace(ns: string): void {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    const pids = (spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8", timeout: 10_000 }).stdout ?? "")
      .split("\n")
      .filter(Boolean);
    for (const p of pids) {
      try {
        process.kill(Number(p), signal);
      } catch {
        /* gone */
      }
    }
    if (pids.length && signal === "SIGTERM") spawnSync("sleep", ["2"]);
  }
  spawnSync("ip", ["netns", "del", ns], { timeout: 10_000 });
}

/** The comment on the authorized_keys line a host adds: it names the host's namespace, and so its test process. */
const keyComment = (ns: string) => `sdwebui-remote-host-${ns}`;

/** Remove hosts (namespaces, daemons, authorized_keys lines) that an earlier, dead test process left behind. */
export function removeStaleRemoteHosts(): void {
  const keys = "/root/.ssh/authorized_keys";
  if (existsSync(keys)) {
    const lines = readFileSync(keys, "utf8").split("\n");
    const live = lines.filter((l) => {
      const m = new RegExp(` sdwebui-remote-host-${PREFIX}-(\\d+)-\\d+$`).exec(l);
      return !m || processAlive(Number(m[1]));
    });
    if (live.length !== lines.length) writeFileSync(keys, live.join("\n"));
  }
  for (const line of run("ip", ["netns", "list"]).split("\n")) {
    const m = new RegExp(`^(${PREFIX}-(\\d+)-\\d+)\\b`).exec(line);
    if (m && !processAlive(Number(m[2]))) {
      killNamespace(m[1]!);
      spawnSync("ip", ["link", "del", `${PREFIX}${m[1]!.split("-")[2]}h`], { stdio: "ignore" });
    }
  }
}

/**
 * Claim a free index by creating its veth pair: `ip link add` fails when another test process (they may run at
 * once) took the name first, so a free-looking index is only ours once the link exists.
 */
function claimIndex(): number {
  const addrs = run("ip", ["-o", "addr", "show"]);
  for (let n = 1; n < 250; n++) {
    if (addrs.includes(`10.233.${n}.`)) continue;
    if (
      spawnSync("ip", ["link", "add", `${PREFIX}${n}h`, "type", "veth", "peer", "name", `${PREFIX}${n}n`], {
        stdio: "ignore",
        timeout: 10_000,
      }).status === 0
    )
      return n;
  }
  throw new Error("no free 10.233.N.0/24 test subnet: remove stale sdrh* links");
}

export function makeKey(dir: string, name: string, type = "ed25519"): KeyPair {
  const file = join(dir, name);
  run("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "3072"] : []), "-N", "", "-C", "", "-f", file]);
  const publicKey = readFileSync(`${file}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  return { file, privateKey: readFileSync(file, "utf8"), publicKey };
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 500 });
    const done = (ok: boolean) => (s.destroy(), resolve(ok));
    s.on("connect", () => done(true));
    s.on("timeout", () => done(false));
    s.on("error", () => done(false));
  });
}

/**
 * A line added to an authorized_keys file for as long as the host lives. Removal takes out that line alone
 * (other tests may add and remove theirs meanwhile); a file that did not exist and is left empty goes too.
 */
function authorize(file: string, line: string): () => void {
  const existed = existsSync(file);
  mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
  const before = existed ? readFileSync(file, "utf8") : "";
  appendFileSync(file, `${before.length && !before.endsWith("\n") ? "\n" : ""}${line}\n`, { mode: 0o600 });
  return () => {
    if (!existsSync(file)) return;
    const kept = readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l !== line);
    const text = kept.join("\n");
    if (!existed && text.trim() === "") rmSync(file, { force: true });
    else writeFileSync(file, text);
  };
}

/** The sudo user, made for the host and removed with it (never one that existed before). */
function addSudoUser(client: KeyPair): () => void {
  if (spawnSync("id", [SUDO_USER]).status === 0)
    throw new Error(
      `user ${SUDO_USER} exists already: remove it (userdel -r ${SUDO_USER}) or let the test that made it finish`,
    );
  run("useradd", ["--create-home", "--shell", "/bin/sh", "--groups", "docker", SUDO_USER]);
  const home = join("/home", SUDO_USER);
  mkdirSync(join(home, ".ssh"), { mode: 0o700 });
  writeFileSync(join(home, ".ssh", "authorized_keys"), `${client.publicKey} sdwebui-remote-host\n`, { mode: 0o600 });
  run("chown", ["-R", `${SUDO_USER}:${SUDO_USER}`, join(home, ".ssh")]);
  const sudoers = `/etc/sudoers.d/${SUDO_USER}`;
  writeFileSync(sudoers, `${SUDO_USER} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  return () => {
    rmSync(sudoers, { force: true });
    spawnSync("userdel", ["--remove", SUDO_USER], { stdio: "ignore" });
  };
}

/** The stand-in NVIDIA hook: records the container's NVIDIA_VISIBLE_DEVICES (Docker sets it) and lets it start. */
function nvidiaHook(dir: string): void {
  mkdirSync(join(dir, "bin"), { recursive: true });
  const hook = join(dir, "bin", "nvidia-container-runtime-hook");
  writeFileSync(
    hook,
    [
      "#!/bin/sh",
      "# Called as: nvidia-container-runtime-hook prestart, with the OCI state on stdin (its bundle holds config.json).",
      `bundle=$(sed -n 's/.*"bundle":"\\([^"]*\\)".*/\\1/p')`,
      `devices=$(grep -o 'NVIDIA_VISIBLE_DEVICES=[^"]*' "$bundle/config.json" | head -n 1)`,
      `echo "$1 \${devices:-NVIDIA_VISIBLE_DEVICES=}" >> ${join(dir, "gpu-hook.log")}`,
      "",
    ].join("\n"),
  );
  chmodSync(hook, 0o755);
}

export async function startRemoteHost(opts: RemoteHostOptions = {}): Promise<RemoteHost> {
  removeStaleRemoteHosts();
  const n = claimIndex();
  const ns = `${PREFIX}-${process.pid}-${n}`;
  const hostIf = `${PREFIX}${n}h`;
  const nsIf = `${PREFIX}${n}n`;
  const addr = `10.233.${n}.2`;
  const peerAddr = `10.233.${n}.1`;
  const dir = mkdtempSync(join(tmpdir(), "sdwebui-remote-host-"));
  chmodSync(dir, 0o755);
  const undo: (() => void)[] = [];
  let daemon: ChildProcess | undefined;
  let log = "";
  let exited = false;
  const dockerSocket = join(dir, "docker.sock");
  const docker = (args: string[], input?: string | Buffer) =>
    execFileSync("docker", ["-H", `unix://${dockerSocket}`, ...args], {
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
      timeout: 120_000,
      maxBuffer: 64 * 2 ** 20,
    });
  const stop = async (): Promise<void> => {
    if (daemon && !exited) {
      const ids = spawnSync("docker", ["-H", `unix://${dockerSocket}`, "ps", "-aq"], {
        encoding: "utf8",
        timeout: 15_000,
      }).stdout?.trim();
      if (ids)
        spawnSync("docker", ["-H", `unix://${dockerSocket}`, "rm", "-f", ...ids.split("\n")], { timeout: 60_000 });
    }
    killNamespace(ns);
    spawnSync("ip", ["link", "del", hostIf], { timeout: 10_000, stdio: "ignore" });
    for (const u of undo.reverse()) u();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const inNs = (args: string[]) => run("ip", ["netns", "exec", ns, ...args]);
    run("ip", ["netns", "add", ns]);
    run("ip", ["link", "set", nsIf, "netns", ns]);
    run("ip", ["addr", "add", `${peerAddr}/24`, "dev", hostIf]);
    run("ip", ["link", "set", hostIf, "up"]);
    inNs(["ip", "link", "set", "lo", "up"]);
    inNs(["ip", "addr", "add", `${addr}/24`, "dev", nsIf]);
    inNs(["ip", "link", "set", nsIf, "up"]);
    inNs(["ip", "route", "add", "default", "via", peerAddr]);

    writeFileSync(join(dir, "daemon.json"), `${JSON.stringify(opts.daemonJson ?? {}, null, 2)}\n`);
    mkdirSync(join(dir, "bin"));
    if (opts.nvidiaHook) nvidiaHook(dir);
    const hostKeys = [
      makeKey(dir, "ssh_host_ed25519_key"),
      ...(opts.rsaHostKey ? [makeKey(dir, "ssh_host_rsa_key", "rsa")] : []),
    ];
    const client = makeKey(dir, "client_ed25519");
    undo.push(authorize("/root/.ssh/authorized_keys", `${client.publicKey} ${keyComment(ns)}`));
    if (opts.sudoUser) undo.push(addSudoUser(client));
    const knownHosts = [...hostKeys]
      .reverse()
      .map((k) => `[${addr}]:${SSH_PORT} ${k.publicKey}`)
      .join("\n");

    // Not `ip netns exec`: its fresh /sys hides the cgroup mounts the engine needs (the script remounts /sys itself).
    daemon = spawn(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "--",
        "nsenter",
        `--net=/run/netns/${ns}`,
        "/bin/sh",
        SCRIPT,
        dir,
        String(SSH_PORT),
        addr,
        ...hostKeys.map((k) => k.file),
      ],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    daemon.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    daemon.once("exit", () => (exited = true));
    const t0 = Date.now();
    while (!(await tcpOpen(addr, SSH_PORT))) {
      if (exited)
        throw new Error(
          `the remote host exited before sshd listened:\n${log}\n${existsSync(join(dir, "dockerd.log")) ? readFileSync(join(dir, "dockerd.log"), "utf8").slice(-2000) : ""}`,
        );
      if (Date.now() - t0 > 45_000) throw new Error(`sshd did not listen on ${addr}:${SSH_PORT} within 45 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The socket appears before the engine answers on it.
    while (
      spawnSync("docker", ["-H", `unix://${dockerSocket}`, "info", "--format", "{{.ID}}"], {
        stdio: "ignore",
        timeout: 10_000,
      }).status !== 0
    ) {
      if (exited || Date.now() - t0 > 45_000)
        throw new Error(
          `the host's dockerd did not answer within 45 s:\n${readFileSync(join(dir, "dockerd.log"), "utf8").slice(-2000)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const image of opts.images ?? [])
      docker(["load"], execFileSync("docker", ["save", image], { maxBuffer: 512 * 2 ** 20, timeout: 120_000 }));
    return {
      ns,
      addr,
      port: SSH_PORT,
      peerAddr,
      knownHosts,
      client,
      dir,
      dockerSocket,
      docker,
      dockerHost: (user = "root") => `ssh://${user}@${addr}:${SSH_PORT}`,
      gpuHookCalls: () =>
        existsSync(join(dir, "gpu-hook.log"))
          ? readFileSync(join(dir, "gpu-hook.log"), "utf8").split("\n").filter(Boolean)
          : [],
      sshdLog: () => log,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
