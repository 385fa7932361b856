// The toolchain npm run toolchain built: the versions package-lock.json pins; every piece its manifest
// records as built is an executable where it says, and answers (the CLI with its version, the language host
// and each plugin to the CLI); a language host beside the CLI that honours Pulumi.yaml's runtime options;
// and a recorded reason for every plugin it could not build.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { TestContext } from "node:test";
import {
  lockedVersions,
  PLUGIN_NAMES,
  readManifest,
  STANDIN_NAMES,
  standinBinary,
  standinSourceHash,
  toolchainLayout,
} from "../../tools/toolchain/layout.js";
import type { Manifest, PieceName, PluginName, ToolchainLayout } from "../../tools/toolchain/layout.js";
import type { EngineProject } from "../helpers/pulumi-cli.js";
import { engineProject, pluginMode, requireToolchain } from "../helpers/pulumi-cli.js";
import { requireOrSkip } from "../helpers/requirements.js";

/** The pieces every engine suite runs on: the CLI, its language host, and the stand-in of each refused plugin. */
const REQUIRED: PieceName[] = [
  "pulumi",
  "pulumi-language-nodejs",
  ...STANDIN_NAMES.map((n) => `standin-${n}` as const),
];

/**
 * The layout and manifest when the manifest records a binary for each of `pieces` (with `fresh`, each
 * stand-in among them built from this checkout's sources). Otherwise skipped, naming the pieces (and the
 * build's recorded reason), outside CI; under CI=true a failure.
 */
function requireBuilt(
  t: TestContext,
  pieces: PieceName[] = REQUIRED,
  fresh = true,
): { layout: ToolchainLayout; manifest: Manifest } | undefined {
  const layout = toolchainLayout();
  const manifest = readManifest(layout);
  if (
    !requireOrSkip(t, manifest ? "" : `there is no toolchain manifest at ${layout.manifest} (npm run toolchain)`) ||
    !manifest
  )
    return undefined;
  const unbuilt = pieces
    .filter((p) => !manifest.pieces[p]?.binary)
    .map((p) => {
      const blocked = manifest.pieces[p]?.blocked;
      return blocked ? `${p} (${blocked.command}: ${blocked.error.trim().split("\n").pop()})` : p;
    });
  if (
    !requireOrSkip(
      t,
      unbuilt.length ? `${layout.manifest} records no binary for ${unbuilt.join(", ")} (npm run toolchain)` : "",
    )
  )
    return undefined;
  const stale = STANDIN_NAMES.filter(
    (n) =>
      fresh && pieces.includes(`standin-${n}`) && manifest.pieces[`standin-${n}`]?.sourceHash !== standinSourceHash(n),
  );
  const staleWhy = stale.map(
    (n) =>
      `stand-in ${n} was built from sources ${manifest.pieces[`standin-${n}`]?.sourceHash}, this checkout's are ${standinSourceHash(n)}`,
  );
  if (!requireOrSkip(t, stale.length ? `${staleWhy.join("; ")} (npm run toolchain)` : "")) return undefined;
  return { layout, manifest };
}

/** A regular file with an execute bit that this process may execute. */
function assertExecutable(path: string, what: string): void {
  assert.ok(existsSync(path), `${what}: ${path} exists`);
  const st = statSync(path);
  assert.ok(
    st.isFile() && (st.mode & 0o111) !== 0,
    `${what}: ${path} is a file with an execute bit (mode ${(st.mode & 0o777).toString(8)})`,
  );
  assert.doesNotThrow(() => accessSync(path, constants.X_OK), `${what}: ${path} may be executed`);
}

/** The CLI with a PULUMI_HOME and file backend of its own, in a fresh folder (removed by the caller's `done`). */
function cliSandbox(cli: string) {
  const dir = mkdtempSync(join(tmpdir(), "sdwebui-toolchain-answers-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_HOME: join(dir, "home"),
    PULUMI_BACKEND_URL: `file://${dir}`,
    PULUMI_CONFIG_PASSPHRASE: "toolchain-test",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  const run = (args: string[]) =>
    spawnSync(cli, args, { cwd: dir, env, encoding: "utf8", timeout: 120_000, maxBuffer: 256 * 2 ** 20 });
  return { dir, run, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function jsonOf<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    assert.fail(`not JSON: ${what}`);
  }
}

/** `pulumi-resource-<name>` (a real plugin) and `standin-<name>` pieces: the plugin each answers for. */
function pluginOf(piece: string): PluginName | undefined {
  const name = /^(?:pulumi-resource|standin)-(.+)$/.exec(piece)?.[1];
  return PLUGIN_NAMES.find((n) => n === name);
}

describe("the Pulumi toolchain built from Go modules", () => {
  let project: EngineProject | undefined;
  after(() => project?.cleanUp());

  it("is built at the versions package-lock.json pins, and the CLI says so itself", (t) => {
    const built = requireBuilt(t, ["pulumi"]);
    if (!built) return;
    const locked = lockedVersions();
    assert.deepEqual(built.manifest.versions, locked);
    const cli = built.manifest.pieces.pulumi!.binary!;
    const version = spawnSync(cli, ["version"], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    assert.equal(version.status, 0, `${cli} version: ${version.stderr || version.error?.message}`);
    assert.equal(version.stdout.trim(), `v${locked.pulumi}`);
  });

  it("every piece the manifest records as built is an executable where the CLI and the tests look for it", (t) => {
    const built = requireBuilt(t);
    if (!built) return;
    const { layout, manifest } = built;
    assert.equal(manifest.pieces.pulumi?.binary, join(layout.binDir, "pulumi"));
    assert.equal(
      manifest.pieces["pulumi-language-nodejs"]?.binary,
      join(layout.binDir, "pulumi-language-nodejs"),
      "beside the CLI, where it looks first",
    );
    for (const n of STANDIN_NAMES)
      assert.equal(
        manifest.pieces[`standin-${n}`]?.binary,
        standinBinary(layout, n),
        `stand-in ${n}: where the tests install it from`,
      );
    const recorded = Object.entries(manifest.pieces).filter(([, p]) => p?.binary);
    for (const p of REQUIRED)
      assert.ok(
        recorded.some(([name]) => name === p),
        `${p} is among the pieces checked`,
      );
    for (const [name, piece] of recorded) assertExecutable(piece!.binary!, name);
  });

  it("the language host answers the CLI: pulumi about reports it at the version the manifest records", (t) => {
    const built = requireBuilt(t, ["pulumi", "pulumi-language-nodejs"]);
    if (!built) return;
    const host = built.manifest.pieces["pulumi-language-nodejs"]!;
    const sandbox = cliSandbox(built.manifest.pieces.pulumi!.binary!);
    try {
      writeFileSync(join(sandbox.dir, "Pulumi.yaml"), "name: toolchain-probe\nruntime: nodejs\nmain: index.js\n");
      writeFileSync(join(sandbox.dir, "index.js"), "");
      const r = sandbox.run(["about", "--json"]);
      const seen = `${r.stdout.slice(0, 3000)}\n${r.stderr}${r.error ? `\n${r.error.message}` : ""}`;
      const about = jsonOf<{
        plugins: { name: string; kind: string; version: string }[] | null;
        runtime: { language: string; executable: string } | null;
      }>(r.stdout, `pulumi about --json: ${seen}`);
      const language = about.plugins?.find((p) => p.kind === "language" && p.name === "nodejs");
      assert.ok(language, `the CLI loaded the nodejs language host: ${seen}`);
      assert.equal(
        language.version,
        host.version.replace(/^v/, ""),
        "the version the host reports is the one the manifest records",
      );
      assert.equal(about.runtime?.language, "nodejs", `the host answered the about call: ${seen}`);
      assert.ok(about.runtime?.executable, "with the node it runs programs with");
    } finally {
      sandbox.done();
    }
  });

  it("each plugin the manifest records as built answers the CLI with its name and the version package-lock.json pins", (t) => {
    // The binaries the manifest records, whether or not this checkout's stand-in sources have changed since.
    const built = requireBuilt(t, REQUIRED, false);
    if (!built) return;
    const locked = lockedVersions();
    const plugins = Object.entries(built.manifest.pieces).filter(([name, p]) => p?.binary && pluginOf(name));
    for (const n of STANDIN_NAMES)
      assert.ok(
        plugins.some(([name]) => name === `standin-${n}`),
        `the stand-in ${n} is among them`,
      );
    const sandbox = cliSandbox(built.manifest.pieces.pulumi!.binary!);
    try {
      for (const [name, piece] of plugins) {
        const plugin = pluginOf(name)!;
        // The CLI starts the binary as a provider plugin and asks it for its schema over gRPC.
        const r = sandbox.run(["package", "get-schema", piece!.binary!]);
        assert.equal(
          r.status,
          0,
          `${name}: pulumi package get-schema ${piece!.binary}: ${r.stderr || r.error?.message}`,
        );
        const schema = jsonOf<{ name?: string; version?: string }>(
          r.stdout,
          `${name}: pulumi package get-schema: ${r.stdout.slice(0, 500)}`,
        );
        assert.equal(schema.name, plugin, `${name} answers as the ${plugin} plugin`);
        assert.equal(schema.version, locked.plugins[plugin], `${name} answers at the version package-lock.json pins`);
      }
    } finally {
      sandbox.done();
    }
  });

  it("every plugin is installed at the SDK's version or recorded with the proxy's answer; a refused one is never half-installed", (t) => {
    const manifest = requireToolchain(t);
    if (!manifest) return;
    const layout = toolchainLayout();
    // The toolchain's own PULUMI_HOME: what `npm run toolchain` installed for a deploy.
    const home = { ...process.env, PULUMI_HOME: layout.pluginHome, PULUMI_SKIP_UPDATE_CHECK: "true" };
    const ls = spawnSync(join(layout.binDir, "pulumi"), ["plugin", "ls", "--json"], {
      env: home,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(ls.status, 0, ls.stderr);
    const installed = JSON.parse(ls.stdout || "[]") as { name: string; kind: string; version: string }[];
    for (const [name, version] of Object.entries(manifest.versions.plugins)) {
      const piece = manifest.pieces[`pulumi-resource-${name}` as "pulumi-resource-docker"];
      assert.ok(piece, `toolchain.json records the ${name} plugin`);
      if (piece.binary)
        assert.ok(
          installed.some((p) => p.name === name && p.kind === "resource" && p.version === version),
          `${name} ${version} is installed`,
        );
      else {
        assert.ok(
          piece.blocked?.command && piece.blocked.error.length > 0,
          `${name}: the command run and the answer are recorded`,
        );
        assert.ok(!installed.some((p) => p.name === name), `${name} is not half-installed in the toolchain's home`);
      }
    }
  });

  it("a test's PULUMI_HOME holds the stand-in of each refused plugin, byte for byte, under the real plugin's name and version", (t) => {
    const built = requireBuilt(
      t,
      STANDIN_NAMES.map((n) => `standin-${n}` as const),
    );
    if (!built || !requireToolchain(t)) return;
    const { layout, manifest } = built;
    if (!requireOrSkip(t, pluginMode() === "real" ? "the real plugins are in use (SDWEBUI_TEST_PLUGINS=real)" : ""))
      return;
    project ??= engineProject("toolchain");
    for (const name of STANDIN_NAMES) {
      const entry = join(
        project.home,
        "plugins",
        `resource-${name}-v${manifest.versions.plugins[name]}`,
        `pulumi-resource-${name}`,
      );
      assert.ok(existsSync(entry), `${entry} is installed`);
      assert.ok(
        readFileSync(entry).equals(readFileSync(standinBinary(layout, name))),
        `${name}: the stand-in built from this checkout's sources`,
      );
    }
  });

  it("the language host honours Pulumi.yaml's runtime options (typescript, nodeargs)", (t) => {
    if (!requireToolchain(t)) return;
    const probe = engineProject("runtime-options", {
      "Pulumi.yaml":
        "name: probe\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: --max-old-space-size=321\nmain: probe.js\n",
      "probe.js": `require("fs").writeFileSync("probe.json", JSON.stringify({ execArgv: process.execArgv, typescript: process.env.PULUMI_NODEJS_TYPESCRIPT ?? null }));\n`,
    });
    try {
      assert.equal(probe.pulumi(["stack", "init", "probe"]).status, 0);
      const r = probe.pulumi(["preview"]);
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      const seen = JSON.parse(readFileSync(join(probe.dir, "probe.json"), "utf8")) as {
        execArgv: string[];
        typescript: string | null;
      };
      assert.ok(seen.execArgv.includes("--max-old-space-size=321"), `nodeargs reach node: ${seen.execArgv.join(" ")}`);
      assert.notEqual(seen.typescript, "true", "typescript: false is not overridden by the host's default");
    } finally {
      probe.cleanUp();
    }
  });
});
