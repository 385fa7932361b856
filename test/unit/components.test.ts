// The components' own contract, under mocks: typed args in, a failing child step raised as a ResourceError
// of the component (with its URN), not as a bare Error of the program.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, MockEngine, promiseOf, setStackConfig } from "../helpers/pulumi-mocks.js";
import type { WebUi as WebUiClass } from "../../infra/docker/webui.js";

let engine: MockEngine;
let WebUi: typeof WebUiClass;
let loadStackConfig: typeof import("../../infra/config/load.js").loadStackConfig;
let hostLayouts: typeof import("../../infra/docker/host-layout.js").hostLayouts;

before(async () => {
  engine = await installMocks({ stack: "lab" });
  ({ WebUi } = await import("../../infra/docker/webui.js"));
  ({ loadStackConfig } = await import("../../infra/config/load.js"));
  ({ hostLayouts } = await import("../../infra/docker/host-layout.js"));
});

/** A WebUi built from a validated configuration, with `override` applied to its settings afterwards. */
function webUi(override: Record<string, unknown>) {
  engine.reset();
  setStackConfig({ apiPassword: "correct-horse-battery-9" });
  const config = loadStackConfig();
  const settings = { ...config.settings, ...override } as typeof config.settings;
  const [layout] = hostLayouts(settings, "lab");
  return new WebUi("sdwebui", { settings, secrets: config.secrets, layout: layout!, stack: "lab", project: "sdwebui" });
}

describe("WebUi component", () => {
  it("builds its children from a validated configuration", async () => {
    const ui = webUi({});
    assert.equal(ui.instances.length, 1);
    assert.match(await promiseOf(ui.endpoints[0]!.apiUrl), /^http:\/\/127\.0\.0\.1:7860\/?$/);
    await promiseOf(ui.containers[0]!.id);
    assert.equal(engine.byType("docker:index/container:Container").length, 1, "one container");
    // The engine records the component's plain args as its inputs; the secrets stay with the children.
    const recorded = engine.one("sdwebui:index:WebUi").inputs as { settings: { hostPort: number }; stack: string };
    assert.deepEqual([recorded.settings.hostPort, recorded.stack], [7860, "lab"]);
    assert.ok(!JSON.stringify(recorded).includes("correct-horse-battery-9"), "no password among the recorded inputs");
  });

  it("a step that fails on a value the validator would refuse is a ResourceError of the WebUi, naming the value", () => {
    // The validator refuses 0 before any component exists; built directly, the pull step's own check fires.
    assert.throws(
      () => webUi({ imagePullTimeoutSeconds: 0 }),
      (e: unknown) => pulumi.ResourceError.isInstance(e) && /"0" is not a limit in seconds/.test((e as Error).message),
    );
  });

  it("an image profile it cannot resolve is a ResourceError of the WebUi", () => {
    assert.throws(
      () => webUi({ imageProfile: "custom" }),
      (e: unknown) =>
        pulumi.ResourceError.isInstance(e) && /imageProfile custom needs profileDataRoot/.test((e as Error).message),
    );
  });
});

describe("KubernetesFleet component", () => {
  it("an image profile it cannot resolve is a ResourceError of the fleet", async () => {
    const { KubernetesFleet } = await import("../../infra/kubernetes/fleet.js");
    engine.reset();
    setStackConfig({ apiPassword: "correct-horse-battery-9", target: "kubernetes" });
    const config = loadStackConfig();
    const settings = { ...config.settings, imageProfile: "custom" } as typeof config.settings;
    assert.throws(
      () => new KubernetesFleet("sdwebui", { settings, secrets: config.secrets, stack: "lab" }),
      (e: unknown) => pulumi.ResourceError.isInstance(e) && /imageProfile custom needs/.test((e as Error).message),
    );
  });
});
