// A host port that something on the host already listens on is refused before anything changes: the
// port preflight (a real script on this host) fails the deploy, and the folders and the firewall, which
// depend on it, never run: no folder, no rule on a port the deploy refused, no container.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { test, type TestContext } from "node:test";
import { firewallTag } from "../../infra/deployment.js";
import { requireDocker } from "../helpers/docker.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { cleanUpStack } from "./harness/cleanup.js";
import { evaluateProgram } from "./harness/evaluate.js";
import { ensureSmokeBuilt, stackContainers, taggedRules } from "./harness/host.js";
import { Harness } from "./harness/realise.js";
import { e2eStack } from "./harness/stack.js";

test("e2e preflight: a port a host service listens on is refused before any firewall rule or container", { timeout: 120_000 }, async (t: TestContext) => {
  if (!requireDocker(t)) return;
  if (!requireOrSkip(t, process.getuid?.() === 0 ? "" : "the firewall step needs root")) return;
  ensureStandinImage();
  t.diagnostic(ensureSmokeBuilt());
  const port = await freePort();
  const service = createServer((c) => c.end());
  await new Promise<void>((res) => service.listen(port, "0.0.0.0", res));
  const s = e2eStack(port);
  const tag = firewallTag(s.stack, port);
  const h = new Harness({ log: (l) => t.diagnostic(l) });
  t.after(async () => {
    service.close();
    await cleanUpStack(t, h, s, [tag]);
  });

  await assert.rejects(h.deploy(await evaluateProgram(s.input({ firewallAllowlist: ["192.0.2.0/24"] }))), /port \d+ on this host is already in use/);
  assert.deepEqual(taggedRules(tag), [], "no firewall rule was applied for the refused port");
  assert.deepEqual(stackContainers(s.stack), [], "no container was created");
  assert.ok(!existsSync(s.outputsDir), "no host folder was created");
});
