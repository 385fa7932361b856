// npm run ci:stack through the Automation API, the real CLI and the docker and command plugins, deploying
// the stand-in on this machine's engine: the stack is created, its config set (the password as a real
// Pulumi secret, lists as lists), `up` runs the program and its smoke step, and the teardown (destroy,
// stack rm) runs whatever `up` did: after a good run, after a failed smoke (classified from the smoke's
// own report), after a signal in the middle of `up`; a failed destroy keeps the stack for a later one.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import { EXIT, type CiResult } from "../../tools/ci-stack/lifecycle.js";
import { ensureSmokeBuilt, removeStackContainers, stackContainers } from "../helpers/host-state.js";
import type { EngineProject } from "../helpers/pulumi-cli.js";
import { engineProject, filesContaining, requireEngine } from "../helpers/pulumi-cli.js";
import { ensureStandinImage, freePort, makeModelsDir, STANDIN_IMAGE } from "../helpers/standin.js";

const PASSWORD = "ci-stack-secret-value-7731";

describe("ci:stack with the real Pulumi CLI and plugins", { timeout: 900_000 }, () => {
  let project: EngineProject | undefined;
  let port = 0;
  before(async () => {
    project = engineProject("ci-stack");
    port = await freePort();
    ensureStandinImage();
    ensureSmokeBuilt();
  });
  after(() => {
    for (const s of ["ci-keep", "ci-good", "ci-smoke-fails", "ci-signal", "ci-locked"]) removeStackContainers(s);
    project?.cleanUp();
  });

  /** A models folder with a checkpoint (the WebUI needs one), or without (the smoke then fails, classified). */
  function folders(stack: string, withCheckpoint: boolean) {
    const root = join(project!.dir, "data", stack);
    const models = withCheckpoint ? makeModelsDir(join(root, "models")) : join(root, "models");
    mkdirSync(join(models, "Stable-diffusion"), { recursive: true });
    for (const p of [
      models,
      join(models, "Stable-diffusion"),
      ...readdirSync(join(models, "Stable-diffusion")).map((f) => join(models, "Stable-diffusion", f)),
    ])
      chownSync(p, 1000, 1000);
    return { outputs: join(root, "outputs"), models };
  }

  function env(stack: string, withCheckpoint = true): NodeJS.ProcessEnv {
    const f = folders(stack, withCheckpoint);
    return {
      ...project!.env,
      // A CI job's run variables: the run id on the stack's ci:stack tag, which destroy recomputes.
      GITHUB_RUN_ID: "31337",
      GITHUB_RUN_ATTEMPT: "1",
      GITHUB_JOB: stack,
      SDWEBUI_CI_STACK: stack,
      SDWEBUI_API_PASSWORD: PASSWORD,
      SDWEBUI_IMAGE: STANDIN_IMAGE,
      SDWEBUI_GPUS: "none",
      SDWEBUI_HOST_PORT: String(port),
      SDWEBUI_BIND_ADDRESS: "127.0.0.1",
      SDWEBUI_FIREWALL_ALLOWLIST: "192.0.2.0/24 2001:db8::/32",
      SDWEBUI_OUTPUTS_DIR: f.outputs,
      SDWEBUI_MODELS_DIR: f.models,
      SDWEBUI_SMOKE_TIMEOUT_SECONDS: "30",
      SDWEBUI_SMOKE_STEPS: "2",
      SDWEBUI_SMOKE_WIDTH: "128",
      SDWEBUI_SMOKE_HEIGHT: "128",
      SDWEBUI_SHM_SIZE_MB: "64",
      // A numeric flag value: stored and passed as the string "60", not as a number.
      SDWEBUI_EXTRA_ARGS: "--timeout-keep-alive 60",
    };
  }
  const cliArgs = (args: string[], out: string) => [
    "--import",
    "tsx",
    join(REPO_ROOT, "tools/ci-stack/cli.ts"),
    ...args,
    "--work-dir",
    project!.dir,
    "--out",
    out,
  ];
  function ciStack(args: string[], stack: string, e = env(stack)) {
    const out = join(project!.dir, `result-${stack}-${args[0]}.json`);
    const r = spawnSync(process.execPath, cliArgs(args, out), {
      cwd: REPO_ROOT,
      env: e,
      encoding: "utf8",
      timeout: 10 * 60_000,
    });
    const result = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as CiResult) : undefined;
    return { status: r.status, log: `${r.stdout}\n${r.stderr}`, result, out };
  }
  const stackNames = () =>
    (JSON.parse(project!.pulumi(["stack", "ls", "--json"]).stdout || "[]") as { name: string }[]).map((s) => s.name);
  const noPassword = (log: string, result?: CiResult) => {
    assert.ok(
      !log.includes(PASSWORD) && !JSON.stringify(result ?? {}).includes(PASSWORD),
      "the password is in no output and no result",
    );
    assert.deepEqual(filesContaining(project!.dir, PASSWORD), [], "nor in any file of the project or its state");
  };

  it("a good run: up proves a PNG, then destroy and stack rm; the result names the proven file", (t) => {
    if (!requireEngine(t)) return;
    const run = ciStack(["up"], "ci-good");
    assert.equal(run.status, EXIT.ok, run.log.slice(-4000));
    assert.equal(run.result?.smoke.ok, true);
    const files = run.result?.smoke.ok === true ? run.result.smoke.files : [];
    assert.equal(files.length, 1);
    assert.match(files[0]!, /\/txt2img-images\/\d{4}-\d{2}-\d{2}\/\d{5}-\d+\.png$/);
    assert.equal(
      readFileSync(files[0]!).subarray(0, 8).toString("hex"),
      "89504e470d0a1a0a",
      "the proof outlives the stack",
    );
    assert.equal(run.result?.steps.destroy?.ok, true);
    assert.equal(run.result?.steps.removeStack?.ok, true);
    assert.deepEqual(stackNames(), []);
    assert.equal(existsSync(join(project!.dir, "Pulumi.ci-good.yaml")), false, "the stack file it wrote went with it");
    assert.deepEqual(stackContainers("ci-good"), []);
    noPassword(run.log, run.result);
  });

  it("up --keep stores the password as a secret and the allowlist as a list; destroy removes the stack later", (t) => {
    if (!requireEngine(t)) return;
    const up = ciStack(["up", "--keep"], "ci-keep");
    assert.equal(up.status, EXIT.ok, up.log.slice(-4000));
    assert.deepEqual(stackNames(), ["ci-keep"]);
    const stackFile = readFileSync(join(project!.dir, "Pulumi.ci-keep.yaml"), "utf8");
    assert.match(
      stackFile,
      /sdwebui:apiPassword:\s*\n\s+secure: v1:/,
      "set with --secret, encrypted in the stack file",
    );
    assert.match(stackFile, /sdwebui:firewallAllowlist:\s*\n\s+- 192\.0\.2\.0\/24\s*\n\s+- 2001:db8::\/32/, "a list");
    assert.match(
      stackFile,
      /sdwebui:extraArgs:\s*\n\s+- --timeout-keep-alive\s*\n\s+- "60"/,
      "a numeric item stays a string",
    );
    const tags = JSON.parse(project!.pulumi(["stack", "tag", "ls", "--json", "--stack", "ci-keep"]).stdout) as Record<
      string,
      string
    >;
    assert.match(tags["sdwebui:ci-stack"] ?? "", /^gh-31337-1-ci-keep\/[0-9a-f]{12}$/, "tagged as this run's");
    assert.deepEqual(stackContainers("ci-keep"), ["sdwebui-ci-keep"], "kept running");
    noPassword(up.log, up.result);
    const down = ciStack(["destroy"], "ci-keep");
    assert.equal(down.status, EXIT.ok, down.log);
    assert.equal(down.result?.steps.destroy?.ok, true);
    assert.equal(down.result?.steps.removeStack?.ok, true);
    assert.deepEqual(stackNames(), []);
    assert.deepEqual(stackContainers("ci-keep"), []);
  });

  it("the smoke fails inside up: classified from the smoke's own report, the stack still destroyed and removed", (t) => {
    if (!requireEngine(t)) return;
    const run = ciStack(["up"], "ci-smoke-fails", env("ci-smoke-fails", false));
    assert.equal(run.status, EXIT.smoke, run.log.slice(-4000));
    assert.equal(run.result?.failedStep, "smoke");
    assert.equal(
      run.result?.smoke.ok === false && run.result.smoke.failure,
      "no-checkpoint",
      JSON.stringify(run.result?.smoke),
    );
    assert.equal(run.result?.steps.destroy?.ok, true);
    assert.deepEqual(stackNames(), []);
    noPassword(run.log, run.result);
  });

  it("a failed destroy (the stack is locked) sends no stack rm: the stack stays for a later destroy", (t) => {
    if (!requireEngine(t)) return;
    const up = ciStack(["up", "--keep"], "ci-locked");
    assert.equal(up.status, EXIT.ok, up.log.slice(-3000));
    // A lock as a concurrent update holds it, in the file backend's own layout.
    const locks = join(project!.stateDir, ".pulumi", "locks", "organization", "sdwebui", "ci-locked");
    mkdirSync(locks, { recursive: true });
    const lock = join(locks, "held-by-another-update.json");
    writeFileSync(
      lock,
      JSON.stringify({ pid: 1, username: "ci", hostname: "elsewhere", timestamp: new Date().toISOString() }),
    );
    const down = ciStack(["destroy"], "ci-locked");
    assert.equal(down.status, EXIT.destroy, down.log.slice(-3000));
    assert.match(down.result?.steps.destroy?.error ?? "", /locked/);
    assert.match(
      down.result?.steps.removeStack?.skipped ?? "",
      /destroy failed: the stack is kept/,
      "no stack rm after a failed destroy",
    );
    assert.deepEqual(stackNames(), ["ci-locked"]);
    rmSync(lock);
    const again = ciStack(["destroy"], "ci-locked");
    assert.equal(again.status, EXIT.ok, again.log.slice(-3000));
    assert.deepEqual(stackNames(), []);
  });

  it("destroy of a stack that does not exist: nothing to destroy, success", (t) => {
    if (!requireEngine(t)) return;
    const run = ciStack(["destroy"], "ci-never");
    assert.equal(run.status, EXIT.ok, run.log);
    assert.match(run.log, /does not exist: nothing to destroy/);
  });

  it(`SIGINT during a running update: pulumi up is cancelled, then destroy and stack rm still run; exit ${EXIT.interrupted}`, async (t) => {
    if (!requireEngine(t)) return;
    const out = join(project!.dir, "result-ci-signal.json");
    const child = spawn(process.execPath, cliArgs(["up"], out), {
      cwd: REPO_ROOT,
      env: env("ci-signal"),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    const killer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    try {
      // The update is running once the engine reports its first resource step.
      await new Promise<void>((resolve, reject) => {
        const seen = (d: Buffer) => {
          log += d.toString();
          if (/pulumi:pulumi:Stack \S*ci-signal creating/.test(log)) resolve();
        };
        child.stdout.on("data", seen);
        child.stderr.on("data", seen);
        void exited.then(() => reject(new Error(`ci:stack exited before up started:\n${log.slice(-3000)}`)));
      });
      child.kill("SIGINT");
      assert.equal(await exited, EXIT.interrupted, log.slice(-4000));
    } finally {
      clearTimeout(killer);
    }
    assert.match(log, /SIGINT: cancelling pulumi up, then tearing down/);
    const r = JSON.parse(readFileSync(out, "utf8")) as CiResult;
    assert.equal(r.failedStep, "interrupted");
    assert.equal(r.steps.destroy?.ok, true, JSON.stringify(r.steps));
    assert.equal(r.steps.removeStack?.ok, true);
    assert.deepEqual(stackNames(), [], "the teardown ran after the cancelled update");
    assert.deepEqual(stackContainers("ci-signal"), [], "nothing of the stack is left on the host");
    noPassword(log, r);
  });
});
