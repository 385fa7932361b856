// The checkpoint placement script, run for real with /bin/sh, curl and sha256sum against a real HTTP
// server on loopback: fresh download, re-deploy with no download, resume after a dropped connection, a
// server that ignores Range, wrong hash, 404, a file already there, a host-path source, a token.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { placementScript } from "../../infra/docker/steps/place-checkpoints.js";
import { stagedPartPath } from "../../infra/docker/steps/place-checkpoints.js";
import { resolveCheckpoints, tokenHeader } from "../../infra/config/checkpoints.js";
import { requireShellcheck } from "../helpers/requirements.js";
import { entry, files, listing, modelsDir, root, run, served, sha, withServer } from "./harness.js";

describe("checkpoint placement script", () => {
  it("passes shellcheck, with and without a token entry", (t) => {
    if (!requireShellcheck(t)) return;
    for (const useToken of [false, true]) {
      const file = join(root, `placement-${useToken}.sh`);
      writeFileSync(
        file,
        placementScript({
          modelsDir: "/srv/m",
          checkpoints: resolveCheckpoints([
            { source: "https://example.invalid/x/a.safetensors", sha256: "a".repeat(64), loadFirst: false, useToken },
            { source: "/srv/shared/b.ckpt", sha256: "b".repeat(64), loadFirst: false, useToken: false },
          ]),
        }),
      );
      execFileSync("shellcheck", ["-s", "sh", file]);
    }
  });

  it("downloads a fresh file to a temporary name, verifies it, renames it into place; a re-deploy fetches nothing", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      const r = await run(models, [
        entry(s, "a.safetensors"),
        entry(s, "b.safetensors", { fileName: "sub/b-renamed.safetensors" }),
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readFileSync(join(models, "Stable-diffusion/a.safetensors")), files["a.safetensors"]);
      assert.deepEqual(
        readFileSync(join(models, "Stable-diffusion/sub/b-renamed.safetensors")),
        files["b.safetensors"],
      );
      assert.equal(statSync(join(models, "Stable-diffusion/a.safetensors")).mode & 0o777, 0o644);
      assert.deepEqual(listing(models), ["a.safetensors", "sub"], "no temporary or header file is left");
      assert.equal(s.requests.length, 2);
      assert.match(r.stdout, /a\.safetensors: placed from http.*sha256 [0-9a-f]{64} verified/);

      const again = await run(models, [
        entry(s, "a.safetensors"),
        entry(s, "b.safetensors", { fileName: "sub/b-renamed.safetensors" }),
      ]);
      assert.equal(again.status, 0, again.stderr);
      assert.equal(s.requests.length, 2, "a re-deploy sends no request");
      assert.match(again.stdout, /a\.safetensors: already in place .*nothing fetched/);
    });
  });

  it("resumes where a dropped connection stopped (Range), and reports progress with bytes, rate and elapsed time", async () => {
    const half = 1536 * 1024;
    await withServer({ dropAfterBytes: half, dropTimes: 1, bytesPerSecond: 1024 * 1024 }, async (s) => {
      const models = modelsDir();
      const r = await run(models, [entry(s, "a.safetensors")], { progress: 1 });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readFileSync(join(models, "Stable-diffusion/a.safetensors")), files["a.safetensors"]);
      assert.equal(s.requests.length, 2);
      assert.equal(s.requests[0]!.range, null);
      assert.equal(s.requests[1]!.range, `bytes=${half}-`, "the second request asks for the rest only");
      assert.match(r.stdout, /will resume/);
      assert.match(r.stdout, /resuming at 1\.5 MiB/);
      // Each attempt carries 1.5 MiB at 1 MiB/s, so each spans a progress tick.
      assert.match(
        r.stdout,
        /a\.safetensors \(attempt [12] of 4\): [\d.]+ [KM]iB of 3\.0 MiB, [\d.]+ [KM]iB\/s, \d+s elapsed/,
      );
    });
  });

  it("resumes a partial download an earlier run left behind, and starts again when the server ignores Range", async () => {
    const models = modelsDir();
    const part = join(models, "Stable-diffusion", stagedPartPath("a.safetensors", sha(files["a.safetensors"]!)));
    mkdirSync(dirname(part), { mode: 0o700 });
    await withServer({}, async (s) => {
      writeFileSync(part, files["a.safetensors"]!.subarray(0, 1000));
      const r = await run(models, [entry(s, "a.safetensors")]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(s.requests[0]!.range, "bytes=1000-");
      assert.deepEqual(readFileSync(join(models, "Stable-diffusion/a.safetensors")), files["a.safetensors"]);
    });
    await withServer({ ignoreRange: true }, async (s) => {
      const other = modelsDir();
      const p = join(other, "Stable-diffusion", stagedPartPath("a.safetensors", sha(files["a.safetensors"]!)));
      mkdirSync(dirname(p), { mode: 0o700 });
      writeFileSync(p, files["a.safetensors"]!.subarray(0, 1000));
      const r = await run(other, [entry(s, "a.safetensors")]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /ignores Range requests; starting again from byte 0/);
      assert.deepEqual(
        s.requests.map((q) => q.range),
        ["bytes=1000-", null],
      );
      assert.deepEqual(readFileSync(join(other, "Stable-diffusion/a.safetensors")), files["a.safetensors"]);
      assert.deepEqual(listing(other), ["a.safetensors"]);
    });
  });

  it("a wrong sha256 fails with both hashes and leaves nothing behind; so does a 404", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      const wrong = "0".repeat(64);
      const r = await run(models, [entry(s, "a.safetensors", { sha256: wrong })]);
      assert.notEqual(r.status, 0);
      assert.ok(r.stderr.includes(sha(files["a.safetensors"]!)) && r.stderr.includes(wrong), r.stderr);
      assert.match(r.stderr, /nothing was placed/);
      assert.deepEqual(listing(models), []);

      const missing = await run(models, [{ ...entry(s, "a.safetensors"), source: `${s.url}/gone.safetensors` }]);
      assert.notEqual(missing.status, 0);
      assert.match(
        missing.stderr,
        /gone\.safetensors answered HTTP 404 \(not found\): check the URL; nothing was fetched/,
      );
      assert.deepEqual(listing(models), []);
    });
  });

  it("never touches a file it did not place: a wrong file under the target name is refused, another name is left as it is", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      const dir = join(models, "Stable-diffusion");
      writeFileSync(join(dir, "a.safetensors"), "someone else's model");
      const before = statSync(join(dir, "a.safetensors"));
      const r = await run(models, [entry(s, "a.safetensors")]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /exists with sha256 [0-9a-f]{64}, not the declared .*never overwrites/);
      assert.equal(readFileSync(join(dir, "a.safetensors"), "utf8"), "someone else's model");
      assert.equal(statSync(join(dir, "a.safetensors")).mtimeMs, before.mtimeMs);
      assert.equal(s.requests.length, 0);

      // The same bytes under another name: the declared name is placed, the other file keeps its inode and time.
      writeFileSync(join(dir, "copy-of-b.safetensors"), files["b.safetensors"]!);
      const other = statSync(join(dir, "copy-of-b.safetensors"));
      const placed = await run(models, [entry(s, "b.safetensors")]);
      assert.equal(placed.status, 0, placed.stderr);
      const still = statSync(join(dir, "copy-of-b.safetensors"));
      assert.equal(still.ino, other.ino);
      assert.equal(still.mtimeMs, other.mtimeMs);
      assert.deepEqual(listing(models), ["a.safetensors", "b.safetensors", "copy-of-b.safetensors"]);
    });
  });

  it("copies a host-path source and checks it the same way", async () => {
    const models = modelsDir();
    const src = join(served, "b.safetensors");
    const ok = await run(models, [
      { source: src, sha256: sha(files["b.safetensors"]!), fileName: "b.ckpt", loadFirst: false, useToken: false },
    ]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(readFileSync(join(models, "Stable-diffusion/b.ckpt")), files["b.safetensors"]);
    const bad = await run(models, [
      { source: src, sha256: "1".repeat(64), fileName: "c.ckpt", loadFirst: false, useToken: false },
    ]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /c\.ckpt from .* has sha256 [0-9a-f]{64}, but the checkpoints setting declares 1{64}/);
    assert.deepEqual(listing(models), ["b.ckpt"]);
    assert.ok(existsSync(src), "the source is left as it is");
  });

  it("sends the token from stdin only to entries with useToken, and never prints it", async () => {
    const token = `hf_${randomBytes(12).toString("hex")}`;
    await withServer({ requireHeader: tokenHeader(token) }, async (s) => {
      const models = modelsDir();
      const r = await run(models, [entry(s, "a.safetensors", { useToken: true })], {
        stdin: `${tokenHeader(token)}\n`,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(s.requests[0]!.authorised, true);
      for (const text of [r.script, r.stdout, r.stderr])
        assert.ok(!text.includes(token), "the token is in no script text and no output");

      const without = await run(modelsDir(), [entry(s, "b.safetensors")], { stdin: `${tokenHeader(token)}\n` });
      assert.notEqual(without.status, 0, "an entry without useToken does not get the header");
      assert.match(
        without.stderr,
        /answered HTTP 401: it wants credentials\. If the file is gated, set the token \(pulumi config set --secret sdwebui:checkpointToken <token>\) and useToken: true on this entry; nothing was fetched/,
      );
      assert.ok(!without.stderr.includes(token));
      assert.equal(JSON.stringify(s.requests[1]!.headers).includes(token), false);
    });
  });
});
