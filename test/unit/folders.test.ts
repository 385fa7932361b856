// The host-folders script, run for real with /bin/sh on temporary folders, and checked by shellcheck.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { foldersScript } from "../../infra/docker/steps/folders.js";
import { requireOrSkip, requireShellcheck } from "../helpers/requirements.js";

const root = mkdtempSync(join(tmpdir(), "sdwebui-folders-"));
after(() => rmSync(root, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;

function run(script: string) {
  return spawnSync("/bin/sh", ["-c", script], { encoding: "utf8", timeout: 10_000 });
}

describe("host folders script", () => {
  it("passes shellcheck", (t) => {
    if (!requireShellcheck(t)) return;
    const file = join(root, "folders.sh");
    writeFileSync(
      file,
      foldersScript({ outputsDir: "/srv/o", modelsDir: "/srv/m", uid: 1000, gid: 1000, profile: "universonic" }),
    );
    execFileSync("shellcheck", ["-s", "sh", file]);
  });

  it("refuses unsafe paths and ids at its own boundary", () => {
    assert.throws(
      () => foldersScript({ outputsDir: "/srv/o; rm -rf /", modelsDir: "/srv/m", uid: 1, gid: 1, profile: "p" }),
      /not a safe absolute path/,
    );
    assert.throws(
      () => foldersScript({ outputsDir: "/srv/../etc", modelsDir: "/srv/m", uid: 1, gid: 1, profile: "p" }),
      /not a safe/,
    );
    assert.throws(
      () => foldersScript({ outputsDir: "/srv/o", modelsDir: "/srv/m", uid: -1, gid: 1, profile: "p" }),
      /uid/,
    );
  });

  it("creates missing folders owned by the profile's uid, and is idempotent", (t) => {
    if (!requireOrSkip(t, isRoot ? "" : "needs root to chown (chown)")) return;
    const o = join(root, "a/outputs");
    const m = join(root, "a/models");
    const script = foldersScript({ outputsDir: o, modelsDir: m, uid: 1000, gid: 1000, profile: "universonic" });
    let r = run(script);
    assert.equal(r.status, 0, r.stderr);
    for (const d of [o, m, join(m, "Stable-diffusion")]) assert.equal(statSync(d).uid, 1000, d);
    assert.match(r.stdout, /created .*outputs/);
    r = run(script);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /created/);
  });

  it("refuses, before the container starts, an existing folder uid 1000 cannot write, and changes nothing in it", (t) => {
    if (!requireOrSkip(t, isRoot ? "" : "needs root (chown)")) return;
    const o = join(root, "b/outputs");
    mkdirSync(join(o, "txt2img-images"), { recursive: true });
    writeFileSync(join(o, "txt2img-images", "00000-1.png"), "old image");
    chownSync(o, 0, 0);
    chmodSync(o, 0o755);
    const r = run(
      foldersScript({ outputsDir: o, modelsDir: join(root, "b/models"), uid: 1000, gid: 1000, profile: "universonic" }),
    );
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /owned by 0:0 mode 755, so the WebUI \(profile universonic, uid 1000\) cannot save there\. This program did not create it, so it never changes its owner: choose a new folder .*run: sudo chown 1000:1000 \S+ \(this folder only\)/,
    );
    assert.doesNotMatch(r.stderr, /chown -R/);
    assert.equal(statSync(o).uid, 0, "existing folder not re-owned");
    assert.equal(readFileSync(join(o, "txt2img-images", "00000-1.png"), "utf8"), "old image");
  });

  it("refuses a sub-folder the WebUI writes into when another uid owns it", (t) => {
    if (!requireOrSkip(t, isRoot ? "" : "needs root (chown)")) return;
    const o = join(root, "c/outputs");
    mkdirSync(join(o, "txt2img-images"), { recursive: true });
    chownSync(o, 1000, 1000);
    chownSync(join(o, "txt2img-images"), 0, 0);
    const r = run(
      foldersScript({ outputsDir: o, modelsDir: join(root, "c/models"), uid: 1000, gid: 1000, profile: "universonic" }),
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /txt2img-images is owned by 0:0/);
  });

  it("the checkpoints folder needs only read access (it is mounted read-only); one the uid cannot read is refused", (t) => {
    if (!requireOrSkip(t, isRoot ? "" : "needs root (chown)")) return;
    const m = join(root, "e/models");
    mkdirSync(join(m, "Stable-diffusion"), { recursive: true });
    chownSync(m, 1000, 1000);
    chownSync(join(m, "Stable-diffusion"), 0, 0);
    chmodSync(join(m, "Stable-diffusion"), 0o755);
    const script = foldersScript({
      outputsDir: join(root, "e/outputs"),
      modelsDir: m,
      uid: 1000,
      gid: 1000,
      profile: "universonic",
    });
    let r = run(script);
    assert.equal(r.status, 0, r.stderr);
    chmodSync(join(m, "Stable-diffusion"), 0o700);
    r = run(script);
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /Stable-diffusion is owned by 0:0 mode 700, so the WebUI \(profile universonic, uid 1000\) cannot read there/,
    );
  });

  it("accepts a folder writable through its group or by everyone", (t) => {
    if (!requireOrSkip(t, isRoot ? "" : "needs root (chown)")) return;
    const o = join(root, "d/outputs");
    mkdirSync(o, { recursive: true });
    chownSync(o, 0, 1000);
    chmodSync(o, 0o775);
    const r = run(
      foldersScript({ outputsDir: o, modelsDir: join(root, "d/models"), uid: 1000, gid: 1000, profile: "universonic" }),
    );
    assert.equal(r.status, 0, r.stderr);
  });
});
