// Each container is a WebUiContainer component under its host's WebUi, its children named from the
// component without repeating the host key. Stacks deployed before that change must keep every resource:
// for four stacks, every URN recorded from the earlier program (fixtures/urns-before-components.json) is
// answered by exactly one custom resource of today's program, by its own URN or an alias, and no custom
// resource is new. (The real engine cannot run these stacks here: the docker and command plugins are
// not available, so the aliases are resolved the way the engine resolves them, from the registrations.)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { installMocks, type MockEngine, resolveOutputs, setStackConfig } from "../helpers/pulumi-mocks.js";
import { PASSWORD, URN_STACKS } from "./urn-fixture.js";

type Recorded = { type: string; name: string; urn: string; custom: boolean };
const BEFORE = JSON.parse(readFileSync("test/unit/fixtures/urns-before-components.json", "utf8")) as Record<string, Recorded[]>;

let engine: MockEngine;
let deployStack: () => Record<string, unknown>;
before(async () => {
  engine = await installMocks({ stack: "lab" });
  ({ deployStack } = await import("../../infra/program.js"));
});

async function registrations(settings: Record<string, unknown>) {
  engine.reset();
  setStackConfig({ apiPassword: PASSWORD, ...settings });
  await resolveOutputs(deployStack());
  return [...engine.resources];
}

describe("per-container components keep deployed stacks' resources (aliases)", () => {
  for (const [stack, settings] of Object.entries(URN_STACKS)) {
    it(`${stack}: every earlier URN maps to one resource; no custom resource is created, replaced or deleted`, async () => {
      const now = await registrations(settings);
      const old = BEFORE[stack]!.filter((r) => r.custom).map((r) => r.urn);
      const custom = now.filter((r) => r.custom);
      for (const urn of old) {
        const answering = custom.filter((r) => r.urn === urn || r.aliasUrns.includes(urn));
        assert.equal(answering.length, 1, `${urn} is answered by ${answering.length} resources`);
      }
      for (const r of custom) assert.ok(old.includes(r.urn) || r.aliasUrns.some((a) => old.includes(a)), `${r.urn} would be created`);
      // The only new registrations are the container components themselves (a component has no provider operation).
      const added = now.filter((r) => !r.custom && !BEFORE[stack]!.some((o) => o.urn === r.urn)).map((r) => r.type);
      assert.ok(added.every((t) => t === "sdwebui:index:WebUiContainer"), added.join(", "));
      assert.equal(added.length, now.filter((r) => r.type === "sdwebui:index:WebUiContainer").length);
    });
  }

  it("children are named from their component, the host key once: sdwebui-gpu-1-gpu0-container in a WebUiContainer in a WebUi", async () => {
    const now = await registrations(URN_STACKS["scale-out"]!);
    const byUrn = new Map(now.map((r) => [r.urn, r]));
    const containers = now.filter((r) => r.type === "docker:index/container:Container");
    assert.deepEqual(containers.map((r) => r.name).sort(), ["sdwebui-gpu-1-gpu0-container", "sdwebui-gpu-1-gpu1-container", "sdwebui-local-cpu0-container", "sdwebui-local-cpu1-container"]);
    for (const c of containers) {
      const component = byUrn.get(c.parent)!;
      assert.equal(component.type, "sdwebui:index:WebUiContainer");
      assert.equal(`${component.name}-container`, c.name);
      assert.equal(byUrn.get(component.parent)!.type, "sdwebui:index:WebUi");
    }
    assert.ok(now.every((r) => !/gpu-1-gpu-1|local-local/.test(r.name)), now.map((r) => r.name).join(", "));
    const preflight = now.find((r) => r.name === "sdwebui-gpu-1-gpu0-preflight")!;
    assert.deepEqual(preflight.aliasUrns.map((u) => u.split("::").pop()), ["sdwebui-gpu-1-gpu-1-gpu0-preflight"]);
  });
});
