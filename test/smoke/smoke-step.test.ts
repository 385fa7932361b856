// declareSmoke under Pulumi mocks: the command line, secrets only in secret env entries, triggers,
// options passed through, the proven-file helper. setMocks runs before the dynamic import (a resource module imported earlier would register against no mocks).
import assert from "node:assert/strict";
import { relative } from "node:path";
import { before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";

type SmokeModule = typeof import("../../infra/common/smoke-step.js");
let mod: SmokeModule;
const created: pulumi.runtime.MockResourceArgs[] = [];
const PW = "api-pw-Zq81";
const UIPW = "ui-pw-Lx42";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nKEYDATA-9d\n-----END OPENSSH PRIVATE KEY-----";

before(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        created.push(args);
        const stdout = `smoke: progress\n${JSON.stringify({ ok: true, file: "/srv/sd/outputs/txt2img-images/2026-01-01/00000-7.png", bytes: 99, seed: 7, runId: "smoke-x" })}\n`;
        return { id: `${args.name}-id`, state: { ...args.inputs, stdout, stderr: "" } };
      },
      call: () => ({}),
    },
    "sdwebui",
    "test",
    false,
  );
  mod = await import("../../infra/common/smoke-step.js");
});

const promiseOf = <T>(o: pulumi.Output<T>): Promise<T> =>
  new Promise((r) =>
    o.apply((v) => {
      r(v);
      return v;
    }),
  );

function args(
  extra: Partial<Parameters<SmokeModule["declareSmoke"]>[1]> = {},
): Parameters<SmokeModule["declareSmoke"]>[1] {
  return {
    url: pulumi.output("http://127.0.0.1:7860"),
    username: "sd",
    password: pulumi.secret(PW),
    exposure: "api-and-ui",
    hostOutputsDir: "/srv/sd/outputs",
    hostModelsDir: "/srv/sd/models",
    containerOutputsDir: "/app/stable-diffusion-webui/outputs",
    containerDataRoot: "/app/stable-diffusion-webui",
    expectedUid: 1000,
    timeoutSeconds: 900,
    prompt: "a cat's hat; $(x)",
    steps: 4,
    width: 256,
    height: 256,
    triggers: [pulumi.output("container-id-1"), "sha256:img"],
    ...extra,
  };
}

test("create runs the compiled CLI by a relative path with --json; every value is shell-quoted", async () => {
  const cmd = mod.declareSmoke("smoke-a", args({ container: "webui" }), {});
  const create = await promiseOf(cmd.create as pulumi.Output<string>);
  // Relative to the working directory the engine gives the program and its plugins (the folder of main).
  assert.ok(create.startsWith(`node ${mod.smokeCliPath()} `), create);
  assert.equal(mod.smokeCliPath("/srv/project/dist/infra"), relative("/srv/project/dist/infra", mod.SMOKE_CLI_FILE));
  assert.ok(create.endsWith(" --json"));
  assert.ok(create.includes(`'--prompt=a cat'\\''s hat; $(x)'`), create);
  assert.ok(create.includes(`--password-env ${mod.ENV.apiPassword}`));
  assert.ok(create.includes("--container webui"));
  assert.ok(!create.includes(PW));
});

test("passwords and the SSH key are only in secret environment entries", async () => {
  created.length = 0;
  const cmd = mod.declareSmoke(
    "smoke-b",
    args({
      uiUsername: "ui",
      uiPassword: pulumi.secret(UIPW),
      ssh: {
        user: "deploy",
        host: "gpu1.example",
        port: 22,
        privateKey: pulumi.secret(KEY),
        knownHosts: "gpu1.example ssh-ed25519 AAAA",
      },
    }),
    {},
  );
  await promiseOf(cmd.urn);
  assert.equal(await pulumi.isSecret(cmd.environment), true);
  const reg = created.find((c) => c.name === "smoke-b");
  assert.ok(reg);
  assert.equal(reg.type, "command:local:Command");
  // The environment reaches the engine as one secret (the secret entries make the whole map secret).
  const envWire = reg.inputs.environment;
  assert.ok(pulumi.runtime.isRpcSecret(envWire), "environment is wrapped as a secret");
  const env = pulumi.runtime.unwrapRpcSecret(envWire) as Record<string, string>;
  assert.equal(env[mod.ENV.apiPassword], PW);
  assert.equal(env[mod.ENV.uiPassword], UIPW);
  assert.equal(env[mod.ENV.sshKey], KEY);
  // No other input contains any secret.
  const plain = JSON.stringify({ ...reg.inputs, environment: undefined });
  for (const s of [PW, UIPW, "KEYDATA-9d"])
    assert.ok(!plain.includes(s), `secret ${s.slice(0, 6)}… leaked into a plain input`);
  const create = String(reg.inputs.create);
  assert.ok(create.includes(`--ssh-identity-env ${mod.ENV.sshKey}`));
  assert.ok(create.includes(`--ssh-known-hosts-env ${mod.ENV.knownHosts}`));
  assert.ok(create.includes(`--ui-password-env ${mod.ENV.uiPassword}`));
  assert.deepEqual(reg.inputs.triggers, ["container-id-1", "sha256:img"]);
  assert.equal(reg.inputs.addPreviousOutputInEnv, false);
});

// That resource options (dependsOn) reach the engine is proven in test/unit/program.test.ts (the smoke's
// dependencies); here only the parsing of the command's stdout.
test("the proven file is read from the smoke command's stdout", async () => {
  const cmd = mod.declareSmoke("smoke-c", args(), {});
  assert.equal(await promiseOf(mod.provenFile(cmd)), "/srv/sd/outputs/txt2img-images/2026-01-01/00000-7.png");
});

test("bad settings fail with the flag named, before anything runs", () => {
  assert.throws(() => mod.smokeCliArgs(args({ width: 100 }), { url: "http://x:1", username: "sd" }, false), /--width/);
  assert.throws(
    () => mod.smokeCliArgs(args({ hostOutputsDir: "rel" }), { url: "http://x:1", username: "sd" }, false),
    /hostOutputsDir must be absolute/,
  );
  assert.throws(() => mod.smokeCliArgs(args(), { url: "http://x:1", username: "a:b" }, false), /--username/);
  // Values that start with "-" stay values (they used to be read as the next flag and fail the deploy).
  const dashed = mod.smokeCliArgs(
    args({ prompt: "-- a lighthouse" }),
    { url: "http://x:1", username: "-sd", uiUsername: "-ui" },
    false,
  );
  assert.ok(
    dashed.includes("--prompt=-- a lighthouse") &&
      dashed.includes("--username=-sd") &&
      dashed.includes("--ui-username=-ui"),
  );
  assert.throws(
    () =>
      mod.smokeCliArgs(
        args({ ssh: { user: "u", host: "-oProxyCommand=x", port: 22 } }),
        { url: "http://x:1", username: "sd" },
        false,
      ),
    /ssh-host/,
  );
});

test("parseSmokeStdout takes the last JSON line and insists on ok + an absolute file", () => {
  assert.equal(mod.parseSmokeStdout('x\n{"ok":true,"file":"/a.png","bytes":1,"seed":1,"runId":"r"}\n').file, "/a.png");
  assert.throws(() => mod.parseSmokeStdout('{"ok":false}'));
  assert.throws(() => mod.parseSmokeStdout("not json"), /not JSON/);
});
