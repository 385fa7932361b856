// The ci:stack command line: the real Automation API adapter fails clearly without the Pulumi CLI (as on
// this machine), checks run before Pulumi is touched, and the result file is written in every case.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { automationEngine, findPulumiCli, PulumiCliMissingError } from "../../tools/ci-stack/automation.js";
import { main } from "../../tools/ci-stack/cli.js";
import type { CliDeps } from "../../tools/ci-stack/cli.js";
import type { EnvConfig } from "../../tools/ci-stack/env-config.js";
import type { Claim } from "../../tools/ci-stack/ownership.js";
import { backendOf, preflight } from "../../tools/ci-stack/runner-check.js";
import { newOwner } from "../../tools/ci-stack/ownership.js";
import { EXIT } from "../../tools/ci-stack/lifecycle.js";
import type { CiResult, StackEngine } from "../../tools/ci-stack/lifecycle.js";
import { SMOKE_CLI_BUILT } from "../../smoke/built-path.js";

const PASSWORD = "correct-horse-battery-9";
const CLI_MISSING = /^Pulumi CLI not found: install it \(https:\/\/www\.pulumi\.com\/docs\/install\/\)/;
let dir: string;
let work: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "ci-stack-test-"));
  // A stand-in project dir: Pulumi.yaml and the built entry points the preflight looks for.
  work = join(dir, "project");
  mkdirSync(join(work, "dist/infra"), { recursive: true });
  mkdirSync(join(work, "dist/smoke"), { recursive: true });
  writeFileSync(join(work, "Pulumi.yaml"), "name: sdwebui\nruntime: nodejs\nbackend:\n  url: file://./.pulumi-state\n");
  writeFileSync(join(work, "dist/infra/index.js"), "");
  writeFileSync(join(work, SMOKE_CLI_BUILT), "");
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Run with PATH pointing at an empty folder, so `pulumi` cannot be found whatever the machine has. */
async function withoutPulumi<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  const empty = mkdtempSync(join(dir, "path-"));
  process.env.PATH = empty;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

describe("the Automation API adapter without the Pulumi CLI", () => {
  it("findPulumiCli fails with the install hint", async () => {
    await withoutPulumi(() =>
      assert.rejects(findPulumiCli(), (e: Error) => e instanceof PulumiCliMissingError && CLI_MISSING.test(e.message)),
    );
  });

  it("every engine call fails with the same clear error, not a raw ENOENT", async () => {
    const engine = automationEngine({
      workDir: work,
      stackName: "ci-test",
      envVars: {},
      secrets: [PASSWORD],
      claim: { kind: "process", owner: newOwner("gh-1-1-e2e") },
    });
    await withoutPulumi(async () => {
      for (const call of [
        () => engine.create(() => {}),
        () => engine.up(() => {}),
        () => engine.outputs(),
        () => engine.destroy(() => {}),
        () => engine.removeStack(),
      ])
        await assert.rejects(
          call(),
          (e: Error) =>
            e instanceof PulumiCliMissingError &&
            CLI_MISSING.test(e.message) &&
            !/spawn pulumi ENOENT\n/.test(e.message),
        );
    });
  });
});

function deps(env: Record<string, string>, engine?: StackEngine, cli: "ok" | "real" = "ok") {
  const logs: string[] = [];
  const out: string[] = [];
  const made: unknown[] = [];
  const d: CliDeps = {
    env,
    log: (l) => logs.push(l),
    stdout: (t) => out.push(t),
    ...(engine ? { engine: (o) => (made.push(o), engine) } : {}),
    ...(cli === "ok" ? { checkCli: async () => "v3.200.0" } : {}),
  };
  return { d, logs, out, made };
}

const okEnv = {
  GITHUB_RUN_ID: "77",
  GITHUB_RUN_ATTEMPT: "2",
  GITHUB_JOB: "e2e",
  SDWEBUI_API_PASSWORD: PASSWORD,
  SDWEBUI_GPUS: "none",
  PULUMI_CONFIG_PASSPHRASE: "pp",
  PULUMI_BACKEND_URL: "",
};
const readResult = (f: string) => JSON.parse(readFileSync(f, "utf8")) as CiResult;

describe("ci:stack up", () => {
  it(`with the real CLI lookup on a machine without Pulumi: exit ${EXIT.preflight}, the hint, a result file, no stack touched`, async () => {
    const out = join(dir, "no-cli.json");
    const { d, logs } = deps(okEnv, undefined, "real");
    const code = await withoutPulumi(() => main(["up", "--out", out, "--work-dir", work], d));
    assert.equal(code, EXIT.preflight);
    assert.ok(logs.some((l) => l.includes("Pulumi CLI not found: install it (https://www.pulumi.com/docs/install/)")));
    const r = readResult(out);
    assert.equal(r.failedStep, "preflight");
    assert.equal(r.stack, "ci-gh-77-2-e2e");
    assert.match(r.error!, CLI_MISSING);
  });

  it(`a fake engine runs the whole flow: config entries passed, result written, exit ${EXIT.ok}`, async () => {
    const calls: string[] = [];
    const engine: StackEngine = {
      create: async () => void calls.push("create"),
      up: async () => void calls.push("up"),
      outputs: async () => (
        calls.push("outputs"),
        {
          smokeFile: { value: "/o/x-1.png", secret: false },
          endpoints: { value: [{ smokeFile: "/o/x-1.png" }], secret: false },
        }
      ),
      destroy: async () => void calls.push("destroy"),
      removeStack: async () => void calls.push("removeStack"),
    };
    const out = join(dir, "ok.json");
    const { d, made, out: stdout } = deps(okEnv, engine);
    const code = await main(["up", "--out", out, "--work-dir", work], d);
    assert.equal(code, EXIT.ok);
    assert.deepEqual(calls, ["create", "up", "outputs", "destroy", "removeStack"]);
    const o = made[0] as { stack: string; config: EnvConfig; envVars: Record<string, string>; claim: Claim };
    assert.equal(o.stack, "ci-gh-77-2-e2e");
    assert.equal(
      o.claim.kind === "process" && o.claim.owner.runId,
      "gh-77-2-e2e",
      "up claims the stack it creates, tagged with this run's id",
    );
    assert.match(o.claim.kind === "process" ? o.claim.owner.nonce : "", /^[0-9a-f]{12}$/);
    assert.equal(o.config.document["sdwebui:apiPassword"]?.secret, true);
    assert.equal(o.envVars.PULUMI_BACKEND_URL, `file://${work}/.pulumi-state`);
    assert.ok(existsSync(join(work, ".pulumi-state")), "the file backend folder is created");
    const r = readResult(out);
    assert.equal(r.ok, true);
    assert.equal(r.runId, "gh-77-2-e2e");
    assert.deepEqual(r.smoke, { ok: true, files: ["/o/x-1.png"] });
    assert.match(stdout.join(""), /ci:stack up ci-gh-77-2-e2e: OK, proven \/o\/x-1\.png/);
    assert.ok(!readFileSync(out, "utf8").includes(PASSWORD));
  });

  it(`a bad environment: exit ${EXIT.config} with every problem, result written, no engine made`, async () => {
    const out = join(dir, "bad.json");
    const { d, made, logs } = deps(
      { ...okEnv, SDWEBUI_API_PASSWORD: "short", SDWEBUI_HOST_PORT: "0" },
      {} as StackEngine,
    );
    assert.equal(await main(["up", "--out", out, "--work-dir", work], d), EXIT.config);
    assert.equal(made.length, 0);
    const text = logs.join("\n");
    assert.match(text, /2 problems/);
    assert.ok(!text.includes('short"'), "the bad password is not echoed");
    assert.equal(readResult(out).failedStep, "config");
  });

  it("missing or empty passphrase and an unbuilt program are refused up front, all at once", async () => {
    const bare = mkdtempSync(join(dir, "bare-"));
    writeFileSync(join(bare, "Pulumi.yaml"), "name: sdwebui\n");
    const out = join(dir, "pre.json");
    const { PULUMI_CONFIG_PASSPHRASE: _drop, ...noPass } = okEnv;
    const { d, logs, made } = deps(noPass, {} as StackEngine);
    assert.equal(await main(["up", "--out", out, "--work-dir", bare], d), EXIT.preflight);
    const text = logs.join("\n");
    assert.match(text, /PULUMI_CONFIG_PASSPHRASE is not set/);
    assert.match(text, /dist\/infra\/index\.js is missing/);
    assert.match(text, /dist\/smoke\/cli\.js is missing/);
    assert.equal(made.length, 0);
    const p = preflight({ PULUMI_CONFIG_PASSPHRASE: "" }, work, { smokeEnabled: true, needBuild: true });
    assert.match(p.problems.join("\n"), /PULUMI_CONFIG_PASSPHRASE is empty/);
    assert.deepEqual(
      preflight({ PULUMI_CONFIG_PASSPHRASE: "x" }, work, { smokeEnabled: true, needBuild: true }).problems,
      [],
    );
  });

  it("--keep skips teardown; destroy uses no settings; name and check touch nothing", async () => {
    const calls: string[] = [];
    const engine: StackEngine = {
      create: async () => void calls.push("create"),
      up: async () => void calls.push("up"),
      outputs: async () => ({ smokeFile: { value: "/o/a.png", secret: false } }),
      destroy: async () => void calls.push("destroy"),
      removeStack: async () => void calls.push("removeStack"),
    };
    const { d } = deps(okEnv, engine);
    assert.equal(await main(["up", "--keep", "--out", join(dir, "keep.json"), "--work-dir", work], d), EXIT.ok);
    assert.deepEqual(calls, ["create", "up"]);
    assert.match(
      readResult(join(dir, "keep.json")).advice.join("\n"),
      /npm run ci:stack -- destroy --stack ci-gh-77-2-e2e --run-id gh-77-2-e2e/,
    );
    calls.length = 0;
    const { d: d2, made } = deps({ PULUMI_CONFIG_PASSPHRASE: "pp" }, engine);
    assert.equal(
      await main(
        [
          "destroy",
          "--stack",
          "ci-gh-77-2-e2e",
          "--run-id",
          "gh-77-2-e2e",
          "--out",
          join(dir, "destroy.json"),
          "--work-dir",
          work,
        ],
        d2,
      ),
      EXIT.ok,
    );
    assert.deepEqual(calls, ["destroy", "removeStack"]);
    assert.deepEqual(
      (made[0] as { claim: Claim }).claim,
      { kind: "run", runId: "gh-77-2-e2e" },
      "destroy removes any stack of the named run",
    );
    const n = deps(okEnv);
    assert.equal(await main(["name"], n.d), EXIT.ok);
    assert.equal(n.out.join(""), "ci-gh-77-2-e2e\n");
    const c = deps(okEnv);
    assert.equal(await main(["check", "--work-dir", work], c.d), EXIT.ok);
    assert.match(c.out.join(""), /sdwebui:apiPassword = \[secret\]/);
    assert.ok(!c.out.join("").includes(PASSWORD));
  });

  it("destroy outside CI without --stack or --run-id is refused (a fallback name or run id is random)", async () => {
    const { d, logs } = deps({ PULUMI_CONFIG_PASSPHRASE: "pp" }, {} as StackEngine);
    assert.equal(await main(["destroy", "--out", join(dir, "d.json"), "--work-dir", work], d), EXIT.usage);
    assert.match(logs.join("\n"), /pass --stack <name>/);
    const n = deps({ PULUMI_CONFIG_PASSPHRASE: "pp", SDWEBUI_CI_STACK: "mine" }, {} as StackEngine);
    assert.equal(await main(["destroy", "--out", join(dir, "d.json"), "--work-dir", work], n.d), EXIT.usage);
    assert.match(n.logs.join("\n"), /pass --run-id <id> \(the up's result file names it as runId\)/);
    assert.equal(n.made.length, 0);
  });

  it(`a stack file that exists (up) or that git tracks (up and destroy): exit ${EXIT.owner} before any engine is made, the file kept`, async () => {
    const repo = mkdtempSync(join(dir, "repo-"));
    for (const f of ["Pulumi.yaml", "dist/infra/index.js", SMOKE_CLI_BUILT]) {
      mkdirSync(join(repo, f, ".."), { recursive: true });
      writeFileSync(join(repo, f), readFileSync(join(work, f)));
    }
    const git = (...a: string[]) =>
      assert.equal(spawnSync("git", ["-C", repo, ...a], { encoding: "utf8" }).status, 0, a.join(" "));
    git("init", "-q");
    writeFileSync(join(repo, "Pulumi.dev.yaml"), 'config:\n  sdwebui:hostPort: "7861"\n');
    git("add", "Pulumi.dev.yaml");
    writeFileSync(join(repo, "Pulumi.scratch.yml"), "config: {}\n");
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ["up"],
        { SDWEBUI_CI_STACK: "dev" },
        /Pulumi\.dev\.yaml is tracked by git: ci:stack never uses a stack whose stack file is committed/,
      ],
      [["destroy", "--run-id", "gh-77-2-e2e"], { SDWEBUI_CI_STACK: "dev" }, /Pulumi\.dev\.yaml is tracked by git/],
      [
        ["up"],
        { SDWEBUI_CI_STACK: "scratch" },
        /Pulumi\.scratch\.yml already exists: ci:stack creates only new stacks/,
      ],
      [["up", "--stack", "dev"], {}, /tracked by git/],
    ];
    for (const [argv, env, message] of cases) {
      const { d, logs, made } = deps({ ...okEnv, ...env }, {} as StackEngine);
      const out = join(dir, "file.json");
      assert.equal(await main([...argv, "--out", out, "--work-dir", repo], d), EXIT.owner, argv.join(" "));
      assert.equal(made.length, 0, "no engine: nothing touched");
      assert.match(logs.join("\n"), message);
      assert.match(logs.join("\n"), /fix: (set SDWEBUI_CI_STACK to a name no stack has|check that --stack)/);
      assert.equal(readResult(out).failedStep, "owner");
    }
    assert.equal(readFileSync(join(repo, "Pulumi.dev.yaml"), "utf8"), 'config:\n  sdwebui:hostPort: "7861"\n');
    const c = deps({ ...okEnv, SDWEBUI_CI_STACK: "dev" });
    assert.equal(await main(["check", "--work-dir", repo], c.d), EXIT.owner);
    assert.match(c.out.join(""), /problem: .*tracked by git/);
  });

  it(`usage errors exit ${EXIT.usage}`, async () => {
    for (const argv of [
      [],
      ["deploy"],
      ["up", "--bogus"],
      ["destroy", "--keep"],
      ["up", "extra"],
      ["up", "--stack", "bad name"],
      ["destroy", "--run-id", "a/b"],
    ]) {
      const { d } = deps(okEnv);
      assert.equal(await main([...argv, "--out", join(dir, "u.json")], d), EXIT.usage, argv.join(" "));
    }
  });

  it("the default backend is a file backend in the project's .pulumi-state", () => {
    assert.deepEqual(backendOf({}, "/repo"), {
      url: "file:///repo/.pulumi-state",
      dir: "/repo/.pulumi-state",
      fromEnv: false,
    });
    assert.equal(backendOf({ PULUMI_BACKEND_URL: "s3://bucket/x" }, "/repo").dir, undefined);
    const w = preflight({ PULUMI_CONFIG_PASSPHRASE: "x", PULUMI_BACKEND_URL: "file:///elsewhere" }, work, {
      smokeEnabled: false,
      needBuild: false,
    }).warnings;
    assert.match(w.join("\n"), /pulumi\/pulumi#7155/);
  });
});
