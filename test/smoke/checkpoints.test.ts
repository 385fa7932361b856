// The checkpoint proof: pure rules over sd-models lists shaped as the WebUI gives them, then the smoke
// CLI against the stand-in in a real container that loads a placed checkpoint with --ckpt.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, test } from "node:test";
import type { TestContext } from "node:test";
import { checkCheckpoints, modelInfotextMismatches, titleName } from "../../smoke/checkpoint-proof.js";
import { SMOKE_EXIT, SmokeError } from "../../smoke/errors.js";
import { requireDocker } from "../helpers/docker.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { LOCKED, ROOT, imagePresent, makeDirs, runSmokeCli, smokeArgs, startContainer } from "./harness.js";

const A = "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa";
const B = "b".repeat(64);
const model = (name: string, sha: string | null) => ({
  title: sha ? `${name} [${sha.slice(0, 10)}]` : name,
  model_name: name.replace(/\.[^.]+$/, ""),
  hash: sha?.slice(0, 10) ?? null,
  sha256: sha,
  filename: `${ROOT}/models/Stable-diffusion/${name}`,
  config: null,
});
const failure = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(
    fn,
    (e: unknown) =>
      e instanceof SmokeError &&
      e.failure === "wrong-checkpoint" &&
      e.exitCode === SMOKE_EXIT["wrong-checkpoint"] &&
      pattern.test(e.message),
  );

describe("checkpoint proof rules", () => {
  const declared = [
    { name: "v1-5.safetensors", sha256: A },
    { name: "sub/b.ckpt", sha256: B },
  ];

  it("passes when every declared file is listed, the loaded one carries its hash; an unhashed other one counts as listed", () => {
    const r = checkCheckpoints(
      [model("v1-5.safetensors", A), model("sub/b.ckpt", null)],
      `v1-5.safetensors [${A.slice(0, 10)}]`,
      declared,
      "v1-5.safetensors",
    );
    assert.deepEqual(r.loaded, { name: "v1-5.safetensors", sha256: A, modelName: "v1-5" });
    assert.deepEqual(
      r.listed.map((l) => l.hashReported),
      [true, false],
    );
    assert.equal(titleName(`sub/b.ckpt [${B.slice(0, 10)}]`), "sub/b.ckpt");
  });

  it("names each wrong case and its fix: missing, hash differs, another loaded, no hash on the loaded one", () => {
    failure(
      () =>
        checkCheckpoints(
          [model("v1-5.safetensors", A)],
          `v1-5.safetensors [${A.slice(0, 10)}]`,
          declared,
          "v1-5.safetensors",
        ),
      /does not list the declared checkpoint sub\/b\.ckpt \(it lists: v1-5\.safetensors\)/,
    );
    failure(
      () =>
        checkCheckpoints(
          [model("v1-5.safetensors", A), model("sub/b.ckpt", "c".repeat(64))],
          `v1-5.safetensors [${A.slice(0, 10)}]`,
          declared,
          "v1-5.safetensors",
        ),
      /reports sha256 c{64} for sub\/b\.ckpt, but the checkpoints setting declares b{64}/,
    );
    failure(
      () =>
        checkCheckpoints(
          [model("v1-5.safetensors", A), model("sub/b.ckpt", B)],
          `sub/b.ckpt [${B.slice(0, 10)}]`,
          declared,
          "v1-5.safetensors",
        ),
      /has loaded sub\/b\.ckpt \[bbbbbbbbbb\], not the declared first checkpoint v1-5\.safetensors/,
    );
    failure(
      () =>
        checkCheckpoints(
          [model("v1-5.safetensors", null), model("sub/b.ckpt", null)],
          "v1-5.safetensors",
          declared,
          "v1-5.safetensors",
        ),
      /does not carry the declared hash.*--no-hashing/,
    );
    failure(
      () =>
        checkCheckpoints([model("v1-5.safetensors", A), model("sub/b.ckpt", B)], null, declared, "v1-5.safetensors"),
      /reports no loaded checkpoint/,
    );
  });

  it("checks that the infotext names the model, as far as the WebUI's options put it there", () => {
    const loaded = { name: "v1-5.safetensors", sha256: A, modelName: "v1-5" };
    const good = `a cat\nSteps: 4, Seed: 1, Size: 64x64, Model hash: ${A.slice(0, 10)}, Model: v1-5, Version: v1.10.1`;
    assert.deepEqual(modelInfotextMismatches(good, loaded, { addHash: true, addName: true }), []);
    assert.equal(
      modelInfotextMismatches(good.replace(A.slice(0, 10), "0123456789"), loaded, { addHash: true, addName: true })
        .length,
      1,
    );
    assert.deepEqual(modelInfotextMismatches("a cat\nSteps: 4", loaded, { addHash: false, addName: false }), []);
  });
});

function ready(t: TestContext): boolean {
  if (!requireDocker(t)) return false;
  return requireOrSkip(
    t,
    imagePresent() ? "" : "stand-in image missing and could not be built: run npm run standin:image",
  );
}

test("smoke against the stand-in: the placed checkpoint is listed, loaded first through --ckpt, and named in the proof image", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const bytes = randomBytes(64 * 1024);
  const sha = createHash("sha256").update(bytes).digest("hex");
  const tinySha = createHash("sha256").update("stand-in checkpoint").digest("hex");
  // makeDirs put tiny.safetensors there; it sorts first, so without --ckpt the WebUI would load that one.
  writeFileSync(join(dirs.models, "Stable-diffusion", "zz-declared.safetensors"), bytes);
  const c = startContainer(t, dirs, {
    args: [...LOCKED, "--ckpt", `${ROOT}/models/Stable-diffusion/zz-declared.safetensors`],
  });
  const ok = await runSmokeCli(
    smokeArgs(c, dirs, [`--checkpoint=zz-declared.safetensors=${sha}`, `--checkpoint=tiny.safetensors=${tinySha}`]),
  );
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const report = ok.json?.checkpoints as {
    loaded: { name: string; sha256: string };
    listed: { name: string; hashReported: boolean }[];
  };
  assert.deepEqual(report.loaded.name, "zz-declared.safetensors");
  assert.equal(report.loaded.sha256, sha);
  assert.deepEqual(
    report.listed.map((l) => [l.name, l.hashReported]),
    [
      ["zz-declared.safetensors", true],
      ["tiny.safetensors", false],
    ],
  );

  const wrongHash = await runSmokeCli(smokeArgs(c, dirs, [`--checkpoint=zz-declared.safetensors=${"0".repeat(64)}`]));
  assert.equal(wrongHash.code, SMOKE_EXIT["wrong-checkpoint"], wrongHash.stdout + wrongHash.stderr);
  assert.equal(wrongHash.json?.failure, "wrong-checkpoint");
  assert.match(
    String(wrongHash.json?.message),
    new RegExp(`reports sha256 ${sha} for zz-declared.safetensors, but the checkpoints setting declares 0{64}`),
  );

  const otherLoaded = await runSmokeCli(
    smokeArgs(c, dirs, [
      `--checkpoint=zz-declared.safetensors=${sha}`,
      `--checkpoint=tiny.safetensors=${tinySha}`,
      "--loaded-checkpoint=tiny.safetensors",
    ]),
  );
  assert.equal(otherLoaded.code, SMOKE_EXIT["wrong-checkpoint"]);
  assert.match(
    String(otherLoaded.json?.message),
    /has loaded zz-declared\.safetensors \[[0-9a-f]{10}\], not the declared first checkpoint tiny\.safetensors/,
  );

  const missing = await runSmokeCli(smokeArgs(c, dirs, [`--checkpoint=absent.safetensors=${sha}`]));
  assert.equal(missing.code, SMOKE_EXIT["wrong-checkpoint"]);
  assert.match(
    String(missing.json?.message),
    /does not list the declared checkpoint absent\.safetensors \(it lists: .*zz-declared\.safetensors/,
  );
});
