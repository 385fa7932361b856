// The Go commands the builder runs: long steps with a log file, progress lines and a time limit; quick
// probes of the module proxy; and the wrapper modules that build a dependency's main package at a pinned
// version (go install cannot, when the dependency's go.mod has replace lines).
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { elapsed, layout, say } from "./context.js";

/** A bound on each Go step, so a hung download or build ends with a message instead of waiting for ever. */
const STEP_LIMIT_MS = 60 * 60 * 1000;

export const goEnv = {
  ...process.env,
  ...layout.goEnv,
  GOFLAGS: "-mod=mod",
  GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? "local",
};
/** For the binaries: without cgo, so no C compiler is needed and they link statically. */
export const staticGoEnv = { ...goEnv, CGO_ENABLED: "0" };

/** Runs a Go command with its output in a log file; progress every 30 s; fails with the log's tail. */
export async function go(what: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = goEnv): Promise<void> {
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
export function download(moduleAtVersion: string): { dir?: string; goVersion?: string; error?: string } {
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
export function listVersions(module: string): { versions?: string[]; error?: string } {
  const r = spawnSync("go", ["list", "-m", "-versions", module], { env: goEnv, cwd: layout.root, encoding: "utf8" });
  if (r.status !== 0) return { error: r.stderr.trim() };
  return { versions: r.stdout.trim().split(/\s+/).slice(1) };
}

/** The replace lines of a dependency's go.mod that point at other modules (a wrapper must repeat them). */
export function moduleReplaces(moduleDir: string): string[] {
  const text = readFileSync(join(moduleDir, "go.mod"), "utf8");
  return [...text.matchAll(/^replace\s+(\S+(?:\s+v\S+)?)\s+=>\s+(\S+)\s+(v\S+)\s*$/gm)].map(
    (m) => `replace ${m[1]} => ${m[2]} ${m[3]}`,
  );
}

/** A fresh module in `dir` requiring `requires`; `imports` go in a tools.go so that tidy keeps them. */
export function wrapperModule(
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
