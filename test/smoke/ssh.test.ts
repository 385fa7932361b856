// SSH host access: argv construction, and the remote scripts run through a fake `ssh` on PATH that
// executes the remote command with `sh -c` exactly as a login shell would (no sshd needed here).
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { requireOrSkip } from "../helpers/requirements.js";
import { SmokeError } from "../../smoke/errors.js";
import { HostDeniedError, HostMissingError } from "../../smoke/host.js";
import {
  LIST_SCRIPT,
  READ_SCRIPT,
  SshHost,
  STAT_SCRIPT,
  parseStat,
  remoteScript,
  sshArgv,
  sshErrorSummary,
} from "../../smoke/ssh-host.js";
import type { SshSettings } from "../../smoke/ssh-host.js";

const s: SshSettings = {
  user: "deploy",
  host: "gpu1.example",
  port: 2222,
  strictHostKeyChecking: "yes",
  connectTimeoutS: 7,
};

test("argv: batch mode, timeouts, host key policy, identity, known_hosts, then -- host command", () => {
  const a = sshArgv({ ...s, identityFile: "/run/key", knownHostsFile: "/run/kh" }, "true");
  assert.deepEqual(a.slice(-6), ["-p", "2222", "-l", "deploy", "--", "gpu1.example", "true"].slice(-6));
  assert.ok(a.includes("BatchMode=yes") && a.includes("ConnectTimeout=7") && a.includes("StrictHostKeyChecking=yes"));
  assert.ok(a.includes("UserKnownHostsFile=/run/kh") && a.includes("GlobalKnownHostsFile=/dev/null"));
  assert.deepEqual(a.slice(a.indexOf("-i"), a.indexOf("-i") + 2), ["-i", "/run/key"]);
  assert.equal(a[a.length - 1], "true");
  assert.ok(a.indexOf("--") === a.length - 3);
});

test("argv refuses values ssh could misread", () => {
  for (const bad of [
    { host: "-oProxyCommand=x" },
    { host: "a b" },
    { user: "-x" },
    { user: "a;b" },
    { port: 0 },
    { knownHostsFile: "/a b" },
    { identityFile: "rel/key" },
  ])
    assert.throws(
      () => sshArgv({ ...s, ...bad }, "true"),
      (e: unknown) => e instanceof SmokeError && e.failure === "usage",
      JSON.stringify(bad),
    );
  assert.doesNotThrow(() => sshArgv({ ...s, host: "10.0.0.5" }, "true"));
  assert.doesNotThrow(() => sshArgv({ ...s, host: "fd00::5" }, "true"));
});

test("remote command: constant script, values as quoted positional parameters", () => {
  const cmd = remoteScript(LIST_SCRIPT, "/srv/it's $(rm -rf x)");
  assert.ok(cmd.startsWith("sh -c '"));
  assert.ok(cmd.endsWith(` sh '/srv/it'\\''s $(rm -rf x)'`));
});

test("the remote scripts tell a missing path from one behind a folder the login may not search", (t) => {
  if (!requireOrSkip(t, process.getuid?.() === 0 ? "" : "needs root to run the scripts as another user")) return;
  const root = mkdtempSync(join(tmpdir(), "sdwebui-ssh-scripts-"));
  try {
    chmodSync(root, 0o755);
    mkdirSync(join(root, "closed", "outputs"), { recursive: true });
    writeFileSync(join(root, "closed", "outputs", "a.png"), "x");
    chmodSync(join(root, "closed"), 0o700);
    mkdirSync(join(root, "open", "outputs"), { recursive: true });
    // As a login that is not root, the way a sudo user's smoke reads the host.
    const as = (script: string, path: string) =>
      spawnSync("runuser", ["-u", "nobody", "--", "sh", "-c", script, "sh", path], {
        encoding: "utf8",
        timeout: 10_000,
      }).status;
    for (const script of [LIST_SCRIPT, STAT_SCRIPT, READ_SCRIPT]) {
      assert.equal(as(script, join(root, "closed", "outputs", "a.png")), 45, "denied, not missing");
      assert.equal(as(script, join(root, "open", "outputs", "nothing-here")), 44, "missing");
      assert.equal(as(script, join(root, "no-such", "deeper", "x")), 44, "missing, however deep");
    }
    assert.equal(as(LIST_SCRIPT, join(root, "closed", "outputs")), 45);
    assert.equal(as(LIST_SCRIPT, join(root, "open", "outputs")), 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("sshErrorSummary keeps the decisive line, not the @@@ banner", () => {
  const changed = [
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r",
    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r",
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r",
    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\r",
    "Host key for [10.0.0.2]:2222 has changed and you have requested strict checking.\r",
    "Host key verification failed.\r",
    "",
  ].join("\n");
  assert.equal(sshErrorSummary(changed), "REMOTE HOST IDENTIFICATION HAS CHANGED; Host key verification failed.");
  assert.equal(
    sshErrorSummary("ssh: connect to host h port 22: Connection refused\n"),
    "ssh: connect to host h port 22: Connection refused",
  );
  assert.equal(sshErrorSummary(""), "");
});

test("parseStat", () => {
  assert.deepEqual(parseStat("123 1000 1000 41ed\n"), { size: 123, uid: 1000, gid: 1000, perm: 0o755, isDir: true });
  assert.deepEqual(parseStat("5 0 0 81a4"), { size: 5, uid: 0, gid: 0, perm: 0o644, isDir: false });
});

/** `loginAsNobody`: the remote command runs as uid 65534, as an ordinary ssh login user would (setpriv). */
function fakeSsh(t: { after: (f: () => void) => void }, exitCode?: number, loginAsNobody = false): string {
  const dir = mkdtempSync(join(tmpdir(), "smoke-fakessh-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  // Skip options up to "--", then the host; run the rest like a login shell running a command string.
  const script =
    exitCode !== undefined
      ? `#!/bin/sh\necho "ssh: connect to host gpu1.example port 2222: Connection refused" >&2\nexit ${exitCode}\n`
      : `#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done\nshift 2\nexec ${loginAsNobody ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : ""}sh -c "$1"\n`;
  writeFileSync(join(bin, "ssh"), script);
  chmodSync(join(bin, "ssh"), 0o755);
  const old = process.env.PATH;
  process.env.PATH = `${bin}:${old}`;
  t.after(() => {
    process.env.PATH = old;
  });
  return dir;
}

test("SshHost runs list/stat/read/run through ssh, with hostile file names intact", async (t) => {
  const dir = fakeSsh(t);
  const d = join(dir, "out dir $(x) 'q'");
  mkdirSync(d);
  const names = ["00000-1.png", "a b.png", "it's.png", ".hidden", "new\nline.png", "$(touch pwned)"];
  for (const n of names) writeFileSync(join(d, n), "data");
  const h = new SshHost(s);
  const l = await h.listDir(d);
  assert.equal(l.kind, "ok");
  if (l.kind === "ok") assert.deepEqual(l.names.sort(), names.slice().sort());
  assert.deepEqual(await h.listDir(join(dir, "missing")), { kind: "missing" });
  const st = await h.stat(join(d, "it's.png"));
  assert.equal(st?.size, 4);
  assert.equal(st?.isDir, false);
  assert.equal(await h.stat(join(dir, "missing")), null);
  const bin = Buffer.from([0, 1, 2, 255, 254, 0x89, 0x50]);
  writeFileSync(join(d, "bin.png"), bin);
  assert.ok((await h.readFile(join(d, "bin.png"))).equals(bin));
  await assert.rejects(h.readFile(join(dir, "nope")), HostMissingError);
  const r = await h.run(["printf", "%s|", "a b", "$(x)", "it's"], 5000);
  assert.equal(r.stdout, "a b|$(x)|it's|");
  assert.equal(await h.ping(), true);
});

test("SshHost reports permission denied (the login user cannot read the file)", async (t) => {
  // As root the fake login drops to an unprivileged uid (root reads everything); otherwise it is one.
  const dir = fakeSsh(t, undefined, process.getuid?.() === 0);
  chmodSync(dir, 0o755);
  const f = join(dir, "secret.png");
  writeFileSync(f, "x");
  chmodSync(f, 0o000);
  await assert.rejects(new SshHost(s).readFile(f), HostDeniedError);
});

test("an SSH connection failure is a host-access failure naming the settings", async (t) => {
  fakeSsh(t, 255);
  await assert.rejects(
    new SshHost(s).listDir("/x"),
    (e: unknown) =>
      e instanceof SmokeError &&
      e.failure === "host-access" &&
      /Connection refused/.test(e.message) &&
      /known_hosts/.test(e.message),
  );
  assert.equal(await new SshHost(s).ping(), false);
});
