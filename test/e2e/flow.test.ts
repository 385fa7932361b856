// End to end on the real Docker engine: the program's own registrations, realised by the harness
// (test/e2e/harness), through deploy -> smoke proof -> markers -> destroy -> nothing lost -> recreate
// -> counter continues -> no-op re-deploy -> a replacing change (host port) -> in-place changes
// (allowlist: firewall only; smoke settings: smoke only) -> destroy. Steps run in order; after a
// failed step the rest are skipped (they build on it). Everything is removed in t.after.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { test, type TestContext } from "node:test";
import { firewallTag } from "../../infra/deployment.js";
import { requireDocker } from "../helpers/docker.js";
import { unwrapSecrets } from "../helpers/pulumi-mocks.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { parseSmokeStdout } from "../../smoke/resource.js";
const SMOKE_CLI = "smoke/cli.js";
import { cleanUpStack } from "./harness/cleanup.js";
import { evaluateProgram, type Evaluation } from "./harness/evaluate.js";
import { ensureSmokeBuilt, hashTree, httpGet, stackContainers, taggedRules, waitFor200 } from "./harness/host.js";
import { dependencyUrns, T } from "./harness/plan.js";
import { Harness, type Live, type Step } from "./harness/realise.js";
import { e2eStack, type E2eStack } from "./harness/stack.js";

const isSmoke = (l: Live) => String(l.inputs.create ?? "").includes(SMOKE_CLI);
const opsOf = (steps: Step[], type: string, pred: (s: Step) => boolean = () => true) => steps.filter((s) => s.type === type && pred(s)).map((s) => s.op);

/** Credentials as the container's own flags carry them (never printed). */
function containerCreds(name: string): { username: string; password: string } {
  const args = JSON.parse(execFileSync("docker", ["inspect", "--format", "{{json .Args}}", name], { encoding: "utf8", timeout: 15_000 })) as string[];
  const auth = args[args.indexOf("--api-auth") + 1] ?? "";
  const i = auth.indexOf(":");
  return { username: auth.slice(0, i), password: auth.slice(i + 1) };
}

test("e2e: the program's resources on the real engine: deploy, prove, destroy, recreate, change", { timeout: 240_000 }, async (t: TestContext) => {
  if (!requireDocker(t)) return;
  const t0 = Date.now();
  ensureStandinImage();
  t.diagnostic(ensureSmokeBuilt());
  const s: E2eStack = e2eStack(await freePort());
  const logged: string[] = [];
  const h = new Harness({ log: (l) => { logged.push(l); t.diagnostic(l); }, commandTimeoutMs: 120_000 });
  t.after(async () => {
    const { containers: left, rules } = await cleanUpStack(t, h, s, [s.tag]);
    if (left.length || rules) t.diagnostic(`clean-up removed ${left.length} container(s), ${rules} firewall rule(s) left by a failed step`);
    t.diagnostic(`e2e flow total ${Date.now() - t0} ms`);
  });

  let failed: string | undefined;
  const step = async (name: string, fn: (st: TestContext) => Promise<void>) =>
    t.test(name, async (st) => {
      if (failed) return st.skip(`an earlier step failed (${failed})`);
      const s0 = Date.now();
      try { await fn(st); } catch (e) { failed = name; throw h.redactor.error(e); }
      st.diagnostic(`${name}: ${Date.now() - s0} ms`);
    });
  const smokeOf = () => h.ofType(T.local, isSmoke)[0];
  // What the program registers decides which checks apply (not what happens to be live).
  let firewallRegistered = false;
  let smokeRegistered = false;
  const container = () => h.ofType(T.container)[0]!;
  let ev: Evaluation;
  let before: Map<string, string>;
  const proofs: string[] = [];

  await step("evaluate: the program registers a container, host folders, firewall and smoke commands", async (st) => {
    ev = await evaluateProgram(s.input());
    const types = ev.resources.filter((r) => r.custom).map((r) => r.type);
    assert.ok(types.includes(T.container), "a docker.Container");
    assert.ok(ev.resources.some((r) => r.type === T.local && r.retainOnDelete), "a retained host-folders command");
    const commands = ev.resources.filter((r) => r.type === T.local).map((r) => unwrapSecrets(r.inputs) as Record<string, unknown>);
    smokeRegistered = commands.some((i) => String(i.create ?? "").includes(SMOKE_CLI));
    firewallRegistered = commands.some((i) => i.delete !== undefined);
    // The stack's settings ask for both; their absence is a failure, not a reason to skip the steps below.
    assert.ok(smokeRegistered, "the program registers the smoke command");
    assert.ok(firewallRegistered, "the program registers the firewall command (the one with a delete script)");
    st.diagnostic(`registered: ${ev.resources.map((r) => `${r.type} ${r.name}`).join(", ")}`);
  });

  await step("deploy: every resource created in dependency order; the container serves the API with its own flags' credentials", async () => {
    const steps = await h.deploy(ev);
    assert.ok(steps.every((x) => x.op === "create"), steps.map((x) => `${x.op} ${x.name}`).join(", "));
    const c = container();
    assert.deepEqual(stackContainers(s.stack), [c.outputs.name]);
    const port = (c.inputs.ports as { external: number }[])[0]!.external;
    await waitFor200(`http://127.0.0.1:${port}/internal/ping`, undefined, 20_000);
    const creds = containerCreds(String(c.outputs.name));
    const models = await httpGet(`http://127.0.0.1:${port}/sdapi/v1/sd-models`, creds);
    assert.equal(models.status, 200);
    assert.match(models.body, /standin-model/);
    assert.equal((await httpGet(`http://127.0.0.1:${port}/sdapi/v1/sd-models`)).status, 401, "no credentials, no API");
  });

  await step("smoke: the smoke command passed and its JSON names a PNG that exists on the host, in the outputs folder", async () => {
    const smoke = smokeOf();
    assert.ok(smoke, "a smoke command is live");
    const proof = parseSmokeStdout(String(smoke.outputs.stdout));
    assert.ok(proof.file.startsWith(`${s.outputsDir}/`), `${proof.file} is under ${s.outputsDir}`);
    assert.equal(fs.readFileSync(proof.file).subarray(0, 8).toString("hex"), "89504e470d0a1a0a");
    assert.equal(fs.statSync(proof.file).size, proof.bytes);
    assert.match(path.basename(proof.file), /^00000-\d+\.png$/);
    proofs.push(proof.file);
  });

  await step("firewall: rules tagged with the stack hold the published port", async () => {
    const rules = taggedRules(s.tag);
    assert.ok(rules.length >= 2, rules.join("\n"));
    assert.ok(rules.some((r) => r.includes(`--ctorigdstport ${s.settings.hostPort}`)), "IPv4 rules match the host port");
  });

  await step("markers: files written into the host outputs and models folders", async () => {
    fs.writeFileSync(path.join(s.outputsDir, "marker-outputs.txt"), `kept ${randomBytes(8).toString("hex")}\n`);
    fs.mkdirSync(path.join(s.outputsDir, "txt2img-images", "1999-01-01"), { recursive: true });
    fs.writeFileSync(path.join(s.outputsDir, "txt2img-images", "1999-01-01", "00000-1.png"), randomBytes(4096));
    fs.writeFileSync(path.join(s.modelsDir, "Stable-diffusion", "marker-model.safetensors"), randomBytes(65536));
    before = new Map([...hashTree(s.outputsDir)].map(([k, v]) => [`outputs/${k}`, v]));
    for (const [k, v] of hashTree(s.modelsDir)) before.set(`models/${k}`, v);
    assert.ok(before.size >= 5);
  });

  await step("destroy: deletes in reverse dependency order, container removed, retained folders skipped, firewall rules gone", async () => {
    const regs = [...h.live.values()].map((l) => l.reg);
    const steps = await h.destroy();
    const at = (urn: string) => { const r = regs.find((x) => x.urn === urn)!; return steps.findIndex((x) => x.type === r.type && x.name === r.name); };
    for (const r of regs) for (const d of dependencyUrns(r, regs)) assert.ok(at(r.urn) < at(d), `${r.name} is deleted before ${d.split("::").pop()}, which it depends on`);
    assert.deepEqual(opsOf(steps, T.local, (x) => x.op === "retain").length, 1, "the host-folders command is retained");
    assert.equal(h.live.size, 0);
    assert.deepEqual(stackContainers(s.stack), []);
    assert.deepEqual(taggedRules(s.tag), [], "no rule with the stack tag is left");
  });

  await step("nothing lost: every marker and every generated image is still there, byte for byte", async () => {
    const now = new Map([...hashTree(s.outputsDir)].map(([k, v]) => [`outputs/${k}`, v]));
    for (const [k, v] of hashTree(s.modelsDir)) now.set(`models/${k}`, v);
    for (const [k, v] of before) assert.equal(now.get(k), v, `${k} unchanged`);
  });

  await step("recreate: the smoke passes again, the counter continues in the same dated folder, old files untouched", async () => {
    const steps = await h.deploy(await evaluateProgram(s.input()));
    assert.ok(steps.every((x) => x.op === "create"));
    const proof = parseSmokeStdout(String(smokeOf()!.outputs.stdout));
    assert.equal(path.dirname(proof.file), path.dirname(proofs[0]!), "same dated folder");
    assert.match(path.basename(proof.file), /^00001-\d+\.png$/, "the counter continues after 00000");
    proofs.push(proof.file);
    const now = new Map([...hashTree(s.outputsDir)].map(([k, v]) => [`outputs/${k}`, v]));
    for (const [k, v] of before) if (k.startsWith("outputs/")) assert.equal(now.get(k), v, `${k} untouched`);
  });

  await step("no-op: re-deploying the same config changes nothing", async () => {
    const id = container().id;
    const steps = await h.deploy(await evaluateProgram(s.input()));
    assert.deepEqual(steps.filter((x) => x.op !== "same").map((x) => `${x.op} ${x.name}`), []);
    assert.equal(container().id, id);
  });

  await step("replace: a new host port replaces the container (delete before replace) and the new one serves on it", async () => {
    const oldPort = s.settings.hostPort as number;
    const newPort = await freePort();
    s.settings.hostPort = newPort;
    const oldId = container().id;
    const steps = await h.deploy(await evaluateProgram(s.input()));
    const cSteps = steps.filter((x) => x.type === T.container);
    assert.deepEqual(cSteps.map((x) => x.op), ["delete", "replace"], "old container deleted, then the new one created");
    assert.notEqual(container().id, oldId);
    await waitFor200(`http://127.0.0.1:${newPort}/internal/ping`, undefined, 20_000);
    await assert.rejects(httpGet(`http://127.0.0.1:${oldPort}/internal/ping`, undefined, 2000), "the old port is closed");
    const proof = parseSmokeStdout(String(smokeOf()!.outputs.stdout));
    assert.match(path.basename(proof.file), /^00002-\d+\.png$/, "the smoke re-ran against the new container");
    if (firewallRegistered) {
      // The tag is the stack's and the port's: the new port's rules carry a new tag, the old port's are gone.
      const oldTag = s.tag;
      s.tag = firewallTag(s.stack, newPort);
      const rules = taggedRules(s.tag);
      assert.ok(rules.some((r) => r.includes(`--ctorigdstport ${newPort}`)), `firewall rules follow the new port; live rules:\n${rules.join("\n") || "(none)"}`);
      assert.deepEqual(taggedRules(oldTag), [], "no rule for the old port");
    }
  });

  await step("in place: an allowlist change re-applies only the firewall; the container stays", async () => {
    const id = container().id;
    const steps = await h.deploy(await evaluateProgram(s.input({ firewallAllowlist: ["198.51.100.0/24"] })));
    s.settings.firewallAllowlist = ["198.51.100.0/24"];
    assert.deepEqual(steps.filter((x) => x.op !== "same").map((x) => `${x.op} ${x.type}`), [`update ${T.local}`]);
    assert.equal(container().id, id);
    const rules = taggedRules(s.tag);
    assert.ok(rules.some((r) => r.includes("198.51.100.0/24")) && !rules.some((r) => r.includes("192.0.2.0/24")), rules.join("\n"));
  });

  await step("in place: a smoke-settings change re-runs only the smoke command; the counter continues", async () => {
    const id = container().id;
    s.settings.smokeSteps = 3;
    const steps = await h.deploy(await evaluateProgram(s.input()));
    assert.deepEqual(steps.filter((x) => x.op !== "same").map((x) => `${x.op} ${x.name}`), [`update ${smokeOf()!.reg.name}`]);
    assert.equal(container().id, id);
    assert.match(path.basename(parseSmokeStdout(String(smokeOf()!.outputs.stdout)).file), /^00003-\d+\.png$/);
  });

  await step("final destroy: nothing of the stack is left but the host folders", async () => {
    await h.destroy();
    assert.deepEqual(stackContainers(s.stack), []);
    assert.deepEqual(taggedRules(s.tag), []);
    for (const f of proofs) assert.ok(fs.existsSync(f), `${f} kept`);
  });

  await step("secrets: the password appears in no step log line and no recorded step", async () => {
    assert.ok(logged.length > 20);
    assert.equal(logged.filter((l) => l.includes(s.password)).length, 0);
    assert.equal(h.steps.filter((x) => JSON.stringify(x).includes(s.password)).length, 0);
  });
});
