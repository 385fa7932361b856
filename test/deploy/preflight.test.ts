// A host port something on the host already listens on is refused through the real CLI before anything
// changes: the preflight fails, and the folders, the firewall and the container, which wait for it, never
// run: no folder, no rule on a port the deploy refused, no container. The message names the fix.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { test } from "node:test";
import { output } from "../helpers/engine-stack.js";
import { ensureSmokeBuilt, stackContainers, taggedRules } from "../helpers/host-state.js";
import { requireDocker } from "../helpers/docker.js";
import { requireEngine } from "../helpers/pulumi-cli.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { programStack } from "./fixture.js";

test(
  "a port a host service listens on is refused before any folder, firewall rule or container",
  { timeout: 300_000 },
  async (t) => {
    if (!requireEngine(t) || !requireDocker(t)) return;
    if (!requireOrSkip(t, process.getuid?.() === 0 ? "" : "the firewall step needs root")) return;
    ensureStandinImage();
    ensureSmokeBuilt();
    const port = await freePort();
    const service = createServer((c) => c.end());
    await new Promise<void>((res) => service.listen(port, "0.0.0.0", res));
    const s = programStack({ hostPort: port });
    t.after(async () => {
      service.close();
      await s.cleanUp();
    });
    const r = s.stack.run(["up", "--yes", "--skip-preview"]);
    assert.notEqual(r.status, 0);
    assert.match(output(r), new RegExp(`port ${port} on this host is already in use`));
    assert.match(
      output(r),
      new RegExp(`fix: choose another port \\(pulumi config set sdwebui:hostPort ${port + 1}\\)`),
    );
    assert.deepEqual(taggedRules(s.tag()), [], "no firewall rule was applied for the refused port");
    assert.deepEqual(stackContainers(s.name), [], "no container was created");
    assert.ok(!existsSync(s.outputsDir), "no host folder was created");
    const created = s.stack
      .resources()
      .filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"))
      .map((x) => x.urn.split("::").pop());
    assert.deepEqual(created, [], "nothing recorded in the state");
  },
);
