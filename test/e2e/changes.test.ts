// Everyday config changes on a deployed stack, realised by the harness exactly as the program
// registers them: rotating the API password (the flags change -> the container is replaced) and
// renaming the container on the same port. Each change must leave a working, protected deployment.
// Unlike the flow test, a failing change does not skip the next one: each starts from what is live.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { requireDocker } from "../helpers/docker.js";
import { unwrapSecrets } from "../helpers/pulumi-mocks.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { parseSmokeStdout } from "../../smoke/resource.js";
const SMOKE_CLI = "smoke/cli.js";
import { cleanUpStack } from "./harness/cleanup.js";
import { evaluateProgram, type StackInput } from "./harness/evaluate.js";
import { ensureSmokeBuilt, httpGet, stackContainers, taggedRules } from "./harness/host.js";
import { T } from "./harness/plan.js";
import { Harness } from "./harness/realise.js";
import { e2eStack } from "./harness/stack.js";

test("e2e changes: password rotation and container rename on a live stack", { timeout: 180_000 }, async (t: TestContext) => {
  if (!requireDocker(t)) return;
  ensureStandinImage();
  t.diagnostic(ensureSmokeBuilt());
  const s = e2eStack(await freePort());
  const port = s.settings.hostPort as number;
  const renamed = `sdwebui-renamed-${s.stack}`;
  const h = new Harness({ log: (l) => t.diagnostic(l) });
  t.after(async () => {
    await cleanUpStack(t, h, s, [s.tag]);
  });
  let input: StackInput = s.input();
  const firewallRegistered = async () => (await evaluateProgram(input)).resources
    .some((r) => r.type === T.local && (unwrapSecrets(r.inputs) as { delete?: unknown }).delete !== undefined);
  const smokeFile = () => parseSmokeStdout(String(h.ofType(T.local, (l) => String(l.inputs.create ?? "").includes(SMOKE_CLI))[0]!.outputs.stdout)).file;

  await h.deploy(await evaluateProgram(input));
  const fw = await firewallRegistered();
  assert.ok(fw, "the program registers the firewall command (the one with a delete script)");

  await t.test("rotating the API password replaces the container; the new password works, the old one is refused, the rules hold", async () => {
    const old = s.password;
    input = { ...input, secrets: { apiPassword: `${old}-rotated` } };
    const first = smokeFile();
    const steps = await h.deploy(await evaluateProgram(input));
    assert.deepEqual(steps.filter((x) => x.type === T.container).map((x) => x.op), ["delete", "replace"]);
    assert.notEqual(smokeFile(), first, "the smoke re-proved against the new container");
    const url = `http://127.0.0.1:${port}/sdapi/v1/sd-models`;
    assert.equal((await httpGet(url, { username: s.username, password: `${old}-rotated` })).status, 200);
    assert.equal((await httpGet(url, { username: s.username, password: old })).status, 401);
    if (fw) {
      const rules = taggedRules(s.tag);
      assert.ok(rules.some((r) => r.includes(`--ctorigdstport ${port}`)), `the port is still protected after the replacement; live rules:\n${rules.join("\n") || "(none)"}`);
    }
  });

  await t.test("renaming the container on the same port replaces it under the new name", async () => {
    input = { ...input, settings: { ...input.settings, containerName: renamed } };
    const steps = await h.deploy(await evaluateProgram(input));
    assert.ok(steps.some((x) => x.type === T.container && x.op === "replace"));
    assert.deepEqual(stackContainers(s.stack), [renamed]);
    assert.equal((await httpGet(`http://127.0.0.1:${port}/internal/ping`)).status, 200);
    // The tag is the stack's and the port's: a rename keeps the same rules in force.
    assert.ok(taggedRules(s.tag).length > 0, "the port's rules are still in force");
  });

  await t.test("destroy leaves nothing of the stack but its folders", async () => {
    await h.destroy();
    assert.deepEqual(stackContainers(s.stack), []);
    assert.deepEqual(taggedRules(s.tag), []);
  });
});
