// Upgrades from real states: stacks deployed by the program before each container became its own
// component (fixtures/upgrade, written by upgrade-fixture.ts through the real CLI), imported into a fresh
// stack and previewed with today's program and plugins. Every resource keeps its URN through its aliases and
// nothing real is created or deleted (the per-container components, which hold nothing on a host, are new);
// updates (re-applied scripts) are allowed. The one replacement: each container, once, because its mounts
// gained the read-only checkpoints folder and its flags --no-download-sd-model (no container may change a
// placed model; the WebUI must not download a default one into that folder), with the smoke command that
// proves it. Any later rename must keep the rest.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EngineStack } from "../helpers/engine-stack.js";
import { requireDocker } from "../helpers/docker.js";
import { engineProject, requireEngine } from "../helpers/pulumi-cli.js";
import { UPGRADE_BASE, UPGRADE_DIR, UPGRADE_STACKS } from "./upgrade-stacks.js";

const CONTAINER = "docker:index/container:Container";
/** The steps of a replacement in `pulumi preview --json` (deleteBeforeReplace or not). */
const REPLACE_STEPS = ["replace", "create-replacement", "delete-replaced"];

describe(`stacks deployed at ${UPGRADE_BASE.slice(0, 7)} (before the per-container component), previewed with today's program`, () => {
  for (const name of Object.keys(UPGRADE_STACKS)) {
    it(`${name}: no create or delete of any real resource; only the new components are created; containers are replaced once for their mounts and flags`, (t) => {
      if (!requireEngine(t) || !requireDocker(t)) return;
      const state = join(UPGRADE_DIR, `${name}.state.json`);
      assert.ok(existsSync(state), `${state} is recorded (node --import tsx test/deploy/upgrade-fixture.ts writes it)`);
      const recorded = JSON.parse(readFileSync(state, "utf8")) as { deployment: { resources: { type: string }[] } };
      assert.ok(
        recorded.deployment.resources.some((r) => r.type === "docker:index/container:Container"),
        "the fixture holds a deployed container",
      );
      const project = engineProject(`upgrade-${name}`);
      try {
        // The recorded stack file carries the encryption salt and the secret config the state was made with.
        writeFileSync(join(project.dir, `Pulumi.${name}.yaml`), readFileSync(join(UPGRADE_DIR, `Pulumi.${name}.yaml`)));
        const stack = EngineStack.init(project, name);
        stack.ok(["stack", "import", "--file", state]);
        const changes = stack.changes();
        for (const c of changes)
          t.diagnostic(`${c.op} ${c.type} ${c.name}${c.diffs.length ? ` [${c.diffs.join(",")}]` : ""}`);
        // The per-container components are new: logical groupings with no provider, nothing on a host, and
        // nothing in the old state to alias. Every resource that is something on a host keeps its URN.
        const components = changes.filter((c) => c.type === "sdwebui:index:WebUiContainer");
        assert.ok(
          components.every((c) => c.op === "create"),
          "the new components are created",
        );
        const structural = changes.filter((c) => c.type !== "sdwebui:index:WebUiContainer" && c.op !== "update");
        const replaced = (c: (typeof changes)[number]) => REPLACE_STEPS.includes(c.op);
        const containers = structural.filter((c) => c.type === CONTAINER && replaced(c));
        const smokes = structural.filter(
          (c) => c.type === "command:local:Command" && c.name.endsWith("-smoke") && replaced(c),
        );
        const rest = structural.filter((c) => !containers.includes(c) && !smokes.includes(c));
        assert.deepEqual(
          rest.map((c) => `${c.op} ${c.type} ${c.name}`),
          [],
          "no create, replace or delete of a real resource besides the containers and their proofs",
        );
        for (const c of containers.filter((c) => c.op === "replace"))
          assert.ok(
            c.replaces.length > 0 && c.replaces.every((r) => ["mounts", "command"].includes(r)),
            `${c.name} is replaced for its mounts or flags only: ${c.replaces.join(", ")}`,
          );
        for (const c of smokes.filter((c) => c.op === "replace"))
          assert.ok(c.diffs.includes("triggers"), `${c.name} is replaced because its container is (triggers)`);
        const deployed = recorded.deployment.resources.filter((r) => r.type === CONTAINER).length;
        assert.equal(containers.filter((c) => c.op === "replace").length, deployed, "each container is replaced once");
        assert.equal(
          components.length,
          recorded.deployment.resources.filter((r) => r.type === "docker:index/container:Container").length,
          "one new component per container",
        );
      } finally {
        project.cleanUp();
      }
    });
  }
});
