// Links already at a declared name count as in place only when the container can follow them: relative, and
// inside the models folder (the container sees that folder and nothing around it, at another path). A link
// that would dangle inside the container is refused with the fix, so the smoke never has to guess why the
// WebUI lists nothing. Also: a host-path source that leads into a folder the containers write is refused.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { entry, files, modelsDir, root, run, served, sha, withServer } from "./harness.js";

const A = "a.safetensors";
const FIX =
  /move the link away and copy the file into \S+\/Stable-diffusion instead, make it a relative link to a file inside the models folder \(ln -sr\), or declare the file's host path as this entry's source/;

describe("placement: links at a declared name", () => {
  it("a relative link to the right file inside the models folder is in place: nothing fetched", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      mkdirSync(join(models, "shared"));
      writeFileSync(join(models, "shared", A), files[A]!);
      symlinkSync(`../shared/${A}`, join(models, "Stable-diffusion", A));
      const r = await run(models, [entry(s, A)]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /a\.safetensors: already in place/);
      assert.equal(s.requests.length, 0);
    });
  });

  it("a relative link to the right file at the top of the models folder is in place too", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      writeFileSync(join(models, A), files[A]!);
      symlinkSync(`../${A}`, join(models, "Stable-diffusion", A));
      const r = await run(models, [entry(s, A)]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(s.requests.length, 0);
    });
  });

  it("a dangling link at the name is named as such and left alone", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      symlinkSync("../shared/missing.safetensors", join(models, "Stable-diffusion", A));
      const r = await run(models, [entry(s, A)]);
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        /Stable-diffusion\/a\.safetensors is a link to \.\.\/shared\/missing\.safetensors, which does not exist; this step never replaces a link: move it away/,
      );
      assert.equal(s.requests.length, 0);
    });
  });

  it("a relative link to another file inside the models folder is named with its target and not overwritten", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      mkdirSync(join(models, "shared"));
      writeFileSync(join(models, "shared", "other.safetensors"), "another model");
      symlinkSync("../shared/other.safetensors", join(models, "Stable-diffusion", A));
      const r = await run(models, [entry(s, A)]);
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        new RegExp(
          `Stable-diffusion/a\\.safetensors \\(a link to \\S+/shared/other\\.safetensors\\) exists with sha256 ${sha("another model")}, not the declared`,
        ),
      );
      assert.equal(readFileSync(join(models, "shared", "other.safetensors"), "utf8"), "another model");
    });
  });

  it("a link to a file outside the models folder (absolute, as ln -s makes it) is refused with the fix", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      symlinkSync(join(served, A), join(models, "Stable-diffusion", A));
      const r = await run(models, [entry(s, A)]);
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        new RegExp(
          `Stable-diffusion/a\\.safetensors is a link to the absolute path ${join(served, A).replace(/[.]/g, "\\.")}, which does not exist inside the container`,
        ),
      );
      assert.match(r.stderr, FIX);
      assert.equal(s.requests.length, 0);
    });
  });

  it("an absolute link even to a file inside the models folder is refused (the container sees that folder elsewhere)", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      mkdirSync(join(models, "shared"));
      writeFileSync(join(models, "shared", A), files[A]!);
      symlinkSync(join(models, "shared", A), join(models, "Stable-diffusion", A));
      const r = await run(models, [entry(s, A)]);
      assert.match(r.stderr, /is a link to the absolute path .*which does not exist inside the container/);
      assert.match(r.stderr, FIX);
    });
  });

  it("a relative link that climbs out of the models folder and back in is refused", async () => {
    await withServer({}, async (s) => {
      const models = modelsDir();
      mkdirSync(join(models, "shared"));
      writeFileSync(join(models, "shared", A), files[A]!);
      const name = models.slice(models.lastIndexOf("/") + 1);
      symlinkSync(`../../${name}/shared/${A}`, join(models, "Stable-diffusion", A));
      const r = await run(models, [entry(s, A)]);
      assert.match(
        r.stderr,
        /leads out of the models folder \(through the link \S+\), and the container sees nothing outside it/,
      );
      assert.match(r.stderr, FIX);
    });
  });

  it("a host-path source that leads through a link into the models folder is refused", async () => {
    const models = modelsDir();
    mkdirSync(join(models, "incoming"));
    writeFileSync(join(models, "incoming", A), files[A]!);
    const alias = join(root, `alias-${Date.now()}.safetensors`);
    symlinkSync(join(models, "incoming", A), alias);
    const r = await run(models, [{ source: alias, sha256: sha(files[A]!), loadFirst: false, useToken: false }]);
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /the source \S+ \(\S+\/incoming\/a\.safetensors\) lies in \S+, a folder the containers write: one of them could replace the file with a link to a host file that the placement step, which runs as root, would then read; keep the file outside/,
    );
  });
});
