// The stand-in's pure parts against the WebUI's rules (no Docker): argparse behaviour, shlex,
// infotext format, file naming and the per-folder counter, pydantic v1 coercion, sampler fallback;
// plus the in-process mode of the helper with --data-dir outside the working dir.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import type { IncomingMessage } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { makeModelsDir, startStandinProcess } from "../helpers/standin.js";
import { ArgError, effectiveArgv, parseArgs, shlexSplit, usage } from "../standin/args.js";
import { samplerAndScheduler } from "../standin/catalog.js";
import { basicAuthFailure } from "../standin/http.js";
import { readPng } from "../standin/png.js";
import { applyPattern, createInfotext, nextSequence, saveFile } from "../standin/save.js";
import { TXT2IMG_FIELDS, validateBody } from "../standin/validate.js";
import { postJson, rmrf } from "./util.js";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "standin-pure-"));

test("shlex.split and COMMANDLINE_ARGS appended after argv", () => {
  assert.deepEqual(shlexSplit(`--api  --api-auth 'u:p w' "--x=\\"q\\"" a\\ b`), [
    "--api",
    "--api-auth",
    "u:p w",
    '--x="q"',
    "a b",
  ]);
  assert.throws(() => shlexSplit("'open"), /No closing quotation/);
  assert.deepEqual(effectiveArgv(["--listen"], { COMMANDLINE_ARGS: "--api --port 9" }), [
    "--listen",
    "--api",
    "--port",
    "9",
  ]);
});

test("argparse: abbreviations, =value, nargs+, choices, errors and defaults", () => {
  const o = parseArgs(
    ["--nowe", "--port=9", "--use-cpu", "ALL", "sd", "--precision", "full", "--gradio-allowed-path", "/x"],
    "/inst",
  )!;
  assert.deepEqual(
    [o.nowebui, o.port, o.use_cpu, o.precision, o.data_dir, o.ckpt],
    [true, 9, ["all", "sd"], "full", "/inst", "/inst/model.ckpt"],
  );
  assert.deepEqual(o.gradio_allowed_path, ["/inst", "/x"]);
  assert.equal(parseArgs(["--data-dir", "/d"], "/inst")!.ui_settings_file, "/d/config.json");
  const err = (a: string[]) => {
    try {
      parseArgs(a, "/i");
    } catch (e) {
      return (e as ArgError).text();
    }
    return "";
  };
  assert.match(err(["--bogus", "x"]), /launch\.py: error: unrecognized arguments: --bogus x\n$/);
  assert.match(
    err(["--precision", "bad"]),
    /argument --precision: invalid choice: 'bad' \(choose from 'full', 'half', 'autocast'\)/,
  );
  assert.match(err(["--listen=1"]), /argument --listen: ignored explicit argument '1'/);
  assert.match(err(["--port"]), /argument --port: expected one argument/);
  assert.match(err(["--api-", "x"]), /ambiguous option: --api- could match --api-auth, --api-log, --api-server-stop/);
  assert.equal(parseArgs(["--help"], "/i"), null);
  assert.match(usage(), /^usage: launch\.py \[-h\] \[-f\] \[--update-all-extensions\]/);
  assert.ok(
    usage()
      .split("\n")
      .every((l) => l.length <= 80 || !l.trim().includes("] [")),
    "wrapped at 80 unless one item is longer",
  );
});

test("infotext in create_infotext's format (the reference example) and quoting", () => {
  const base = {
    prompt: "a cat",
    negative: "blurry",
    steps: 20,
    sampler: "Euler",
    scheduler: "Automatic",
    cfg: 7,
    seed: 1234,
    width: 512,
    height: 512,
    modelHash: "6ce0161689",
    modelName: "v1-5-pruned-emaonly",
    subseed: 1,
    subseedStrength: 0,
    addVersion: true,
  };
  assert.equal(
    createInfotext(base),
    "a cat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler, Schedule type: Automatic, CFG scale: 7.0, Seed: 1234, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.10.1",
  );
  assert.equal(
    createInfotext({ ...base, negative: "", modelName: "a,b", addVersion: false, cfg: 6.5 }).split("\n")[1],
    'Steps: 20, Sampler: Euler, Schedule type: Automatic, CFG scale: 6.5, Seed: 1234, Size: 512x512, Model hash: 6ce0161689, Model: "a,b"',
  );
});

test("file names: pattern tokens, per-folder counter, .tmp then rename", (t) => {
  const d = tmp();
  t.after(() => rmrf(d));
  const ctx = {
    seed: 42,
    seedFirst: 42,
    seedLast: 43,
    prompt: "a: cat/dog",
    steps: 3,
    cfg: 7,
    width: 8,
    height: 8,
    sampler: "Euler",
    modelName: "m",
    modelHash: "h",
    now: new Date(2025, 0, 31, 10, 0, 0),
    jobTimestamp: "20250131100000",
  };
  assert.equal(applyPattern("[date]", ctx), "2025-01-31");
  assert.equal(applyPattern("smoke-x-[seed]-[unknown]", ctx), "smoke-x-42-[unknown]");
  assert.equal(applyPattern("[prompt]", ctx), "a_ cat_dog");
  for (const f of ["00003-1.png", "00010-9.png.tmp", "grid-0002.png", "notes.txt", "abc-1.png"])
    fs.writeFileSync(path.join(d, f), "");
  assert.equal(nextSequence(d, ""), 11);
  assert.equal(nextSequence(d, "grid"), 3);
  assert.equal(nextSequence(path.join(d, "new"), ""), 0);
  const opts = { dir: path.join(d, "day"), basename: "", decoration: "42", ext: "png", addNumber: true, replace: true };
  assert.equal(path.basename(saveFile(opts, Buffer.from("a"))), "00000-42.png");
  assert.equal(path.basename(saveFile(opts, Buffer.from("b"))), "00001-42.png");
  assert.equal(
    path.basename(saveFile({ ...opts, basename: "grid", decoration: "" }, Buffer.from("g"))),
    "grid-0000.png",
  );
  assert.deepEqual(
    fs.readdirSync(opts.dir).filter((f) => f.endsWith(".tmp")),
    [],
  );
});

test("request model: pydantic v1 coercion, defaults, unknown keys ignored", () => {
  const v = validateBody(
    JSON.stringify({ steps: 20.7, width: "64", save_images: "yes", prompt: 5, bogus: 1 }),
    TXT2IMG_FIELDS,
  );
  assert.ok(v.ok);
  assert.deepEqual(
    [
      v.req.steps,
      v.req.width,
      v.req.save_images,
      v.req.prompt,
      v.req.send_images,
      v.req.sampler_index,
      "bogus" in v.req,
    ],
    [20, 64, true, "5", true, "Euler", false],
  );
  assert.deepEqual(validateBody("", TXT2IMG_FIELDS), {
    ok: false,
    detail: [{ loc: ["body"], msg: "field required", type: "value_error.missing" }],
  });
  const bad = validateBody(JSON.stringify({ styles: ["a", {}] }), TXT2IMG_FIELDS);
  assert.deepEqual(bad.ok ? [] : bad.detail, [
    { loc: ["body", "styles", 1], msg: "str type expected", type: "type_error.str" },
  ]);
});

test("samplers: scheduler suffix split, default scheduler shown as Automatic, unknown falls back to DPM++ 2M", () => {
  assert.deepEqual(samplerAndScheduler("DPM++ 2M Karras", null), ["DPM++ 2M", "Automatic"]);
  assert.deepEqual(samplerAndScheduler("Euler a", "Karras"), ["Euler a", "Karras"]);
  assert.deepEqual(samplerAndScheduler("nope", null), ["DPM++ 2M", "Automatic"]);
});

test("HTTPBasic decoding cases", () => {
  const creds = new Map([["u", "p:with:colons"]]);
  const f = (authorization?: string) =>
    basicAuthFailure({ headers: authorization ? { authorization } : {} } as IncomingMessage, creds);
  const b = (s: string) => `Basic ${Buffer.from(s).toString("base64")}`;
  assert.equal(f(b("u:p:with:colons")), null, "the password is everything after the first colon");
  assert.equal(f(), "Not authenticated");
  assert.equal(f("basic"), "Invalid authentication credentials");
  assert.equal(f(b("u:x")), "Incorrect username or password");
  assert.equal(f(`Basic ${Buffer.from([0xff, 0x3a]).toString("base64")}`), "Invalid authentication credentials");
});

test("process mode: --data-dir outside the working dir gives absolute outdirs; STANDIN_WRONG_DIR; --nowebui binds all interfaces", async (t) => {
  const data = tmp();
  const elsewhere = tmp();
  t.after(() => {
    rmrf(data);
    rmrf(elsewhere);
  });
  makeModelsDir(path.join(data, "models"));
  const p = await startStandinProcess(["--nowebui", "--data-dir", data], {
    STANDIN_FAULT: "wrong-dir",
    STANDIN_WRONG_DIR: elsewhere,
  });
  t.after(() => p.stop());
  assert.match(p.logs(), new RegExp(`Uvicorn running on http://0\\.0\\.0\\.0:${p.port}`));
  const o = (await (await fetch(`${p.url}/sdapi/v1/options`)).json()) as Record<string, string>;
  assert.equal(o.outdir_txt2img_samples, path.join(data, "outputs/txt2img-images"));
  const r = await postJson(`${p.url}/sdapi/v1/txt2img`, {
    seed: 3,
    steps: 1,
    width: 16,
    height: 16,
    save_images: true,
  });
  assert.equal(r.status, 200);
  assert.ok(!fs.existsSync(path.join(data, "outputs")), "wrong-dir: nothing under the configured outdir");
  const day = fs.readdirSync(path.join(elsewhere, data, "outputs/txt2img-images"));
  const file = path.join(elsewhere, data, "outputs/txt2img-images", day[0]!, "00000-3.png");
  assert.match(readPng(fs.readFileSync(file)).text.parameters!, /Seed: 3,/);
  await p.stop();
  assert.equal(await p.exited, 0, "SIGTERM exits 0");
});
