// Writes test/deploy/fixtures/upgrade/: the real state of stacks deployed by the program as it was before
// each container became its own component (commit UPGRADE_BASE, a git worktree of it, built with this
// checkout's node_modules), through the real CLI and the same plugins as the tests. upgrade.test.ts imports
// each state into a fresh stack and previews today's program against it: no create, replace or delete.
// Run: node --import tsx test/deploy/upgrade-fixture.ts (needs the toolchain, Docker, root).
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";
import { EngineStack, output } from "../helpers/engine-stack.js";
import { purgeTaggedRules, removeStackContainers } from "../helpers/host-state.js";
import { engineProject } from "../helpers/pulumi-cli.js";
import { ensureStandinImage, makeModelsDir } from "../helpers/standin.js";
import {
  CHECKPOINT_BYTES,
  UPGRADE_BASE,
  UPGRADE_DIR,
  UPGRADE_PASSWORD,
  UPGRADE_ROOT,
  UPGRADE_STACKS,
} from "./upgrade-stacks.js";
import { firewallTag } from "../../infra/docker/host-layout.js";

const worktree = "/tmp/sdwebui-upgrade-worktree";

function checkoutBase(): void {
  spawnSync("git", ["worktree", "remove", "--force", worktree], { cwd: REPO_ROOT });
  rmSync(worktree, { recursive: true, force: true });
  execFileSync("git", ["worktree", "add", "--detach", worktree, UPGRADE_BASE], { cwd: REPO_ROOT, stdio: "inherit" });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(worktree, "node_modules"));
  // tsc emits even where a test file of that commit no longer type-checks against today's node_modules.
  spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: worktree, stdio: "inherit" });
  // That program named its smoke CLI relative to the repo root, but the engine runs local commands in
  // dist/infra (the folder of main): the link makes the old relative path resolve, so its smoke runs too.
  symlinkSync("..", join(worktree, "dist", "infra", "dist"));
}

/**
 * That commit refused every `hosts` stack under the real CLI: Pulumi.yaml's declared defaults of dockerHost
 * and gpus reach the program as if set. A user who deployed one had taken those two declarations out of
 * Pulumi.yaml, and so does this script for the scale-out stack.
 */
function withoutHostDefaults(file: string): void {
  const doc = parseDocument(readFileSync(file, "utf8"));
  for (const key of ["dockerHost", "gpus"]) doc.deleteIn(["config", key]);
  writeFileSync(file, doc.toString());
}

function main(): void {
  ensureStandinImage();
  checkoutBase();
  rmSync(UPGRADE_DIR, { recursive: true, force: true });
  mkdirSync(UPGRADE_DIR, { recursive: true });
  for (const [name, settings] of Object.entries(UPGRADE_STACKS)) {
    rmSync(join(UPGRADE_ROOT, name), { recursive: true, force: true });
    const models = makeModelsDir(join(UPGRADE_ROOT, name, "models"));
    for (const p of [
      models,
      join(models, "Stable-diffusion"),
      join(models, "Stable-diffusion", "standin-model.safetensors"),
    ])
      chownSync(p, 1000, 1000);
    mkdirSync(join(UPGRADE_ROOT, name, "source"), { recursive: true });
    writeFileSync(join(UPGRADE_ROOT, name, "source", "fixture.safetensors"), CHECKPOINT_BYTES);
    const project = engineProject(`upgrade-${name}`, {}, process.env, worktree);
    if (settings.hosts !== undefined) withoutHostDefaults(join(project.dir, "Pulumi.yaml"));
    try {
      const stack = EngineStack.init(project, name);
      stack.setConfig(settings, [], "sdwebui");
      stack.setConfig({ apiPassword: UPGRADE_PASSWORD }, ["apiPassword"], "sdwebui");
      const up = stack.run(["up", "--yes", "--skip-preview"]);
      if (up.status !== 0)
        throw new Error(`pulumi up at ${UPGRADE_BASE} (${name}) failed:\n${output(up).slice(-4000)}`);
      writeFileSync(join(UPGRADE_DIR, `${name}.state.json`), stack.ok(["stack", "export"]).stdout);
      writeFileSync(join(UPGRADE_DIR, `Pulumi.${name}.yaml`), readFileSync(join(project.dir, `Pulumi.${name}.yaml`)));
      console.log(`${name}: deployed at ${UPGRADE_BASE}, state written`);
      stack.run(["destroy", "--yes", "--skip-preview"]);
    } finally {
      removeStackContainers(name);
      for (let p = 17860; p < 17870; p++) purgeTaggedRules(firewallTag(name, p));
      project.cleanUp();
    }
  }
  spawnSync("git", ["worktree", "remove", "--force", worktree], { cwd: REPO_ROOT });
}

main();
