// SshHost and the whole smoke over a real sshd on loopback (own host key, own client key, a
// known_hosts file, strict host key checking), against a stand-in container on this machine.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SMOKE_EXIT, SmokeError } from "../../smoke/errors.js";
import { SshHost } from "../../smoke/ssh-host.js";
import { requireDocker } from "../helpers/docker.js";
import { requireOrSkip } from "../helpers/requirements.js";
import {
  LOCKED,
  imagePresent,
  makeDirs,
  runSmokeCli,
  smokeArgs,
  startContainer,
  startSshd,
  type Started,
} from "./harness.js";

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
  writeFileSync(
    wrong,
    `[127.0.0.1]:${sshd.settings.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBUT3uZ6+aM2bXxhrSoV1v6r0kHk4C8TfAd0bq3n4n4n\n`,
  );
  await assert.rejects(
    new SshHost({ ...sshd.settings, knownHostsFile: wrong }).listDir(d),
    (e: unknown) => e instanceof SmokeError && e.failure === "host-access",
  );
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
        "--container",
        c.name,
        "--ssh-host",
        "127.0.0.1",
        "--ssh-user",
        "root",
        "--ssh-port",
        String(sshd.settings.port),
        "--ssh-identity-env",
        "SMOKE_IT_KEY",
        "--ssh-known-hosts-env",
        "SMOKE_IT_KH",
      ]),
      { SMOKE_IT_KEY: sshd.key, SMOKE_IT_KH: sshd.knownHosts },
    );
  const r = await smokeOverSsh(startContainer(t, dirs, { args: LOCKED }));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(String(r.json?.file).startsWith(dirs.outputs));
  assert.ok(!(r.stdout + r.stderr).includes("PRIVATE KEY"));
  // Outputs not mounted: the diagnosis runs `docker diff` over SSH too.
  const r2 = await smokeOverSsh(startContainer(t, dirs, { args: LOCKED, mountOutputs: false }));
  assert.equal(r2.code, SMOKE_EXIT["saved-in-container"], r2.stdout + r2.stderr);
});
