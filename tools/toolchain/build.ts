// npm run toolchain: builds the Pulumi CLI and its Node.js language host from Go modules at the versions
// package-lock.json pins, probes the module proxy for the provider plugins, and caches everything
// outside the clone (toolchainLayout) so that a second run takes seconds. Writes toolchain.json (what was
// built from what, what could not be had and why) and prints the cold build time and the cache size.
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import {
  readManifest,
  STANDIN_NAMES,
  standinBinary,
  standinSource,
  standinSourceHash,
  toolchainLayout,
} from "./layout.js";
import type { Manifest, PieceRecord, StandinName } from "./layout.js";

const layout = toolchainLayout();
const { versions } = layout;
const PATCHES = join(__dirname, "patches");
/** A bound on each Go step, so a hung download or build ends with a message instead of waiting for ever. */
const STEP_LIMIT_MS = 60 * 60 * 1000;
const started = Date.now();

const CLI_MODULE = "github.com/pulumi/pulumi/pkg/v3";
const SDK_MODULE = "github.com/pulumi/pulumi/sdk/v3";
const LANGUAGE_MODULE = "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3";
/** The newest sdk/v3 release that still holds the language host (from v3.69.0 on it is a module of its own). */
const LANGUAGE_FALLBACK_SDK = "v3.68.0";
const PLUGIN_MODULES = {
  docker: "github.com/pulumi/pulumi-docker/provider/v5",
  command: "github.com/pulumi/pulumi-command/provider",
} as const;
/**
 * The Kubernetes provider's module: the proxy serves no tagged version of it, only this commit (2026-01-15,
 * after v4.24.0, before v4.24.1), which is built as the version @pulumi/kubernetes asks for.
 */
const KUBERNETES_MODULE = "github.com/pulumi/pulumi-kubernetes/provider/v4";
const KUBERNETES_COMMIT = "v4.0.0-20260115033456-f47bc2d6f199";
/** What the docker plugin's build needs beyond its own module (Pulumi's fork of the plugin SDK, the pinned upstream). */
const DOCKER_BUILD_DEPENDENCIES = [
  "github.com/pulumi/terraform-plugin-sdk/v2",
  "github.com/kreuzwerker/terraform-provider-docker@v0.0.0-20260618190003-5074970c71ce",
];

const elapsed = (since: number) => {
  const s = Math.round((Date.now() - since) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
};
const say = (line: string) => console.log(`toolchain [${elapsed(started)}] ${line}`);

const goEnv = { ...process.env, ...layout.goEnv, GOFLAGS: "-mod=mod", GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? "local" };

/** Runs a Go command with its output in a log file; progress every 30 s; fails with the log's tail. */
async function go(what: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = goEnv): Promise<void> {
  const logFile = join(layout.workDir, `${what.replace(/[^a-z0-9]+/gi, "-")}.log`);
  const log = createWriteStream(logFile);
  const t0 = Date.now();
  const child = spawn("go", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const ticker = setInterval(() => say(`${what}: ${elapsed(t0)} elapsed (limit ${STEP_LIMIT_MS / 60000}m)`), 30_000);
  const killer = setTimeout(() => child.kill("SIGTERM"), STEP_LIMIT_MS);
  const code = await new Promise<number | null>((res) => child.on("close", res));
  clearInterval(ticker);
  clearTimeout(killer);
  await new Promise((res) => log.end(res));
  if (code !== 0) {
    const tail = readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n");
    throw new Error(`${what} failed (go ${args.join(" ")}, exit ${code}; log ${logFile}):\n${tail}`);
  }
}

/** `go mod download -json module@version`: the module's folder, or what the proxy said. */
function download(moduleAtVersion: string): { dir?: string; goVersion?: string; error?: string } {
  const r = spawnSync("go", ["mod", "download", "-json", moduleAtVersion], {
    env: goEnv,
    cwd: layout.root,
    encoding: "utf8",
  });
  let info: { Dir?: string; GoMod?: string; Error?: string } = {};
  try {
    info = JSON.parse(r.stdout) as typeof info;
  } catch {
    return { error: (r.stderr || r.stdout || `exit ${r.status}`).trim() };
  }
  if (info.Error || !info.Dir) return { error: info.Error ?? "no module folder" };
  const goVersion = /^go (\S+)$/m.exec(readFileSync(join(info.Dir, "go.mod"), "utf8"))?.[1];
  return { dir: info.Dir, goVersion };
}

/** `go list -m -versions module`: whether the proxy serves the module at all. */
function listVersions(module: string): { versions?: string[]; error?: string } {
  const r = spawnSync("go", ["list", "-m", "-versions", module], { env: goEnv, cwd: layout.root, encoding: "utf8" });
  if (r.status !== 0) return { error: r.stderr.trim() };
  return { versions: r.stdout.trim().split(/\s+/).slice(1) };
}

/** The replace lines of a dependency's go.mod that point at other modules (a wrapper must repeat them). */
function moduleReplaces(moduleDir: string): string[] {
  const text = readFileSync(join(moduleDir, "go.mod"), "utf8");
  return [...text.matchAll(/^replace\s+(\S+(?:\s+v\S+)?)\s+=>\s+(\S+)\s+(v\S+)\s*$/gm)].map(
    (m) => `replace ${m[1]} => ${m[2]} ${m[3]}`,
  );
}

function wrapperModule(
  dir: string,
  name: string,
  goVersion: string,
  requires: string[],
  replaces: string[],
  imports: string[],
) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "go.mod"),
    [
      `module sdwebui.local/toolchain/${name}`,
      "",
      `go ${goVersion}`,
      "",
      ...requires.map((r) => `require ${r}`),
      ...replaces,
      "",
    ].join("\n"),
  );
  if (imports.length > 0)
    writeFileSync(
      join(dir, "tools.go"),
      `//go:build tools\n\npackage tools\n\n${imports.map((i) => `import _ "${i}"`).join("\n")}\n`,
    );
}

const versionOf = (binary: string, args: string[]) => spawnSync(binary, args, { encoding: "utf8" }).stdout?.trim();

async function buildCli(): Promise<PieceRecord> {
  const v = `v${versions.pulumi}`;
  const binary = join(layout.binDir, "pulumi");
  const record: PieceRecord = { module: CLI_MODULE, version: v, binary };
  if (existsSync(binary) && versionOf(binary, ["version"]) === v)
    return { ...(previous?.pieces.pulumi ?? record), binary };
  const t0 = Date.now();
  say(`pulumi CLI ${v}: probing ${CLI_MODULE}@${v} and ${SDK_MODULE}@${v}`);
  const pkg = download(`${CLI_MODULE}@${v}`);
  const sdk = download(`${SDK_MODULE}@${v}`);
  const error = pkg.error ?? sdk.error;
  if (error)
    return {
      ...record,
      binary: undefined,
      blocked: { command: `go mod download -json ${CLI_MODULE}@${v} ${SDK_MODULE}@${v}`, error },
    };
  // pkg's go.mod replaces sdk with ../sdk (the same version here) and a clipboard fork; repeat the latter.
  const dir = join(layout.workDir, "pulumi");
  wrapperModule(dir, "pulumi", pkg.goVersion!, [`${CLI_MODULE} ${v}`, `${SDK_MODULE} ${v}`], moduleReplaces(pkg.dir!), [
    `${CLI_MODULE}/cmd/pulumi`,
  ]);
  say(`pulumi CLI ${v}: resolving dependencies`);
  await go("pulumi CLI: go mod tidy", ["mod", "tidy"], dir);
  say(`pulumi CLI ${v}: compiling (several minutes on 2 cores)`);
  const ldflags = `-s -w -X ${SDK_MODULE}/go/common/version.Version=${v}`;
  await go(
    "pulumi CLI: go build",
    [
      "build",
      "-trimpath",
      "-tags",
      "osusergo,grpcnotrace",
      "-ldflags",
      ldflags,
      "-o",
      binary,
      `${CLI_MODULE}/cmd/pulumi`,
    ],
    dir,
    { ...goEnv, CGO_ENABLED: "0" },
  );
  return { ...record, buildSeconds: Math.round((Date.now() - t0) / 1000) };
}

async function buildLanguageHost(): Promise<PieceRecord> {
  const binary = join(layout.binDir, "pulumi-language-nodejs");
  const cached = previous?.pieces["pulumi-language-nodejs"];
  if (existsSync(binary) && cached?.binary) return cached;
  const t0 = Date.now();
  say(`language host: probing ${LANGUAGE_MODULE} (the module of the ${versions.pulumi} host)`);
  const exact = listVersions(LANGUAGE_MODULE);
  if (!exact.error)
    throw new Error(
      `${LANGUAGE_MODULE} is served now (${exact.versions?.join(" ")}): build that instead of the fallback`,
    );
  say(`language host: not served; falling back to the host inside ${SDK_MODULE}@${LANGUAGE_FALLBACK_SDK}`);
  const sdk = download(`${SDK_MODULE}@${LANGUAGE_FALLBACK_SDK}`);
  if (sdk.error)
    return {
      module: SDK_MODULE,
      version: LANGUAGE_FALLBACK_SDK,
      blocked: { command: `go mod download -json ${SDK_MODULE}@${LANGUAGE_FALLBACK_SDK}`, error: sdk.error },
    };
  // The host is a main package inside the sdk module: copy it out, add the runtime-options patch, build it
  // as this wrapper's own main package against the same sdk version.
  const dir = join(layout.workDir, "pulumi-language-nodejs");
  wrapperModule(
    dir,
    "pulumi-language-nodejs",
    sdk.goVersion!,
    [`${SDK_MODULE} ${LANGUAGE_FALLBACK_SDK}`],
    moduleReplaces(sdk.dir!),
    [],
  );
  const source = join(sdk.dir!, "nodejs", "cmd", "pulumi-language-nodejs");
  for (const f of readdirSync(source).filter((f) => f.endsWith(".go") && !f.endsWith("_test.go"))) {
    copyFileSync(join(source, f), join(dir, f));
    chmodSync(join(dir, f), 0o644);
  }
  copyFileSync(join(PATCHES, "runtime_options.go"), join(dir, "runtime_options.go"));
  const patched = spawnSync(
    "patch",
    ["-p1", "--forward", "-i", join(PATCHES, "language-nodejs-runtime-options.patch")],
    { cwd: dir, encoding: "utf8" },
  );
  if (patched.status !== 0)
    throw new Error(`language host: the runtime-options patch does not apply:\n${patched.stdout}${patched.stderr}`);
  await go("language host: go mod tidy", ["mod", "tidy"], dir);
  say(`language host: compiling`);
  const ldflags = `-s -w -X ${SDK_MODULE}/go/common/version.Version=${LANGUAGE_FALLBACK_SDK}`;
  await go("language host: go build", ["build", "-trimpath", "-ldflags", ldflags, "-o", binary, "."], dir, {
    ...goEnv,
    CGO_ENABLED: "0",
  });
  return {
    module: `${SDK_MODULE}/nodejs/cmd/pulumi-language-nodejs`,
    version: LANGUAGE_FALLBACK_SDK,
    binary,
    buildSeconds: Math.round((Date.now() - t0) / 1000),
    deviation:
      `${LANGUAGE_MODULE} is not served (${exact.error!.split("\n").pop()!.trim()}); built the host of ${SDK_MODULE}@${LANGUAGE_FALLBACK_SDK}, ` +
      "patched to read Pulumi.yaml's runtime options (tools/toolchain/patches)",
  };
}

/** Plugins: probe their modules; a plugin whose module is not served is recorded with the proxy's answer. */
function probePlugin(name: keyof typeof PLUGIN_MODULES): PieceRecord {
  const module = PLUGIN_MODULES[name];
  const version = versions.plugins[name];
  say(`plugin ${name} ${version}: probing ${module}`);
  const listed = listVersions(module);
  const answer = (m: string) => (m.includes("@") ? download(m).error : listVersions(m).error) ?? "served";
  const extra =
    name === "docker" ? DOCKER_BUILD_DEPENDENCIES.map((m) => `${m}: ${answer(m).split("\n").pop()!.trim()}`) : [];
  const error = listed.error
    ? [listed.error, ...extra].join("\n")
    : `${module} is served (${listed.versions?.join(" ") || "pseudo-versions only"}) but building it is not implemented yet: extend tools/toolchain/build.ts`;
  return { module, version, blocked: { command: `go list -m -versions ${module}`, error } };
}

/**
 * The Kubernetes plugin from its module: a writable copy without the `sdk/v4 => ../sdk` replace (the
 * published sdk/v4 of the same line stands in), the schema embedded by the module's own generate step,
 * then installed into the plugin home as `pulumi plugin install --file` does.
 */
async function buildKubernetesPlugin(cli: string): Promise<PieceRecord> {
  const version = versions.plugins.kubernetes;
  const record: PieceRecord = { module: KUBERNETES_MODULE, version: KUBERNETES_COMMIT };
  // Not in binDir: a plugin on PATH is taken ahead of the installed one, with a warning on every run.
  const binary = join(layout.workDir, "pulumi-resource-kubernetes.bin", "pulumi-resource-kubernetes");
  const cached = previous?.pieces["pulumi-resource-kubernetes"];
  if (
    existsSync(binary) &&
    cached?.binary &&
    cached.version === KUBERNETES_COMMIT &&
    previous?.versions.plugins.kubernetes === version
  )
    return cached;
  const t0 = Date.now();
  say(`plugin kubernetes ${version}: fetching ${KUBERNETES_MODULE}@${KUBERNETES_COMMIT}`);
  const mod = download(`${KUBERNETES_MODULE}@${KUBERNETES_COMMIT}`);
  if (mod.error)
    return {
      ...record,
      blocked: { command: `go mod download -json ${KUBERNETES_MODULE}@${KUBERNETES_COMMIT}`, error: mod.error },
    };
  const dir = join(layout.workDir, "pulumi-resource-kubernetes");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(binary), { recursive: true });
  cpSync(mod.dir!, dir, { recursive: true });
  spawnSync("chmod", ["-R", "u+w", dir]);
  const goMod = join(dir, "go.mod");
  const original = readFileSync(goMod, "utf8");
  const withoutReplace = original.replace(
    /^replace github\.com\/pulumi\/pulumi-kubernetes\/sdk\/v4 => \.\.\/sdk\s*$/m,
    "",
  );
  if (withoutReplace === original)
    throw new Error(
      `${KUBERNETES_MODULE}@${KUBERNETES_COMMIT}: its go.mod has no sdk/v4 => ../sdk replace to drop; check the module's go.mod`,
    );
  writeFileSync(goMod, withoutReplace);
  const cmd = join(dir, "cmd", "pulumi-resource-kubernetes");
  await go("kubernetes plugin: go generate", ["generate", "."], cmd, { ...goEnv, VERSION: version });
  say(`plugin kubernetes ${version}: compiling (several minutes on 2 cores)`);
  const ldflags = `-s -w -X ${KUBERNETES_MODULE}/pkg/version.Version=${version}`;
  await go(
    "kubernetes plugin: go build",
    ["build", "-trimpath", "-ldflags", ldflags, "-o", binary, "./cmd/pulumi-resource-kubernetes"],
    dir,
    { ...goEnv, CGO_ENABLED: "0" },
  );
  const home = { ...process.env, PULUMI_HOME: layout.pluginHome, PULUMI_SKIP_UPDATE_CHECK: "true" };
  const installed = spawnSync(
    cli,
    ["plugin", "install", "resource", "kubernetes", version, "--file", binary, "--reinstall"],
    { env: home, encoding: "utf8" },
  );
  if (installed.status !== 0)
    throw new Error(`pulumi plugin install resource kubernetes ${version} --file ${binary}: ${installed.stderr}`);
  return {
    ...record,
    binary,
    buildSeconds: Math.round((Date.now() - t0) / 1000),
    deviation: `no tagged ${KUBERNETES_MODULE} is served: built commit ${KUBERNETES_COMMIT} as ${version}, with the published sdk/v4 instead of its ../sdk replace`,
  };
}

/**
 * A stand-in plugin for the tests (test/plugins/<name>): the docker and command plugins the proxy refuses.
 * Built into the cache only; the tests install it into their own PULUMI_HOME, never a user's.
 */
async function buildStandin(name: StandinName): Promise<PieceRecord> {
  const dir = standinSource(name);
  const version = versions.plugins[name];
  const binary = standinBinary(layout, name);
  const record: PieceRecord = { module: `test/plugins/${name}`, version };
  if (!existsSync(join(dir, "go.mod")))
    return {
      ...record,
      blocked: { command: `ls ${dir}/go.mod`, error: "the stand-in's Go module is missing from the checkout" },
    };
  const hash = standinSourceHash(name);
  const cached = previous?.pieces[`standin-${name}`];
  if (existsSync(binary) && cached?.binary && cached.sourceHash === hash && cached.version === version) return cached;
  const t0 = Date.now();
  say(`stand-in plugin ${name} ${version}: compiling test/plugins/${name}`);
  mkdirSync(dirname(binary), { recursive: true });
  await go(`stand-in ${name}: go build`, ["build", "-trimpath", "-ldflags", "-s -w", "-o", binary, "."], dir, {
    ...goEnv,
    CGO_ENABLED: "0",
  });
  return { ...record, binary, sourceHash: hash, buildSeconds: Math.round((Date.now() - t0) / 1000) };
}

function cacheBytes(): number {
  const r = spawnSync("du", ["-sb", layout.root], { encoding: "utf8" });
  return Number(r.stdout.split(/\s/)[0] ?? 0);
}

const previous = readManifest(layout);

async function main() {
  mkdirSync(layout.binDir, { recursive: true });
  mkdirSync(layout.workDir, { recursive: true });
  mkdirSync(join(layout.pluginHome, "plugins"), { recursive: true });
  const cold = !existsSync(join(layout.binDir, "pulumi"));
  say(`building the Pulumi ${versions.pulumi} toolchain into ${layout.root} (versions from package-lock.json)`);
  if (spawnSync("go", ["version"]).status !== 0)
    throw new Error("the go command is missing: install Go >= 1.25 (the CLI's go.mod asks for it)");

  const pieces: Manifest["pieces"] = {};
  pieces.pulumi = await buildCli();
  pieces["pulumi-language-nodejs"] = await buildLanguageHost();
  for (const name of ["docker", "command"] as const) pieces[`pulumi-resource-${name}`] = probePlugin(name);
  if (pieces.pulumi.binary) pieces["pulumi-resource-kubernetes"] = await buildKubernetesPlugin(pieces.pulumi.binary);
  for (const name of STANDIN_NAMES) pieces[`standin-${name}`] = await buildStandin(name);

  const seconds = Math.round((Date.now() - started) / 1000);
  const manifest: Manifest = {
    versions,
    pieces,
    coldBuildSeconds: cold ? seconds : previous?.coldBuildSeconds,
    cacheBytes: cacheBytes(),
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Go ${spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).stdout.trim()}`,
  };
  writeFileSync(layout.manifest, `${JSON.stringify(manifest, null, 2)}\n`);

  for (const [name, p] of Object.entries(pieces)) {
    if (p.binary)
      say(
        `${name}: ${p.module}@${p.version}${p.buildSeconds ? ` built in ${p.buildSeconds} s` : " (cached)"}${p.deviation ? `\n    deviation: ${p.deviation}` : ""}`,
      );
    else
      say(
        `${name}: NOT AVAILABLE: ${p.module}@${p.version}\n    $ ${p.blocked!.command}\n    ${p.blocked!.error.replaceAll("\n", "\n    ")}`,
      );
  }
  say(
    `this run: ${seconds} s; cold build (from an empty cache): ${manifest.coldBuildSeconds ?? "not measured (the cache predates this build)"} s; cache ${(manifest.cacheBytes! / 2 ** 20).toFixed(0)} MiB in ${layout.root}`,
  );
  say(`use it: export PATH=${layout.binDir}:$PATH`);
  if (
    !pieces.pulumi.binary ||
    !pieces["pulumi-language-nodejs"].binary ||
    STANDIN_NAMES.some((n) => !pieces[`standin-${n}`]?.binary)
  )
    process.exit(1);
}

main().catch((e: Error) => {
  console.error(`toolchain: ${e.message}`);
  process.exit(1);
});
