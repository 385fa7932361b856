// npm run ci:stack through the Automation API and the real CLI: the stack is created, its config set
// (the password as a real Pulumi secret), `up` runs the program, and the teardown (destroy, stack rm)
// runs whatever `up` did; --keep leaves the stack for `destroy` to remove later.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { missingPlugins, REPO_ROOT } from "../../toolchain/layout.js";
import { EXIT, type CiResult } from "../../infra/ci/run.js";
import type { EngineProject } from "../helpers/pulumi-cli.js";
import { engineProject, filesContaining, requireToolchain } from "../helpers/pulumi-cli.js";

const PASSWORD = "ci-stack-secret-value-7731";

describe("ci:stack with the real Pulumi CLI", () => {
  let project: EngineProject | undefined;
  before(() => {
    project = engineProject("ci-stack");
  });
  after(() => project?.cleanUp());

  function ciStack(args: string[], stack: string) {
    const p = project!;
    const out = join(p.dir, `result-${stack}-${args[0]}.json`);
    const env = {
      ...p.env,
      SDWEBUI_CI_STACK: stack,
      SDWEBUI_API_PASSWORD: PASSWORD,
      SDWEBUI_GPUS: "none",
      SDWEBUI_HOST_PORT: "17961",
      SDWEBUI_FIREWALL_BACKEND: "none",
      SDWEBUI_OUTPUTS_DIR: join(p.dir, "outputs"),
      SDWEBUI_MODELS_DIR: join(p.dir, "models"),
    };
    const r = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "infra/ci/cli.ts"), ...args, "--work-dir", p.dir, "--out", out], {
      cwd: REPO_ROOT,
      env,
      encoding: "utf8",
      timeout: 10 * 60_000,
    });
    const result = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as CiResult) : undefined;
    return { status: r.status, log: `${r.stdout}\n${r.stderr}`, result };
  }
  const stackNames = () => (JSON.parse(project!.pulumi(["stack", "ls", "--json"]).stdout || "[]") as { name: string }[]).map((s) => s.name);

  it("up --keep stores the password as a secret; destroy removes the stack", (t) => {
    if (!requireToolchain(t)) return;
    const up = ciStack(["up", "--keep"], "ci-keep");
    assert.ok(up.result, up.log);
    assert.deepEqual(stackNames(), ["ci-keep"], up.log);
    const stackFile = readFileSync(join(project!.dir, "Pulumi.ci-keep.yaml"), "utf8");
    assert.match(stackFile, /sdwebui:apiPassword:\s*\n\s+secure: v1:/, "set with --secret, encrypted in the stack file");
    assert.match(stackFile, /sdwebui:hostPort: "17961"/);
    assert.deepEqual(filesContaining(project!.dir, PASSWORD), [], "no file holds the password");
    assert.ok(!up.log.includes(PASSWORD), "the tool's output never holds the password");

    const down = ciStack(["destroy"], "ci-keep");
    assert.equal(down.status, 0, down.log);
    assert.equal(down.result?.steps.destroy?.ok, true);
    assert.equal(down.result?.steps.removeStack?.ok, true);
    assert.deepEqual(stackNames(), []);
  });

  it("the teardown runs after up, whatever up did, and the result says which step failed first", (t) => {
    const manifest = requireToolchain(t);
    if (!manifest) return;
    const run = ciStack(["up"], "ci-teardown");
    assert.ok(run.result, run.log);
    assert.equal(run.result.steps.destroy?.ok, true, run.log);
    assert.equal(run.result.steps.removeStack?.ok, true, run.log);
    assert.deepEqual(stackNames(), [], "the stack is gone");
    assert.ok(!run.log.includes(PASSWORD) && !JSON.stringify(run.result).includes(PASSWORD));
    if (missingPlugins(manifest).length > 0) {
      // Without the provider plugins (toolchain.json says why) the real engine stops at the first resource.
      assert.equal(run.status, EXIT.up, run.log);
      assert.equal(run.result.failedStep, "up");
      assert.match(run.result.steps.up?.error ?? "", /no resource plugin 'pulumi-resource-(docker|command)'/);
    } else {
      assert.equal(run.status, 0, run.log);
    }
  });
});
