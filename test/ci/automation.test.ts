// The real Automation API adapter against a fake `pulumi` executable: which CLI commands the SDK sends
// for our calls (create-or-select, config set-all with --secret and --path, up, outputs, destroy,
// stack rm), in which order, and that CLI errors echoing a secret are scrubbed. What this does NOT
// prove: how the real CLI answers (its output formats and behaviour are modelled by the fake only).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { automationEngine } from "../../infra/ci/automation.js";
import { envConfig, redact } from "../../infra/ci/env-config.js";
import { destroyCiStack, EXIT, runCiStack } from "../../infra/ci/run.js";
import type { CiResult } from "../../infra/ci/run.js";
import { makeFakePulumi } from "./fake-pulumi.js";
import type { FakePulumi } from "./fake-pulumi.js";

const PASSWORD = "correct-horse-battery-9";
let dir: string;
let work: string;
let fake: FakePulumi;
const saved: Record<string, string | undefined> = {};

before(() => {
  dir = mkdtempSync(join(tmpdir(), "ci-automation-test-"));
  work = join(dir, "project");
  mkdirSync(work);
  writeFileSync(join(work, "Pulumi.yaml"), "name: sdwebui\nruntime: nodejs\n");
  // The built entry points the preflight looks for (the fake CLI never runs them).
  mkdirSync(join(work, "dist/infra"), { recursive: true });
  mkdirSync(join(work, "dist/smoke"), { recursive: true });
  writeFileSync(join(work, "dist/infra/index.js"), "");
  writeFileSync(join(work, "dist/smoke/cli.js"), "");
  fake = makeFakePulumi(dir);
  for (const k of ["PATH", "FAKE_PULUMI_LOG", "FAKE_PULUMI_STATE", "FAKE_PULUMI_FAIL", "FAKE_PULUMI_UP_ERROR", "FAKE_PULUMI_UP_SLEEP_MS"]) saved[k] = process.env[k];
  process.env.PATH = `${fake.binDir}:${process.env.PATH}`;
  process.env.FAKE_PULUMI_LOG = fake.log;
  process.env.FAKE_PULUMI_STATE = fake.state;
});
after(() => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  rmSync(fake.log, { force: true });
  rmSync(fake.state, { force: true });
  delete process.env.FAKE_PULUMI_FAIL;
  delete process.env.FAKE_PULUMI_UP_ERROR;
  delete process.env.FAKE_PULUMI_UP_SLEEP_MS;
});

const calls = (): string[][] => (existsSync(fake.log) ? readFileSync(fake.log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as string[]) : []);
/** The commands sent, without the SDK's own read-only ones (version, stack output/history). */
const verbs = () =>
  calls()
    .map((c) => (["stack", "config"].includes(c[0]!) ? `${c[0]} ${c[1]}` : c[0]!))
    .filter((v) => !["version", "stack history", "stack output"].includes(v));
const stacks = () => (existsSync(fake.state) ? Object.keys((JSON.parse(readFileSync(fake.state, "utf8")) as { stacks: object }).stacks) : []);

const config = envConfig({ SDWEBUI_API_PASSWORD: PASSWORD, SDWEBUI_GPUS: "none", SDWEBUI_HOST_PORT: "7861", SDWEBUI_FIREWALL_ALLOWLIST: "10.0.0.0/8 2001:db8::/32" });

function engine(stack: string, create = true) {
  return automationEngine({ workDir: work, stackName: stack, entries: create ? config.entries : undefined, envVars: { PULUMI_BACKEND_URL: `file://${dir}/state` }, secrets: config.secretValues, create });
}

async function up(stack: string): Promise<{ result: CiResult; logs: string[] }> {
  const logs: string[] = [];
  const result = await runCiStack({
    engine: engine(stack),
    stack,
    stackSource: "test",
    smokeEnabled: true,
    keep: false,
    log: (l) => logs.push(l),
    writeResult: () => {},
    redact: (t) => redact(t, config.secretValues),
  });
  return { result, logs };
}

describe("automationEngine against a fake pulumi CLI", () => {
  it("a good run: create the stack, set config (secrets --secret, lists --path), up, outputs, destroy, stack rm", async () => {
    const { result, logs } = await up("ci-fake-1");
    assert.equal(result.exitCode, 0, JSON.stringify(result.steps));
    assert.deepEqual(verbs(), [
      "stack select", "stack init", "config set-all", "config set-all", "up", "destroy", "stack rm",
    ]);
    const [plain, paths] = calls().filter((c) => c[0] === "config");
    assert.ok(!plain!.includes("--path"));
    assert.ok(plain!.includes(`sdwebui:apiPassword=${PASSWORD}`) && plain![plain!.indexOf(`sdwebui:apiPassword=${PASSWORD}`) - 1] === "--secret", "the password is set with --secret");
    assert.ok(plain!.includes("sdwebui:hostPort=7861") && plain![plain!.indexOf("sdwebui:hostPort=7861") - 1] === "--plaintext");
    assert.ok(paths!.includes("--path"));
    assert.ok(paths!.includes("sdwebui:firewallAllowlist[0]=10.0.0.0/8") && paths!.includes("sdwebui:firewallAllowlist[1]=2001:db8::/32"));
    const upCall = calls().find((c) => c[0] === "up")!;
    assert.ok(upCall.includes("--yes") && upCall.includes("--skip-preview") && upCall.includes("ci-fake-1"));
    assert.equal(result.outputs.auth, "[secret]", "secret outputs masked in the result");
    assert.deepEqual(result.smoke, { ok: true, files: ["/srv/out/txt2img-images/2026-11-25/00000-7.png"] });
    assert.ok(logs.some((l) => l.includes("Updating (ci-fake-1)")), "pulumi's output is forwarded line by line");
    assert.deepEqual(stacks(), [], "the stack is gone");
  });

  it("a failing config step echoing the secret: the error is scrubbed, teardown still runs", async () => {
    process.env.FAKE_PULUMI_FAIL = "config";
    const { result, logs } = await up("ci-fake-2");
    assert.equal(result.failedStep, "up");
    assert.match(result.steps.up!.error!, /sdwebui:apiPassword=\[secret\]/);
    assert.ok(!JSON.stringify(result).includes(PASSWORD) && !logs.join("\n").includes(PASSWORD), "no password in result or log");
    assert.deepEqual(verbs().slice(-2), ["destroy", "stack rm"]);
    assert.deepEqual(stacks(), []);
  });

  it("the smoke step failing inside up: classified from the CLI's error text, stack destroyed and removed", async () => {
    process.env.FAKE_PULUMI_FAIL = "up";
    process.env.FAKE_PULUMI_UP_ERROR = JSON.stringify({ ok: false, failure: "permission-denied", exitCode: 24, message: "cannot write /srv/out" });
    const { result } = await up("ci-fake-3");
    assert.equal(result.exitCode, EXIT.smoke);
    assert.equal(result.smoke.ok === false && result.smoke.failure, "permission-denied");
    assert.deepEqual(verbs().slice(-2), ["destroy", "stack rm"]);
  });

  it("destroy fails: no stack rm is sent, the stack stays for a later destroy", async () => {
    process.env.FAKE_PULUMI_FAIL = "destroy";
    const { result } = await up("ci-fake-4");
    assert.equal(result.exitCode, EXIT.destroy);
    assert.ok(!verbs().includes("stack rm"));
    assert.deepEqual(stacks(), ["ci-fake-4"]);
    // The cleanup step later, once the cause is gone.
    delete process.env.FAKE_PULUMI_FAIL;
    const r = await destroyCiStack({ engine: engine("ci-fake-4", false), stack: "ci-fake-4", stackSource: "test", log: () => {}, writeResult: () => {} });
    assert.equal(r.exitCode, 0);
    assert.deepEqual(stacks(), []);
  });

  it("destroy of a stack that does not exist: nothing sent beyond the select, success", async () => {
    const logs: string[] = [];
    const r = await destroyCiStack({ engine: engine("ci-never", false), stack: "ci-never", stackSource: "test", log: (l) => logs.push(l), writeResult: () => {} });
    assert.equal(r.exitCode, 0);
    assert.deepEqual(verbs(), ["stack select"]);
    assert.ok(logs.some((l) => l.includes("does not exist: nothing to destroy")));
  });
});

describe("npm run ci:stack as a process, with the fake CLI", () => {
  it("SIGTERM during up: pulumi up is cancelled (SIGINT), then destroy and stack rm run; exit 130; result written", async () => {
    const out = join(dir, "interrupted.json");
    const env = {
      ...process.env,
      FAKE_PULUMI_UP_SLEEP_MS: "20000",
      GITHUB_RUN_ID: "31337",
      GITHUB_RUN_ATTEMPT: "1",
      GITHUB_JOB: "sig",
      SDWEBUI_API_PASSWORD: PASSWORD,
      PULUMI_CONFIG_PASSPHRASE: "pp",
      PULUMI_BACKEND_URL: `file://${dir}/state`,
    };
    const cli = join(__dirname, "../../infra/ci/cli.ts");
    const child = spawn(process.execPath, ["--import", "tsx", cli, "up", "--out", out, "--work-dir", work], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    try {
      await new Promise<void>((resolve, reject) => {
        child.stderr.on("data", (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes("Updating (ci-gh-31337-1-sig)")) resolve();
        });
        void exited.then(() => reject(new Error(`ci:stack exited before up started:\n${stderr}`)));
      });
      child.kill("SIGTERM");
      const code = await exited;
      assert.equal(code, EXIT.interrupted, stderr);
    } finally {
      clearTimeout(killer);
    }
    assert.match(stderr, /SIGTERM: cancelling pulumi up, then tearing down/);
    assert.deepEqual(verbs().slice(-3), ["up", "destroy", "stack rm"], stderr);
    assert.deepEqual(stacks(), []);
    const r = JSON.parse(readFileSync(out, "utf8")) as CiResult;
    assert.equal(r.failedStep, "interrupted");
    assert.equal(r.steps.destroy?.ok, true);
    assert.equal(r.steps.removeStack?.ok, true);
    assert.ok(!stderr.includes(PASSWORD) && !readFileSync(out, "utf8").includes(PASSWORD));
  });
});
