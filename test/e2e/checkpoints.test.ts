// Checkpoints end to end on the real Docker engine: the program's placement command (realised by the
// harness) fetches a declared checkpoint from a real HTTP server on loopback with a token, before the
// container starts; the WebUI stand-in loads it first (--ckpt) and the smoke proves it; a re-deploy and
// a recreate after destroy fetch nothing; destroy leaves the file; the token is in no log, step or input.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { test, type TestContext } from "node:test";
import { tokenHeader } from "../../infra/config/checkpoints.js";
import { requireDocker } from "../helpers/docker.js";
import { startFileServer } from "../helpers/file-server.js";
import { unwrapSecrets } from "../helpers/pulumi-mocks.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { parseSmokeStdout } from "../../smoke/resource.js";
const SMOKE_CLI = "smoke/cli.js";
import { cleanUpStack } from "./harness/cleanup.js";
import { evaluateProgram } from "./harness/evaluate.js";
import { ensureSmokeBuilt } from "./harness/host.js";
import { T } from "./harness/plan.js";
import { Harness, type Live } from "./harness/realise.js";
import { e2eStack } from "./harness/stack.js";

const isSmoke = (l: Live) => String(l.inputs.create ?? "").includes(SMOKE_CLI);

test("e2e: a declared checkpoint is fetched with its token, verified, loaded first and proven; re-deploy and recreate fetch nothing", { timeout: 240_000 }, async (t: TestContext) => {
  if (!requireDocker(t)) return;
  ensureStandinImage();
  t.diagnostic(ensureSmokeBuilt());
  const served = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "sdwebui-e2e-served-"));
  const bytes = randomBytes(3 * 1024 * 1024);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  fs.writeFileSync(path.join(served, "declared.safetensors"), bytes);
  const token = `hf_${randomBytes(16).toString("hex")}`;
  const server = await startFileServer({ dir: served, requireHeader: tokenHeader(token) });
  const s = e2eStack(await freePort());
  const logged: string[] = [];
  const h = new Harness({ log: (l) => { logged.push(l); t.diagnostic(l); }, commandTimeoutMs: 120_000 });
  t.after(async () => {
    await cleanUpStack(t, h, s, [s.tag]);
    await server.close();
    fs.rmSync(served, { recursive: true, force: true });
  });
  const settings = { checkpoints: JSON.stringify([{ source: `${server.url}/declared.safetensors`, sha256, fileName: "team/declared.safetensors", useToken: true, loadFirst: true }]) };
  const input = () => ({ ...s.input(settings), secrets: { apiPassword: s.password, checkpointToken: token } });
  const target = path.join(s.modelsDir, "Stable-diffusion", "team", "declared.safetensors");

  const ev = await evaluateProgram(input());
  const placement = ev.resources.find((r) => r.type === T.local && r.name.endsWith("-checkpoints"));
  assert.ok(placement, "a checkpoints command is registered");
  const container = ev.resources.find((r) => r.type === T.container)!;
  assert.ok(container.dependencies.includes(placement.urn), "the container waits for the placement");
  assert.ok(!JSON.stringify(placement.inputs.create).includes(token), "the token is not in the script");
  assert.match(JSON.stringify(placement.inputs.stdin), /4dabf18193072939515e22adb298388d/, "stdin is a secret input (wrapped with the secret signature)");
  assert.ok((unwrapSecrets(container.inputs) as { command: string[] }).command.includes("/app/stable-diffusion-webui/models/Stable-diffusion/team/declared.safetensors"), "--ckpt names the declared file");

  const created = await h.deploy(ev);
  assert.ok(created.every((x) => x.op === "create"));
  assert.deepEqual(fs.readFileSync(target), bytes);
  assert.equal(server.requests.length, 1);
  assert.equal(server.requests[0]!.authorised, true);
  const proof = parseSmokeStdout(String(h.ofType(T.local, isSmoke)[0]!.outputs.stdout)) as ReturnType<typeof parseSmokeStdout> & { checkpoints?: { loaded: { name: string; sha256: string } } };
  assert.deepEqual(proof.checkpoints?.loaded, { name: "team/declared.safetensors", sha256, modelName: "team_declared" });

  const again = await h.deploy(await evaluateProgram(input()));
  assert.ok(again.every((x) => x.op === "same"), again.map((x) => `${x.op} ${x.name}`).join(", "));
  assert.equal(server.requests.length, 1, "a no-op re-deploy sends no request");

  await h.destroy();
  assert.deepEqual(fs.readFileSync(target), bytes, "destroy leaves the model in place");
  const recreated = await h.deploy(await evaluateProgram(input()));
  assert.ok(recreated.every((x) => x.op === "create"));
  assert.equal(server.requests.length, 1, "the recreated stack finds the file in place and fetches nothing");
  assert.match(String(h.ofType(T.local, (l) => l.reg.name.endsWith("-checkpoints"))[0]!.outputs.stdout), /already in place/);

  for (const text of [...logged, ...h.steps.map((x) => JSON.stringify(x))]) assert.ok(!text.includes(token), "the token is in no log line or step");
});
