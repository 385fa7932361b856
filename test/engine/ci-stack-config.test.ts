// What ci:stack validates is what the program reads, through the Automation API and the real Pulumi CLI:
// list and map items that look like numbers or booleans (the README's nodeSelector example "true", numeric
// extraArgs values, toleration values, a custom profile's command words) are stored as the strings they
// were, the CLI's declared types accept them, and the program (readRawSettings and validateSettings, as in
// `pulumi up`) receives exactly the values ci:stack validated. The program is the config read-back stand-in.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { envConfig, programView } from "../../tools/ci-stack/env-config.js";
import { EXIT, type CiResult } from "../../tools/ci-stack/lifecycle.js";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import { readbackProject, type ReadbackProject } from "../helpers/config-readback.js";
import { requireToolchain } from "../helpers/pulumi-cli.js";

const PASSWORD = "ci-config-secret-value-3318";
/** A list or map as the program gets it (JSON text), parsed; any other value as it is. */
const parsed = (v: unknown) => (typeof v === "string" && /^[[{]/.test(v) ? (JSON.parse(v) as unknown) : v);

/** Settings whose list or map items a bare --path would have stored as numbers or booleans. */
const CASES: Record<string, Record<string, string>> = {
  kubernetes: {
    SDWEBUI_TARGET: "kubernetes",
    SDWEBUI_NODE_SELECTOR: '{"nvidia.com/gpu.present":"true","gpu-count":"1","spot":"false"}',
    SDWEBUI_TOLERATIONS:
      '[{"key":"gpu","operator":"Equal","value":"true","effect":"NoExecute","tolerationSeconds":"60"},{"key":"1","operator":"Equal","value":"60"}]',
    SDWEBUI_EXTRA_ARGS: "--timeout-keep-alive 60 --filenames-max-length 128",
  },
  docker: {
    SDWEBUI_EXTRA_ARGS: '["--max-batch-count","4","--use-textbox-seed"]',
    SDWEBUI_CHECKPOINTS: JSON.stringify([
      { source: "https://hf.example/m.safetensors", sha256: "1".repeat(64), loadFirst: "true", useToken: false },
    ]),
    SDWEBUI_FIREWALL_ALLOWLIST: "10.0.0.0/8 2001:db8::/32",
    SDWEBUI_IMAGE_PROFILE: "custom",
    SDWEBUI_IMAGE: "example/webui:1",
    SDWEBUI_PROFILE_DATA_ROOT: "/app",
    SDWEBUI_PROFILE_OUTPUTS_PATH: "/app/outputs",
    SDWEBUI_PROFILE_MODELS_PATH: "/app/models",
    SDWEBUI_PROFILE_UID: "1000",
    SDWEBUI_PROFILE_PORT: "7860",
    SDWEBUI_PROFILE_FLAGS_VIA: "command",
    SDWEBUI_PROFILE_COMMAND_PREFIX: '["python3","-u","launch.py","1"]',
  },
};

describe("ci:stack stores each setting in the form the program reads", { timeout: 600_000 }, () => {
  let project: ReadbackProject | undefined;
  before(() => (project = readbackProject("ci-config")));
  after(() => project?.cleanUp());

  for (const [name, settings] of Object.entries(CASES)) {
    it(`${name}: up stores, the CLI accepts, and the program reads exactly what was validated`, (t) => {
      if (!requireToolchain(t)) return;
      const stack = `ci-config-${name}`;
      const env = {
        ...project!.env,
        GITHUB_RUN_ID: "77",
        GITHUB_RUN_ATTEMPT: "1",
        GITHUB_JOB: name,
        SDWEBUI_CI_STACK: stack,
        SDWEBUI_API_PASSWORD: PASSWORD,
        SDWEBUI_SMOKE_ENABLED: "false",
        ...settings,
      };
      const ci = (args: string[]) => {
        const out = join(project!.dir, `result-${stack}-${args[0]}.json`);
        const r = spawnSync(
          process.execPath,
          [
            "--import",
            "tsx",
            join(REPO_ROOT, "tools/ci-stack/cli.ts"),
            ...args,
            "--work-dir",
            project!.dir,
            "--out",
            out,
          ],
          { cwd: REPO_ROOT, env, encoding: "utf8", timeout: 5 * 60_000 },
        );
        return {
          status: r.status,
          log: `${r.stdout}\n${r.stderr}`,
          result: existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as CiResult) : undefined,
        };
      };
      const up = ci(["up", "--keep"]);
      assert.equal(up.status, EXIT.ok, up.log.slice(-3000));
      // What the program read: every setting ci:stack validated, as ci:stack validated it.
      const read = project!.readback(stack);
      assert.ok(read?.ok, JSON.stringify(read?.problems));
      const validated = programView(envConfig(env).document);
      for (const [key, value] of Object.entries(validated)) {
        if (key === "apiPassword") continue;
        assert.deepEqual(parsed(read.raw[key]), parsed(value), key);
      }
      assert.deepEqual(read.secretKeys, ["apiPassword"], "the password arrived as a secret");
      // And the stack holds strings where strings were typed.
      const stored = JSON.parse(project!.must(["config", "--json", "--stack", stack])) as Record<
        string,
        { objectValue?: unknown }
      >;
      if (name === "kubernetes") {
        assert.deepEqual(stored["sdwebui:nodeSelector"]?.objectValue, {
          "nvidia.com/gpu.present": "true",
          "gpu-count": "1",
          spot: "false",
        });
        assert.deepEqual(stored["sdwebui:extraArgs"]?.objectValue, [
          "--timeout-keep-alive",
          "60",
          "--filenames-max-length",
          "128",
        ]);
        assert.equal((stored["sdwebui:tolerations"]?.objectValue as { value: unknown }[])[1]?.value, "60");
        assert.deepEqual(read.settings?.nodeSelector, {
          "nvidia.com/gpu.present": "true",
          "gpu-count": "1",
          spot: "false",
        });
      } else {
        assert.deepEqual(stored["sdwebui:profileCommandPrefix"]?.objectValue, ["python3", "-u", "launch.py", "1"]);
        assert.equal((stored["sdwebui:checkpoints"]?.objectValue as { sha256: unknown }[])[0]?.sha256, "1".repeat(64));
        assert.deepEqual(read.settings?.extraArgs, ["--max-batch-count", "4", "--use-textbox-seed"]);
      }
      assert.ok(
        !readFileSync(join(project!.dir, `Pulumi.${stack}.yaml`), "utf8").includes(PASSWORD),
        "the password is encrypted in the stack file",
      );
      const down = ci(["destroy"]);
      assert.equal(down.status, EXIT.ok, down.log.slice(-3000));
    });
  }
});
