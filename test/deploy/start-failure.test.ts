// A container whose start fails (GPUs asked for on an engine without the NVIDIA runtime, as on this
// machine) must fail every pulumi up until it is fixed, never turn into a green run with nothing running:
// the docker provider records it with an initialisation error, and the engine's next run would be an
// empty update that does not start it. With the smoke step off, nothing else would notice.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { ofType } from "../helpers/engine-stack.js";
import { ensureSmokeBuilt, inspectContainer } from "../helpers/host-state.js";
import { requireDocker } from "../helpers/docker.js";
import { requireEngine } from "../helpers/pulumi-cli.js";
import { requireOrSkip } from "../helpers/requirements.js";
import { ensureStandinImage, freePort } from "../helpers/standin.js";
import { output } from "../helpers/engine-stack.js";
import { programStack } from "./fixture.js";

const NO_DRIVER = /could not select device driver "nvidia" with capabilities: \[\[gpu\]\]/;

for (const smokeEnabled of ["true", "false"]) {
  test(
    `a container that cannot start fails every up until fixed (smokeEnabled ${smokeEnabled})`,
    { timeout: 300_000 },
    async (t: TestContext) => {
      if (!requireEngine(t) || !requireDocker(t)) return;
      if (!requireOrSkip(t, process.getuid?.() === 0 ? "" : "the firewall needs root")) return;
      ensureStandinImage();
      ensureSmokeBuilt();
      const s = programStack({ hostPort: await freePort(), settings: { gpus: "1", smokeEnabled } });
      t.after(() => s.cleanUp());

      const first = s.stack.run(["up", "--yes", "--skip-preview"]);
      s.printed.push(output(first));
      assert.notEqual(first.status, 0, "the first up fails");
      assert.match(output(first), NO_DRIVER);
      const recorded = ofType(s.stack.resources(), "docker:index/container:Container");
      assert.equal(recorded.length, 1, "the provider recorded the created container");
      assert.ok((recorded[0]!.initErrors ?? []).length > 0, "with its initialisation error");

      const second = s.stack.run(["up", "--yes", "--skip-preview"]);
      s.printed.push(output(second));
      assert.notEqual(
        second.status,
        0,
        `the second up must fail too, not report success:\n${output(second).slice(-3000)}`,
      );
      assert.match(output(second), NO_DRIVER, "with the same reason: the container was tried again");
      assert.notEqual(inspectContainer(`sdwebui-${s.name}`).State.Status, "running");

      // Fixed: CPU mode. The next up replaces the broken container and is green.
      s.set({ gpus: "none" });
      s.up();
      assert.equal(inspectContainer(`sdwebui-${s.name}`).State.Running, true);
      s.up(["--expect-no-changes"]);
    },
  );
}
