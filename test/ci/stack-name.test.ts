// CI stack names: unique per run and attempt, deterministic from the run variables, sanitised to
// Pulumi's rules, and short enough that the program's container name and firewall tag stay distinct.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateSettings } from "../../infra/config/validate.js";
import { hostLayouts } from "../../infra/docker/host-layout.js";
import { TAG_PATTERN } from "../../infra/firewall/rules.js";
import {
  CI_SYSTEMS,
  MAX_RUN_ID,
  MAX_STACK_NAME,
  PULUMI_STACK_NAME,
  StackNameError,
  checkRunId,
  checkStackName,
  ciRunId,
  ciStackName,
  fit,
  sanitise,
} from "../../tools/ci-stack/stack-name.js";

const settings = validateSettings({ apiPassword: "correct-horse-battery-9" }, () => true).settings;

function assertUsable(name: string): void {
  assert.match(name, PULUMI_STACK_NAME, `${name} is a Pulumi stack name`);
  assert.ok(name.length <= MAX_STACK_NAME, `${name} has at most ${MAX_STACK_NAME} characters`);
  assert.match(name, /^[a-z0-9][a-z0-9_.-]*[a-z0-9]$/, `${name} is lower case and starts/ends alphanumeric`);
  const [plan] = hostLayouts(settings, name);
  const inst = plan!.instances[0]!;
  assert.match(inst.containerName, /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, "the derived container name is valid");
  assert.match(inst.firewallTag, TAG_PATTERN, "the derived firewall tag is valid");
}

const tagOf = (stack: string) => hostLayouts(settings, stack)[0]!.instances[0]!.firewallTag;

describe("names from CI run variables", () => {
  it("GitHub: run id, attempt and job; deterministic", () => {
    const env = { GITHUB_RUN_ID: "9876543210", GITHUB_RUN_ATTEMPT: "1", GITHUB_JOB: "e2e" };
    const a = ciStackName(env);
    assert.equal(a.name, "ci-gh-9876543210-1-e2e");
    assert.equal(a.deterministic, true);
    assert.equal(ciStackName({ ...env }).name, a.name, "the cleanup step recomputes the same name");
    assert.notEqual(
      ciStackName({ ...env, GITHUB_RUN_ATTEMPT: "2" }).name,
      a.name,
      "a re-run attempt gets its own stack",
    );
    assert.notEqual(
      ciStackName({ ...env, GITHUB_JOB: "smoke" }).name,
      a.name,
      "another job of the run gets its own stack",
    );
    assert.notEqual(
      ciStackName({ ...env, SDWEBUI_CI_STACK_SUFFIX: "node-22" }).name,
      a.name,
      "matrix legs differ by suffix",
    );
    assertUsable(a.name);
  });

  it("every supported CI system yields a usable name of its own", () => {
    const envs: Record<string, Record<string, string>> = {
      gh: { GITHUB_RUN_ID: "1", GITHUB_RUN_ATTEMPT: "1", GITHUB_JOB: "j" },
      gl: { CI_PIPELINE_ID: "1", CI_JOB_ID: "2" },
      az: { BUILD_BUILDID: "1", SYSTEM_JOBATTEMPT: "1", SYSTEM_JOBNAME: "Job" },
      bk: { BUILDKITE_BUILD_NUMBER: "1", BUILDKITE_RETRY_COUNT: "0", BUILDKITE_STEP_KEY: "e2e" },
      cc: { CIRCLE_BUILD_NUM: "1", CIRCLE_NODE_INDEX: "0" },
      jk: { BUILD_ID: "1", JOB_NAME: "folder/My Job" },
    };
    assert.deepEqual(Object.keys(envs).sort(), CI_SYSTEMS.map((s) => s.id).sort(), "a case per system");
    const names = Object.entries(envs).map(([id, env]) => {
      const r = ciStackName(env);
      assert.ok(r.name.startsWith(`ci-${id}-`), `${id}: ${r.name}`);
      assertUsable(r.name);
      return r.name;
    });
    assert.equal(new Set(names).size, names.length);
  });

  it("10 000 GitHub runs x 3 attempts: all names distinct, all usable, all firewall tags distinct", () => {
    const names = new Set<string>();
    const tags = new Set<string>();
    for (let run = 0; run < 10_000; run++)
      for (const attempt of ["1", "2", "3"]) {
        const n = ciStackName({
          GITHUB_RUN_ID: String(12_000_000_000 + run * 7919),
          GITHUB_RUN_ATTEMPT: attempt,
          GITHUB_JOB: "deploy-and-prove",
        }).name;
        names.add(n);
        tags.add(tagOf(n));
      }
    assert.equal(names.size, 30_000);
    assert.equal(tags.size, 30_000);
    for (const n of [...names].slice(0, 50)) assertUsable(n);
  });
});

describe("sanitising and length", () => {
  it("sanitise lower-cases and folds other characters to single dashes", () => {
    assert.equal(sanitise("Build & Test (Ubuntu 24.04)"), "build-test-ubuntu-24.04");
    assert.equal(sanitise("--__weird..//name__--"), "weird-name");
    assert.equal(sanitise("ÄÖÜ job"), "job");
    assert.equal(sanitise("!!!"), "");
  });

  it("awkward job names still give usable names", () => {
    for (const job of ["Build & Test (Ubuntu)", "ünïcödé", "a".repeat(300), "...", "x y\tz\nw", "日本語"]) {
      const r = ciStackName({ GITHUB_RUN_ID: "42", GITHUB_RUN_ATTEMPT: "3", GITHUB_JOB: job });
      assertUsable(r.name);
      assert.ok(r.name.startsWith("ci-gh-42-3"), r.name);
    }
  });

  it("long names keep a hash of the whole, so names differing only at the end stay distinct (and their tags too)", () => {
    const long = "a-very-long-job-name-from-a-matrix-expansion";
    const a = ciStackName({ GITHUB_RUN_ID: "12345678901", GITHUB_RUN_ATTEMPT: "1", GITHUB_JOB: `${long}-linux` }).name;
    const b = ciStackName({ GITHUB_RUN_ID: "12345678901", GITHUB_RUN_ATTEMPT: "1", GITHUB_JOB: `${long}-macos` }).name;
    assert.notEqual(a, b);
    assert.equal(a.length, MAX_STACK_NAME);
    assertUsable(a);
    assertUsable(b);
    assert.notEqual(tagOf(a), tagOf(b));
    assert.equal(fit("short"), "short");
    assert.ok(fit("x".repeat(40)).length <= MAX_STACK_NAME);
  });
});

describe("explicit names and the fallback", () => {
  it("SDWEBUI_CI_STACK is used as given when valid, refused with the variable named when not", () => {
    assert.deepEqual(ciStackName({ SDWEBUI_CI_STACK: "pr-17", GITHUB_RUN_ID: "1" }), {
      name: "pr-17",
      source: "SDWEBUI_CI_STACK",
      deterministic: true,
    });
    for (const bad of ["PR 17", "Upper", "x".repeat(40), "-lead"])
      assert.throws(
        () => ciStackName({ SDWEBUI_CI_STACK: bad }),
        (e: Error) => e instanceof StackNameError && e.message.includes("SDWEBUI_CI_STACK"),
        bad,
      );
  });

  it("--stack is checked against Pulumi's rule", () => {
    assert.equal(checkStackName("ci-gh-1-1"), "ci-gh-1-1");
    assert.throws(() => checkStackName("a b"), /--stack "a b" is not a Pulumi stack name/);
    assert.throws(() => checkStackName("x".repeat(101)), /not a Pulumi stack name/);
  });

  it("outside CI: time plus randomness, marked not deterministic", () => {
    const now = new Date("2026-11-25T13:04:05Z");
    const r = ciStackName({}, { now, random: () => "a1b2c3" });
    assert.equal(r.name, "ci-local-20261125-1304-a1b2c3");
    assert.equal(r.deterministic, false);
    assertUsable(r.name);
    assert.notEqual(ciStackName({}).name, ciStackName({}).name, "two real fallbacks differ");
    assert.equal(
      ciStackName({ SDWEBUI_CI_STACK_PREFIX: "Nightly!" }, { now, random: () => "ff" }).name,
      "nightly-local-20261125-1304-ff",
    );
  });
});

describe("run ids (the first half of the ci:stack tag)", () => {
  it("from the run variables and the suffix, in full; an explicit stack name does not change them", () => {
    const env = { GITHUB_RUN_ID: "9876543210", GITHUB_RUN_ATTEMPT: "1", GITHUB_JOB: "e2e-with-a-rather-long-job-name" };
    assert.deepEqual(ciRunId(env), { id: "gh-9876543210-1-e2e-with-a-rather-long-job-name", deterministic: true });
    assert.equal(ciRunId({ ...env, SDWEBUI_CI_STACK: "shared" }).id, ciRunId(env).id);
    assert.notEqual(
      ciRunId({ ...env, SDWEBUI_CI_STACK_SUFFIX: "node-22" }).id,
      ciRunId(env).id,
      "matrix legs differ by suffix",
    );
    assert.notEqual(ciRunId({ ...env, GITHUB_RUN_ATTEMPT: "2" }).id, ciRunId(env).id);
    assert.ok(ciRunId({ ...env, GITHUB_JOB: "j".repeat(300) }).id.length <= MAX_RUN_ID);
  });

  it("outside CI: random, and said to be so", () => {
    const r = ciRunId({}, { random: () => "a1b2c3d4e5f6" });
    assert.deepEqual(r, { id: "local-a1b2c3d4e5f6", deterministic: false });
    assert.notEqual(ciRunId({}).id, ciRunId({}).id);
  });

  it("--run-id: tag characters only, no separator", () => {
    assert.equal(checkRunId("gh-1-1-e2e"), "gh-1-1-e2e");
    for (const bad of ["", "a/b", "a b", "x".repeat(MAX_RUN_ID + 1)])
      assert.throws(() => checkRunId(bad), StackNameError, bad);
  });
});
