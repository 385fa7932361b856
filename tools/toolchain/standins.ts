// The stand-in plugins for the tests (test/plugins/<name>): the docker and command plugins the proxy
// refuses. Built into the cache only, keyed by a digest of their sources; the tests install them into
// their own PULUMI_HOME, never a user's.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { layout, previous, say, secondsSince, versions } from "./context.js";
import { go, staticGoEnv } from "./go.js";
import { standinBinary, standinSource, standinSourceHash } from "./layout.js";
import type { PieceRecord, StandinName } from "./layout.js";

export async function buildStandin(name: StandinName): Promise<PieceRecord> {
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
  const args = ["build", "-trimpath", "-ldflags", "-s -w", "-o", binary, "."];
  await go(`stand-in ${name}: go build`, args, dir, staticGoEnv);
  return { ...record, binary, sourceHash: hash, buildSeconds: secondsSince(t0) };
}
