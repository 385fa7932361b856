// The engine's two binaries: the Pulumi CLI at the version of @pulumi/pulumi, and the Node.js language
// host, which the proxy does not serve at that version (it falls back to the newest sdk/v3 that holds it,
// patched to read Pulumi.yaml's runtime options).
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { layout, previous, say, secondsSince, versions } from "./context.js";
import { download, go, listVersions, moduleReplaces, staticGoEnv, wrapperModule } from "./go.js";
import type { PieceRecord } from "./layout.js";

const PATCHES = join(__dirname, "patches");
const CLI_MODULE = "github.com/pulumi/pulumi/pkg/v3";
const SDK_MODULE = "github.com/pulumi/pulumi/sdk/v3";
const LANGUAGE_MODULE = "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3";
/** The newest sdk/v3 release that still holds the language host (from v3.69.0 on it is a module of its own). */
const LANGUAGE_FALLBACK_SDK = "v3.68.0";

const versionOf = (binary: string, args: string[]) => spawnSync(binary, args, { encoding: "utf8" }).stdout?.trim();

export async function buildCli(): Promise<PieceRecord> {
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
    staticGoEnv,
  );
  return { ...record, buildSeconds: secondsSince(t0) };
}

export async function buildLanguageHost(): Promise<PieceRecord> {
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
  const dir = patchedHostModule(sdk.dir!, sdk.goVersion!);
  await go("language host: go mod tidy", ["mod", "tidy"], dir);
  say(`language host: compiling`);
  const ldflags = `-s -w -X ${SDK_MODULE}/go/common/version.Version=${LANGUAGE_FALLBACK_SDK}`;
  await go("language host: go build", ["build", "-trimpath", "-ldflags", ldflags, "-o", binary, "."], dir, staticGoEnv);
  return {
    module: `${SDK_MODULE}/nodejs/cmd/pulumi-language-nodejs`,
    version: LANGUAGE_FALLBACK_SDK,
    binary,
    buildSeconds: secondsSince(t0),
    deviation:
      `${LANGUAGE_MODULE} is not served (${exact.error!.split("\n").pop()!.trim()}); built the host of ${SDK_MODULE}@${LANGUAGE_FALLBACK_SDK}, ` +
      "patched to read Pulumi.yaml's runtime options (tools/toolchain/patches)",
  };
}

/**
 * The host is a main package inside the sdk module: copy it out, add the runtime-options patch, and make it
 * the main package of a wrapper module that requires the same sdk version. Returns the wrapper's folder.
 */
function patchedHostModule(sdkDir: string, goVersion: string): string {
  const dir = join(layout.workDir, "pulumi-language-nodejs");
  const requires = [`${SDK_MODULE} ${LANGUAGE_FALLBACK_SDK}`];
  wrapperModule(dir, "pulumi-language-nodejs", goVersion, requires, moduleReplaces(sdkDir), []);
  const source = join(sdkDir, "nodejs", "cmd", "pulumi-language-nodejs");
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
  return dir;
}
