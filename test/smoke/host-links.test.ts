// The smoke reads the outputs folder, which a container writes, possibly as root: no link there is followed,
// locally or over ssh (a real sshd on loopback), and a FIFO planted under the proof's name never makes it
// wait. A victim outside the folder (root-only, 0600) is never listed, read or sized.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { HostLinkError, LocalHost, type HostAccess } from "../../smoke/host.js";
import { describeSearch, locateOnce } from "../../smoke/locate.js";
import { datedFolderNames, saveLayout } from "../../smoke/paths.js";
import { startSshd } from "./harness.js";
import { SshHost } from "../../smoke/ssh-host.js";
import { OptionsSchema } from "../../smoke/schemas.js";

const defaults = OptionsSchema.parse({
  outdir_txt2img_samples: "outputs/txt2img-images",
  outdir_img2img_samples: "outputs/img2img-images",
});

/** An outputs folder with planted links, and a victim folder with a secret file and a file named like the proof. */
function plant(t: TestContext, seed: number) {
  const root = mkdtempSync(join(tmpdir(), "smoke-links-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const out = join(root, "outputs");
  const victim = join(root, "victim");
  mkdirSync(out);
  mkdirSync(victim, { mode: 0o700 });
  writeFileSync(join(victim, "secret.txt"), "top secret", { mode: 0o600 });
  writeFileSync(join(victim, `00001-${seed}.png`), "victim bytes", { mode: 0o600 });
  return { out, victim };
}

/** The checks, against a host access confined (as the CLI confines --outputs-dir) to the planted outputs folder. */
async function checks(t: TestContext, hostFor: (outputsDir: string) => HostAccess): Promise<void> {
  const seed = 4242;
  const { out, victim } = plant(t, seed);
  const host = hostFor(out);
  const layout = saveLayout(defaults, seed, new Date());
  if ("unsupported" in layout) throw new Error(layout.unsupported);
  const today = datedFolderNames(new Date())[0]!;
  // The dated folder a link to the victim folder: not listed, and the message says why.
  symlinkSync(victim, join(out, today));
  const r = await locateOnce(host, out, layout);
  assert.equal(r.file, undefined, "nothing is found through the link");
  assert.ok(
    r.searched.some((f) => f.state === "link"),
    JSON.stringify(r.searched),
  );
  const text = describeSearch(r.searched).join("\n");
  assert.match(text, /is a symbolic link in the outputs folder/);
  assert.doesNotMatch(text, /secret\.txt/, "no name of the victim folder leaks");
  rmSync(join(out, today));
  // A real dated folder with the proof's name a link to the victim's file: never read.
  mkdirSync(join(out, today));
  symlinkSync(join(victim, `00001-${seed}.png`), join(out, today, `00002-${seed}.png`));
  await assert.rejects(
    host.readFile(join(out, today, `00002-${seed}.png`)),
    (e: unknown) => e instanceof HostLinkError,
  );
  await assert.rejects(host.stat(join(out, today, `00002-${seed}.png`)), (e: unknown) => e instanceof HostLinkError);
  rmSync(join(out, today, `00002-${seed}.png`));
  // A FIFO under the proof's name: answered at once, not waited on.
  execFileSync("mkfifo", [join(out, today, `00003-${seed}.png`)]);
  const t0 = Date.now();
  await assert.rejects(host.readFile(join(out, today, `00003-${seed}.png`)));
  assert.ok(Date.now() - t0 < 10_000, "no wait on the FIFO");
  // An ordinary file reads as ever.
  writeFileSync(join(out, today, `00004-${seed}.png`), "proof bytes");
  assert.equal((await host.readFile(join(out, today, `00004-${seed}.png`))).toString(), "proof bytes");
}

test("locally: no link below the outputs folder is followed; a FIFO never blocks; files read as ever", async (t) => {
  await checks(t, (out) => new LocalHost([out]));
});

test("over ssh (a real sshd): no link below the outputs folder is followed; a FIFO never blocks", async (t) => {
  const sshd = await startSshd(t);
  if (!sshd) return;
  await checks(t, (out) => new SshHost(sshd.settings, 60_000, [out]));
});
