// Where the Pulumi toolchain built from Go modules lives, and at which versions: the one home of these
// facts for the builder (build.ts) and for the tests that run the real engine. Versions come from
// package-lock.json only: the CLI and language host follow @pulumi/pulumi, each plugin its SDK package.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(__dirname, "../..");
/** Where the toolchain cache lives, when not ~/.cache/sdwebui-toolchain. */
export const TOOLCHAIN_DIR_ENV = "SDWEBUI_TOOLCHAIN_DIR";

/** The provider plugins the program uses, each named as its npm package @pulumi/<name>. */
export const PLUGIN_NAMES = ["docker", "command", "kubernetes"] as const;
export type PluginName = (typeof PLUGIN_NAMES)[number];

/**
 * The plugins the tests replace with stand-ins of their own (test/plugins/<name>): the proxy refuses the
 * real ones. Built by npm run toolchain, installed only into the tests' own PULUMI_HOME.
 */
export const STANDIN_NAMES = ["docker", "command"] as const;
export type StandinName = (typeof STANDIN_NAMES)[number];
/** Where a stand-in's Go module lives in the repository. */
export const standinSource = (name: StandinName) => join(REPO_ROOT, "test", "plugins", name);

export interface ToolchainVersions {
  /** The engine (CLI) and Node.js language host: the version of @pulumi/pulumi. */
  pulumi: string;
  /** Provider plugins, by plugin name: the version of @pulumi/<name>. */
  plugins: Record<PluginName, string>;
}

/** Versions as package-lock.json pins them. */
export function lockedVersions(lockFile = join(REPO_ROOT, "package-lock.json")): ToolchainVersions {
  const lock = JSON.parse(readFileSync(lockFile, "utf8")) as { packages: Record<string, { version?: string }> };
  const version = (pkg: string) => {
    const v = lock.packages[`node_modules/${pkg}`]?.version;
    if (!v) throw new Error(`${lockFile} pins no ${pkg}: run npm install`);
    return v;
  };
  return {
    pulumi: version("@pulumi/pulumi"),
    plugins: Object.fromEntries(PLUGIN_NAMES.map((n) => [n, version(`@pulumi/${n}`)])) as Record<PluginName, string>,
  };
}

export interface ToolchainLayout {
  /** Cache root, outside the clone: SDWEBUI_TOOLCHAIN_DIR, else ~/.cache/sdwebui-toolchain. */
  root: string;
  versions: ToolchainVersions;
  /** `pulumi` and `pulumi-language-nodejs` (the CLI finds a language host beside itself). */
  binDir: string;
  /** A PULUMI_HOME whose plugins/ holds the installed provider plugins; tests link it into theirs. */
  pluginHome: string;
  /** Wrapper Go modules and build logs. */
  workDir: string;
  /** The stand-in plugins' binaries: <standinsDir>/<name>/pulumi-resource-<name>. */
  standinsDir: string;
  /** What was built, from what, how long it took, and what could not be had (build.ts writes it). */
  manifest: string;
  goEnv: { GOMODCACHE: string; GOCACHE: string };
}

export function toolchainLayout(env: NodeJS.ProcessEnv = process.env, versions = lockedVersions()): ToolchainLayout {
  const root = resolve(env[TOOLCHAIN_DIR_ENV] || join(homedir(), ".cache", "sdwebui-toolchain"));
  const key = `pulumi-${versions.pulumi}`;
  return {
    root,
    versions,
    binDir: join(root, key, "bin"),
    pluginHome: join(root, key, "home"),
    workDir: join(root, key, "work"),
    standinsDir: join(root, key, "standins"),
    manifest: join(root, key, "toolchain.json"),
    goEnv: { GOMODCACHE: join(root, "go", "mod"), GOCACHE: join(root, "go", "build") },
  };
}

export type PieceName =
  "pulumi" | "pulumi-language-nodejs" | `pulumi-resource-${PluginName}` | `standin-${StandinName}`;

export interface PieceRecord {
  /** The Go module (and version) the binary was built from, or that was asked for. */
  module: string;
  version: string;
  /** Set when it was built: where the binary is and the seconds the build took (download included). */
  binary?: string;
  buildSeconds?: number;
  /** How this differs from the version the SDK asks for, when it does. */
  deviation?: string;
  /** Stand-ins: a digest of the Go sources the binary was built from (a change rebuilds it). */
  sourceHash?: string;
  /** Set when it could not be had: the command run and what the proxy or compiler said. */
  blocked?: { command: string; error: string };
}

export interface Manifest {
  versions: ToolchainVersions;
  pieces: Partial<Record<PieceName, PieceRecord>>;
  /** Seconds of the build from an empty cache (kept from the first run). */
  coldBuildSeconds?: number;
  cacheBytes?: number;
  machine?: string;
}

/** A digest of a stand-in's Go module in this checkout (go.mod, go.sum, every .go file). */
export function standinSourceHash(name: StandinName): string {
  const dir = standinSource(name);
  const hash = createHash("sha256");
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.go$|^go\.(mod|sum)$/.test(entry.name))
        hash
          .update(`${path.slice(dir.length)}\0`)
          .update(readFileSync(path))
          .update("\0");
    }
  };
  walk(dir);
  return hash.digest("hex").slice(0, 16);
}

/**
 * The binary of this checkout's stand-in in the cache (whether or not it is built yet), keyed by its sources:
 * checkouts with other sources (another branch, an older commit) keep binaries of their own beside it.
 */
export const standinBinary = (layout: ToolchainLayout, name: StandinName) =>
  join(layout.standinsDir, name, standinSourceHash(name), `pulumi-resource-${name}`);

export function readManifest(layout = toolchainLayout()): Manifest | undefined {
  return existsSync(layout.manifest) ? (JSON.parse(readFileSync(layout.manifest, "utf8")) as Manifest) : undefined;
}
