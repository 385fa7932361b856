// The program evaluated under Pulumi mocks: what it registers and with which inputs. Parents, dependencies
// and resource options are the engine's: test/deploy reads them from the real engine's state.
import assert from "node:assert/strict";
import { before, beforeEach, describe, it } from "node:test";
import { BAD } from "./bad-config-cases.js";
import {
  allRegistered,
  installMocks,
  MockEngine,
  resolveOutputs,
  setStackConfig,
  unwrapSecrets,
  visiblePart,
} from "../helpers/pulumi-mocks.js";
import { makeCa } from "../helpers/certs.js";

const PASSWORD = "correct-horse-battery-9";
const UI_PASSWORD = "ui-staple-horse-battery-7";
let engine: MockEngine;
let deployStack: () => Promise<Record<string, unknown>>;

const CONTAINER = "docker:index/container:Container";

async function evaluate(settings: Record<string, unknown>) {
  engine.reset();
  setStackConfig({ apiPassword: PASSWORD, ...settings });
  const outputs = await resolveOutputs(await deployStack());
  // The WebUI's container (with tls a proxy container stands beside it).
  const webui = engine.byType(CONTAINER).filter((r) => !r.name.endsWith("-proxy"));
  assert.equal(webui.length, 1, "one WebUI container");
  return { outputs, container: webui[0]! };
}

const inputsOf = (r: { inputs: Record<string, unknown> }) => unwrapSecrets(r.inputs) as Record<string, unknown>;

/** The root certificate a tls internal stack's reader prints on the host. */
const TLS_ROOT = makeCa().cert;

before(async () => {
  engine = await installMocks({
    stack: "dev",
    newResource: (args, fallback) =>
      args.name.endsWith("-tls-root") ? { ...fallback, state: { ...fallback.state, stdout: TLS_ROOT } } : fallback,
  });
  ({ deployStack } = await import("../../infra/program.js"));
});
beforeEach(() => engine.reset());

describe("resources", () => {
  it("registers the host component, the per-container component, and their resources, each name once", async () => {
    await evaluate({});
    assert.equal(engine.one("sdwebui:index:WebUi").custom, false);
    assert.equal(engine.one("sdwebui:index:WebUiContainer").custom, false);
    const names = engine.resources
      .filter((r) => r.type !== "pulumi:pulumi:Stack")
      .map((r) => r.name)
      .sort();
    assert.deepEqual(names, [
      "sdwebui",
      "sdwebui",
      "sdwebui-container",
      "sdwebui-docker",
      "sdwebui-firewall-iptables-sdwebui.dev.7860",
      "sdwebui-folders",
      "sdwebui-image",
      "sdwebui-preflight",
      "sdwebui-smoke",
    ]);
    const ids = engine.resources.map((r) => `${r.type}::${r.name}`);
    assert.equal(new Set(ids).size, ids.length, "no two resources of one type share a name");
  });

  it("uses the image id and the host's provider; the preflight checks the port and pulls the image", async () => {
    const { container } = await evaluate({});
    const provider = engine.one("pulumi:providers:docker");
    assert.equal(inputsOf(provider).host, "unix:///var/run/docker.sock");
    assert.equal(inputsOf(container).image, `sha256:${"ab".repeat(32)}`, "the RemoteImage's imageId");
    assert.match(container.provider, /::sdwebui-docker::/);
    const preflight = engine.byType("command:local:Command").find((r) => r.name.endsWith("-preflight"))!;
    // Each host script starts by setting its arguments: the port check's first is the port, the pull's the image.
    assert.match(String(inputsOf(preflight).create), /^set -- 7860 sdwebui-dev /m);
    assert.match(String(inputsOf(preflight).create), /^set -- universonic\/stable-diffusion-webui:full /m);
    assert.equal(inputsOf(engine.one("docker:index/remoteImage:RemoteImage")).keepLocally, true);
    assert.equal(
      inputsOf(engine.one("docker:index/remoteImage:RemoteImage")).name,
      "universonic/stable-diffusion-webui:full",
    );
  });

  it("the host folders step has no delete script (it is also retained on destroy: test/deploy)", async () => {
    await evaluate({});
    const folders = engine.byType("command:local:Command").find((r) => r.name.endsWith("-folders"))!;
    assert.equal(inputsOf(folders).delete, undefined);
    assert.match(String(inputsOf(folders).create), /mkdir -p/);
  });

  it("healthcheck durations are written as the provider reads them back (Go's Duration form)", async () => {
    const { container } = await evaluate({});
    const h = inputsOf(container).healthcheck as Record<string, unknown>;
    assert.deepEqual([h.interval, h.timeout, h.startPeriod], ["30s", "15s", "10m0s"]);
  });
});

describe("container inputs", () => {
  it("passes every owned flag as docker args for the default profile", async () => {
    const { container } = await evaluate({ extraArgs: ["--xformers", "--medvram"] });
    const cmd = inputsOf(container).command as string[];
    assert.deepEqual(cmd, [
      "--api",
      "--api-auth",
      `sdwebui:${PASSWORD}`,
      "--listen",
      "--port",
      "8080",
      "--gradio-auth",
      `sdwebui:${PASSWORD}`,
      "--no-download-sd-model",
      "--xformers",
      "--medvram",
    ]);
  });

  it("api-only exposure uses --nowebui and no gradio auth; UI credentials are separate when set", async () => {
    let { container } = await evaluate({ exposure: "api-only" });
    let cmd = inputsOf(container).command as string[];
    assert.ok(cmd.includes("--nowebui"));
    assert.ok(!cmd.includes("--gradio-auth"));
    assert.match(String((inputsOf(container).healthcheck as { tests: string[] }).tests[3]), /\/docs'/);
    ({ container } = await evaluate({ uiUsername: "painter", uiPassword: UI_PASSWORD }));
    cmd = inputsOf(container).command as string[];
    assert.equal(cmd[cmd.indexOf("--gradio-auth") + 1], `painter:${UI_PASSWORD}`);
  });

  for (const [gpus, expected] of [
    ["all", [{ driver: "nvidia", count: -1, capabilities: ["gpu"] }]],
    ["2", [{ driver: "nvidia", count: 2, capabilities: ["gpu"] }]],
    ["device=0,2", [{ driver: "nvidia", deviceIds: ["0", "2"], capabilities: ["gpu"] }]],
    ["none", undefined],
  ] as const) {
    it(`gpus ${gpus} → device requests ${JSON.stringify(expected)}`, async () => {
      const { container } = await evaluate({ gpus });
      assert.deepEqual(inputsOf(container).deviceRequests, expected);
      const cmd = inputsOf(container).command as string[];
      assert.equal(cmd.includes("--skip-torch-cuda-test"), gpus === "none");
      if (gpus === "none") assert.match(cmd.join(" "), / --use-cpu all --skip-torch-cuda-test --no-half( |$)/);
    });
  }

  for (const [profile, outputs, models, user, port] of [
    ["universonic", "/app/stable-diffusion-webui/outputs", "/app/stable-diffusion-webui/models", "1000:1000", 8080],
    ["siutin", "/app/stable-diffusion-webui/outputs", "/app/stable-diffusion-webui/models", "10000:10000", 7860],
    ["sd-auto", "/output", "/data/models", "0:0", 7860],
  ] as const) {
    it(`profile ${profile}: mounts, user, internal port`, async () => {
      const { container } = await evaluate({
        imageProfile: profile,
        outputsDir: "/data/sd/out",
        modelsDir: "/data/sd/models",
      });
      const i = inputsOf(container);
      assert.deepEqual(i.mounts, [
        { type: "bind", source: "/data/sd/out", target: outputs, readOnly: false },
        { type: "bind", source: "/data/sd/models", target: models, readOnly: false },
        // The checkpoints read-only over the writable models folder: the container cannot change a placed model.
        {
          type: "bind",
          source: "/data/sd/models/Stable-diffusion",
          target: `${models}/Stable-diffusion`,
          readOnly: true,
        },
      ]);
      assert.equal(i.user, user);
      assert.deepEqual(i.ports, [{ internal: port, external: 7860, ip: "0.0.0.0", protocol: "tcp" }]);
    });
  }

  it("siutin passes flags after `bash webui.sh`; sd-auto in CLI_ARGS", async () => {
    let { container } = await evaluate({ imageProfile: "siutin" });
    assert.deepEqual((inputsOf(container).command as string[]).slice(0, 3), ["bash", "webui.sh", "--api"]);
    ({ container } = await evaluate({ imageProfile: "sd-auto" }));
    const envs = inputsOf(container).envs as string[];
    assert.equal(envs.length, 1);
    assert.match(envs[0]!, /^CLI_ARGS=--api --api-auth sdwebui:\S+ --listen --port 7860 --gradio-auth /);
    assert.equal(
      inputsOf(container).command,
      undefined,
      "the image's own CMD stays (an empty list would differ from it on every run)",
    );
  });

  it("custom profile: the user's four facts, plus --data-dir when asked", async () => {
    const { container } = await evaluate({
      imageProfile: "custom",
      image: "registry.local:5000/my/webui:1.10",
      profileDataRoot: "/srv/webui",
      profileOutputsPath: "/srv/webui/outputs",
      profileModelsPath: "/srv/webui/models",
      profileUid: "1234",
      profilePort: "9000",
      profileFlagsVia: "env",
      profileFlagsEnvVar: "COMMANDLINE_ARGS",
      profilePassDataDir: "true",
    });
    const i = inputsOf(container);
    assert.equal(i.user, "1234:1234");
    assert.match((i.envs as string[])[0]!, /^COMMANDLINE_ARGS=.*--port 9000 .*--data-dir \/srv\/webui/);
    assert.equal(
      inputsOf(engine.one("docker:index/remoteImage:RemoteImage")).name,
      "registry.local:5000/my/webui:1.10",
    );
  });

  it("publishes the host port on the bind address, restart unless-stopped, healthcheck, labels", async () => {
    const { container } = await evaluate({ hostPort: "7999", bindAddress: "10.1.2.3" });
    const i = inputsOf(container);
    assert.deepEqual(i.ports, [{ internal: 8080, external: 7999, ip: "10.1.2.3", protocol: "tcp" }]);
    assert.equal(i.restart, "unless-stopped");
    assert.equal(i.name, "sdwebui-dev");
    assert.deepEqual((i.healthcheck as { tests: string[] }).tests.slice(0, 3), ["CMD", "python3", "-c"]);
    assert.deepEqual(i.labels, [
      { label: "sdwebui.project", value: "sdwebui" },
      { label: "sdwebui.stack", value: "dev" },
      { label: "sdwebui.profile", value: "universonic" },
    ]);
  });
});

describe("secrets and outputs", () => {
  it("the passwords appear in no non-secret input of any resource, nor in the stack outputs", async () => {
    const { outputs } = await evaluate({ uiUsername: "painter", uiPassword: UI_PASSWORD, imageProfile: "sd-auto" });
    assert.ok(engine.resources.length >= 5);
    for (const r of engine.resources) {
      const visible = visiblePart(r.inputs);
      assert.ok(!visible.includes(PASSWORD), `${r.type} ${r.name} shows the API password`);
      assert.ok(!visible.includes(UI_PASSWORD), `${r.type} ${r.name} shows the UI password`);
    }
    // ...and they do reach the container, inside secret envelopes.
    assert.ok(JSON.stringify(unwrapSecrets(engine.one(CONTAINER).inputs)).includes(PASSWORD));
    assert.ok(!JSON.stringify(outputs).includes(PASSWORD));
  });

  it("exports the API URL, docs URL, host outputs dir and container name", async () => {
    const { outputs } = await evaluate({ hostPort: "7870", outputsDir: "/data/out", modelsDir: "/data/models" });
    assert.equal(outputs.apiUrl, "http://127.0.0.1:7870");
    assert.equal(outputs.docsUrl, "http://127.0.0.1:7870/docs");
    assert.equal(outputs.outputsDir, "/data/out");
    assert.equal(outputs.containerName, "sdwebui-dev");
  });
});

describe("firewall and smoke wiring", () => {
  const cmds = () => engine.byType("command:local:Command");
  it("no command sends the previous run's output: over ssh it goes out by Setenv, which a stock sshd refuses with a warning", async () => {
    await evaluate({
      firewallAllowlist: ["10.20.0.0/16"],
      checkpoints: [{ source: "https://hf.example/m.safetensors", sha256: "a".repeat(64) }],
      tls: "internal",
    });
    const all = [...cmds(), ...engine.byType("command:remote:Command")];
    assert.ok(
      all.length >= 6,
      `preflight, folders, checkpoints, firewall, tls steps and smoke: ${all.map((r) => r.name).join(", ")}`,
    );
    for (const r of all) assert.equal(inputsOf(r).addPreviousOutputInEnv, false, r.name);
  });
  it("the firewall is in place before the container, re-applies when the container's spec changes, deletes its rules on destroy", async () => {
    await evaluate({ firewallAllowlist: ["10.20.0.0/16"] });
    const fw = cmds().find((r) => r.name.includes("-firewall-"))!;
    const i = inputsOf(fw);
    assert.match(String(i.create), /DOCKER-USER/);
    assert.equal(i.update, i.create);
    assert.match(String(i.delete), /sdwebui\.dev\.7860/, "the tag is project, stack and port");
    assert.match(String(i.create), /10\.20\.0\.0\/16/);
    // Re-applied in place (update), never through triggers, which would replace the command.
    assert.equal(i.triggers, undefined);
    // On stdin, not in environment: over ssh an environment entry goes out by Setenv, which a stock sshd refuses.
    assert.equal(i.environment, undefined);
    const reapply = () => String(inputsOf(cmds().find((r) => r.name.includes("-firewall-"))!).stdin);
    const digest = reapply();
    assert.match(digest, /^[0-9a-f]{64}\n$/);
    assert.ok(!visiblePart(fw.inputs.stdin).includes(digest.trim()), "the digest covers the flags, so it is secret");
    await evaluate({ firewallAllowlist: ["10.20.0.0/16"] });
    assert.equal(reapply(), digest, "same config, same value");
    await evaluate({ firewallAllowlist: ["10.20.0.0/16"], extraArgs: ["--medvram"] });
    assert.notEqual(reapply(), digest, "a replaced container re-applies the rules");
  });

  it("the smoke re-runs on container or image replacement; the password only in a secret environment entry", async () => {
    const { outputs } = await evaluate({});
    const smoke = cmds().find((r) => r.name.endsWith("-smoke"))!;
    const i = inputsOf(smoke);
    assert.match(
      String(i.create),
      /^node \S*smoke\/cli\.js --url http:\/\/127\.0\.0\.1:7860 .*--password-env \S+ .*--outputs-dir \/srv\/sd-webui\/outputs .*--json$/,
    );
    assert.ok(!String(i.create).includes(PASSWORD));
    assert.deepEqual(i.triggers, ["sdwebui-container-id", `sha256:${"ab".repeat(32)}`]);
    assert.ok(!visiblePart(smoke.inputs).includes(PASSWORD));
    assert.ok(JSON.stringify(unwrapSecrets(smoke.inputs.environment)).includes(PASSWORD));
    assert.match(String(outputs.firewall), /deny every remote client/);
  });

  it("smokeEnabled false and firewallBackend none register neither, and say so", async () => {
    const { outputs } = await evaluate({ smokeEnabled: "false", firewallBackend: "none" });
    assert.deepEqual(
      cmds().map((r) => r.name),
      ["sdwebui-preflight", "sdwebui-folders"],
      "only the port preflight and folders commands",
    );
    assert.equal(outputs.smokeFile, "");
    assert.ok((outputs.warnings as string[]).some((w) => /firewall/i.test(w)));
  });
});

describe("bad config", () => {
  it("registers nothing and throws one error naming every bad key", async () => {
    engine.reset();
    setStackConfig({ apiPassword: "Zq9x", hostPort: "99999", gpus: "several", extraArgs: ["--share"] });
    await assert.rejects(
      () => deployStack(),
      (e: Error) => {
        for (const k of ["apiPassword", "hostPort", "gpus", "extraArgs"])
          assert.match(e.message, new RegExp(`sdwebui:${k} `));
        assert.ok(!e.message.includes("Zq9x"), "the secret value is not shown");
        return true;
      },
    );
    // Once every registration the evaluation started has reached the mocks: there is none.
    await allRegistered();
    assert.equal(engine.resources.length, 0);
  });

  it(`none of the ${BAD.length} bad configurations registers a resource`, async () => {
    for (const [raw, key] of BAD) {
      engine.reset();
      setStackConfig({ apiPassword: PASSWORD, ...raw });
      await assert.rejects(() => deployStack(), new RegExp(`sdwebui:${key.replace(/[.[\]]/g, "\\$&")}(\\[|\\.| = )`));
      // Once every registration the evaluation started has reached the mocks: there is none.
      await allRegistered();
      assert.deepEqual(
        engine.resources.map((r) => `${r.type} ${r.name}`),
        [],
        `bad ${key}: nothing registered`,
      );
    }
  });

  it("refuses a password stored in plain text", async () => {
    engine.reset();
    setStackConfig({ apiPassword: PASSWORD }, []);
    await assert.rejects(() => deployStack(), /apiPassword = \[secret\]: is stored in plain text/);
  });
});
