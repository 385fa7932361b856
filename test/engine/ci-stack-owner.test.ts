// ci:stack touches only the stacks it created, through the Automation API and the real Pulumi CLI: an
// existing stack (a user's `dev` with its committed stack file, a stack another checkout made, one that
// another ci:stack has created but not tagged yet, another job's) is refused before anything is written,
// with its config, state, history and stack file unchanged; two jobs that pick one name cannot tear down
// each other's deploy; the teardown after a failed up removes the stack only while its tag is still this
// process's. Two checkouts share one file backend, as two CI jobs sharing a state bucket do. The program
// is the config read-back stand-in (test/helpers/config-readback.ts): no Docker, no plugins.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { EXIT, type CiResult } from "../../tools/ci-stack/lifecycle.js";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import { READBACK_ENV, readbackProject, type ReadbackProject } from "../helpers/config-readback.js";
import { requireToolchain } from "../helpers/pulumi-cli.js";

const PASSWORD = "ci-owner-secret-value-5521";
const USER_PASSWORD = "users-own-dev-password-77";

describe("ci:stack creates, updates and destroys only the stacks it created", { timeout: 900_000 }, () => {
  let a: ReadbackProject | undefined;
  let b: ReadbackProject | undefined;
  before(() => {
    a = readbackProject("ci-owner-a");
    b = readbackProject("ci-owner-b");
    // The second checkout uses the first one's backend: a shared state store.
    b.env.PULUMI_BACKEND_URL = a.env.PULUMI_BACKEND_URL;
  });
  after(() => {
    b?.cleanUp();
    a?.cleanUp();
  });

  const ready = (t: TestContext) => Boolean(requireToolchain(t));
  /** A CI job's environment: GitHub run 4242 attempt 1, job `job`, the stack name `stack`. */
  const jobEnv = (
    p: ReadbackProject,
    job: string,
    stack: string,
    extra: Record<string, string> = {},
  ): NodeJS.ProcessEnv => ({
    ...p.env,
    GITHUB_RUN_ID: "4242",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_JOB: job,
    SDWEBUI_CI_STACK: stack,
    SDWEBUI_API_PASSWORD: PASSWORD,
    SDWEBUI_SMOKE_ENABLED: "false",
    ...extra,
  });
  function ciStack(p: ReadbackProject, args: string[], env: NodeJS.ProcessEnv) {
    const out = join(p.dir, `result-${args.join("-").replace(/[^a-z0-9-]/gi, "")}.json`);
    rmSync(out, { force: true });
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "tools/ci-stack/cli.ts"), ...args, "--work-dir", p.dir, "--out", out],
      { cwd: REPO_ROOT, env, encoding: "utf8", timeout: 5 * 60_000 },
    );
    const result = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as CiResult) : undefined;
    const log = `${r.stdout}\n${r.stderr}`;
    assert.ok(!log.includes(PASSWORD) && !log.includes(USER_PASSWORD), "no password in the output");
    return { status: r.status, log, result };
  }
  const stacks = () =>
    (JSON.parse(a!.must(["stack", "ls", "--json"]) || "[]") as { name: string }[]).map((s) => s.name).sort();
  const stackFile = (p: ReadbackProject, stack: string) => join(p.dir, `Pulumi.${stack}.yaml`);
  /** Everything of a stack that a takeover would change: state, history, tags, and each checkout's stack file. */
  function snapshot(stack: string): string {
    const files = [a!, b!].map((p) =>
      existsSync(stackFile(p, stack)) ? readFileSync(stackFile(p, stack), "utf8") : "(none)",
    );
    const history = (JSON.parse(a!.must(["stack", "history", "--json", "--stack", stack])) as unknown[]).length;
    return JSON.stringify({
      state: a!.must(["stack", "export", "--stack", stack]),
      history,
      tags: a!.must(["stack", "tag", "ls", "--json", "--stack", stack]),
      files,
    });
  }
  const tagOf = (stack: string) =>
    (JSON.parse(a!.must(["stack", "tag", "ls", "--json", "--stack", stack])) as Record<string, string>)[
      "sdwebui:ci-stack"
    ];

  it("the issue's example: a user's dev stack with a committed Pulumi.dev.yaml is refused by up and destroy, untouched", (t) => {
    if (!ready(t)) return;
    a!.must(["stack", "init", "dev"]);
    a!.must(["config", "set", "--secret", "sdwebui:apiPassword", USER_PASSWORD]);
    a!.must(["config", "set", "sdwebui:hostPort", "7861"]);
    a!.must(["up", "--yes", "--skip-preview"]);
    const git = (...args: string[]) =>
      assert.equal(spawnSync("git", ["-C", a!.dir, ...args], { encoding: "utf8" }).status, 0, args.join(" "));
    git("init", "-q");
    git("add", "Pulumi.dev.yaml");
    git("-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-q", "-m", "the dev stack's settings");
    const before = snapshot("dev");
    for (const args of [["up"], ["destroy"], ["up", "--keep"]]) {
      const r = ciStack(a!, args, jobEnv(a!, "e2e", "dev"));
      assert.equal(r.status, EXIT.owner, `${args.join(" ")}:\n${r.log}`);
      assert.match(
        r.log,
        /Pulumi\.dev\.yaml is tracked by git: ci:stack never uses a stack whose stack file is committed/,
      );
      assert.match(r.log, /fix: (set SDWEBUI_CI_STACK to a name no stack has, or unset it|check that --stack)/);
      assert.equal(r.result?.failedStep, "owner");
      assert.equal(snapshot("dev"), before, "config, state, history, tags and stack file unchanged");
    }
    rmSync(join(a!.dir, ".git"), { recursive: true, force: true });
    // Untracked but already there: up still leaves it alone.
    const r = ciStack(a!, ["up"], jobEnv(a!, "e2e", "dev"));
    assert.equal(r.status, EXIT.owner, r.log);
    assert.match(r.log, /Pulumi\.dev\.yaml already exists: ci:stack creates only new stacks/);
    assert.equal(snapshot("dev"), before);
  });

  it("a stack another checkout made (no stack file here, no tag): up and destroy refuse, nothing written here or there", (t) => {
    if (!ready(t)) return;
    // Also the state between another ci:stack's `stack init` and its tag.
    for (const stack of ["dev", "elsewhere"]) {
      if (!stacks().includes(stack)) a!.must(["stack", "init", stack]);
      const before = snapshot(stack);
      for (const args of [["up"], ["destroy"]]) {
        const r = ciStack(b!, args, jobEnv(b!, "e2e", stack));
        assert.equal(r.status, EXIT.owner, `${stack} ${args.join(" ")}:\n${r.log}`);
        assert.match(
          r.log,
          new RegExp(
            `stack ${stack} exists but has no sdwebui:ci-stack tag: ci:stack did not create it \\(or another ci:stack is creating it this very moment\\); it was left untouched`,
          ),
        );
        assert.match(
          r.log,
          args[0] === "up"
            ? /fix: set SDWEBUI_CI_STACK to a name no stack has.*pulumi stack rm/
            : /fix: check that --stack or SDWEBUI_CI_STACK names the stack your up created/,
        );
        assert.equal(existsSync(stackFile(b!, stack)), false, "no stack file written in this checkout");
        assert.equal(snapshot(stack), before, "the stack is unchanged");
      }
    }
  });

  it("two jobs pick the same name: the second is refused by up and by its cleanup; the first removes its own stack and stack file", (t) => {
    if (!ready(t)) return;
    const first = ciStack(a!, ["up", "--keep"], jobEnv(a!, "job-a", "shared"));
    assert.equal(first.status, EXIT.ok, first.log);
    assert.match(
      tagOf("shared") ?? "",
      /^gh-4242-1-job-a\/[0-9a-f]{12}$/,
      "tagged with the run id and the process's nonce",
    );
    assert.equal(first.result?.runId, "gh-4242-1-job-a");
    const before = snapshot("shared");
    for (const args of [["up"], ["destroy"]]) {
      const r = ciStack(b!, args, jobEnv(b!, "job-b", "shared"));
      assert.equal(r.status, EXIT.owner, `${args.join(" ")}:\n${r.log}`);
      assert.match(
        r.log,
        /stack shared was created by ci:stack run gh-4242-1-job-a, not by this run \(gh-4242-1-job-b\); it was left untouched/,
      );
      assert.match(r.log, /fix: .*npm run ci:stack -- destroy --stack shared --run-id gh-4242-1-job-a/);
      assert.equal(snapshot("shared"), before, "job A's deploy is untouched");
    }
    // A leg of the same job without a suffix: same run id, another process.
    const leg = ciStack(b!, ["up"], jobEnv(b!, "job-a", "shared"));
    assert.equal(leg.status, EXIT.owner, leg.log);
    assert.match(
      leg.log,
      /created by another ci:stack process of this run \(gh-4242-1-job-a.*up deploys only to a stack it has just created/,
    );
    assert.match(leg.log, /SDWEBUI_CI_STACK_SUFFIX/);
    assert.equal(snapshot("shared"), before);
    const down = ciStack(a!, ["destroy"], jobEnv(a!, "job-a", "shared"));
    assert.equal(down.status, EXIT.ok, down.log);
    assert.ok(!stacks().includes("shared"), "job A's cleanup removed its stack");
    assert.equal(existsSync(stackFile(a!, "shared")), false, "and the stack file it wrote");
  });

  it("a failed up tears down its own stack; one whose tag changed under it is left for its owner", (t) => {
    if (!ready(t)) return;
    const failed = ciStack(a!, ["up"], jobEnv(a!, "e2e", "fails", { [READBACK_ENV.fail]: "1" }));
    assert.equal(failed.status, EXIT.up, failed.log);
    assert.equal(failed.result?.steps.destroy?.ok, true);
    assert.equal(failed.result?.steps.removeStack?.ok, true);
    assert.ok(!stacks().includes("fails"));
    assert.equal(existsSync(stackFile(a!, "fails")), false);
    // Another job's tag written over this one's in the middle of the update.
    const other = "gh-9999-1-other/0123456789ab";
    const taken = ciStack(
      a!,
      ["up"],
      jobEnv(a!, "e2e", "retagged", { [READBACK_ENV.retag]: other, [READBACK_ENV.fail]: "1" }),
    );
    assert.equal(taken.status, EXIT.up, taken.log);
    assert.match(
      taken.result?.steps.destroy?.error ?? "",
      /stack retagged was created by ci:stack run gh-9999-1-other, not by this run \(gh-4242-1-e2e\)/,
    );
    assert.match(taken.result?.steps.removeStack?.skipped ?? "", /not this run's/);
    assert.ok(stacks().includes("retagged"), "the stack stays for its owner");
    assert.ok(existsSync(stackFile(a!, "retagged")), "and so does its stack file");
    assert.equal(tagOf("retagged"), other);
    const cleanup = ciStack(a!, ["destroy", "--run-id", "gh-9999-1-other"], jobEnv(a!, "e2e", "retagged"));
    assert.equal(cleanup.status, EXIT.ok, cleanup.log);
    assert.ok(!stacks().includes("retagged"));
    assert.equal(existsSync(stackFile(a!, "retagged")), false);
  });

  it("a good run removes exactly what it made: the stack, its tag and its stack file; the user's dev stays", (t) => {
    if (!ready(t)) return;
    const run = ciStack(a!, ["up"], jobEnv(a!, "e2e", "good"));
    assert.equal(run.status, EXIT.ok, run.log);
    assert.deepEqual(Object.keys(run.result?.steps ?? {}), ["create", "up", "outputs", "destroy", "removeStack"]);
    assert.ok(!stacks().includes("good"));
    assert.equal(existsSync(stackFile(a!, "good")), false);
    assert.equal(
      existsSync(join(a!.stateDir, ".pulumi", "stacks", "sdwebui", "good.pulumi-tags")),
      false,
      "the tag went with the stack",
    );
    assert.ok(stacks().includes("dev"));
    assert.ok(existsSync(stackFile(a!, "dev")));
  });
});
