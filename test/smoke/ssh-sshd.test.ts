// SshHost and the whole smoke over a real sshd on loopback (own host key, own client key, a
// known_hosts file, strict host key checking), against a stand-in container on this machine.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { SmokeError } from "../../smoke/errors.js";
import { SshHost } from "../../smoke/ssh-host.js";
import type { SshSettings } from "../../smoke/ssh-host.js";
import { requireDocker } from "../helpers/docker.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { LOCKED, imagePresent, makeDirs, runSmokeCli, smokeArgs, startContainer, type Started } from "./harness.js";

const SSHD = "/usr/sbin/sshd";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

interface Sshd {
  settings: SshSettings;
  key: string;
  knownHosts: string;
}

async function startSshd(t: TestContext): Promise<Sshd | undefined> {
  // Through the one skip rule: skipped locally with the reason, a failure under CI=true.
  if (!requireOrSkip(t, existsSync(SSHD) && process.getuid?.() === 0 ? "" : "needs root and openssh-server")) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "smoke-sshd-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  if (!existsSync("/run/sshd")) {
    mkdirSync("/run/sshd", { mode: 0o755 });
    t.after(() => rmSync("/run/sshd", { recursive: true, force: true }));
  }
  const kg = (f: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, f)], { timeout: 20_000 });
  kg("host");
  kg("client");
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client.pub")), { mode: 0o600 });
  const port = await freePort();
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${join(dir, "host")}`, `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
      "StrictModes no", `PidFile ${join(dir, "sshd.pid")}`, "",
    ].join("\n"),
  );
  const proc: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" });
  t.after(() => {
    proc.kill("SIGTERM");
  });
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${readFileSync(join(dir, "host.pub"), "utf8")}`);
  const settings: SshSettings = { user: "root", host: "127.0.0.1", port, identityFile: join(dir, "client"), knownHostsFile: knownHosts, strictHostKeyChecking: "yes", connectTimeoutS: 5 };
  const h = new SshHost(settings);
  for (let i = 0; i < 50 && !(await h.ping()); i++) await new Promise((r) => setTimeout(r, 100));
  return { settings, key: readFileSync(join(dir, "client"), "utf8"), knownHosts: readFileSync(knownHosts, "utf8") };
}

test("SshHost against a real sshd: list, stat, read, run; a wrong host key is refused", async (t) => {
  const sshd = await startSshd(t);
  if (!sshd) return;
  const d = mkdtempSync(join(tmpdir(), "smoke-sshd-data-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  writeFileSync(join(d, "00000-5.png"), Buffer.from([0x89, 0, 255]));
  writeFileSync(join(d, "it's a $(name).png"), "x");
  const h = new SshHost(sshd.settings);
  assert.equal(await h.ping(), true);
  const l = await h.listDir(d);
  assert.deepEqual(l.kind === "ok" ? l.names.sort() : l, ["00000-5.png", "it's a $(name).png"]);
  assert.ok((await h.readFile(join(d, "00000-5.png"))).equals(Buffer.from([0x89, 0, 255])));
  assert.equal((await h.stat(d))?.isDir, true);
  assert.equal((await h.run(["echo", "a b", "$(x)"], 10_000)).stdout, "a b $(x)\n");
  // Another host key in known_hosts: ssh refuses, and the smoke names the SSH settings.
  const wrong = join(d, "kh");
  writeFileSync(wrong, `[127.0.0.1]:${sshd.settings.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBUT3uZ6+aM2bXxhrSoV1v6r0kHk4C8TfAd0bq3n4n4n\n`);
  await assert.rejects(new SshHost({ ...sshd.settings, knownHostsFile: wrong }).listDir(d), (e: unknown) => e instanceof SmokeError && e.failure === "host-access");
});

test("the whole smoke over SSH: key and known_hosts from environment variables", async (t) => {
  if (!requireDocker(t)) return;
  if (!requireOrSkip(t, imagePresent() ? "" : "stand-in image missing: run npm run standin:image")) return;
  const sshd = await startSshd(t);
  if (!sshd) return;
  const dirs = makeDirs(t);
  // The smoke CLI reaching the host's files over SSH (key and known_hosts passed by environment).
  const smokeOverSsh = (c: Started) =>
    runSmokeCli(
      smokeArgs(c, dirs, [
        "--container", c.name, "--ssh-host", "127.0.0.1", "--ssh-user", "root", "--ssh-port", String(sshd.settings.port),
        "--ssh-identity-env", "SMOKE_IT_KEY", "--ssh-known-hosts-env", "SMOKE_IT_KH",
      ]),
      { SMOKE_IT_KEY: sshd.key, SMOKE_IT_KH: sshd.knownHosts },
    );
  const r = await smokeOverSsh(startContainer(t, dirs, { args: LOCKED }));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(String(r.json?.file).startsWith(dirs.outputs));
  assert.ok(!(r.stdout + r.stderr).includes("PRIVATE KEY"));
  // Outputs not mounted: the diagnosis runs `docker diff` over SSH too.
  const r2 = await smokeOverSsh(startContainer(t, dirs, { args: LOCKED, mountOutputs: false }));
  assert.equal(r2.code, 21, r2.stdout + r2.stderr);
});
