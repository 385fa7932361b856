// The stacks of the upgrade fixture (test/deploy/fixtures/upgrade/): deployed by upgrade-fixture.ts at the
// commit before each container became its own component, previewed by upgrade.test.ts with today's program.
// Their folders are fixed paths, because the recorded state and today's settings must name the same ones.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import { STANDIN_IMAGE } from "../helpers/standin.js";

/** The last commit whose program registered every container's resources under the host component. */
export const UPGRADE_BASE = "40092a3a4e660c6f64f4a9e447f02a7a6e842363";
export const UPGRADE_DIR = join(REPO_ROOT, "test", "deploy", "fixtures", "upgrade");
export const UPGRADE_ROOT = "/tmp/sdwebui-upgrade-fixture";
/** Encrypted in the recorded stack files with the tests' passphrase: a test value, not a secret. */
export const UPGRADE_PASSWORD = "upgrade-fixture-password-9";

/** The bytes of the host-path checkpoint the fixture's checkpoints stack places (upgrade-fixture.ts writes them). */
export const CHECKPOINT_BYTES = "sd-webui upgrade fixture checkpoint\n";
export const CHECKPOINT_SHA256 = createHash("sha256").update(CHECKPOINT_BYTES).digest("hex");

const common = (name: string, port: number) => ({
  image: STANDIN_IMAGE,
  outputsDir: `${UPGRADE_ROOT}/${name}/outputs`,
  modelsDir: `${UPGRADE_ROOT}/${name}/models`,
  hostPort: String(port),
  apiUsername: "upgrade-user",
  firewallAllowlist: ["192.0.2.0/24"],
  smokeTimeoutSeconds: "60",
  smokeSteps: "2",
  smokeWidth: "128",
  smokeHeight: "128",
  shmSizeMb: "64",
});

export const UPGRADE_STACKS: Record<string, Record<string, unknown>> = {
  single: { ...common("single", 17860), gpus: "none", bindAddress: "127.0.0.1" },
  // Two containers on this machine's engine: the names that carried the host key before the split.
  "scale-out": { ...common("scale-out", 17862), hosts: ["unix:///var/run/docker.sock#cpu:2"] },
  "nftables-smoke-off": {
    ...common("nftables-smoke-off", 17865),
    gpus: "none",
    bindAddress: "127.0.0.1",
    firewallBackend: "nftables",
    smokeEnabled: "false",
  },
  // A checkpoint from a path on the host: the placement step and --ckpt.
  checkpoints: {
    ...common("checkpoints", 17867),
    gpus: "none",
    bindAddress: "127.0.0.1",
    checkpoints: [{ source: `${UPGRADE_ROOT}/checkpoints/source/fixture.safetensors`, sha256: CHECKPOINT_SHA256 }],
  },
};
