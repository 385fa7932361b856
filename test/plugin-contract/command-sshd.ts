// A stock Debian sshd on loopback for the command plugin's contract tests: /etc/ssh/sshd_config as
// the openssh-server package ships it (AcceptEnv LANG LC_*, UsePAM, root by key only), with only the
// port, the listen address and the host keys (ed25519 and RSA, made by the test) given on the
// command line. Root logs in with a client key added to /root/.ssh/authorized_keys, which stop()
// restores byte for byte.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, type TestContext } from "node:test";
import { processAlive, requireOrSkip } from "../helpers/requirements.js";

const SSHD = "/usr/sbin/sshd";
const CONFIG = "/etc/ssh/sshd_config";
/** The file the openssh-server package installs as CONFIG (ucf keeps it pristine there). */
const PACKAGED_CONFIG = "/usr/share/openssh/sshd_config";
const CONFIG_DROPINS = "/etc/ssh/sshd_config.d";
const AUTHORIZED_KEYS = "/root/.ssh/authorized_keys";
/** sshd's privilege separation directory, which systemd would create. */
const PRIVSEP_DIR = "/run/sshd";
/** The comment of the client keys this fixture authorises, followed by the owning process's pid. */
const CLIENT_TAG = "sdwebui-command-contract-client-";

export interface KeyPair {
  privateKey: string;
  /** "ssh-ed25519 AAAA… comment" */
  publicKey: string;
}

/** Why this machine cannot run a stock sshd for the tests ("" when it can). */
export function stockSshdMissing(): string {
  if (process.getuid?.() !== 0) return "not root (sshd and /root/.ssh/authorized_keys need it)";
  if (!existsSync(SSHD)) return `${SSHD} is missing (apt-get install openssh-server)`;
  if (spawnSync("ssh-keygen", ["-?"]).error) return "ssh-keygen is missing (apt-get install openssh-client)";
  if (!existsSync(PACKAGED_CONFIG) || !readFileSync(CONFIG).equals(readFileSync(PACKAGED_CONFIG)))
    return `${CONFIG} differs from Debian's ${PACKAGED_CONFIG}: not a stock sshd`;
  const dropins = existsSync(CONFIG_DROPINS) ? readdirSync(CONFIG_DROPINS).filter((f) => f.endsWith(".conf")) : [];
  if (dropins.length > 0) return `${CONFIG_DROPINS} has ${dropins.join(", ")}: not a stock sshd`;
  return "";
}

/**
 * One stock sshd for the tests of a describe block: started before them (unless the machine cannot),
 * stopped after. The returned function gives it to a test, or skips the test with the reason.
 */
export function useStockSshd(): (t: TestContext) => StockSshd | undefined {
  let sshd: StockSshd | undefined;
  let missing = "";
  before(async () => {
    missing = stockSshdMissing();
    if (!missing) sshd = await StockSshd.start();
  });
  after(async () => {
    await sshd?.stop();
  });
  return (t) => (requireOrSkip(t, missing) ? sshd : undefined);
}

/** The secret config and connection a tiny program needs to log in to `sshd` as root. */
export function loginConfig(sshd: StockSshd): {
  config: { privateKey: string };
  secrets: string[];
  connection: { host: string; port: number; user: string };
} {
  return {
    config: { privateKey: sshd.client.privateKey },
    secrets: ["privateKey"],
    connection: { host: "127.0.0.1", port: sshd.port, user: "root" },
  };
}

export function newKeyPair(
  dir: string,
  name: string,
  type: "ed25519" | "rsa",
  comment = `sdwebui-command-contract-${name}`,
): KeyPair {
  const file = join(dir, name);
  const r = spawnSync(
    "ssh-keygen",
    ["-q", "-t", type, ...(type === "rsa" ? ["-b", "3072"] : []), "-N", "", "-C", comment, "-f", file],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`ssh-keygen ${name}: ${r.stderr}`);
  return { privateKey: readFileSync(file, "utf8"), publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
}

/** A TCP port on 127.0.0.1 that nothing listens on (at the time of asking). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

export class StockSshd {
  private constructor(
    readonly port: number,
    /** The host keys' public halves, "ssh-ed25519 AAAA…" and "ssh-rsa AAAA…". */
    readonly hostKeys: { ed25519: string; rsa: string },
    /** The key authorised for root (a test secret: never print it). */
    readonly client: KeyPair,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly restoreAuthorizedKeys: () => void,
    private readonly madePrivsepDir: boolean,
  ) {}

  static async start(): Promise<StockSshd> {
    const dir = mkdtempSync(join(tmpdir(), "sdwebui-command-sshd-"));
    const ed25519 = newKeyPair(dir, "host_ed25519", "ed25519");
    const rsa = newKeyPair(dir, "host_rsa", "rsa");
    const client = newKeyPair(dir, "client", "ed25519", `${CLIENT_TAG}${process.pid}`);
    const restore = authorize(client.publicKey);
    const madePrivsepDir = !existsSync(PRIVSEP_DIR);
    if (madePrivsepDir) mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
    const port = await freePort();
    const args = [
      "-D",
      "-e",
      "-f",
      CONFIG,
      "-p",
      String(port),
      "-o",
      "ListenAddress=127.0.0.1",
      "-h",
      join(dir, "host_ed25519"),
      "-h",
      join(dir, "host_rsa"),
    ];
    // The log goes to a file, not a pipe: tests read it right after a synchronous `pulumi up`, while
    // the event loop (which would drain a pipe) was blocked.
    const logFd = openSync(join(dir, "sshd.log"), "w");
    const child = spawn(SSHD, args, { stdio: ["ignore", "ignore", logFd] });
    closeSync(logFd);
    const sshd = new StockSshd(
      port,
      { ed25519: ed25519.publicKey, rsa: rsa.publicKey },
      client,
      dir,
      child,
      restore,
      madePrivsepDir,
    );
    try {
      await sshd.waitForBanner();
    } catch (e) {
      await sshd.stop();
      throw e;
    }
    return sshd;
  }

  /** What sshd logged so far (-e: to stderr). */
  log(): string {
    return readFileSync(join(this.dir, "sshd.log"), "utf8");
  }

  async stop(): Promise<void> {
    try {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        const exited = new Promise((res) => this.child.once("exit", res));
        this.child.kill("SIGTERM");
        await exited;
      }
    } finally {
      this.restoreAuthorizedKeys();
      rmSync(this.dir, { recursive: true, force: true });
      // Other sshds (other tests) may have started meanwhile and need the directory.
      if (this.madePrivsepDir && spawnSync("pgrep", ["-x", "sshd"]).status !== 0) rmdirSync(PRIVSEP_DIR);
    }
  }

  private async waitForBanner(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`sshd exited ${this.child.exitCode}:\n${this.log()}`);
      if (await bannerAt(this.port)) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`sshd on port ${this.port} sent no banner within 10 s:\n${this.log()}`);
  }
}

/**
 * Adds `publicKey` to root's authorized_keys; the returned function puts the file back as it was.
 * Other tests may edit the file at the same time (test/helpers/remote-host.ts restores a snapshot),
 * which can take our line out early or bring it back after us: if the file changed meanwhile, only
 * our line goes, and lines of fixtures whose process is gone are swept out, before and after.
 */
function authorize(publicKey: string): () => void {
  sweepDeadFixtures();
  const before = existsSync(AUTHORIZED_KEYS) ? readFileSync(AUTHORIZED_KEYS) : undefined;
  const text = before?.toString() ?? "";
  const ours = Buffer.concat([
    before ?? Buffer.alloc(0),
    Buffer.from(`${text !== "" && !text.endsWith("\n") ? "\n" : ""}${publicKey}\n`),
  ]);
  mkdirSync("/root/.ssh", { recursive: true, mode: 0o700 });
  writeFileSync(AUTHORIZED_KEYS, ours, { mode: 0o600 });
  return () => {
    const now = existsSync(AUTHORIZED_KEYS) ? readFileSync(AUTHORIZED_KEYS) : undefined;
    if (now?.equals(ours)) {
      if (before === undefined) rmSync(AUTHORIZED_KEYS);
      else writeFileSync(AUTHORIZED_KEYS, before);
    } else if (now !== undefined) {
      writeFileSync(
        AUTHORIZED_KEYS,
        withoutLines(now.toString(), (l) => l === publicKey),
      );
    }
    sweepDeadFixtures();
  };
}

/** Takes out the client lines of this fixture whose owning process no longer runs. */
function sweepDeadFixtures(): void {
  if (!existsSync(AUTHORIZED_KEYS)) return;
  const text = readFileSync(AUTHORIZED_KEYS, "utf8");
  const dead = (line: string) => {
    const pid = Number(/ sdwebui-command-contract-client-(\d+)$/.exec(line)?.[1]);
    return pid > 0 && !processAlive(pid);
  };
  const swept = withoutLines(text, dead);
  if (swept !== text) writeFileSync(AUTHORIZED_KEYS, swept);
}

function withoutLines(text: string, drop: (line: string) => boolean): string {
  return text
    .split("\n")
    .filter((l) => !drop(l))
    .join("\n");
}

function bannerAt(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = connect(port, "127.0.0.1");
    const done = (ok: boolean) => {
      socket.destroy();
      res(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("data", (d: Buffer) => done(d.toString().startsWith("SSH-2.0-")));
    socket.once("error", () => done(false));
  });
}
