// The tree keeps its layers (tools/architecture.ts): no import circle, no import up a layer or from one
// target into the other, every production file in a layer, and no Pulumi in the smoke library or lib.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { importGraph, layerOf, sourceFiles } from "../../tools/architecture.js";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";

describe("architecture", () => {
  const graph = importGraph(REPO_ROOT);

  it("reads the production import graph (the program's entry imports the program)", () => {
    assert.ok(graph.files.length > 50, `${graph.files.length} files`);
    assert.deepEqual(graph.edges.get("infra/index.ts"), ["infra/program.ts"]);
  });

  it("has no import circle", () => assert.deepEqual(graph.circles, []));
  it("imports only from its own layer's folder or below", () => assert.deepEqual(graph.upward, []));
  it("keeps the folders of one layer apart (Docker hosts and Kubernetes; the WebUI, firewall and proxy facts)", () =>
    assert.deepEqual(graph.across, []));
  it("puts every production file in a layer", () => assert.deepEqual(graph.unlayered, []));

  it("keeps Pulumi out of the smoke library and lib (the smoke runs in its own image)", () => {
    const offenders = sourceFiles(REPO_ROOT, false)
      .filter((f) => ["lib/", "smoke/"].includes(layerOf(f)?.prefix ?? ""))
      .filter((f) => /from\s+["']@pulumi\//.test(readFileSync(join(REPO_ROOT, f), "utf8")));
    assert.deepEqual(offenders, []);
  });
});
