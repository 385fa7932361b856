// The placement's bounds and messages, for real (sh, curl, a loopback server): a download is stopped when it
// passes its bound (declared, announced, or the cap), free space is checked once the size is known, a stale
// part is named as such, a 401/403 names the token settings, and "kept" is said only when bytes are kept.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { stagedPartPath } from "../../infra/docker/steps/place-checkpoints.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { startFileServer } from "../helpers/file-server.js";
import { entry, files, listing, modelsDir, run, served, sha, withServer } from "./harness.js";

const A = "a.safetensors";
const MiB = 1024 * 1024;
const placed = (models: string) => join(models, "Stable-diffusion", A);
/** Leave a partial download where an earlier run would have (the staging folder, root-only). */
function stalePart(models: string, bytes: Buffer): string {
  const part = join(models, "Stable-diffusion", stagedPartPath(A, sha(files[A]!)));
  mkdirSync(dirname(part), { mode: 0o700, recursive: true });
  writeFileSync(part, bytes);
  return part;
}

describe("placement: size bounds and free space", () => {
  it("stops a server that streams past the cap without a Content-Length, removes the part and says why", async () => {
    await withServer({ noContentLength: true, repeat: 20, bytesPerSecond: 10 * MiB }, async (s) => {
      const models = modelsDir();
      const t0 = Date.now();
      const r = await run(models, [entry(s, A)], { sizeCapBytes: 8 * MiB });
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        /stopped fetching .*: it passed 8\.0 MiB \(8388608 bytes\), the cap for a download whose size neither sizeBytes nor the server gives; set sizeBytes on the entry if the file really is larger; the partial download was removed, nothing was placed/,
      );
      assert.ok(Date.now() - t0 < 5000, "stopped well before the 60 MiB stream (6 s at 10 MiB/s) ended");
      assert.doesNotMatch(r.stderr, /Terminated/, "only the reason, not the shell's job report");
      assert.deepEqual(listing(models), [], "no part is left");
      assert.equal(s.requests.length, 1);
    });
  });

  it("a declared size smaller than the file: refused before the body when announced, stopped at the size when not", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      const r = await run(models, [entry(s, A, { sizeBytes: MiB })]);
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        /announces 3145728 bytes, but sizeBytes declares 1048576; nothing was placed: check the source and sizeBytes/,
      );
      assert.deepEqual(listing(models), []);
    });
    await withServer({ noContentLength: true, bytesPerSecond: 2 * MiB }, async (s) => {
      const models = modelsDir();
      const r = await run(models, [entry(s, A, { sizeBytes: MiB })]);
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        /stopped fetching .*: it passed 1\.0 MiB \(1048576 bytes\), the size sizeBytes declares; the partial download was removed/,
      );
      assert.deepEqual(listing(models), []);
    });
  });

  it("a declared size that does not match what the server announces is named, and the right size places the file", async () => {
    await withServer({ bytesPerSecond: 2 * MiB }, async (s) => {
      const models = modelsDir();
      const r = await run(models, [entry(s, A, { sizeBytes: 4 * MiB })]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /the server announces 3145728 bytes, but sizeBytes declares 4194304/);
      assert.deepEqual(listing(models), []);
      const ok = await run(models, [entry(s, A, { sizeBytes: files[A]!.length })]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.deepEqual(readFileSync(placed(models)), files[A]);
    });
  });

  it("checks free space before fetching a declared size, and fetches nothing when it does not fit", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      const r = await run(models, [entry(s, A, { sizeBytes: 2 ** 50 })]);
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        /needs 1\.0 PiB more, but only [\d.]+ [KMGT]iB are free on the filesystem of \S+; free some space \(or choose another modelsDir\); nothing was fetched/,
      );
      assert.equal(s.requests.length, 0);
    });
  });

  it("stops a download the server announces as larger than the free space (a 2 MiB tmpfs)", async (t) => {
    if (!requireOrSkip(t, process.getuid?.() === 0 ? "" : "needs root to mount a small tmpfs")) return;
    const models = modelsDir();
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "sdwebui-test", join(models, "Stable-diffusion")]);
    try {
      await withServer({ bytesPerSecond: MiB }, async (s) => {
        const r = await run(models, [entry(s, A)]);
        assert.notEqual(r.status, 0);
        assert.match(
          r.stderr,
          /stopped fetching .*: it needs [\d.]+ [KM]iB more, but only [\d.]+ [KM]iB are free on the filesystem of \S+; free some space/,
        );
        assert.deepEqual(listing(models), []);
      });
    } finally {
      spawnSync("umount", [join(models, "Stable-diffusion")]);
    }
  });
});

describe("placement: true messages", () => {
  it("a stale part longer than the file is named as such, removed, and the file is placed", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      stalePart(models, Buffer.concat([files[A]!, Buffer.from("trailing bytes of something else")]));
      const r = await run(models, [entry(s, A)]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stdout,
        /the partial download left by an earlier run \(3\.0 MiB\) is not the start of the file at the source \(it answered 416/,
      );
      assert.doesNotMatch(r.stdout + r.stderr, /check the URL/);
      assert.deepEqual(readFileSync(placed(models)), files[A]);
    });
  });

  it("a stale part larger than the declared size is removed with that reason", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      stalePart(models, Buffer.alloc(4 * MiB));
      const r = await run(models, [entry(s, A, { sizeBytes: files[A]!.length })]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stdout,
        /\(4\.0 MiB\) is larger than 3145728 bytes, the size sizeBytes declares; removed it, starting from byte 0/,
      );
      assert.deepEqual(readFileSync(placed(models)), files[A]);
    });
  });

  it("a 403 names the token settings: how to add one without useToken, what to check with it", async () => {
    await withServer({ answerStatus: 403 }, async (s) => {
      const models = modelsDir();
      const r = await run(models, [entry(s, A)]);
      assert.match(
        r.stderr,
        /answered HTTP 403: it wants credentials\. If the file is gated, set the token \(pulumi config set --secret sdwebui:checkpointToken <token>\) and useToken: true on this entry; nothing was fetched/,
      );
      const token = await run(models, [entry(s, A, { useToken: true })], {
        stdin: "Authorization: Bearer hf_example_token_value\n",
      });
      assert.match(
        token.stderr,
        /refused checkpointToken \(HTTP 403\); check that the token is valid and may read this file/,
      );
      assert.ok(!token.stderr.includes("hf_example_token_value"));
    });
  });

  it("says the fetched bytes are kept only when they are, and where", async () => {
    await withServer({ dropAfterBytes: 256 * 1024, dropTimes: 100 }, async (s) => {
      const models = modelsDir();
      const r = await run(models, [entry(s, A)]);
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        /did not complete after 4 attempts .*; the 1\.0 MiB fetched so far stay in \S+\.sdwebui-staging and the next pulumi up resumes from there/,
      );
      const part = join(models, "Stable-diffusion", stagedPartPath(A, sha(files[A]!)));
      assert.equal(statSync(part).size, MiB);
    });
    // A server that is gone: every attempt is refused before a byte arrives.
    const closed = await startFileServer({ dir: served });
    await closed.close();
    const models = modelsDir();
    const r = await run(models, [
      { source: `${closed.url}/${A}`, sha256: sha(files[A]!), loadFirst: false, useToken: false },
    ]);
    assert.match(r.stderr, /did not complete after 4 attempts .*; nothing was fetched$/m);
    assert.doesNotMatch(r.stderr, /kept|resumes/);
    assert.equal(existsSync(join(models, "Stable-diffusion", stagedPartPath(A, sha(files[A]!)))), false);
  });
});

describe("placement: two placements of the same file at once (two stacks sharing the models folder)", () => {
  it("one downloads, the other waits for its lock, then finds the file in place: one request, no mixed part", async () => {
    await withServer({ bytesPerSecond: MiB }, async (s) => {
      const models = modelsDir();
      const first = run(models, [entry(s, A)], { progress: 1 });
      await new Promise((r) => setTimeout(r, 500));
      const second = run(models, [entry(s, A)], { progress: 1 });
      const [a, b] = await Promise.all([first, second]);
      assert.equal(a.status, 0, a.stderr);
      assert.equal(b.status, 0, b.stderr);
      assert.match(a.stdout, /a\.safetensors: placed from/);
      assert.match(
        b.stdout,
        /a\.safetensors: waiting for another placement of this file on this host to finish \(\d+s elapsed, limit 7200s\)/,
      );
      assert.match(
        b.stdout,
        /a\.safetensors: already in place with sha256 [0-9a-f]{64} \(placed by another run while this one waited; nothing fetched\)/,
      );
      assert.equal(s.requests.length, 1, "exactly one download request");
      assert.deepEqual(readFileSync(placed(models)), files[A]);
      assert.deepEqual(listing(models), [A]);
    });
  });

  it("a lock held past the limit fails with what it waited for, and changes nothing", async () => {
    await withServer({ bytesPerSecond: MiB }, async (s) => {
      const models = modelsDir();
      const first = run(models, [entry(s, A)], { progress: 1 });
      await new Promise((r) => setTimeout(r, 500));
      const second = await run(models, [entry(s, A)], { progress: 1, lockWaitSeconds: 1 });
      assert.notEqual(second.status, 0);
      assert.match(
        second.stderr,
        /a\.safetensors: another placement of this file on this host \(another stack sharing \S+\?\) still holds its lock after \d+s \(limit 1s\); nothing was changed: run pulumi up again once it has finished/,
      );
      assert.equal((await first).status, 0);
      assert.equal(s.requests.length, 1);
    });
  });
});
