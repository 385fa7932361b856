// The smoke CLI against the stand-in in real containers with host folders bind-mounted: success for
// txt2img/img2img (api-and-ui and api-only), and every failure class with its message and exit code.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { requireDocker } from "../helpers/docker.js";
import { requireOrSkip } from "../helpers/requirements.js";
import {
  API_PW,
  LOCKED,
  ROOT,
  STANDIN_IMAGE,
  UI_PW,
  imagePresent,
  makeDirs,
  runSmokeCli,
  smokeArgs,
  startContainer,
} from "./harness.js";
import type { CliResult } from "./harness.js";
import { ApiClient } from "../../smoke/client.js";
import { SMOKE_EXIT, type FailureClass } from "../../smoke/errors.js";

function ready(t: TestContext): boolean {
  if (!requireDocker(t)) return false;
  return requireOrSkip(
    t,
    imagePresent() ? "" : "stand-in image missing and could not be built: run npm run standin:image",
  );
}

/** No secret in any output, and the failure class, its exit code and the message as expected. */
function expectFailure(r: CliResult, failure: FailureClass, message: RegExp): void {
  const all = r.stdout + r.stderr;
  assert.ok(!all.includes(API_PW) && !all.includes(UI_PW), "a password appeared in the output");
  const code = SMOKE_EXIT[failure];
  assert.equal(r.code, code, `exit ${r.code}, expected ${code} (${failure})\n${all}`);
  assert.equal(r.json?.ok, false);
  assert.equal(r.json?.failure, failure);
  assert.match(String(r.json?.message), message);
}

test("txt2img: the image is on the host, verified, and the lock holds (api-and-ui)", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED });
  const r = await runSmokeCli(smokeArgs(c, dirs, ["--container", c.name]));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const j = r.json ?? {};
  assert.equal(j.ok, true);
  assert.ok(String(j.file).startsWith(`${dirs.outputs}/txt2img-images/`));
  assert.match(String(j.file), new RegExp(`-${String(j.seed)}\\.png$`));
  assert.ok(existsSync(String(j.file)));
  assert.equal(j.bytes, readFileSync(String(j.file)).length);
  assert.match(String(j.runId), /^smoke-[0-9a-f]{12}$/);
  assert.equal(j.containerFile, String(j.file).replace(dirs.outputs, `${ROOT}/outputs`));
  const timings = j.timings as Record<string, number>;
  for (const k of ["readyMs", "generateMs", "locateMs", "totalMs"]) assert.equal(typeof timings[k], "number", k);
  const lock = j.lock as { refused: string[]; fileServed: boolean };
  assert.equal(lock.fileServed, true);
  assert.ok(lock.refused.some((l) => /options without credentials: 401/.test(l)));
  assert.ok(readFileSync(String(j.file)).includes(String(j.runId)));
  assert.ok(!(r.stdout + r.stderr).includes(API_PW));
});

test("img2img: lands in img2img-images on the host", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED });
  const r = await runSmokeCli(smokeArgs(c, dirs, ["--img2img", "--width", "128", "--height", "96"]));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(String(r.json?.file).startsWith(`${dirs.outputs}/img2img-images/`));
  assert.equal(r.json?.width, 128);
});

test("human summary without --json", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED });
  const r = await runSmokeCli(smokeArgs(c, dirs).filter((a) => a !== "--json"));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^smoke OK: txt2img image saved on the host\n {2}file {5}\//);
});

test("api-only (--nowebui): no UI and no /file=, the proof holds", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: ["--nowebui", "--api-auth", `sd:${API_PW}`] });
  const r = await runSmokeCli(smokeArgs(c, dirs, ["--exposure", "api-only"]));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((r.json?.lock as { fileServed: boolean }).fileServed, false);
});

test("start-up delay shorter than the timeout: waits with progress, then succeeds", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED, env: { STANDIN_STARTUP_DELAY_MS: "12000" } });
  const r = await runSmokeCli(smokeArgs(c, dirs, ["--timeout", "40"]));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /waiting for the model .*: .*; \d+s elapsed of 40s limit/);
});

test("start-up delay longer than the timeout: model-timeout (16)", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED, env: { STANDIN_STARTUP_DELAY_MS: "60000" } });
  const r = await runSmokeCli(smokeArgs(c, dirs, ["--timeout", "5"]));
  expectFailure(r, "model-timeout", /timed out waiting for the model.*raise --timeout/);
});

test("no --api: api-disabled (13)", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: ["--gradio-auth", `viewer:${UI_PW}`] });
  expectFailure(await runSmokeCli(smokeArgs(c, dirs)), "api-disabled", /start the WebUI with --api/);
});

test("wrong password: unauthorized (14)", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED });
  const r = await runSmokeCli(smokeArgs(c, dirs), { SMOKE_IT_API_PW: "wrong-pw-Zz" });
  expectFailure(r, "unauthorized", /401 .*Incorrect username or password.*--api-auth/);
  assert.ok(!(r.stdout + r.stderr).includes("wrong-pw-Zz"));
});

test("no checkpoint: no-checkpoint (15) names the host models folder", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t, { checkpoint: false });
  const c = startContainer(t, dirs, { args: LOCKED });
  const r = await runSmokeCli(smokeArgs(c, dirs));
  expectFailure(r, "no-checkpoint", new RegExp(`put a \\.safetensors file in ${dirs.models}/Stable-diffusion`));
});

test("outputs not mounted: saved-in-container (21)", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED, mountOutputs: false });
  const r = await runSmokeCli(smokeArgs(c, dirs, ["--container", c.name]));
  expectFailure(r, "saved-in-container", /inside the container only.*outputs volume is not mapped/);
});

test("outputs not mounted, without --container: saved-nowhere (20) lists what was searched", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED, mountOutputs: false });
  const r = await runSmokeCli(smokeArgs(c, dirs));
  expectFailure(r, "saved-nowhere", /no \*-\d+\.png is in the host folders searched.*outputs volume/);
  assert.ok(
    (r.json?.details as string[]).some(
      (d) => d.includes(`${dirs.outputs}/txt2img-images/`) && /does not exist/.test(d),
    ),
  );
});

test("host folder not writable by uid 1000: permission-denied (24) names the uid", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t, { outputsOwner: 0 });
  const c = startContainer(t, dirs, { args: LOCKED });
  const r = await runSmokeCli(smokeArgs(c, dirs));
  expectFailure(r, "permission-denied", /writable by uid 1000.*chown -R 1000:1000/);
  assert.ok((r.json?.details as string[]).some((d) => /owner uid 0/.test(d)));
});

test("fault ignore-save: saved-nowhere (20)", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED, env: { STANDIN_FAULT: "ignore-save" } });
  expectFailure(await runSmokeCli(smokeArgs(c, dirs, ["--container", c.name])), "saved-nowhere", /API says it saved/);
});

test("fault wrong-dir: data-root-mismatch (22) names the profile paths", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED, env: { STANDIN_FAULT: "wrong-dir" } });
  const r = await runSmokeCli(smokeArgs(c, dirs, ["--container", c.name]));
  expectFailure(r, "data-root-mismatch", new RegExp(`outside the mounted folder ${ROOT}/outputs.*data root ${ROOT}`));
});

test("outdir outside the mounted folder (an sd-auto style /output/txt2img): data-root-mismatch (22) before generating", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED });
  // Wait for the API, then set an absolute outdir as AbdBarho's config.py does.
  const api = new ApiClient({ baseUrl: c.url, username: "sd", password: API_PW, connectTimeoutMs: 2000 });
  t.after(() => api.close());
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    const res = await api
      .raw("POST", "/sdapi/v1/options", {
        timeoutMs: 5000,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ outdir_txt2img_samples: "/output/txt2img" }),
      })
      .catch(() => undefined);
    status = res?.status ?? 0;
    if (status !== 200) await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(status, 200, "POST /sdapi/v1/options");
  const r = await runSmokeCli(smokeArgs(c, dirs));
  expectFailure(
    r,
    "data-root-mismatch",
    new RegExp(
      `saves txt2img images to /output/txt2img.*not under the mounted outputs folder ${ROOT}/outputs.*profile`,
    ),
  );
  assert.equal(r.json?.seed, null, "no proof image was generated");
});

test("fault error-500: generation-failed (17) with the body", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED, env: { STANDIN_FAULT: "error-500" } });
  expectFailure(await runSmokeCli(smokeArgs(c, dirs)), "generation-failed", /HTTP 500: OutOfMemoryError/);
});

test("fault slow: model-timeout (16)", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED, env: { STANDIN_FAULT: "slow", STANDIN_SLOW_MS: "60000" } });
  expectFailure(await runSmokeCli(smokeArgs(c, dirs, ["--timeout", "4"])), "model-timeout", /timed out/);
});

test("fault corrupt-png: bad-png (23)", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED, env: { STANDIN_FAULT: "corrupt-png" } });
  expectFailure(
    await runSmokeCli(smokeArgs(c, dirs)),
    "bad-png",
    /is not a valid PNG|does not match the proof request/,
  );
});

test("no --gradio-auth in api-and-ui mode: surface-open (30) for /file=", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: ["--api", "--api-auth", `sd:${API_PW}`] });
  expectFailure(await runSmokeCli(smokeArgs(c, dirs)), "surface-open", /\/file=.*without credentials.*--gradio-auth/);
});

test("no --api-auth: surface-open (30) for /sdapi/v1/options", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: ["--api", "--gradio-auth", `viewer:${UI_PW}`] });
  expectFailure(
    await runSmokeCli(smokeArgs(c, dirs)),
    "surface-open",
    /options answers 200 without credentials.*--api-auth/,
  );
});

test("wrong UI password: file-serve (31)", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED });
  const r = await runSmokeCli(smokeArgs(c, dirs), { SMOKE_IT_UI_PW: "not-the-ui-pw" });
  expectFailure(r, "file-serve", /UI login .*failed with 400.*--gradio-auth/);
});

test("no --listen (WebUI bound to 127.0.0.1 inside the container): listen-localhost (12)", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  // The image's ENTRYPOINT without --listen: the WebUI binds 127.0.0.1:8080 inside the container.
  const entry = JSON.parse(
    execFileSync("docker", ["image", "inspect", "-f", "{{json .Config.Entrypoint}}", STANDIN_IMAGE], {
      encoding: "utf8",
    }),
  ) as string[];
  const [program, ...rest] = entry.filter((a) => a !== "--listen");
  assert.ok(program && entry.includes("--listen"), `unexpected ENTRYPOINT ${JSON.stringify(entry)}`);
  const c = startContainer(t, dirs, { entrypoint: program, args: [...rest, ...LOCKED] });
  const r = await runSmokeCli(smokeArgs(c, dirs, ["--container", c.name, "--timeout", "4"]));
  expectFailure(r, "listen-localhost", /listens on 127\.0\.0\.1:8080 only.*start the WebUI with --listen/);
  const r2 = await runSmokeCli(smokeArgs(c, dirs, ["--timeout", "3"]));
  expectFailure(r2, "unreachable", /--listen/);
});

test("packets dropped while the host is up: firewall (11)", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED });
  // DROP inside the container's own network namespace (removed with the container).
  execFileSync(
    "nsenter",
    ["-t", String(c.pid), "-n", "iptables", "-I", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP"],
    { timeout: 15_000 },
  );
  const args = smokeArgs(c, dirs, ["--connect-timeout", "1", "--timeout", "20"]).map((a) =>
    a === c.url ? `http://${c.ip}:8080` : a,
  );
  const r = await runSmokeCli(args);
  expectFailure(r, "firewall", /times out while the Docker host is up.*firewall/);
});

test("container stopped: unreachable (10) says so", async (t) => {
  if (!ready(t)) return;
  const dirs = makeDirs(t);
  const c = startContainer(t, dirs, { args: LOCKED });
  execFileSync("docker", ["stop", "-t", "1", c.name], { timeout: 30_000 });
  const r = await runSmokeCli(smokeArgs(c, dirs, ["--container", c.name, "--timeout", "3"]));
  expectFailure(r, "unreachable", /not running/);
});
