import assert from "node:assert/strict";
import { test } from "node:test";
import { checkProofResponse, proofBody } from "../../smoke/proof.js";
import { OptionsSchema, SchemaError, SdModelsSchema, describeErrorBody, parseOrThrow } from "../../smoke/schemas.js";
import { SmokeError } from "../../smoke/errors.js";

const settings = { mode: "txt2img" as const, prompt: "p", steps: 2, width: 64, height: 64, runId: "smoke-1", seed: 5 };

test("a schema failure names the field", () => {
  assert.throws(
    () => parseOrThrow(SdModelsSchema, [{ title: "m", model_name: 3, filename: "/x" }], "GET /sdapi/v1/sd-models"),
    (e: unknown) => e instanceof SchemaError && /0\.model_name/.test(e.message) && e.fields.includes("0.model_name"),
  );
  assert.throws(
    () => parseOrThrow(OptionsSchema, { outdir_txt2img_samples: 1 }, "GET /sdapi/v1/options"),
    /outdir_txt2img_samples/,
  );
});

test("options defaults fill the file-name keys", () => {
  const o = parseOrThrow(
    OptionsSchema,
    { outdir_txt2img_samples: "outputs/txt2img-images", outdir_img2img_samples: "outputs/img2img-images" },
    "x",
  );
  assert.equal(o.save_to_dirs, true);
  assert.equal(o.directories_filename_pattern, "[date]");
  assert.equal(o.samples_format, "png");
});

test("error bodies: A1111 handler, FastAPI 404, FastAPI 422", () => {
  assert.equal(
    describeErrorBody({ error: "HTTPException", detail: "Incorrect username or password", body: "", errors: "" }),
    "HTTPException: Incorrect username or password",
  );
  assert.equal(describeErrorBody({ detail: "Not Found" }), "Not Found");
  assert.equal(
    describeErrorBody({
      detail: [{ loc: ["body", "steps"], msg: "value is not a valid integer", type: "type_error.integer" }],
    }),
    "body.steps: value is not a valid integer",
  );
  assert.equal(
    describeErrorBody({ error: "PermissionError", detail: "", body: "", errors: "[Errno 13] Permission denied" }),
    "PermissionError: [Errno 13] Permission denied",
  );
});

test("proof body asks to save and not to send; img2img carries an init image of the size", () => {
  const b = proofBody(settings);
  assert.equal(b.save_images, true);
  assert.equal(b.send_images, false);
  assert.equal(b.seed, 5);
  assert.match(String(b.prompt), /smoke-1/);
  const i = proofBody({ ...settings, mode: "img2img" });
  assert.equal((i.init_images as string[]).length, 1);
});

test("proof response: images must be empty, seed taken from info", () => {
  const info = JSON.stringify({ seed: 9, all_seeds: [9], index_of_first_image: 0 });
  assert.equal(checkProofResponse({ images: [], parameters: {}, info }, settings).seed, 9);
  assert.throws(
    () => checkProofResponse({ images: ["aGVsbG8="], parameters: {}, info }, settings),
    (e: unknown) => e instanceof SmokeError && e.failure === "bad-response",
  );
  assert.throws(() => checkProofResponse({ images: [], parameters: {}, info: "{" }, settings), /info/);
  assert.throws(
    () => checkProofResponse({ images: [], parameters: {}, info: JSON.stringify({ seed: "x" }) }, settings),
    /seed/,
  );
  assert.throws(() => checkProofResponse({ parameters: {}, info }, settings), /images/);
});
