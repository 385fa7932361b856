// SDWEBUI_<SETTING> -> sdwebui:<setting>: every setting reachable, lists/booleans parsed, secrets set as
// secret and never shown, and a bad environment fails once with every problem, via the program's rules.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SECRET_KEYS, SETTING_KEYS } from "../../infra/config/schema.js";
import { TOOLCHAIN_DIR_ENV } from "../../tools/toolchain/layout.js";
import {
  ENV_SETTINGS,
  EnvConfigError,
  TOOL_PREFIX,
  configDocument,
  envConfig,
  envFix,
  envVarFor,
  parseList,
  programView,
  readEnvSettings,
  redact,
} from "../../tools/ci-stack/env-config.js";
import { ConfigError, validateSettings } from "../../infra/config/validate.js";
import { BAD } from "../unit/bad-config-cases.js";

const PASSWORD = "correct-horse-battery-9";
const base = { SDWEBUI_API_PASSWORD: PASSWORD };

describe("names", () => {
  it("camelCase keys map to SDWEBUI_UPPER_SNAKE, one to one, none in the tool's SDWEBUI_CI_ space", () => {
    assert.equal(envVarFor("hostPort"), "SDWEBUI_HOST_PORT");
    assert.equal(envVarFor("apiPassword"), "SDWEBUI_API_PASSWORD");
    assert.equal(envVarFor("shmSizeMb"), "SDWEBUI_SHM_SIZE_MB");
    assert.equal(envVarFor("profileFlagsEnvVar"), "SDWEBUI_PROFILE_FLAGS_ENV_VAR");
    assert.equal(envVarFor("smokeTimeoutSeconds"), "SDWEBUI_SMOKE_TIMEOUT_SECONDS");
    const names = ENV_SETTINGS.map((s) => s.env);
    assert.equal(new Set(names).size, SETTING_KEYS.length, "one variable per setting");
    for (const n of names) {
      assert.match(n, /^SDWEBUI_[A-Z0-9]+(_[A-Z0-9]+)*$/);
      assert.ok(!n.startsWith(TOOL_PREFIX), `${n} does not collide with the tool's own variables`);
    }
    assert.deepEqual(
      ENV_SETTINGS.filter((s) => s.secret)
        .map((s) => s.key)
        .sort(),
      [...SECRET_KEYS].sort(),
    );
  });
});

describe("variables of the project's other tools", () => {
  it("SDWEBUI_TOOLCHAIN_DIR (npm run toolchain) is not taken for a misspelled setting", () => {
    const { raw, problems } = readEnvSettings({ [TOOLCHAIN_DIR_ENV]: "/var/cache/pulumi", SDWEBUI_HOST_PORT: "7861" });
    assert.deepEqual(problems, []);
    assert.deepEqual(raw, { hostPort: "7861" });
    assert.ok(!ENV_SETTINGS.some((s) => s.env === TOOLCHAIN_DIR_ENV), "no setting has that variable");
  });
});

describe("reading values", () => {
  it("every setting is reachable from its variable and becomes one value of the stored config", () => {
    const sample = { string: "x", integer: "7", boolean: "true", array: "a b", object: '{"a.b/c":"d"}' } as const;
    const objects = '[{"source":"a"},{"source":"b"}]';
    for (const s of ENV_SETTINGS) {
      const { raw, problems } = readEnvSettings({
        [s.env]: s.key === "checkpoints" || s.key === "tolerations" ? objects : sample[s.kind],
      });
      assert.deepEqual(problems, [], s.env);
      assert.ok(s.key in raw, `${s.env} sets ${s.key}`);
      const doc = configDocument(raw);
      assert.deepEqual(Object.keys(doc), [`sdwebui:${s.key}`]);
      const v = doc[`sdwebui:${s.key}`]!;
      assert.equal(v.secret, s.secret, `${s.env} secret flag`);
      if (s.key === "checkpoints" || s.key === "tolerations")
        assert.deepEqual(v.objectValue, [{ source: "a" }, { source: "b" }]);
      else if (s.kind === "object") assert.deepEqual(v.objectValue, { "a.b/c": "d" });
      else if (s.kind === "array") assert.deepEqual(v.objectValue, ["a", "b"]);
      else assert.equal(v.objectValue, undefined);
      assert.equal(
        v.value,
        v.objectValue === undefined ? sample[s.kind as "string"] : JSON.stringify(v.objectValue),
        "value is what the program reads",
      );
    }
  });

  it("lists: JSON arrays or white-space separated words; stored as whole lists of strings", () => {
    assert.deepEqual(parseList('["--xformers","--medvram"]'), ["--xformers", "--medvram"]);
    assert.deepEqual(parseList("10.0.0.0/8  192.168.0.0/16\n2001:db8::/32\n"), [
      "10.0.0.0/8",
      "192.168.0.0/16",
      "2001:db8::/32",
    ]);
    assert.deepEqual(parseList('["ssh://ops@gpu-1#0,1"]'), ["ssh://ops@gpu-1#0,1"], "commas inside items survive");
    assert.ok("error" in (parseList('["a",') as object));
    assert.ok("error" in (parseList("[1,2]") as object));
    const c = envConfig({
      ...base,
      SDWEBUI_GPUS: "none",
      SDWEBUI_EXTRA_ARGS: "--medvram --lowram",
      SDWEBUI_FIREWALL_ALLOWLIST: '["10.0.0.0/8"]',
    });
    assert.deepEqual(c.document["sdwebui:extraArgs"], {
      value: '["--medvram","--lowram"]',
      objectValue: ["--medvram", "--lowram"],
      secret: false,
    });
    assert.deepEqual(c.document["sdwebui:firewallAllowlist"], {
      value: '["10.0.0.0/8"]',
      objectValue: ["10.0.0.0/8"],
      secret: false,
    });
    assert.deepEqual(c.settings.extraArgs, ["--medvram", "--lowram"]);
  });

  it("checkpoints: a JSON list of objects stored as written; the token a secret; anything else refused", () => {
    const sha = "c".repeat(64);
    const c = envConfig({
      ...base,
      SDWEBUI_CHECKPOINTS: JSON.stringify([
        { source: "https://hf.example/m.safetensors", sha256: sha, useToken: true },
      ]),
      SDWEBUI_CHECKPOINT_TOKEN: "hf_env_token_123",
    });
    assert.deepEqual(c.document["sdwebui:checkpoints"]?.objectValue, [
      { source: "https://hf.example/m.safetensors", sha256: sha, useToken: true },
    ]);
    assert.deepEqual(c.document["sdwebui:checkpointToken"], { value: "hf_env_token_123", secret: true });
    assert.ok(c.secretValues.includes("hf_env_token_123"));
    assert.throws(
      () => envConfig({ ...base, SDWEBUI_CHECKPOINTS: "https://hf.example/m.safetensors" }),
      /SDWEBUI_CHECKPOINTS .*is not valid JSON/,
    );
    assert.throws(
      () => envConfig({ ...base, SDWEBUI_CHECKPOINTS: '["https://hf.example/m.safetensors"]' }),
      /must be a JSON list of objects/,
    );
  });

  it("booleans: true/false/1/0/yes/no in any case; integers as text; empty = unset", () => {
    const c = envConfig({
      ...base,
      SDWEBUI_SMOKE_ENABLED: "No",
      SDWEBUI_ALLOW_INSECURE_FLAGS: "1",
      SDWEBUI_HOST_PORT: " 7870 ",
      SDWEBUI_GPUS: "",
      SDWEBUI_IMAGE: "",
    });
    assert.equal(c.settings.smokeEnabled, false);
    assert.equal(c.settings.allowInsecureFlags, true);
    assert.equal(c.settings.hostPort, 7870);
    assert.equal(c.settings.gpus, "all", "an empty variable leaves the default");
    const byKey = Object.fromEntries(Object.entries(c.document).map(([k, v]) => [k, v.value]));
    assert.equal(byKey["sdwebui:smokeEnabled"], "false");
    assert.equal(byKey["sdwebui:allowInsecureFlags"], "true");
    assert.equal(byKey["sdwebui:hostPort"], "7870");
    assert.ok(!("sdwebui:gpus" in byKey));
  });

  it("variables of other programs and of the tool are ignored", () => {
    const { raw, problems } = readEnvSettings({
      ...base,
      PATH: "/bin",
      SDWEBUI_CI_STACK: "x",
      SDWEBUI_CI_STACK_SUFFIX: "y",
      GITHUB_RUN_ID: "1",
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(Object.keys(raw), ["apiPassword"]);
  });
});

describe("validation with the program's rules", () => {
  it("one error lists every problem, names each variable, fixes are in variable terms", () => {
    const env = {
      SDWEBUI_API_PASSWORD: "short:pw",
      SDWEBUI_HOST_PORT: "99999",
      SDWEBUI_HOSTPORT: "1",
      SDWEBUI_SMOKE_ENABLED: "maybe",
      SDWEBUI_EXTRA_ARGS: '["--share"',
      SDWEBUI_OUTPUTS_DIR: "relative/dir",
      SDWEBUI_SSH_KNOWN_HOSTS: "gpu-1 ssh-ed25519 AAAA",
    };
    let err: EnvConfigError | undefined;
    try {
      envConfig(env);
    } catch (e) {
      err = e as EnvConfigError;
    }
    assert.ok(err instanceof EnvConfigError, "throws EnvConfigError");
    const m = err.message;
    assert.match(m, /^sdwebui: the CI environment has \d+ problems; nothing was deployed or changed\./);
    for (const v of [
      "SDWEBUI_API_PASSWORD",
      'SDWEBUI_HOST_PORT (sdwebui:hostPort) = "99999"',
      "SDWEBUI_HOSTPORT: is not a setting",
      "did you mean SDWEBUI_HOST_PORT?",
      "SDWEBUI_SMOKE_ENABLED",
      "SDWEBUI_EXTRA_ARGS",
      "SDWEBUI_OUTPUTS_DIR",
      "SDWEBUI_SSH_KNOWN_HOSTS",
    ])
      assert.ok(m.includes(v), `mentions ${v}:\n${m}`);
    assert.ok(err.problems.length >= 7, `all problems at once (${err.problems.length})`);
    assert.ok(!m.includes("short:pw"), "the password is never shown");
    assert.match(m, /SDWEBUI_API_PASSWORD \(sdwebui:apiPassword\) = \[secret\]/);
    assert.ok(!/pulumi config/.test(m), `fixes speak of variables, not pulumi config:\n${m}`);
  });

  it("a missing API password is named with its variable", () => {
    assert.throws(
      () => envConfig({}),
      (e: Error) =>
        /SDWEBUI_API_PASSWORD \(sdwebui:apiPassword\) = \(not set\): is required/.test(e.message) &&
        /set SDWEBUI_API_PASSWORD from a CI secret/.test(e.message),
    );
  });

  it("a list item's field is named with its path, and the fix says to correct it inside the variable", () => {
    assert.throws(
      () =>
        envConfig({ ...base, SDWEBUI_CHECKPOINTS: '[{"source":"https://h.example/m.safetensors","sha256":"abc"}]' }),
      (e: Error) =>
        /SDWEBUI_CHECKPOINTS \(sdwebui:checkpoints\[0\]\.sha256\) = "abc": must be the file's sha256/.test(e.message) &&
        /fix: correct checkpoints\[0\]\.sha256 in SDWEBUI_CHECKPOINTS$/m.test(e.message),
    );
  });

  it("a credential flag's value in SDWEBUI_EXTRA_ARGS is shown as the program's error shows it: masked, escapes included", () => {
    assert.throws(
      () => envConfig({ ...base, SDWEBUI_EXTRA_ARGS: "--gradio-auth=u:Flag-Secret-61 --share" }),
      (e: Error) =>
        /SDWEBUI_EXTRA_ARGS \(sdwebui:extraArgs\) = \["--gradio-auth=\[secret\]","--share"\]/.test(e.message) &&
        !e.message.includes("Flag-Secret-61"),
    );
  });

  it("cross-setting rules of the program apply (custom profile needs its keys)", () => {
    assert.throws(
      () => envConfig({ ...base, SDWEBUI_IMAGE_PROFILE: "custom" }),
      (e: Error) => /SDWEBUI_PROFILE_DATA_ROOT/.test(e.message) && /SDWEBUI_IMAGE \(sdwebui:image\)/.test(e.message),
    );
  });

  it("secrets: set as secret, never in the summary; their values are offered for scrubbing", () => {
    const ui = "ui-staple-horse-battery-7";
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAB3Nza\n-----END OPENSSH PRIVATE KEY-----";
    const c = envConfig({
      ...base,
      SDWEBUI_UI_PASSWORD: ui,
      SDWEBUI_DOCKER_HOST: "ssh://ops@gpu-1",
      SDWEBUI_SSH_PRIVATE_KEY: key,
      SDWEBUI_SSH_KNOWN_HOSTS: "gpu-1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFake",
      SDWEBUI_GPUS: "none",
    });
    for (const k of ["apiPassword", "uiPassword", "sshPrivateKey"])
      assert.equal(c.document[`sdwebui:${k}`]?.secret, true, k);
    assert.equal(Object.values(c.document).filter((v) => v.secret).length, 3);
    const summary = c.summary.join("\n");
    for (const s of [PASSWORD, ui, "AAAAB3Nza"]) assert.ok(!summary.includes(s), "summary hides secrets");
    assert.match(summary, /sdwebui:apiPassword = \[secret\]/);
    assert.deepEqual(c.secretValues.sort(), [PASSWORD, ui, key].sort());
    assert.ok(!JSON.stringify(c.settings).includes(PASSWORD), "public settings carry no secret");
  });

  it("envFix rewrites every fix form", () => {
    assert.equal(envFix("pulumi config rm <ns>:gpus"), "unset SDWEBUI_GPUS");
    assert.equal(envFix("pulumi config set <ns>:hostPort <value>"), "set SDWEBUI_HOST_PORT=<value>");
    assert.equal(
      envFix("pulumi config set --secret <ns>:apiPassword <value> (it is encrypted then)"),
      "set SDWEBUI_API_PASSWORD from a CI secret",
    );
    assert.equal(
      envFix(
        "edit the hosts list in Pulumi.<stack>.yaml, or pulumi config set --path --type string '<ns>:hosts[0]' -- <value>",
      ),
      "correct hosts[0] in SDWEBUI_HOSTS",
    );
    assert.equal(
      envFix(
        "edit the hosts list in Pulumi.<stack>.yaml, or pulumi config rm <ns>:hosts, then pulumi config set --path --type string '<ns>:hosts[0]' -- <value> (one command per item)",
      ),
      `set SDWEBUI_HOSTS to a list, e.g. SDWEBUI_HOSTS='["..."]'`,
    );
    assert.equal(
      envFix(
        "edit the nodeSelector map in Pulumi.<stack>.yaml, or pulumi config rm <ns>:nodeSelector, then pulumi config set --path --type string '<ns>:nodeSelector[\"<label>\"]' -- <value> (one command per label)",
      ),
      `set SDWEBUI_NODE_SELECTOR to a JSON object, e.g. SDWEBUI_NODE_SELECTOR='{"<label>":"..."}'`,
    );
    assert.equal(
      envFix(
        "edit the checkpoints list in Pulumi.<stack>.yaml, or pulumi config set --path --type string '<ns>:checkpoints[0].sha256' -- <value>",
      ),
      "correct checkpoints[0].sha256 in SDWEBUI_CHECKPOINTS",
    );
    assert.equal(
      envFix(
        "edit the checkpoints list in Pulumi.<stack>.yaml, or pulumi config rm <ns>:checkpoints, then pulumi config set --path --type string '<ns>:checkpoints[0].<field>' -- <value> (one command per field and item)",
      ),
      `set SDWEBUI_CHECKPOINTS to a JSON list of objects, e.g. SDWEBUI_CHECKPOINTS='[{"<field>":"..."}]'`,
    );
    assert.equal(
      envFix("pulumi config rm --path '<ns>:checkpoints[0].size'"),
      "remove checkpoints[0].size from SDWEBUI_CHECKPOINTS",
    );
    assert.equal(
      envFix("pulumi config rm <ns>:profileUid, or pulumi config set <ns>:imageProfile custom"),
      "unset SDWEBUI_PROFILE_UID, or set SDWEBUI_IMAGE_PROFILE=custom",
    );
    assert.equal(
      envFix(
        "edit the firewallAllowlist list in Pulumi.<stack>.yaml, or pulumi config set --path --type string '<ns>:firewallAllowlist[1]' -- <value>",
      ),
      "correct firewallAllowlist[1] in SDWEBUI_FIREWALL_ALLOWLIST",
    );
  });

  it("every fix the program's validator prints reads in variable terms (no pulumi config, no <ns>)", () => {
    for (const [raw] of BAD) {
      try {
        validateSettings({ apiPassword: PASSWORD, ...raw }, (k) => k === "apiPassword" || k === "uiPassword");
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        for (const p of e.problems)
          assert.doesNotMatch(envFix(p.fix), /pulumi config (set|rm)|<ns>/, `${p.key}: ${p.fix}`);
      }
    }
  });

  it("what is stored is what was validated: list and map items that look like numbers or booleans stay strings", () => {
    const c = envConfig({
      ...base,
      SDWEBUI_TARGET: "kubernetes",
      SDWEBUI_NODE_SELECTOR: '{"nvidia.com/gpu.present":"true","gpu-count":"1"}',
      SDWEBUI_TOLERATIONS: '[{"key":"gpu","value":"true","effect":"NoExecute","tolerationSeconds":"60"}]',
      SDWEBUI_EXTRA_ARGS: "--timeout-keep-alive 60 --filenames-max-length 128",
    });
    const view = programView(c.document);
    assert.deepEqual(JSON.parse(view.nodeSelector as string), { "nvidia.com/gpu.present": "true", "gpu-count": "1" });
    assert.deepEqual(JSON.parse(view.extraArgs as string), [
      "--timeout-keep-alive",
      "60",
      "--filenames-max-length",
      "128",
    ]);
    assert.equal(JSON.parse(view.tolerations as string)[0].value, "true");
    assert.deepEqual(c.settings.nodeSelector, { "nvidia.com/gpu.present": "true", "gpu-count": "1" });
    assert.equal(c.settings.tolerations?.[0]?.tolerationSeconds, 60);
  });

  it("redact scrubs secrets, longest first, also in JSON-escaped form", () => {
    assert.equal(redact("pw=abc123xyz and abc123xyz!", ["abc123xyz"]), "pw=[secret] and [secret]!");
    assert.equal(redact('{"p":"a\\"b-pass"}', ['a"b-pass']), '{"p":"[secret]"}');
    assert.equal(redact("keep", ["", "zzz"]), "keep");
  });
});
