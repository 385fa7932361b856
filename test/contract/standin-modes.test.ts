// Contract of the stand-in's start-up and modes, each in a real
// container: flags and their failures, bind address, --gradio-auth, --nowebui, the exec-form
// healthcheck through the python3 shim, the STANDIN_* knobs, no checkpoint, the queue lock.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { docker, dockerStatus } from "../helpers/docker.js";
import { requireOrSkip } from "../helpers/requirements.js";
import {
  ensureStandinImage,
  makeModelsDir,
  STANDIN_IMAGE,
  STANDIN_ROOT,
  startStandinContainer,
  type StandinContainer,
  type StandinContainerOpts,
} from "../helpers/standin.js";
import { readPng } from "../standin/png.js";
import { basic, hostDir, http, listFiles, postJson, rmrf } from "./util.js";

const skip = dockerStatus().ok ? false : process.env.CI ? false : `no Docker engine (${dockerStatus().detail})`;
const NODE_ENTRY = ["/usr/bin/node", "/opt/standin/server.js"];
const HEALTH = (url: string): string[] => [
  "CMD",
  "python3",
  "-c",
  `import urllib.request; urllib.request.urlopen('${url}', timeout=10)`,
];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("stand-in start-up and modes (containers)", { skip }, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const f of cleanups.reverse()) await f();
  });
  const start = async (o: StandinContainerOpts): Promise<StandinContainer> => {
    const c = await startStandinContainer(o);
    cleanups.push(() => c.stop());
    return c;
  };
  const dir = (p: string): string => {
    const d = hostDir(p);
    cleanups.push(() => rmrf(d));
    return d;
  };
  const models = (): string => makeModelsDir(dir("standin-m-"));
  /** `docker run --rm` in the foreground: exit status and both streams. */
  const runOnce = (args: string[], env: string[] = []) => {
    ensureStandinImage();
    const r = spawnSync(
      "docker",
      ["run", "--rm", "--pull", "never", ...env.flatMap((e) => ["-e", e]), STANDIN_IMAGE, ...args],
      { encoding: "utf8", timeout: 30_000 },
    );
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };

  test("an unknown flag fails start-up as argparse does (argv and COMMANDLINE_ARGS)", () => {
    for (const [args, env] of [
      [["--api", "--bogus"], []],
      [[], ["COMMANDLINE_ARGS=--api --nope 'x y'"]],
    ] as [string[], string[]][]) {
      const r = runOnce(args, env);
      assert.equal(r.status, 2, r.out);
      assert.match(r.out, /^usage: launch\.py \[-h\] /m);
      assert.match(r.out, /launch\.py: error: unrecognized arguments: (--bogus|--nope x y)\n/);
    }
    const p = runOnce(["--port", "abc"]);
    assert.equal(p.status, 2);
    assert.match(p.out, /error: argument --port: invalid int value: 'abc'/);
  });

  test("--api-auth with ':' in a password crashes start-up with the ValueError, without printing it", () => {
    const r = runOnce(["--api", "--api-auth", "user:pa:ss"]);
    assert.notEqual(r.status, 0);
    assert.match(
      r.out,
      /Traceback \(most recent call last\):[\s\S]*user, password = auth\.split\(":"\)\nValueError: too many values to unpack \(expected 2\)/,
    );
    assert.ok(!r.out.includes("pa:ss"));
  });

  test("--api-auth is only parsed when the API is mounted: without --api the same value starts fine", async () => {
    const c = await start({ args: ["--api-auth", "user:pa:ss"] });
    assert.equal((await http("GET", `${c.url}/internal/ping`)).status, 200);
  });

  test("without --api: /sdapi is 404 as FastAPI; docs, ping and the UI are served; COMMANDLINE_ARGS adds flags", async () => {
    const [plain, viaEnv] = await Promise.all([
      start({}),
      start({ env: { COMMANDLINE_ARGS: "--api" }, modelsHostDir: models() }),
    ]);
    const r = await postJson(`${plain.url}/sdapi/v1/txt2img`, {});
    assert.deepEqual([r.status, r.json()], [404, { detail: "Not Found" }]);
    assert.equal((await http("GET", `${plain.url}/sdapi/v1/options`)).status, 404);
    for (const p of ["/docs", "/openapi.json", "/internal/ping", "/"])
      assert.equal((await http("GET", `${plain.url}${p}`)).status, 200, p);
    assert.ok(!(await http("GET", `${plain.url}/openapi.json`)).text.includes("/sdapi/"));
    assert.equal((await http("GET", `${viaEnv.url}/sdapi/v1/sd-models`)).status, 200);
  });

  test("without --listen it binds 127.0.0.1 only: the published port does not answer, inside it does", async () => {
    const c = await start({ entrypoint: [...NODE_ENTRY, "--api", "--port", "8080"], waitForHttp: false });
    for (let i = 0; i < 100 && !c.logs().includes("Running on local URL:  http://127.0.0.1:8080"); i++)
      await sleep(100);
    assert.match(c.logs(), /Running on local URL: {2}http:\/\/127\.0\.0\.1:8080/);
    await assert.rejects(http("GET", `${c.url}/internal/ping`, { timeoutMs: 2000 }));
    const inside = spawnSync(
      "docker",
      ["exec", c.containerName, ...HEALTH("http://127.0.0.1:8080/internal/ping").slice(1)],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.equal(inside.status, 0, inside.stderr);
  });

  test("--gradio-auth guards the UI, /config and /file= with gradio's cookie login; not /sdapi, /internal, /docs", async () => {
    const out = dir("standin-o-");
    const c = await start({
      args: ["--api", "--api-auth", "api:apipw", "--gradio-auth", "ui:p:w"],
      outputsHostDir: out,
      modelsHostDir: models(),
    });
    const gen = await postJson(
      `${c.url}/sdapi/v1/txt2img`,
      { seed: 5, steps: 1, width: 32, height: 32, save_images: true },
      basic("api", "apipw"),
    );
    assert.equal(gen.status, 200);
    const rel = listFiles(out)[0]!;
    const fileUrl = `${c.url}/file=${STANDIN_ROOT}/outputs/${rel}`;
    const notAuth = { error: "HTTPException", detail: "Not authenticated", body: "", errors: "" };
    const root = await http("GET", `${c.url}/`);
    assert.equal(root.status, 200);
    assert.match(root.text, /"auth_required":true/);
    for (const u of [fileUrl, `${c.url}/config`])
      assert.deepEqual([(await http("GET", u)).status, (await http("GET", u)).json()], [401, notAuth], u);
    assert.equal((await http("GET", `${c.url}/internal/ping`)).status, 200);
    assert.equal((await http("GET", `${c.url}/docs`)).status, 200);
    const form = (u: string, p: string) => ({
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: u, password: p }).toString(),
    });
    const wrong = await http("POST", `${c.url}/login`, form("ui", "nope"));
    assert.deepEqual(
      [wrong.status, wrong.json()],
      [400, { error: "HTTPException", detail: "Incorrect credentials.", body: "", errors: "" }],
    );
    const ok = await http("POST", `${c.url}/login`, form("ui", "p:w"));
    assert.deepEqual([ok.status, ok.json()], [200, { success: true }]);
    const cookies = (ok.headers["set-cookie"] as string[]).map((s) => s.split(";")[0]!);
    assert.ok(cookies.some((s) => s.startsWith("access-token=")));
    const cookie = { cookie: cookies.join("; ") };
    const f = await http("GET", fileUrl, { headers: cookie });
    assert.equal(f.status, 200);
    assert.ok(f.body.equals(fs.readFileSync(path.join(out, rel))), "byte-identical to the file on disk");
    assert.doesNotMatch((await http("GET", `${c.url}/`, { headers: cookie })).text, /auth_required/);
    assert.equal((await http("GET", `${c.url}/file=/etc/passwd`, { headers: cookie })).status, 403);
    assert.equal(
      (await http("GET", `${c.url}/sdapi/v1/options`, { headers: cookie })).status,
      401,
      "gradio login does not open /sdapi",
    );
    const logs = c.logs();
    assert.ok(!logs.includes("apipw") && !logs.includes("p:w"), "no credentials in logs");
  });

  test("--gradio-auth without --api: FastAPI's plain 401 body on /file=", async () => {
    const c = await start({ args: ["--gradio-auth", "ui:pw"] });
    const r = await http("GET", `${c.url}/file=${STANDIN_ROOT}/models`);
    assert.deepEqual([r.status, r.json()], [401, { detail: "Not authenticated" }]);
  });

  test("--nowebui: API without --api, default port 7861, /docs open, no UI, /internal or /file=", async () => {
    const c = await start({ entrypoint: [...NODE_ENTRY, "--nowebui", "--listen"], modelsHostDir: models() });
    assert.match(c.logs(), /Uvicorn running on http:\/\/0\.0\.0\.0:7861/);
    assert.equal((await http("GET", `${c.url}/sdapi/v1/sd-models`)).status, 200);
    assert.equal((await http("GET", `${c.url}/docs`)).status, 200);
    for (const p of ["/", "/internal/ping", `/file=${STANDIN_ROOT}/models`, "/login"]) {
      const r = await http("GET", `${c.url}${p}`);
      assert.deepEqual([r.status, r.json()], [404, { detail: "Not Found" }], p);
    }
  });

  test("exec-form healthcheck through the python3 shim: healthy (webui /internal/ping, api-only /docs), unhealthy on 404", async () => {
    const [web, api, bad] = await Promise.all([
      start({ args: ["--api"], healthcheck: HEALTH("http://127.0.0.1:8080/internal/ping") }),
      start({ args: ["--nowebui"], healthcheck: HEALTH("http://127.0.0.1:8080/docs") }),
      start({ args: ["--nowebui"], healthcheck: HEALTH("http://127.0.0.1:8080/internal/ping") }),
    ]);
    const health = (c: StandinContainer) =>
      docker(["inspect", c.containerName, "--format", "{{.State.Health.Status}}"]).trim();
    const want: [StandinContainer, string][] = [
      [web, "healthy"],
      [api, "healthy"],
      [bad, "unhealthy"],
    ];
    const t0 = Date.now();
    while (want.some(([c, s]) => health(c) !== s) && Date.now() - t0 < 20_000) await sleep(250);
    assert.deepEqual(
      want.map(([c]) => health(c)),
      want.map(([, s]) => s),
    );
  });

  test("host outputs folder not writable by uid 1000: 500 PermissionError on save, server stays up", async (t) => {
    if (
      !requireOrSkip(
        t,
        process.getuid?.() === 1000
          ? "the test user is uid 1000: every folder it makes is writable by the container"
          : "",
      )
    )
      return;
    const ro = fs.mkdtempSync(path.join(os.tmpdir(), "standin-ro-"));
    fs.chmodSync(ro, 0o755);
    cleanups.push(() => rmrf(ro));
    const c = await start({ args: ["--api"], outputsHostDir: ro, modelsHostDir: models() });
    assert.equal(
      (await postJson(`${c.url}/sdapi/v1/txt2img`, { steps: 1, width: 16, height: 16 })).status,
      200,
      "no save: fine",
    );
    const r = await postJson(`${c.url}/sdapi/v1/txt2img`, { steps: 1, width: 16, height: 16, save_images: true });
    assert.equal(r.status, 500);
    const b = r.json() as Record<string, string>;
    assert.equal(b.error, "PermissionError");
    assert.match(b.errors!, /^\[Errno 13\] Permission denied: '\/app\/stable-diffusion-webui\/outputs\/txt2img-images/);
    assert.equal((await http("GET", `${c.url}/internal/ping`)).status, 200);
    assert.deepEqual(listFiles(ro), []);
  });

  test("no checkpoint: sd-models is [] and txt2img is the WebUI's 500 FileNotFoundError", async () => {
    const c = await start({ args: ["--api"], modelsHostDir: dir("standin-empty-") });
    assert.deepEqual((await http("GET", `${c.url}/sdapi/v1/sd-models`)).json(), []);
    const r = await postJson(`${c.url}/sdapi/v1/txt2img`, { steps: 1 });
    assert.equal(r.status, 500);
    const b = r.json() as Record<string, string>;
    assert.deepEqual([b.error, b.detail, b.body], ["FileNotFoundError", "", ""]);
    assert.match(
      b.errors!,
      /^No checkpoints found\. When searching for checkpoints, looked at:\n - file \/app\/stable-diffusion-webui\/model\.ckpt\n - directory \/app\/stable-diffusion-webui\/models\/Stable-diffusionCan't run without a checkpoint/,
    );
  });

  test("STANDIN_* knobs: start-up delay blocks generation only; faults; queue lock serialises", async () => {
    const outs = Object.fromEntries(
      ["delay", "ignore", "wrong", "err", "slow", "corrupt"].map((k) => [k, dir(`standin-${k}-`)]),
    );
    const mk = (k: string, env: Record<string, string>) =>
      start({ args: ["--api"], env, outputsHostDir: outs[k], modelsHostDir: models() });
    const body = { seed: 11, steps: 1, width: 64, height: 64, save_images: true };
    const gen = (c: StandinContainer, b: object = body) => postJson(`${c.url}/sdapi/v1/txt2img`, b);
    // The delay container first, alone, so its time to answer is not the other starts' (a busy host is slow).
    const t0 = Date.now();
    const delay = await mk("delay", { STANDIN_STARTUP_DELAY_MS: "5000" });
    const answeredAfter = Date.now() - t0;
    const delayed = gen(delay).then((r) => ({ status: r.status, after: Date.now() - t0 }));
    const [ignore, wrong, err, slow, corrupt] = await Promise.all([
      mk("ignore", { STANDIN_FAULT: "ignore-save" }),
      mk("wrong", { STANDIN_FAULT: "wrong-dir" }),
      mk("err", { STANDIN_FAULT: "error-500" }),
      mk("slow", { STANDIN_FAULT: "slow", STANDIN_SLOW_MS: "600" }),
      mk("corrupt", { STANDIN_FAULT: "corrupt-png" }),
    ]);
    assert.ok(answeredAfter < 5000, `HTTP answers before the delay has passed (${answeredAfter} ms)`);
    const d = await delayed;
    assert.equal(d.status, 200);
    assert.ok(d.after >= 5000, `generation waited for the delay (${d.after} ms)`);

    assert.equal((await gen(ignore)).status, 200);
    assert.deepEqual(listFiles(outs.ignore!), []);

    const w = await gen(wrong);
    assert.equal(w.status, 200);
    assert.deepEqual(listFiles(outs.wrong!), []);
    const tar = spawnSync("sh", ["-c", `docker cp ${wrong.containerName}:/tmp/elsewhere - | tar -t`], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.match(
      tar.stdout,
      /elsewhere\/app\/stable-diffusion-webui\/outputs\/txt2img-images\/\d{4}-\d{2}-\d{2}\/00000-11\.png/,
    );

    const e = await gen(err);
    assert.equal(e.status, 500);
    assert.equal((e.json() as { error: string }).error, "OutOfMemoryError");

    const c = await gen(corrupt);
    assert.equal(c.status, 200);
    const cf = listFiles(outs.corrupt!);
    assert.match(cf.join(), /^txt2img-images\/\d{4}-\d{2}-\d{2}\/00000-11\.png$/);
    assert.throws(() => readPng(fs.readFileSync(path.join(outs.corrupt!, cf[0]!))));

    const s0 = Date.now();
    const [a, b] = await Promise.all([gen(slow, { ...body, seed: 1 }), gen(slow, { ...body, seed: 2 })]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    assert.ok(Date.now() - s0 >= 1150, `two slow generations ran one after the other (${Date.now() - s0} ms)`);
    assert.deepEqual(
      listFiles(outs.slow!).map((f) => path.basename(f)),
      ["00000-1.png", "00001-2.png"],
    );

    const st = Date.now();
    docker(["stop", "-t", "10", slow.containerName]);
    assert.ok(Date.now() - st < 3000, "SIGTERM ends it promptly");
  });
});
