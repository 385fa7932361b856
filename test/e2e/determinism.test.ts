// Evaluating the program twice with the same config registers identical inputs and
// options for every resource (secrets included, compared inside the harness only), so a re-deploy
// with no change is a no-op. Checked in one process (1.1 s apart, to catch timestamps) and across
// two fresh processes (to catch values fixed at module load). No Docker engine needed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, it } from "node:test";
import { unwrapSecrets } from "../helpers/pulumi-mocks.js";
import { digestEvaluation, differingPaths, type ResourceDigest } from "./harness/digest.js";
import { evaluateProgram, type Evaluation, type StackInput } from "./harness/evaluate.js";
import { REPO_ROOT } from "./harness/local-command.js";
import { decide } from "./harness/plan.js";

const fakeImage = () => `sha256:${"5".repeat(64)}`;
const PASSWORD = "determinism-pass-1234";

const CONFIGS: Record<string, StackInput> = {
  "single local container (the e2e stack's shape)": {
    stack: "det-local",
    settings: { image: "sd-webui-standin:dev", gpus: "none", outputsDir: "/srv/det/outputs", modelsDir: "/srv/det/models", hostPort: 17861, bindAddress: "127.0.0.1", firewallAllowlist: ["192.0.2.0/24", "2001:db8::/32"] },
    secrets: { apiPassword: PASSWORD },
  },
  "scale-out over an ssh host and the local host": {
    stack: "det-hosts",
    settings: {
      hosts: ["ssh://ops@gpu-1.example#0,1", "unix:///var/run/docker.sock#2"], outputsDir: "/srv/det/o", modelsDir: "/srv/det/m",
      sshKnownHosts: "gpu-1.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxZ", exposure: "api-only",
    },
    secrets: { apiPassword: PASSWORD, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZQ==\n-----END OPENSSH PRIVATE KEY-----" },
  },
};

/** Compare two evaluations; failure messages name resources and input paths, never values. */
function assertIdentical(a: Evaluation, b: Evaluation): void {
  assert.deepEqual(b.resources.map((r) => r.urn), a.resources.map((r) => r.urn), "same resources in the same order");
  for (const [i, ra] of a.resources.entries()) {
    const rb = b.resources[i]!;
    const paths = differingPaths(unwrapSecrets(ra.inputs), unwrapSecrets(rb.inputs));
    assert.deepEqual(paths, [], `${ra.type} ${ra.name}: inputs differ at ${paths.join(", ")}`);
    if (ra.custom) assert.equal(decide(rb, unwrapSecrets(ra.inputs) as Record<string, unknown>, unwrapSecrets(rb.inputs) as Record<string, unknown>).kind, "same");
  }
  const da = digestEvaluation(a);
  const db = digestEvaluation(b);
  for (const [i, x] of da.entries()) assert.equal(db[i]!.options, x.options, `${x.urn}: options differ`);
}

function digestInChild(input: StackInput): ResourceDigest[] {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "harness/digest-cli.ts")], {
    cwd: REPO_ROOT, env: { ...process.env, E2E_STACK_INPUT: JSON.stringify(input) }, encoding: "utf8", timeout: 60_000,
  });
  assert.equal(r.status, 0, `digest-cli failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ResourceDigest[];
}

for (const [label, input] of Object.entries(CONFIGS)) {
  describe(`determinism: ${label}`, () => {
    it("two evaluations in one process, 1.1 s apart, register identical inputs and options", async () => {
      const a = await evaluateProgram(input, { imageId: fakeImage });
      await new Promise((r) => setTimeout(r, 1100));
      const b = await evaluateProgram(input, { imageId: fakeImage });
      assert.ok(a.resources.filter((r) => r.custom).length >= 5);
      assertIdentical(a, b);
    });

    it("two fresh processes register identical inputs and options (and match this process)", async () => {
      const here = digestEvaluation(await evaluateProgram(input, { imageId: fakeImage }));
      const one = digestInChild(input);
      const two = digestInChild(input);
      assert.deepEqual(two, one);
      assert.deepEqual(one, here);
    });

    it("a different secret changes the inputs that carry it (the comparison does see secrets)", async () => {
      const a = await evaluateProgram(input, { imageId: fakeImage });
      const b = await evaluateProgram({ ...input, secrets: { ...input.secrets, apiPassword: `${PASSWORD}-x` } }, { imageId: fakeImage });
      const changed = a.resources.filter((r, i) => differingPaths(unwrapSecrets(r.inputs), unwrapSecrets(b.resources[i]!.inputs)).length > 0);
      assert.ok(changed.some((r) => r.type === "docker:index/container:Container"), "the container's flags carry the password");
    });
  });
}
