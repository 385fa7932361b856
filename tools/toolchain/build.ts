// npm run toolchain: builds the Pulumi CLI and its Node.js language host from Go modules at the versions
// package-lock.json pins, probes the module proxy for the provider plugins, and caches everything
// outside the clone (toolchainLayout) so that a second run takes seconds. Writes toolchain.json (what was
// built from what, what could not be had and why) and prints the cold build time and the cache size.
// The pieces: pulumi.ts (CLI, language host), plugins.ts (provider plugins), standins.ts (the tests'
// stand-in plugins), all through go.ts; manifest.ts writes toolchain.json and the report.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { layout, say, secondsSince, started, versions } from "./context.js";
import { STANDIN_NAMES } from "./layout.js";
import type { Manifest } from "./layout.js";
import { report, writeManifest } from "./manifest.js";
import { buildKubernetesPlugin, probePlugin } from "./plugins.js";
import { buildCli, buildLanguageHost } from "./pulumi.js";
import { buildStandin } from "./standins.js";

/** One piece after the other: the Kubernetes plugin needs the CLI to install it. */
async function buildPieces(): Promise<Manifest["pieces"]> {
  const pieces: Manifest["pieces"] = {};
  pieces.pulumi = await buildCli();
  pieces["pulumi-language-nodejs"] = await buildLanguageHost();
  for (const name of ["docker", "command"] as const) pieces[`pulumi-resource-${name}`] = probePlugin(name);
  if (pieces.pulumi.binary) pieces["pulumi-resource-kubernetes"] = await buildKubernetesPlugin(pieces.pulumi.binary);
  for (const name of STANDIN_NAMES) pieces[`standin-${name}`] = await buildStandin(name);
  return pieces;
}

async function main() {
  mkdirSync(layout.binDir, { recursive: true });
  mkdirSync(layout.workDir, { recursive: true });
  mkdirSync(join(layout.pluginHome, "plugins"), { recursive: true });
  const cold = !existsSync(join(layout.binDir, "pulumi"));
  say(`building the Pulumi ${versions.pulumi} toolchain into ${layout.root} (versions from package-lock.json)`);
  if (spawnSync("go", ["version"]).status !== 0)
    throw new Error("the go command is missing: install Go >= 1.25 (the CLI's go.mod asks for it)");

  const pieces = await buildPieces();
  const seconds = secondsSince(started);
  report(writeManifest(pieces, seconds, cold), seconds);
  // A failure only when a piece the engine tests cannot do without is missing; the real plugins may be.
  if (
    !pieces.pulumi?.binary ||
    !pieces["pulumi-language-nodejs"]?.binary ||
    STANDIN_NAMES.some((n) => !pieces[`standin-${n}`]?.binary)
  )
    process.exit(1);
}

main().catch((e: Error) => {
  console.error(`toolchain: ${e.message}`);
  process.exit(1);
});
