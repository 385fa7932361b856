// A bad configuration through the real CLI (pulumi preview / up, the built program, the language host):
// the user sees the single config error, with every bad key and its fix, as a plain error (no stack
// trace); no secret value appears in any output or in the state; nothing is created.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import type { EngineProject } from "../helpers/pulumi-cli.js";
import { engineProject, filesContaining, requireToolchain } from "../helpers/pulumi-cli.js";

const COLON_PASSWORD = "correct:horse-battery-staple-9";
const PLAIN_PASSWORD = "plaintext-password-stored-42";

describe("a bad configuration under the real engine", () => {
  let project: EngineProject | undefined;
  before(() => {
    project = engineProject("bad-config");
  });
  after(() => project?.cleanUp());

  const out = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

  it("pulumi preview and up show the single config error and create nothing", (t) => {
    if (!requireToolchain(t)) return;
    const p = project!;
    assert.equal(p.pulumi(["stack", "init", "bad"]).status, 0);
    assert.equal(p.pulumi(["config", "set", "sdwebui:hostPort", "70000"]).status, 0);
    assert.equal(p.pulumi(["config", "set", "--secret", "sdwebui:apiPassword", COLON_PASSWORD]).status, 0);

    const preview = p.pulumi(["preview"]);
    assert.notEqual(preview.status, 0, out(preview));
    const text = out(preview);
    assert.match(text, /the stack configuration has 2 problems; nothing was deployed or changed/);
    assert.match(text, /sdwebui:hostPort = "70000": must be at most 65535/);
    assert.match(text, /sdwebui:apiPassword = \[secret\]: contains ":"/);
    assert.match(text, /fix: pulumi config set --secret sdwebui:apiPassword <value>/);
    assert.doesNotMatch(
      text,
      /unhandled exception|at validateSettings|problems: \[/,
      "a user-facing error, not a crash report",
    );
    assert.ok(!text.includes(COLON_PASSWORD), "the password is never printed");

    const json = p.pulumi(["preview", "--json"]);
    assert.notEqual(json.status, 0);
    assert.ok(!out(json).includes(COLON_PASSWORD), "nor in the engine's JSON events");

    const up = p.pulumi(["up", "--yes", "--skip-preview"]);
    assert.notEqual(up.status, 0, out(up));
    assert.match(out(up), /the stack configuration has 2 problems/);
    const exported = JSON.parse(p.pulumi(["stack", "export"]).stdout) as {
      deployment: { resources?: { type: string }[] };
    };
    const types = (exported.deployment.resources ?? []).map((r) => r.type).filter((ty) => ty !== "pulumi:pulumi:Stack");
    assert.deepEqual(types, [], "no resource was created");
    const containers = spawnSync("docker", ["ps", "-aq", "--filter", "label=sdwebui.stack=bad"], { encoding: "utf8" });
    assert.equal(containers.stdout.trim(), "", "no container was created");
    assert.deepEqual(
      filesContaining(p.dir, COLON_PASSWORD),
      [],
      "no file of the project or its state holds the password",
    );
  });

  it("a password stored in plain text is refused without being echoed", (t) => {
    if (!requireToolchain(t)) return;
    const p = project!;
    assert.equal(p.pulumi(["stack", "init", "plain"]).status, 0);
    assert.equal(p.pulumi(["config", "set", "sdwebui:apiPassword", PLAIN_PASSWORD]).status, 0);
    const preview = p.pulumi(["preview"]);
    assert.notEqual(preview.status, 0);
    assert.match(out(preview), /sdwebui:apiPassword = \[secret\]: .*--secret/s);
    assert.ok(!out(preview).includes(PLAIN_PASSWORD));
  });

  it("a secret stored under a misspelled key is named, never shown", (t) => {
    if (!requireToolchain(t)) return;
    const p = project!;
    assert.equal(p.pulumi(["stack", "init", "misspelled"]).status, 0);
    assert.equal(p.pulumi(["config", "set", "--secret", "sdwebui:apiPassword", "correct-horse-battery-9"]).status, 0);
    assert.equal(p.pulumi(["config", "set", "--secret", "sdwebui:apipassword", PLAIN_PASSWORD]).status, 0);
    const preview = p.pulumi(["preview"]);
    assert.notEqual(preview.status, 0);
    assert.match(
      out(preview),
      /sdwebui:apipassword = \[secret\]: is not a setting of this program; did you mean apiPassword\?/,
    );
    assert.ok(!out(preview).includes(PLAIN_PASSWORD));
  });

  it("a value of the wrong type for a declared setting names the setting", (t) => {
    if (!requireToolchain(t)) return;
    const p = project!;
    assert.equal(p.pulumi(["stack", "init", "typed"]).status, 0);
    assert.equal(p.pulumi(["config", "set", "sdwebui:hostPort", "http"]).status, 0);
    assert.equal(p.pulumi(["config", "set", "--secret", "sdwebui:apiPassword", "correct-horse-battery-9"]).status, 0);
    const preview = p.pulumi(["preview"]);
    assert.notEqual(preview.status, 0);
    assert.match(out(preview), /hostPort/);
    assert.doesNotMatch(out(preview), /unhandled exception/);
  });
});

describe("checkpoints through the real CLI's structured config", () => {
  let project: EngineProject | undefined;
  before(() => {
    project = engineProject("checkpoints-config");
  });
  after(() => project?.cleanUp());
  const out = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

  it("entries set with config set --path reach the program as the schema reads them; a bad one is named, the token never shown", (t) => {
    if (!requireToolchain(t)) return;
    const p = project!;
    const token = "hf_engine_token_5f3a9c2e";
    assert.equal(p.pulumi(["stack", "init", "ckpt"]).status, 0);
    assert.equal(p.pulumi(["config", "set", "--secret", "sdwebui:apiPassword", "correct-horse-battery-9"]).status, 0);
    assert.equal(
      p.pulumi(["config", "set", "--path", "sdwebui:checkpoints[0].source", "https://hf.example/v1-5.safetensors"])
        .status,
      0,
    );
    assert.equal(p.pulumi(["config", "set", "--path", "sdwebui:checkpoints[0].sha256", "abc"]).status, 0);
    assert.equal(p.pulumi(["config", "set", "--path", "sdwebui:checkpoints[0].useToken", "true"]).status, 0);
    assert.equal(p.pulumi(["config", "set", "--secret", "sdwebui:checkpointToken", token]).status, 0);
    const bad = p.pulumi(["preview"]);
    assert.notEqual(bad.status, 0);
    assert.match(
      out(bad),
      /sdwebui:checkpoints\[0\]\.sha256 = "abc": must be the file's sha256: 64 hexadecimal digits/,
    );
    assert.match(
      out(bad),
      /fix: edit the checkpoints list in Pulumi\.<stack>\.yaml, or pulumi config set --path --type string 'sdwebui:checkpoints\[0\]\.sha256' -- <value>/,
    );
    assert.ok(!out(bad).includes(token), "the token is in no output");

    assert.equal(p.pulumi(["config", "set", "--path", "sdwebui:checkpoints[0].sha256", "ab".repeat(32)]).status, 0);
    const good = p.pulumi(["preview"]);
    assert.doesNotMatch(out(good), /stack configuration has|validating stack config/, out(good));
    assert.ok(!out(good).includes(token));
    for (const f of filesContaining(p.dir, token)) assert.fail(`the token is in ${f} in plain text`);
  });
});

describe("values echoed by the config error through the real CLI", () => {
  const out = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

  it("no control character of a value reaches the terminal, and no URL password", (t) => {
    if (!requireToolchain(t)) return;
    const p = engineProject("escaped-config");
    try {
      assert.equal(p.pulumi(["stack", "init", "esc"]).status, 0);
      assert.equal(p.pulumi(["config", "set", "--secret", "sdwebui:apiPassword", "correct-horse-battery-9"]).status, 0);
      assert.equal(p.pulumi(["config", "set", "sdwebui:smokePrompt", "a\u001b[2J\u009b31mb"]).status, 0);
      assert.equal(
        p.pulumi([
          "config",
          "set",
          "--path",
          "sdwebui:checkpoints[0].source",
          "https://alice:Url-Secret-71@hf.example/m.safetensors",
        ]).status,
        0,
      );
      assert.equal(p.pulumi(["config", "set", "--path", "sdwebui:checkpoints[0].sha256", "ab".repeat(32)]).status, 0);
      assert.equal(
        p.pulumi([
          "config",
          "set",
          "--path",
          "sdwebui:checkpoints[1].source",
          "https://hf.example/x%1b%5d0;t%07.safetensors",
        ]).status,
        0,
      );
      assert.equal(p.pulumi(["config", "set", "--path", "sdwebui:checkpoints[1].sha256", "cd".repeat(32)]).status, 0);
      const preview = p.pulumi(["preview", "--color", "never"]);
      assert.notEqual(preview.status, 0);
      const text = out(preview);
      assert.match(
        text,
        /sdwebui:smokePrompt = "a\\u001b\[2J\\u009b31mb": must be one line of text, without control characters/,
      );
      assert.match(
        text,
        /sdwebui:checkpoints\[0\]\.source = "https:\/\/alice:\[secret\]@hf\.example\/m\.safetensors": must not carry credentials/,
      );
      assert.match(
        text,
        /sdwebui:checkpoints\[1\]\.fileName = \(not set\): \(taken from the source: "x\\u001b\]0;t\\u0007\.safetensors"\)/,
      );
      // eslint-disable-next-line no-control-regex -- what must not reach the terminal
      assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
      assert.ok(!text.includes("Url-Secret-71"));
    } finally {
      p.cleanUp();
    }
  });
});

describe("the local rehearsal stack (Pulumi.local.yaml) under the real engine", () => {
  it("its configuration passes the CLI's and the program's validation", (t) => {
    const manifest = requireToolchain(t);
    if (!manifest) return;
    const p = engineProject("local-stack");
    try {
      cpSync(join(REPO_ROOT, "Pulumi.local.yaml"), join(p.dir, "Pulumi.local.yaml"));
      assert.equal(p.pulumi(["stack", "init", "local"]).status, 0);
      assert.equal(p.pulumi(["config", "set", "--secret", "sdwebui:apiPassword", "correct-horse-battery-9"]).status, 0);
      const preview = p.pulumi(["preview"]);
      const text = `${preview.stdout}\n${preview.stderr}`;
      assert.doesNotMatch(text, /stack configuration has|validating stack config/, text);
      // The test's PULUMI_HOME has the docker and command plugins (the stand-ins here): the preview plans every resource.
      assert.equal(preview.status, 0, text);
    } finally {
      p.cleanUp();
    }
  });
});
