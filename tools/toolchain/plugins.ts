// The provider plugins: the docker and command plugins are only probed (the proxy refuses their modules;
// the tests use stand-ins, standins.ts), the Kubernetes plugin is built from a commit of its module and
// installed into the toolchain's plugin home.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { layout, previous, say, secondsSince, versions } from "./context.js";
import { download, go, goEnv, listVersions, staticGoEnv } from "./go.js";
import type { PieceRecord } from "./layout.js";

const PLUGIN_MODULES = {
  docker: "github.com/pulumi/pulumi-docker/provider/v5",
  command: "github.com/pulumi/pulumi-command/provider",
} as const;
export type ProbedPlugin = keyof typeof PLUGIN_MODULES;
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

/** Plugins: probe their modules; a plugin whose module is not served is recorded with the proxy's answer. */
export function probePlugin(name: ProbedPlugin): PieceRecord {
  const module = PLUGIN_MODULES[name];
  const version = versions.plugins[name];
  say(`plugin ${name} ${version}: probing ${module}`);
  const listed = listVersions(module);
  const answer = (m: string) => (m.includes("@") ? download(m).error : listVersions(m).error) ?? "served";
  const extra =
    name === "docker" ? DOCKER_BUILD_DEPENDENCIES.map((m) => `${m}: ${answer(m).split("\n").pop()!.trim()}`) : [];
  const error = listed.error
    ? [listed.error, ...extra].join("\n")
    : `${module} is served (${listed.versions?.join(" ") || "pseudo-versions only"}) but building it is not implemented yet: extend tools/toolchain/plugins.ts`;
  return { module, version, blocked: { command: `go list -m -versions ${module}`, error } };
}

/**
 * The Kubernetes plugin from its module: a writable copy without the `sdk/v4 => ../sdk` replace (the
 * published sdk/v4 of the same line stands in), the schema embedded by the module's own generate step,
 * then installed into the plugin home as `pulumi plugin install --file` does.
 */
export async function buildKubernetesPlugin(cli: string): Promise<PieceRecord> {
  const version = versions.plugins.kubernetes;
  const record: PieceRecord = { module: KUBERNETES_MODULE, version: KUBERNETES_COMMIT };
  // Not in binDir: a plugin on PATH is taken ahead of the installed one, with a warning on every run.
  const binary = join(layout.workDir, "pulumi-resource-kubernetes.bin", "pulumi-resource-kubernetes");
  const cached = cachedKubernetesPlugin(binary, version);
  if (cached) return cached;
  const t0 = Date.now();
  say(`plugin kubernetes ${version}: fetching ${KUBERNETES_MODULE}@${KUBERNETES_COMMIT}`);
  const mod = download(`${KUBERNETES_MODULE}@${KUBERNETES_COMMIT}`);
  if (mod.error)
    return {
      ...record,
      blocked: { command: `go mod download -json ${KUBERNETES_MODULE}@${KUBERNETES_COMMIT}`, error: mod.error },
    };
  const dir = join(layout.workDir, "pulumi-resource-kubernetes");
  mkdirSync(dirname(binary), { recursive: true });
  writableModuleWithoutSdkReplace(mod.dir!, dir);
  const cmd = join(dir, "cmd", "pulumi-resource-kubernetes");
  await go("kubernetes plugin: go generate", ["generate", "."], cmd, { ...goEnv, VERSION: version });
  say(`plugin kubernetes ${version}: compiling (several minutes on 2 cores)`);
  const ldflags = `-s -w -X ${KUBERNETES_MODULE}/pkg/version.Version=${version}`;
  await go(
    "kubernetes plugin: go build",
    ["build", "-trimpath", "-ldflags", ldflags, "-o", binary, "./cmd/pulumi-resource-kubernetes"],
    dir,
    staticGoEnv,
  );
  installKubernetesPlugin(cli, version, binary);
  return {
    ...record,
    binary,
    buildSeconds: secondsSince(t0),
    deviation: `no tagged ${KUBERNETES_MODULE} is served: built commit ${KUBERNETES_COMMIT} as ${version}, with the published sdk/v4 instead of its ../sdk replace`,
  };
}

/** The previous run's plugin, when its binary is still there and it was built from this commit as `version`. */
function cachedKubernetesPlugin(binary: string, version: string): PieceRecord | undefined {
  const cached = previous?.pieces["pulumi-resource-kubernetes"];
  if (
    existsSync(binary) &&
    cached?.binary &&
    cached.version === KUBERNETES_COMMIT &&
    previous?.versions.plugins.kubernetes === version
  )
    return cached;
  return undefined;
}

/** A fresh, writable copy of the module cache's read-only folder, its go.mod without the sdk/v4 replace. */
function writableModuleWithoutSdkReplace(moduleDir: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  cpSync(moduleDir, dir, { recursive: true });
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
}

/** Into the toolchain's plugin home only (PULUMI_HOME), never the user's. */
function installKubernetesPlugin(cli: string, version: string, binary: string): void {
  const home = { ...process.env, PULUMI_HOME: layout.pluginHome, PULUMI_SKIP_UPDATE_CHECK: "true" };
  const installed = spawnSync(
    cli,
    ["plugin", "install", "resource", "kubernetes", version, "--file", binary, "--reinstall"],
    { env: home, encoding: "utf8" },
  );
  if (installed.status !== 0)
    throw new Error(`pulumi plugin install resource kubernetes ${version} --file ${binary}: ${installed.stderr}`);
}
