// The harness is generic over what the program registers: a scale-out stack (`hosts` with two GPU
// slots on the local engine) registers two containers, two firewall commands and two smoke commands.
// This machine has no GPU, so the harness drops the device requests with a note (gpu: "skip") and
// both stand-ins run on the CPU; everything else is realised exactly as registered.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { createServer } from "node:net";
import * as path from "node:path";
import { test, type TestContext } from "node:test";
import { firewallTag } from "../../infra/deployment.js";
import { requireDocker } from "../helpers/docker.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { parseSmokeStdout } from "../../smoke/resource.js";
const SMOKE_CLI = "smoke/cli.js";
import { cleanUpStack } from "./harness/cleanup.js";
import { evaluateProgram } from "./harness/evaluate.js";
import { ensureSmokeBuilt, stackContainers, taggedRules } from "./harness/host.js";
import { T } from "./harness/plan.js";
import { Harness } from "./harness/realise.js";
import { e2eStack } from "./harness/stack.js";

const isFree = (port: number) => new Promise<boolean>((resolve) => {
  const srv = createServer();
  srv.once("error", () => resolve(false));
  srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
});

test("e2e scale-out: two containers on the local host, each proven in its own outputs folder, all removed on destroy", { timeout: 120_000 }, async (t: TestContext) => {
  if (!requireDocker(t)) return;
  ensureStandinImage();
  t.diagnostic(ensureSmokeBuilt());
  // Two consecutive free ports: the program gives slot i the port hostPort + i.
  let base = await freePort();
  for (let i = 0; i < 20 && (base >= 65535 || !(await isFree(base + 1))); i++) base = await freePort();
  const s = e2eStack(base);
  const tags = [firewallTag(s.stack, base), firewallTag(s.stack, base + 1)];
  const h = new Harness({ gpu: "skip", log: (l) => t.diagnostic(l) });
  t.after(async () => {
    await cleanUpStack(t, h, s, tags);
  });

  const input = s.input({ hosts: ["unix:///var/run/docker.sock#0,1"] });
  delete input.settings.gpus; // `hosts` names the GPUs per host
  const ev = await evaluateProgram(input);
  const steps = await h.deploy(ev);
  assert.equal(h.ofType(T.container).length, 2);
  assert.equal(steps.filter((x) => x.type === T.container && /deviceRequests dropped/.test(x.detail)).length, 2, "the GPU requests were dropped, with a note");
  assert.equal(stackContainers(s.stack).length, 2);

  const smokes = h.ofType(T.local, (l) => String(l.inputs.create ?? "").includes(SMOKE_CLI));
  assert.equal(smokes.length, 2);
  const files = smokes.map((l) => parseSmokeStdout(String(l.outputs.stdout)).file);
  assert.deepEqual(files.map((f) => path.relative(s.outputsDir, f).split(path.sep)[0]).sort(), ["gpu0", "gpu1"], "each container saves into its own sub-folder");
  for (const f of files) assert.ok(fs.existsSync(f));

  for (const c of h.ofType(T.container)) {
    const mounts = JSON.parse(execFileSync("docker", ["inspect", "--format", "{{json .Mounts}}", String(c.outputs.name)], { encoding: "utf8" })) as { Destination: string; RW: boolean }[];
    assert.equal(mounts.find((m) => m.Destination.endsWith("/models"))?.RW, false, "the shared models folder is mounted read-only");
  }
  for (const [i, tag] of tags.entries()) assert.ok(taggedRules(tag).some((r) => r.includes(`--ctorigdstport ${base + i}`)), `rules for port ${base + i}`);

  await h.destroy();
  assert.deepEqual(stackContainers(s.stack), []);
  for (const tag of tags) assert.deepEqual(taggedRules(tag), []);
  for (const f of files) assert.ok(fs.existsSync(f), "proof images kept");
});
