// Scale-out on the local engine, realised by the e2e harness from the program's own registrations:
// `hosts: ["unix:///var/run/docker.sock#cpu:2"]` -> two stand-in containers on consecutive ports, each
// with its own outputs sub-folder, the models folder shared read-only, firewall rules per port, one
// smoke proof per container, and both endpoints in the stack outputs. Then destroy: containers and
// rules gone, every proven file still there.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { createServer } from "node:net";
import * as path from "node:path";
import { test, type TestContext } from "node:test";
import { firewallTag } from "../../infra/deployment.js";
import { firewallPlan } from "../../infra/firewall/rules.js";
import { parseSmokeStdout } from "../../smoke/resource.js";
const SMOKE_CLI = "smoke/cli.js";
import { cleanUpStack } from "../e2e/harness/cleanup.js";
import { evaluateProgram } from "../e2e/harness/evaluate.js";
import { ensureSmokeBuilt, taggedRules } from "../e2e/harness/host.js";
import { T } from "../e2e/harness/plan.js";
import { Harness } from "../e2e/harness/realise.js";
import { e2eStack } from "../e2e/harness/stack.js";
import { requireDocker } from "../helpers/docker.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { ensureStandinImage } from "../helpers/standin.js";

const listens = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });

/** A free port whose successor is free too (bounded search). */
async function twoFreePorts(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 20000 + Math.floor(Math.random() * 30000);
    if ((await listens(p)) && (await listens(p + 1))) return p;
  }
  throw new Error("no two consecutive free ports found in 50 tries");
}

interface Inspect { Name: string; HostConfig: { PortBindings: Record<string, { HostPort: string }[]>; DeviceRequests: unknown }; Mounts: { Source: string; Destination: string; RW: boolean }[] }
const inspect = (name: string) => (JSON.parse(execFileSync("docker", ["inspect", name], { encoding: "utf8", stdio: "pipe", timeout: 15_000 })) as Inspect[])[0]!;

test("scale-out: two CPU containers on one host, own ports and outputs, shared read-only models, a proof each", { timeout: 120_000 }, async (t: TestContext) => {
  if (!requireDocker(t)) return;
  if (!requireOrSkip(t, process.getuid?.() === 0 ? "" : "the firewall steps need root")) return;
  ensureStandinImage();
  t.diagnostic(ensureSmokeBuilt());
  const port = await twoFreePorts();
  const s = e2eStack(port);
  const h = new Harness({ log: (l) => t.diagnostic(l), commandTimeoutMs: 60_000 });
  const tags = [port, port + 1].map((p) => firewallTag(s.stack, p));
  t.after(async () => {
    await cleanUpStack(t, h, s, tags);
  });

  // `hosts` replaces dockerHost and gpus: the stack must not set gpus.
  const base = s.input({ hosts: ["unix:///var/run/docker.sock#cpu:2"] });
  delete base.settings.gpus;
  const ev = await evaluateProgram(base);
  const t0 = Date.now();
  await h.deploy(ev);
  t.diagnostic(`deploy of 2 containers with 2 proofs: ${Date.now() - t0} ms`);

  const names = ["cpu0", "cpu1"].map((slot) => `sdwebui-${s.stack}-${slot}`);
  const proofs = h.ofType(T.local, (l) => String(l.inputs.create ?? "").includes(SMOKE_CLI)).map((l) => parseSmokeStdout(String(l.outputs.stdout)));
  assert.equal(proofs.length, 2, "one smoke proof per container");
  names.forEach((name, i) => {
    const c = inspect(name);
    assert.equal(c.HostConfig.PortBindings["8080/tcp"]?.[0]?.HostPort, String(port + i), `${name} publishes port ${port + i}`);
    assert.equal(c.HostConfig.DeviceRequests, null, "GPUs off");
    const outputs = c.Mounts.find((m) => m.Destination.endsWith("/outputs"))!;
    const models = c.Mounts.find((m) => m.Destination.endsWith("/models"))!;
    assert.deepEqual([outputs.Source, outputs.RW], [path.join(s.outputsDir, `cpu${i}`), true]);
    assert.deepEqual([models.Source, models.RW], [s.modelsDir, false], "the models folder is shared read-only");
    const proof = proofs[i]!;
    assert.ok(proof.file.startsWith(path.join(s.outputsDir, `cpu${i}`) + "/"), `proof ${i} is in its own sub-folder: ${proof.file}`);
    assert.ok(fs.existsSync(proof.file));
    const expected = firewallPlan({ tag: tags[i]!, port: port + i, allowlist: s.settings.firewallAllowlist as string[] }).rules.iptables.length;
    assert.equal(taggedRules(tags[i]!).length, expected, `complete firewall rules for port ${port + i}`);
  });
  const endpoints = ev.outputs.endpoints as { host: string; apiUrl: string; outputsDir: string; containerName: string }[];
  assert.deepEqual(endpoints.map((e) => [e.apiUrl, e.outputsDir, e.containerName]), names.map((n, i) => [`http://127.0.0.1:${port + i}`, path.join(s.outputsDir, `cpu${i}`), n]));

  await h.destroy();
  for (const tag of tags) assert.deepEqual(taggedRules(tag), [], "no rules left after destroy");
  for (const n of names) assert.throws(() => inspect(n), /No such object/, `${n} removed`);
  for (const p of proofs) assert.ok(fs.existsSync(p.file), `${p.file} kept after destroy`);
});
