// Stack settings validation: the pure function, without Pulumi. Every bad case names its key, shows
// the value (a secret never), and says how to fix it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { projectConfigBlock } from "../../infra/config/project-file.js";
import { SECRET_KEYS } from "../../infra/config/schema.js";
import { escapeControl, pathText } from "../../infra/config/display.js";
import { ConfigError, validateSettings } from "../../infra/config/validate.js";
import { BAD } from "./bad-config-cases.js";

const PASSWORD = "Tr0ub4dor&3-horse";
const secretAll = () => true;
/** As Pulumi reports it when exactly the password keys were set with --secret. */
const secretKeysOnly = (k: string) => (SECRET_KEYS as readonly string[]).includes(k);
const base = { apiPassword: PASSWORD };

function problemsOf(raw: Record<string, unknown>, isSecret: (key: string) => boolean = secretKeysOnly): ConfigError {
  try {
    validateSettings(raw, isSecret);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e;
  }
  assert.fail("expected the config to be refused");
}

describe("good config", () => {
  it("fills every default and keeps the secrets apart", () => {
    const { settings, secrets } = validateSettings({ ...base }, secretAll);
    assert.equal(secrets.apiPassword, PASSWORD);
    assert.ok(!JSON.stringify(settings).includes(PASSWORD));
    assert.equal(settings.imageProfile, "universonic");
    assert.equal(settings.hostPort, 7860);
    assert.equal(settings.gpus, "all");
    assert.deepEqual(settings.firewallAllowlist, []);
    assert.equal(settings.exposure, "api-and-ui");
    assert.equal(settings.smokeEnabled, true);
  });

  it("accepts Pulumi's string forms of numbers, booleans and lists", () => {
    const { settings } = validateSettings(
      {
        ...base,
        hostPort: "7870",
        smokeEnabled: "false",
        firewallAllowlist: '["10.0.0.0/8","2001:db8::/32"]',
        extraArgs: ["--xformers"],
      },
      secretAll,
    );
    assert.equal(settings.hostPort, 7870);
    assert.equal(settings.smokeEnabled, false);
    assert.deepEqual(settings.firewallAllowlist, ["10.0.0.0/8", "2001:db8::/32"]);
  });

  it("scale-out accepts the values Pulumi.yaml declares as defaults, which the CLI hands over as if set", () => {
    const declared = (parse(readFileSync("Pulumi.yaml", "utf8")) as { config: Record<string, { default?: unknown }> })
      .config;
    const defaults = Object.fromEntries(
      Object.entries(declared)
        .filter(([, d]) => d.default !== undefined)
        .map(([k, d]) => [k, typeof d.default === "string" ? d.default : JSON.stringify(d.default)]),
    );
    assert.ok("dockerHost" in defaults && "gpus" in defaults, "Pulumi.yaml declares both");
    const { settings } = validateSettings(
      { ...defaults, ...base, hosts: '["unix:///var/run/docker.sock#cpu:2"]' },
      secretKeysOnly,
    );
    assert.deepEqual(settings.hosts, ["unix:///var/run/docker.sock#cpu:2"]);
    assert.match(
      problemsOf({ ...defaults, ...base, gpus: "1", hosts: '["unix:///var/run/docker.sock#cpu:2"]' }).message,
      /sdwebui:gpus = "1": is not used with hosts/,
      "a value other than the default still is",
    );
  });

  it("the dev stack file is valid", () => {
    const dev = parse(readFileSync("Pulumi.dev.yaml", "utf8")) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(Object.entries(dev.config).map(([k, v]) => [k.replace(/^sdwebui:/, ""), v]));
    assert.doesNotThrow(() => validateSettings({ ...raw, ...base }, secretAll));
  });
});

describe("checkpoints and secrets", () => {
  it("refuses a checkpoints list stored with --secret (it would reach the state in plain text), and names the token setting instead", () => {
    const e = problemsOf(
      { ...base, checkpoints: [{ source: "https://hf.example/m.safetensors", sha256: "a".repeat(64) }] },
      (k) => secretKeysOnly(k) || k === "checkpoints",
    );
    assert.match(e.message, /sdwebui:checkpoints = \[secret\]: holds a value stored with --secret/);
    assert.match(e.message, /checkpointToken/);
  });

  it("accepts a token entry over https, and returns the token among the secrets only", () => {
    const token = "hf_abcdefghijklmnop";
    const { settings, secrets } = validateSettings(
      {
        ...base,
        checkpoints: JSON.stringify([
          { source: "https://hf.example/m.safetensors", sha256: "A".repeat(64), useToken: true },
        ]),
        checkpointToken: token,
      },
      secretKeysOnly,
    );
    assert.equal(secrets.checkpointToken, token);
    assert.equal(settings.checkpoints[0]!.sha256, "a".repeat(64), "the hash is normalised to lower case");
    assert.ok(!JSON.stringify(settings).includes(token));
  });
});

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
describe("checkpoint sources: credentials, sizes", () => {
  it("never shows a credential carried in a source URL's query, whatever the list's display", () => {
    for (const [raw] of BAD.filter(([r]) => JSON.stringify(r.checkpoints ?? "").includes("secret"))) {
      const values = JSON.stringify(raw.checkpoints).match(/[\w-]*secret[\w-]*/g)!;
      const e = problemsOf({ ...base, ...raw, checkpoints: JSON.stringify(raw.checkpoints) });
      for (const v of values) assert.ok(!e.message.includes(v), `${v} is not in:\n${e.message}`);
    }
  });

  it("accepts ordinary query parameters, and a declared size as a number or Pulumi's string", () => {
    const entries = [
      {
        source: "https://hf.example/resolve/main/m.safetensors?download=true",
        sha256: "a".repeat(64),
        sizeBytes: "2132625894",
      },
      {
        source: "https://cdn.example/n.safetensors?expires=1700000000&keyword=sd&tokenizer=clip",
        sha256: "b".repeat(64),
        sizeBytes: 7,
      },
    ];
    const { settings } = validateSettings({ ...base, checkpoints: JSON.stringify(entries) }, secretKeysOnly);
    assert.deepEqual(
      settings.checkpoints.map((c) => c.sizeBytes),
      [2132625894, 7],
    );
  });
});

describe("bad config: one error per stack, every key named", () => {
  for (const [raw, key, pattern] of BAD) {
    // A case's key is the setting, or the setting and the item field at fault (checkpoints[0].sha256).
    const setting = key.split(/[[.]/)[0]!;
    it(`${key} = ${JSON.stringify(raw[setting] ?? "(unset)")}`, () => {
      const e = problemsOf({ ...base, ...raw });
      const mine = e.problems.filter((p) => (key === setting ? p.key === key : p.key + pathText(p.path ?? []) === key));
      assert.ok(mine.length > 0, `a problem for ${key} in:\n${e.message}`);
      assert.ok(
        mine.some((p) => pattern.test(p.message)),
        `message for ${key} matches ${pattern}:\n${e.message}`,
      );
      assert.match(e.message, new RegExp(`sdwebui:${escapeRe(key)}(\\[|\\.| = )`));
      if (key !== setting)
        assert.match(
          e.message,
          new RegExp(`fix: .*pulumi config (set|rm) --path (--type string )?'sdwebui:${escapeRe(key)}`),
          "the fix names the field",
        );
      assert.match(e.message, /fix: (pulumi config (set|rm)|edit the \w+ (list|map))/);
      assert.match(e.message, /nothing was deployed or changed/);
      const pw = (raw.apiPassword as string | undefined) ?? PASSWORD;
      assert.ok(!e.message.includes(pw), "no password in the message");
      // eslint-disable-next-line no-control-regex -- no character a terminal acts on, whatever the value held
      assert.doesNotMatch(e.message, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/, "control characters are escaped");
    });
  }

  it("lists every problem at once", () => {
    const e = problemsOf({
      apiPassword: "x:y",
      hostPort: "-1",
      gpus: "many",
      outputsDir: "out",
      firewallAllowlist: ["nope"],
    });
    assert.deepEqual(
      new Set(e.problems.map((p) => p.key)),
      new Set(["apiPassword", "hostPort", "gpus", "outputsDir", "firewallAllowlist"]),
    );
    assert.match(e.message, /has \d+ problems/);
  });

  it("shows the offending value of a plain key", () => {
    const e = problemsOf({ ...base, hostPort: "70000" }, secretKeysOnly);
    assert.match(e.message, /sdwebui:hostPort = "70000": must be at most 65535/);
  });

  it("never shows a value stored as a secret under any key, nor a credential flag's value", () => {
    const stored = (k: string) => secretKeysOnly(k) || k === "apipassword";
    const e = problemsOf(
      {
        ...base,
        apipassword: "Misspelled-Secret-42",
        extraArgs: ["--api-auth=u:Flag-Secret-43", "--ngrok", "Ngrok-Secret-44", "--medvram"],
      },
      stored,
    );
    assert.match(
      e.message,
      /sdwebui:apipassword = \[secret\]: is not a setting of this program; did you mean apiPassword\?/,
    );
    assert.match(e.message, /sdwebui:extraArgs = \["--api-auth=\[secret\]","--ngrok","\[secret\]","--medvram"\]/);
    for (const s of ["Misspelled-Secret-42", "Flag-Secret-43", "Ngrok-Secret-44"])
      assert.ok(!e.message.includes(s), `${s} is not shown`);
  });

  it("refuses secrets stored in plain text without showing them", () => {
    const e = problemsOf({ ...base }, () => false);
    assert.match(e.message, /sdwebui:apiPassword = \[secret\]: is stored in plain text/);
    assert.match(e.message, /pulumi config set --secret sdwebui:apiPassword/);
    assert.ok(!e.message.includes(PASSWORD));
  });
});

describe("error text: values as written, masked, escaped; the item and field at fault", () => {
  it("shows a list of objects as the user wrote it, not as [object Object]", () => {
    const e = problemsOf({ ...base, extraArgs: [{ flag: "--medvram" }, "--xformers"] });
    assert.match(e.message, /sdwebui:extraArgs\[0\] = \{"flag":"--medvram"\}: /);
    assert.doesNotMatch(e.message, /object Object/);
    const t = problemsOf({
      ...base,
      target: "kubernetes",
      tolerations: [{ key: "gpu", operator: "Exists", tolerationSeconds: 30 }],
    });
    assert.match(t.message, /sdwebui:tolerations\[0\]\.effect = \(not set\): must be NoExecute/);
    assert.match(
      t.message,
      /fix: edit the tolerations list in Pulumi\.<stack>\.yaml, or pulumi config set --path --type string 'sdwebui:tolerations\[0\]\.effect' -- <value>/,
    );
  });

  it("masks passwords, tokens and signatures in URLs it shows, keeps ssh user names", () => {
    const source =
      "https://alice:Url-Secret-51@hf.example/m.safetensors?token=Query-Secret-52&X-Amz-Signature=Sig-Secret-53#Frag-Secret-54";
    const e = problemsOf({ ...base, checkpoints: [{ source, sha256: "abc" }], hosts: ["ssh://ops@gpu-1"] });
    for (const s of ["Url-Secret-51", "Query-Secret-52", "Sig-Secret-53", "Frag-Secret-54"])
      assert.ok(!e.message.includes(s), `${s} is not shown`);
    assert.match(
      e.message,
      /alice:\[secret\]@hf\.example\/m\.safetensors\?token=\[secret\]&X-Amz-Signature=\[secret\]#\[secret\]/,
    );
    assert.match(e.message, /sdwebui:hosts\[0\] = "ssh:\/\/ops@gpu-1"/);
  });

  it("escapes control characters in keys, values and messages: the problems too, for other printers", () => {
    const e = problemsOf({
      ...base,
      "host\u001b[2JPort": "1",
      smokePrompt: "a\u009b31mb",
      checkpoints: [{ source: "https://hf.example/a%07%1b%5d0;x%07.safetensors", sha256: "a".repeat(64) }],
    });
    // eslint-disable-next-line no-control-regex
    const raw = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;
    assert.doesNotMatch(e.message, raw);
    for (const p of e.problems) for (const text of [p.key, p.message, p.fix]) assert.doesNotMatch(text, raw);
    assert.match(e.message, /sdwebui:host\\u001b\[2JPort = "1": is not a setting/);
    assert.match(
      e.message,
      /sdwebui:smokePrompt = "a\\u009b31mb": must be one line of text, without control characters/,
    );
    assert.equal(escapeControl("ok\u202eevil\u0007"), "ok\\u202eevil\\u0007");
  });

  it("with the stack's name, a claim named as the program names the other claim is the same claim", () => {
    assert.throws(
      () =>
        validateSettings(
          { ...base, target: "kubernetes", modelsClaim: "sdwebui-prod-outputs" },
          secretKeysOnly,
          "prod",
        ),
      /sdwebui:modelsClaim = "sdwebui-prod-outputs": is the claim outputs go to as well/,
    );
    assert.doesNotThrow(() =>
      validateSettings({ ...base, target: "kubernetes", modelsClaim: "sdwebui-prod-outputs" }, secretKeysOnly, "dev"),
    );
  });
});

describe("Pulumi.yaml", () => {
  it("declares every setting with the schema's type, default and description", () => {
    const project = parse(readFileSync("Pulumi.yaml", "utf8")) as {
      name: string;
      config: unknown;
      backend: { url: string };
      main: string;
    };
    assert.equal(project.name, "sdwebui");
    assert.deepEqual(project.config, projectConfigBlock(), "run npm run config:schema");
    assert.match(project.backend.url, /^file:\/\//);
    assert.equal(project.main, "dist/infra/index.js");
  });
});

describe("README", () => {
  it("documents every setting (npm run config:schema writes the table)", async () => {
    const { settingsMarkdownTable } = await import("../../infra/config/project-file.js");
    assert.ok(readFileSync("README.md", "utf8").includes(settingsMarkdownTable()), "run npm run config:schema");
  });
});
