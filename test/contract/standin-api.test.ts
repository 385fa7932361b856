// Contract of the stand-in's API, against ONE container of sd-webui-standin:dev run like
// the default profile (`--api --api-auth ...` as docker args) with host folders over outputs/models.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { dockerStatus } from "../helpers/docker.js";
import { makeModelsDir, STANDIN_ROOT, startStandinContainer, type StandinContainer } from "../helpers/standin.js";
import { readPng } from "../standin/png.js";
import { basic, hostDir, http, listFiles, postJson, rmrf } from "./util.js";

const USER = "smoke";
const PASS = "s3cret-pw";
const AUTH = basic(USER, PASS);
const skip = dockerStatus().ok ? false : process.env.CI ? false : `no Docker engine (${dockerStatus().detail})`;

interface Info {
  seed: number;
  all_seeds: number[];
  infotexts: string[];
  job_timestamp: string;
  index_of_first_image: number;
  [k: string]: unknown;
}
const dateOf = (info: Info): string => info.job_timestamp.replace(/^(\d{4})(\d{2})(\d{2}).*/, "$1-$2-$3");

describe("stand-in API contract (container)", { skip }, () => {
  let c: StandinContainer;
  let out: string;
  let models: string;
  const txt2img = (body: unknown, h = AUTH) => postJson(`${c.url}/sdapi/v1/txt2img`, body, h);

  before(async () => {
    out = hostDir("standin-out-");
    models = makeModelsDir(hostDir("standin-models-"));
    c = await startStandinContainer({
      args: ["--api", "--api-auth", `${USER}:${PASS},other:pw2`],
      outputsHostDir: out,
      modelsHostDir: models,
    });
  });
  after(async () => {
    await c?.stop();
    rmrf(out);
    rmrf(models);
  });

  test("open routes: /docs, /openapi.json, /internal/ping need no credentials", async () => {
    assert.equal((await http("GET", `${c.url}/docs`)).status, 200);
    const oa = await http("GET", `${c.url}/openapi.json`);
    assert.equal(oa.status, 200);
    assert.ok(Object.keys((oa.json() as { paths: object }).paths).includes("/sdapi/v1/txt2img"));
    const ping = await http("GET", `${c.url}/internal/ping`);
    assert.deepEqual([ping.status, ping.json()], [200, {}]);
  });

  test("401 bodies in A1111's shape, no WWW-Authenticate, checked before the body", async () => {
    const shape = (detail: string) => ({ error: "HTTPException", detail, body: "", errors: "" });
    const cases: [Record<string, string>, string][] = [
      [{}, "Not authenticated"],
      [{ authorization: "Bearer abc" }, "Not authenticated"],
      [{ authorization: "Basic !!!notb64" }, "Invalid authentication credentials"],
      [{ authorization: `Basic ${Buffer.from("nocolon").toString("base64")}` }, "Invalid authentication credentials"],
      [basic(USER, "wrong"), "Incorrect username or password"],
      [basic("nobody", PASS), "Incorrect username or password"],
    ];
    for (const [h, detail] of cases) {
      const r = await http("GET", `${c.url}/sdapi/v1/options`, { headers: h });
      assert.equal(r.status, 401, JSON.stringify(h));
      assert.deepEqual(r.json(), shape(detail));
      assert.equal(r.headers["www-authenticate"], undefined);
      assert.match(String(r.headers["content-type"]), /application\/json/);
    }
    const bad = await http("POST", `${c.url}/sdapi/v1/txt2img`, {
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    assert.deepEqual([bad.status, bad.json()], [401, shape("Not authenticated")]);
    assert.equal(
      (await http("GET", `${c.url}/sdapi/v1/options`, { headers: basic("other", "pw2") })).status,
      200,
      "second credential works",
    );
  });

  test("422 in FastAPI's shape; unknown fields ignored", async () => {
    const r = await txt2img({ steps: "abc", width: [1], save_images: "maybe", guidance_scale: 3 });
    assert.equal(r.status, 422);
    assert.deepEqual(r.json(), {
      detail: [
        { loc: ["body", "steps"], msg: "value is not a valid integer", type: "type_error.integer" },
        { loc: ["body", "width"], msg: "value is not a valid integer", type: "type_error.integer" },
        { loc: ["body", "save_images"], msg: "value could not be parsed to a boolean", type: "type_error.bool" },
      ],
    });
    const j = await http("POST", `${c.url}/sdapi/v1/txt2img`, {
      headers: { ...AUTH, "content-type": "application/json" },
      body: "{oops",
    });
    assert.equal(j.status, 422);
    assert.equal((j.json() as { detail: { type: string }[] }).detail[0]!.type, "value_error.jsondecode");
    const s = await http("POST", `${c.url}/sdapi/v1/txt2img`, {
      headers: { ...AUTH, "content-type": "application/json" },
      body: '"a string"',
    });
    assert.deepEqual(s.json(), {
      detail: [{ loc: ["body"], msg: "value is not a valid dict", type: "type_error.dict" }],
    });
    const form = await http("POST", `${c.url}/sdapi/v1/txt2img`, {
      headers: { ...AUTH, "content-type": "application/x-www-form-urlencoded" },
      body: "{}",
    });
    assert.deepEqual(
      [form.status, form.json()],
      [422, s.json()],
      "JSON sent without a JSON content-type (curl -d without -H)",
    );
    const none = await http("POST", `${c.url}/sdapi/v1/txt2img`, {
      headers: AUTH,
      body: '{"steps":1,"width":8,"height":8}',
    });
    assert.equal(none.status, 200, "no content-type: parsed as JSON");
  });

  test("404/405 as FastAPI for unknown routes and wrong methods", async () => {
    const nf = await http("GET", `${c.url}/sdapi/v1/nope`, { headers: AUTH });
    assert.deepEqual([nf.status, nf.json()], [404, { detail: "Not Found" }]);
    const na = await http("GET", `${c.url}/sdapi/v1/txt2img`, { headers: AUTH });
    assert.deepEqual([na.status, na.json()], [405, { detail: "Method Not Allowed" }]);
  });

  test("GET endpoints: options defaults, sd-models, samplers, progress, memory, cmd-flags", async () => {
    const get = async (p: string) => {
      const r = await http("GET", `${c.url}/sdapi/v1/${p}`, { headers: AUTH });
      assert.equal(r.status, 200, p);
      return r.json() as never;
    };
    const o = (await get("options")) as Record<string, unknown>;
    for (const [k, v] of Object.entries({
      outdir_txt2img_samples: "outputs/txt2img-images",
      outdir_txt2img_grids: "outputs/txt2img-grids",
      outdir_img2img_samples: "outputs/img2img-images",
      outdir_samples: "",
      samples_format: "png",
      samples_filename_pattern: "",
      save_images_add_number: true,
      save_to_dirs: true,
      directories_filename_pattern: "[date]",
      grid_save: true,
      return_grid: true,
      enable_pnginfo: true,
      samples_save: true,
    }))
      assert.deepEqual(o[k], v, k);
    const m = (await get("sd-models")) as { title: string; model_name: string; filename: string }[];
    assert.equal(m.length, 1);
    assert.equal(m[0]!.model_name, "standin-model");
    assert.equal(m[0]!.filename, `${STANDIN_ROOT}/models/Stable-diffusion/standin-model.safetensors`);
    assert.match(m[0]!.title, /^standin-model\.safetensors( \[[0-9a-f]{10}\])?$/);
    assert.equal(((await get("samplers")) as { name: string }[])[0]!.name, "DPM++ 2M");
    const p = (await get("progress")) as { progress: number; state: { job_count: number }; current_image: null };
    assert.deepEqual([p.progress, p.state.job_count, p.current_image], [0, 0, null]);
    assert.deepEqual(((await get("memory")) as { cuda: unknown }).cuda, { error: "unavailable" });
    const f = (await get("cmd-flags")) as Record<string, unknown>;
    assert.deepEqual(
      [f.api, f.listen, f.port, f.nowebui, f.xformers, f.update_check],
      [true, true, 8080, false, true, true],
    );
    assert.equal(f.data_dir, STANDIN_ROOT);
  });

  test("txt2img defaults: one image sent, nothing saved; parameters echo; info is a JSON string", async () => {
    const before = listFiles(out);
    const r = await txt2img({ prompt: "a cat", steps: 2, width: 64, height: 48 });
    assert.equal(r.status, 200);
    const b = r.json() as { images: string[]; parameters: Record<string, unknown>; info: string };
    assert.equal(b.images.length, 1);
    const png = readPng(Buffer.from(b.images[0]!, "base64"));
    assert.deepEqual([png.width, png.height], [64, 48]);
    assert.match(
      png.text.parameters!,
      /^a cat\nSteps: 2, Sampler: Euler, Schedule type: Automatic, CFG scale: 7\.0, Seed: \d+, Size: 64x48, Model hash: [0-9a-f]{10}, Model: standin-model, Version: v1\.10\.1$/,
    );
    assert.deepEqual(
      [
        b.parameters.save_images,
        b.parameters.send_images,
        b.parameters.sampler_index,
        b.parameters.sampler_name,
        b.parameters.seed,
      ],
      [false, true, "Euler", null, -1],
    );
    assert.equal(typeof b.info, "string");
    const info = JSON.parse(b.info) as Info;
    for (const k of [
      "prompt",
      "all_prompts",
      "seed",
      "all_seeds",
      "subseed",
      "all_subseeds",
      "width",
      "height",
      "sampler_name",
      "cfg_scale",
      "steps",
      "batch_size",
      "sd_model_name",
      "sd_model_hash",
      "index_of_first_image",
      "infotexts",
      "styles",
      "job_timestamp",
      "clip_skip",
      "version",
    ]) {
      assert.ok(k in info, k);
    }
    assert.ok(info.seed >= 0 && info.seed < 4294967294);
    assert.match(info.job_timestamp, /^\d{14}$/);
    assert.equal(info.infotexts[0], png.text.parameters);
    assert.deepEqual(listFiles(out), before, "save_images defaults to false");
  });

  test("save_images: file on the host as <date>/<NNNNN>-<seed>.png, owner 1000, right size and parameters; counter continues", async () => {
    const r1 = await txt2img({
      prompt: "a red fox",
      negative_prompt: "blurry",
      seed: 1234,
      steps: 3,
      width: 512,
      height: 512,
      save_images: true,
    });
    assert.equal(r1.status, 200);
    const b1 = r1.json() as { images: string[]; info: string };
    const info = JSON.parse(b1.info) as Info;
    const dir = path.join(out, "txt2img-images", dateOf(info));
    const f1 = path.join(dir, "00000-1234.png");
    assert.ok(fs.existsSync(f1), `expected ${f1}; have ${listFiles(out).join(", ")}`);
    const st = fs.statSync(f1);
    assert.equal(st.uid, 1000);
    const bytes = fs.readFileSync(f1);
    assert.ok(bytes.equals(Buffer.from(b1.images[0]!, "base64")), "saved file = sent image");
    const png = readPng(bytes);
    assert.deepEqual([png.width, png.height], [512, 512]);
    assert.ok(st.size > 200_000, `512x512 noise-like PNG should be realistic in size, got ${st.size}`);
    assert.equal(
      png.text.parameters,
      `a red fox\nNegative prompt: blurry\nSteps: 3, Sampler: Euler, Schedule type: Automatic, CFG scale: 7.0, Seed: 1234, Size: 512x512, Model hash: ${info.sd_model_hash}, Model: standin-model, Version: v1.10.1`,
    );
    const r2 = await txt2img({ seed: 1234, steps: 1, width: 64, height: 64, save_images: true });
    assert.equal(r2.status, 200);
    assert.ok(fs.existsSync(path.join(dir, "00001-1234.png")), listFiles(dir).join(","));
    assert.deepEqual(
      listFiles(dir).filter((f) => f.endsWith(".tmp")),
      [],
    );
    // same seed -> same pixels (deterministic), different seed -> different
    const again = readPng(fs.readFileSync(path.join(dir, "00001-1234.png")), { pixels: true });
    assert.equal(again.rgb!.length, 64 * 64 * 3);
  });

  test("batch of 2: grid first in images/infotexts, saved as grid-NNNN under the grids folder", async () => {
    const r = await txt2img({ seed: 77, batch_size: 2, steps: 1, width: 32, height: 32, save_images: true });
    const b = r.json() as { images: string[]; info: string };
    const info = JSON.parse(b.info) as Info;
    assert.deepEqual(info.all_seeds, [77, 78]);
    assert.equal(b.images.length, 3);
    assert.equal(info.index_of_first_image, 1);
    assert.equal(info.infotexts.length, 3);
    const g = readPng(Buffer.from(b.images[0]!, "base64"));
    assert.deepEqual([g.width, g.height], [64, 32]);
    assert.match(g.text.parameters!, /Seed: 77,/);
    const d = dateOf(info);
    const files = listFiles(out);
    assert.ok(files.includes(`txt2img-grids/${d}/grid-0000.png`), files.join(", "));
    assert.ok(files.some((f) => new RegExp(`^txt2img-images/${d}/\\d{5}-77\\.png$`).test(f)));
    assert.ok(files.some((f) => new RegExp(`^txt2img-images/${d}/\\d{5}-78\\.png$`).test(f)));
    const one = await txt2img({ seed: 79, steps: 1, width: 32, height: 32, save_images: true, send_images: false });
    const ob = one.json() as { images: unknown[]; info: string };
    assert.deepEqual(ob.images, [], "send_images=false -> []");
    assert.equal((JSON.parse(ob.info) as Info).index_of_first_image, 0);
  });

  test("override_settings: filename options honoured, per-request outdir ignored (the WebUI reads it before override_settings apply), fresh-install persistence", async () => {
    const opts = async () =>
      (await http("GET", `${c.url}/sdapi/v1/options`, { headers: AUTH })).json() as Record<string, unknown>;
    const r = await txt2img({
      seed: 4242,
      steps: 1,
      width: 32,
      height: 32,
      save_images: true,
      override_settings: { samples_filename_pattern: "smoke-abc-[seed]", outdir_txt2img_samples: "/tmp/ignored" },
    });
    const info = JSON.parse((r.json() as { info: string }).info) as Info;
    const files = listFiles(path.join(out, "txt2img-images", dateOf(info)));
    assert.ok(
      files.some((f) => /^\d{5}-smoke-abc-4242\.png$/.test(f)),
      files.join(", "),
    );
    // Fresh install (no config.json): process_images restores only keys already in opts.data, so the
    // overrides stay in effect in memory (as the WebUI does: override_settings are applied and restored around the request) — including the outdir, for LATER requests.
    const o = await opts();
    assert.deepEqual([o.samples_filename_pattern, o.outdir_txt2img_samples], ["smoke-abc-[seed]", "/tmp/ignored"]);
    await postJson(
      `${c.url}/sdapi/v1/options`,
      {
        samples_filename_pattern: "",
        outdir_txt2img_samples: "outputs/txt2img-images",
        save_images_add_number: true,
        directories_filename_pattern: "[date]",
      },
      AUTH,
    );
    const r2 = await txt2img({
      seed: 4343,
      steps: 1,
      width: 32,
      height: 32,
      save_images: true,
      override_settings: {
        save_images_add_number: false,
        directories_filename_pattern: "custom-[seed]",
        samples_filename_pattern: "[seed]",
      },
    });
    assert.equal(r2.status, 200);
    assert.ok(listFiles(out).includes("txt2img-images/custom-4343/4343.png"), listFiles(out).join(", "));
    const o2 = await opts();
    assert.deepEqual(
      [o2.samples_filename_pattern, o2.save_images_add_number, o2.directories_filename_pattern],
      ["", true, "[date]"],
      "keys in config are restored",
    );
  });

  test("img2img: 404 without init_images, 500 for bad base64, saves under img2img-images", async () => {
    const nf = await postJson(`${c.url}/sdapi/v1/img2img`, { prompt: "x" }, AUTH);
    assert.deepEqual(
      [nf.status, nf.json()],
      [404, { error: "HTTPException", detail: "Init image not found", body: "", errors: "" }],
    );
    const bad = await postJson(`${c.url}/sdapi/v1/img2img`, { init_images: ["bm90IGFuIGltYWdl"] }, AUTH);
    assert.deepEqual(
      [bad.status, bad.json()],
      [500, { error: "HTTPException", detail: "Invalid encoded image", body: "", errors: "" }],
    );
    const t = (await txt2img({ steps: 1, width: 16, height: 16 })).json() as { images: string[] };
    const r = await postJson(
      `${c.url}/sdapi/v1/img2img`,
      {
        init_images: [`data:image/png;base64,${t.images[0]}`],
        seed: 9,
        steps: 1,
        width: 32,
        height: 32,
        save_images: true,
      },
      AUTH,
    );
    assert.equal(r.status, 200);
    const b = r.json() as { parameters: { init_images: unknown }; info: string };
    assert.equal(b.parameters.init_images, null, "init_images nulled unless include_init_images");
    const info = JSON.parse(b.info) as Info;
    assert.match(info.infotexts[0]!, /Denoising strength: 0\.75/);
    assert.ok(listFiles(out).includes(`img2img-images/${dateOf(info)}/00000-9.png`), listFiles(out).join(", "));
  });

  test("/file= serves saved outputs (no --gradio-auth here) with gradio's rules", async () => {
    const rel = listFiles(out).find((f) => f.endsWith("-1234.png"))!;
    const r = await http("GET", `${c.url}/file=${STANDIN_ROOT}/outputs/${rel}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(fs.readFileSync(path.join(out, rel))));
    assert.equal(r.headers["content-type"], "image/png");
    assert.equal((await http("GET", `${c.url}/file=outputs/${rel}`)).status, 200, "relative to the working dir");
    const cases: [string, number][] = [
      [`${STANDIN_ROOT}/outputs/../outputs/${rel}`, 403],
      [`${STANDIN_ROOT}/.hidden/x.png`, 403],
      ["/etc/passwd", 403],
      [`${STANDIN_ROOT}/outputs`, 403],
      [`${STANDIN_ROOT}/outputs/missing.png`, 404],
      ["/nowhere/missing.png", 403],
      [`${STANDIN_ROOT}/outputs/%2e%2e/x`, 403],
    ];
    for (const [p, code] of cases) {
      const x = await http("GET", `${c.url}/file=${p}`);
      assert.equal(x.status, code, p);
      const detail = (x.json() as { detail: string }).detail;
      assert.match(detail, code === 403 ? /^File not allowed: / : /^File not found: /);
    }
  });

  test("POST options persists and is reflected; logs carry no credentials", async () => {
    const r = await postJson(`${c.url}/sdapi/v1/options`, { samples_filename_pattern: "[seed]-opt" }, AUTH);
    assert.deepEqual([r.status, r.json()], [200, null]);
    const o = (await http("GET", `${c.url}/sdapi/v1/options`, { headers: AUTH })).json() as Record<string, unknown>;
    assert.equal(o.samples_filename_pattern, "[seed]-opt");
    await postJson(`${c.url}/sdapi/v1/options`, { samples_filename_pattern: "" }, AUTH);
    const logs = c.logs();
    assert.match(logs, /API .* 200 http\/1\.1 POST \/sdapi\/v1\/txt2img /);
    assert.ok(!logs.includes(PASS) && !logs.includes(AUTH.authorization!.slice(6)), "no credentials in logs");
  });
});
