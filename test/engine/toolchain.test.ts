// The toolchain npm run toolchain built: the versions package-lock.json pins, a language host beside the
// CLI that honours Pulumi.yaml's runtime options, and a recorded reason for every piece it could not build.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { lockedVersions, STANDIN_NAMES, standinBinary, toolchainLayout } from "../../tools/toolchain/layout.js";
import type { EngineProject } from "../helpers/pulumi-cli.js";
import { engineProject, pluginMode, requireToolchain } from "../helpers/pulumi-cli.js";
import { requireOrSkip } from "../helpers/requirements.js";

describe("the Pulumi toolchain built from Go modules", () => {
  let project: EngineProject | undefined;
  after(() => project?.cleanUp());

  it("is built at the versions package-lock.json pins", (t) => {
    const manifest = requireToolchain(t);
    if (!manifest) return;
    const locked = lockedVersions();
    assert.deepEqual(manifest.versions, locked);
    project = engineProject("toolchain");
    assert.equal(project.pulumi(["version"]).stdout.trim(), `v${locked.pulumi}`);
    const layout = toolchainLayout();
    assert.equal(manifest.pieces["pulumi-language-nodejs"]?.binary, join(layout.binDir, "pulumi-language-nodejs"), "beside the CLI, where it looks first");
  });

  it("every plugin is installed at the SDK's version or recorded with the proxy's answer; a refused one is never half-installed", (t) => {
    const manifest = requireToolchain(t);
    if (!manifest) return;
    const layout = toolchainLayout();
    // The toolchain's own PULUMI_HOME: what `npm run toolchain` installed for a deploy.
    const home = { ...process.env, PULUMI_HOME: layout.pluginHome, PULUMI_SKIP_UPDATE_CHECK: "true" };
    const ls = spawnSync(join(layout.binDir, "pulumi"), ["plugin", "ls", "--json"], { env: home, encoding: "utf8", timeout: 60_000 });
    assert.equal(ls.status, 0, ls.stderr);
    const installed = JSON.parse(ls.stdout || "[]") as { name: string; kind: string; version: string }[];
    for (const [name, version] of Object.entries(manifest.versions.plugins)) {
      const piece = manifest.pieces[`pulumi-resource-${name}` as "pulumi-resource-docker"];
      assert.ok(piece, `toolchain.json records the ${name} plugin`);
      if (piece.binary) assert.ok(installed.some((p) => p.name === name && p.kind === "resource" && p.version === version), `${name} ${version} is installed`);
      else {
        assert.ok(piece.blocked?.command && piece.blocked.error.length > 0, `${name}: the command run and the answer are recorded`);
        assert.ok(!installed.some((p) => p.name === name), `${name} is not half-installed in the toolchain's home`);
      }
    }
  });

  it("a test's PULUMI_HOME holds the stand-in of each refused plugin, byte for byte, under the real plugin's name and version", (t) => {
    const manifest = requireToolchain(t);
    if (!manifest) return;
    if (!requireOrSkip(t, pluginMode() === "real" ? "the real plugins are in use (SDWEBUI_TEST_PLUGINS=real)" : "")) return;
    project ??= engineProject("toolchain");
    const layout = toolchainLayout();
    for (const name of STANDIN_NAMES) {
      const entry = join(project.home, "plugins", `resource-${name}-v${manifest.versions.plugins[name]}`, `pulumi-resource-${name}`);
      assert.ok(existsSync(entry), `${entry} is installed`);
      assert.ok(readFileSync(entry).equals(readFileSync(standinBinary(layout, name))), `${name}: the stand-in built from this checkout's sources`);
    }
  });

  it("the language host honours Pulumi.yaml's runtime options (typescript, nodeargs)", (t) => {
    if (!requireToolchain(t)) return;
    const probe = engineProject("runtime-options", {
      "Pulumi.yaml": "name: probe\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: --max-old-space-size=321\nmain: probe.js\n",
      "probe.js": `require("fs").writeFileSync("probe.json", JSON.stringify({ execArgv: process.execArgv, typescript: process.env.PULUMI_NODEJS_TYPESCRIPT ?? null }));\n`,
    });
    try {
      assert.equal(probe.pulumi(["stack", "init", "probe"]).status, 0);
      const r = probe.pulumi(["preview"]);
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      const seen = JSON.parse(readFileSync(join(probe.dir, "probe.json"), "utf8")) as { execArgv: string[]; typescript: string | null };
      assert.ok(seen.execArgv.includes("--max-old-space-size=321"), `nodeargs reach node: ${seen.execArgv.join(" ")}`);
      assert.notEqual(seen.typescript, "true", "typescript: false is not overridden by the host's default");
    } finally {
      probe.cleanUp();
    }
  });
});
