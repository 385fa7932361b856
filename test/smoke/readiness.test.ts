// Readiness wait against a scripted loopback server: what is retried, what is final, the bound.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { ApiClient } from "../../smoke/client.js";
import { SmokeError } from "../../smoke/errors.js";
import { NotReachedError, waitForApi, waitForModel } from "../../smoke/readiness.js";
import type { Clock } from "../../smoke/readiness.js";

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

async function serve(t: TestContext, h: Handler): Promise<{ url: string; hits: () => number; auth: () => string[] }> {
  let n = 0;
  const auths: string[] = [];
  const s = createServer((req, res) => {
    auths.push(String(req.headers.authorization ?? ""));
    h(req, res, n++);
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  t.after(() => {
    s.closeAllConnections();
    s.close();
  });
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, hits: () => n, auth: () => auths };
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};
const MODELS = [
  { title: "m.safetensors", model_name: "m", hash: null, sha256: null, filename: "/x/m.safetensors", config: null },
];

function clock(limitMs: number, lines: string[] = []): Clock {
  const start = Date.now();
  return { start, deadline: start + limitMs, log: (l) => lines.push(l) };
}

function client(url: string): ApiClient {
  return new ApiClient({ baseUrl: url, username: "sd", password: "pw", connectTimeoutMs: 2000 });
}

test("502 and 503 are retried with backoff; Basic auth is sent pre-emptively", async (t) => {
  const srv = await serve(t, (_q, res, n) =>
    n < 3 ? send(res, n === 0 ? 502 : 503, { detail: "starting" }) : send(res, 200, MODELS),
  );
  const c = client(srv.url);
  t.after(() => c.close());
  const models = await waitForApi(c, clock(20_000), { modelsHint: "/m" });
  assert.equal(models.length, 1);
  assert.equal(srv.hits(), 4);
  assert.ok(srv.auth().every((a) => a === "Basic " + Buffer.from("sd:pw").toString("base64")));
});

test("401, 404 and 422 are final, at once", async (t) => {
  for (const [status, failure] of [
    [401, "unauthorized"],
    [404, "api-disabled"],
    [422, "bad-response"],
  ] as const) {
    const srv = await serve(t, (_q, res) =>
      send(
        res,
        status,
        status === 404 ? { detail: "Not Found" } : { error: "HTTPException", detail: "x", body: "", errors: "" },
      ),
    );
    const c = client(srv.url);
    await assert.rejects(
      waitForApi(c, clock(20_000), { modelsHint: "/m" }),
      (e: unknown) => e instanceof SmokeError && e.failure === failure,
    );
    assert.equal(srv.hits(), 1, `${status} was retried`);
    await c.close();
  }
});

test("an empty checkpoint list is final: no-checkpoint names the models folder", async (t) => {
  const srv = await serve(t, (_q, res) => send(res, 200, []));
  const c = client(srv.url);
  t.after(() => c.close());
  await assert.rejects(
    waitForApi(c, clock(20_000), { modelsHint: "/srv/models" }),
    /put a \.safetensors file in \/srv\/models\/Stable-diffusion/,
  );
});

test("a schema mismatch names the field", async (t) => {
  const srv = await serve(t, (_q, res) => send(res, 200, [{ title: 1 }]));
  const c = client(srv.url);
  t.after(() => c.close());
  await assert.rejects(
    waitForApi(c, clock(20_000), { modelsHint: "/m" }),
    (e: unknown) => e instanceof SmokeError && e.failure === "bad-response" && /0\.title/.test(e.message),
  );
});

test("the wait is bounded by the limit and prints what, elapsed and limit", async (t) => {
  const srv = await serve(t, (_q, res) => send(res, 503, { detail: "not ready" }));
  const c = client(srv.url);
  t.after(() => c.close());
  const lines: string[] = [];
  const t0 = Date.now();
  await assert.rejects(
    waitForApi(c, clock(2500, lines), { modelsHint: "/m" }),
    (e: unknown) => e instanceof NotReachedError && e.lastStatus === 503,
  );
  assert.ok(Date.now() - t0 < 2500 + 1500, "stopped near the limit");
  assert.match(
    lines[0] ?? "",
    /^waiting for the API \(GET http:\/\/127\.0\.0\.1:\d+\/sdapi\/v1\/sd-models\): HTTP 503 \(not ready\); \d+s elapsed of 3s limit$/,
  );
});

test("connection refused is retried until the limit", async () => {
  const c = client("http://127.0.0.1:1");
  await assert.rejects(
    waitForApi(c, clock(1200), { modelsHint: "/m" }),
    (e: unknown) => e instanceof NotReachedError && e.lastKind === "refused",
  );
  await c.close();
});

test("model wait: a generation slower than the limit is a model-timeout; a 500 names the body", async (t) => {
  const srv = await serve(t, (req, res) => {
    if (req.url?.startsWith("/sdapi/v1/progress"))
      return send(res, 200, {
        progress: 0,
        eta_relative: 0,
        state: { job: "load", job_count: 1, sampling_step: 0, sampling_steps: 0 },
        current_image: null,
        textinfo: null,
      });
    setTimeout(() => send(res, 200, { images: [], parameters: {}, info: "{}" }), 2500);
  });
  const c = client(srv.url);
  t.after(() => c.close());
  const ctx = { expectedUid: 1000, hostOutputsDir: "/o", modelsHint: "/m" };
  await assert.rejects(
    waitForModel(c, clock(1500), ctx),
    (e: unknown) =>
      e instanceof SmokeError && e.failure === "model-timeout" && /timed out waiting for the model/.test(e.message),
  );
  const srv2 = await serve(t, (_q, res) =>
    send(res, 500, {
      error: "PermissionError",
      detail: "",
      body: "",
      errors: "[Errno 13] Permission denied: 'outputs/txt2img-images'",
    }),
  );
  const c2 = client(srv2.url);
  t.after(() => c2.close());
  await assert.rejects(
    waitForModel(c2, clock(5000), ctx),
    (e: unknown) => e instanceof SmokeError && e.failure === "permission-denied" && /uid 1000/.test(e.message),
  );
});
