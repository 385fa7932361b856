// How command:remote:Command connects, through the real engine: the dial retries (count, status
// lines, final message), the host key pin and the algorithms it offers, and the SSH agent. Each test
// names the real plugin's source (pulumi-command v1.2.1, remote/connection.go) it follows.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { output } from "../helpers/engine-stack.js";
import {
  COMMANDS_PROGRAM,
  commandStack,
  resourceNamed,
  runWithEvents,
  runWithEventsAsync,
  statusLines,
  withoutAgent,
} from "./command-engine.js";
import { freePort, loginConfig, newKeyPair, useStockSshd, type StockSshd } from "./command-sshd.js";

const UP = ["up", "--yes", "--skip-preview"];

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "sdwebui-command-connect-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A TCP server on loopback that accepts and at once closes every connection, counting them. */
async function slammingServer(t: TestContext): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.destroy();
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  t.after(() => new Promise<void>((res) => server.close(() => res())));
  return { port: (server.address() as { port: number }).port, accepted: () => accepted };
}

/** A stack with one remote command "r" on `connection`, logged in with the client key unless `noKey`. */
function oneRemote(
  t: TestContext,
  name: string,
  connection: object,
  opts: { sshd?: StockSshd; noKey?: boolean; env?: NodeJS.ProcessEnv } = {},
) {
  const login = opts.sshd && !opts.noKey ? loginConfig(opts.sshd) : undefined;
  const remote = { r: { connection, create: "printf logged-in" } };
  return commandStack(t, name, COMMANDS_PROGRAM, {
    config: { ...(login?.config ?? {}), remote },
    secrets: login?.secrets,
    env: opts.env,
  });
}

describe("command:remote:Command dialling", () => {
  it("a closed port: dialErrorLimit+1 dials, a status line per retry, then 'after N failed attempts' (connection.go dialWithRetry, reachedDialingErrorLimit at v1.2.1)", async (t) => {
    const port = await freePort();
    const stack = oneRemote(t, "cmd-dial-closed", { host: "127.0.0.1", port, dialErrorLimit: 2, perDialTimeout: 1 });
    if (!stack) return;
    const { result, diagnostics } = runWithEvents(stack, UP);
    assert.notEqual(result.status, 0);
    assert.match(
      output(result),
      new RegExp(`after 2 failed attempts: dial tcp 127\\.0\\.0\\.1:${port}: connect: connection refused`),
    );
    assert.deepEqual(
      statusLines(diagnostics).filter((l) => l.startsWith("Dial")),
      ["Dial 1/2 failed: retrying", "Dial 2/2 failed: retrying"],
    );
    assert.equal(resourceNamed(stack, "r"), undefined);
  });

  it("every error is retried, a failed handshake too: dialErrorLimit 3 makes 4 connections (connection.go dialWithRetry at v1.2.1)", async (t) => {
    const server = await slammingServer(t);
    const stack = oneRemote(t, "cmd-dial-count", { host: "127.0.0.1", port: server.port, dialErrorLimit: 3 });
    if (!stack) return;
    const { result, diagnostics } = await runWithEventsAsync(stack, UP);
    assert.notEqual(result.status, 0);
    // The server's close races the client's version line: EOF, or a reset when that line was unread.
    assert.match(
      output(result),
      /after 3 failed attempts: ssh: handshake failed: (EOF|read tcp [\d.:]+->127\.0\.0\.1:\d+: read: connection reset by peer)/,
    );
    assert.equal(server.accepted(), 4, "limit + 1 dials");
    assert.equal(statusLines(diagnostics).filter((l) => /^Dial \d\/3 failed: retrying$/.test(l)).length, 3);
  });
});

describe("command:remote:Command host keys and authentication against a stock sshd", () => {
  const sshdFor = useStockSshd();
  const at = (sshd: StockSshd, extra: object = {}) => ({
    ...loginConfig(sshd).connection,
    dialErrorLimit: 0,
    ...extra,
  });

  it("an RSA hostKey offers only ssh-rsa, which OpenSSH 9.2 refuses: 'no common algorithm for host key' (connection.go:88-98 at v1.2.1; x/crypto v0.48.0 handshake)", (t) => {
    const sshd = sshdFor(t);
    if (!sshd) return;
    const stack = oneRemote(t, "cmd-pin-rsa", at(sshd, { hostKey: sshd.hostKeys.rsa }), { sshd });
    if (!stack) return;
    const r = stack.fails(UP);
    assert.match(
      output(r),
      /after 0 failed attempts: ssh: handshake failed: ssh: no common algorithm for host key; we offered: \["?ssh-rsa"?\], peer offered: \[[^\]]*rsa-sha2-512/,
    );
  });

  it("an ed25519 hostKey logs in; a different ed25519 key is 'ssh: host key mismatch' (connection.go:88-98 at v1.2.1)", (t) => {
    const sshd = sshdFor(t);
    if (!sshd) return;
    const good = oneRemote(t, "cmd-pin-ed25519", at(sshd, { hostKey: sshd.hostKeys.ed25519 }), { sshd });
    if (!good) return;
    good.up();
    assert.equal(resourceNamed(good, "r")?.outputs?.stdout, "logged-in");
    const foreign = newKeyPair(tempDir(t), "foreign_host", "ed25519").publicKey;
    const bad = oneRemote(t, "cmd-pin-mismatch", at(sshd, { hostKey: foreign }), { sshd });
    assert.match(output(bad!.fails(UP)), /after 0 failed attempts: ssh: handshake failed: ssh: host key mismatch/);
  });

  it("a failed authentication is retried like any dial error (connection.go dialWithRetry at v1.2.1)", (t) => {
    const sshd = sshdFor(t);
    if (!sshd) return;
    const wrong = newKeyPair(tempDir(t), "unauthorised", "ed25519");
    const stack = commandStack(t, "cmd-auth-retried", COMMANDS_PROGRAM, {
      config: {
        privateKey: wrong.privateKey,
        remote: { r: { connection: at(sshd, { dialErrorLimit: 2 }), create: "true" } },
      },
      secrets: ["privateKey"],
    });
    if (!stack) return;
    const before = (sshd.log().match(/authenticating user root/g) ?? []).length;
    const { result, diagnostics } = runWithEvents(stack, UP);
    assert.match(output(result), /after 2 failed attempts: ssh: handshake failed: ssh: unable to authenticate/);
    assert.equal(statusLines(diagnostics).filter((l) => l.startsWith("Dial")).length, 2);
    assert.equal(
      (sshd.log().match(/authenticating user root/g) ?? []).length - before,
      3,
      "sshd saw three refused logins",
    );
  });

  it("a dead SSH_AUTH_SOCK fails before any dial, even with privateKey (connection.go:131-145, connection_unix.go:12-21 at v1.2.1)", (t) => {
    const sshd = sshdFor(t);
    if (!sshd) return;
    const socket = join(tempDir(t), "agent.sock");
    const stack = oneRemote(t, "cmd-dead-agent", at(sshd, { dialErrorLimit: 3 }), {
      sshd,
      env: { ...withoutAgent(process.env), SSH_AUTH_SOCK: socket },
    });
    if (!stack) return;
    const { result, diagnostics } = runWithEvents(stack, UP);
    assert.notEqual(result.status, 0);
    assert.match(
      output(result),
      new RegExp(`dial unix ${socket.replace(/[.]/g, "\\.")}: connect: no such file or directory`),
    );
    assert.deepEqual(
      statusLines(diagnostics).filter((l) => l.startsWith("Dial")),
      [],
      "no dial was attempted, so none retried",
    );
  });

  it("a live agent at SSH_AUTH_SOCK authenticates when no privateKey is given (connection.go:131-145 at v1.2.1)", async (t) => {
    const sshd = sshdFor(t);
    if (!sshd) return;
    const dir = tempDir(t);
    const socket = join(dir, "agent.sock");
    const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    t.after(() => {
      agent.kill("SIGTERM");
    });
    await waitFor(
      () => spawnSync("ssh-add", ["-l"], { env: { ...process.env, SSH_AUTH_SOCK: socket } }).status === 1,
      "ssh-agent to listen",
    );
    const keyFile = join(dir, "client");
    spawnSync("sh", ["-c", `umask 077; cat > '${keyFile}'`], { input: sshd.client.privateKey });
    const added = spawnSync("ssh-add", [keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: "utf8" });
    assert.equal(added.status, 0, added.stderr);
    const stack = oneRemote(t, "cmd-live-agent", at(sshd), {
      sshd,
      noKey: true,
      env: { ...withoutAgent(process.env), SSH_AUTH_SOCK: socket },
    });
    if (!stack) return;
    stack.up();
    assert.equal(resourceNamed(stack, "r")?.outputs?.stdout, "logged-in");
  });
});

async function waitFor(ready: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
