// What the command stand-in does not model fails loudly, naming what it is, instead of being ignored:
// inputs (local assetPaths/archivePaths, remote connection.proxy), resource types (CopyToRemote,
// CopyFile) and functions (command:local:run). These are the stand-in's own refusals, so the tests
// are skipped against the real plugin (SDWEBUI_TEST_PLUGINS=real), which implements all of them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { output } from "../helpers/engine-stack.js";
import { COMMANDS_PROGRAM, commandStack, standinOnly } from "./command-engine.js";

const STAND_IN = "is not modelled by the command stand-in \\(test/plugins/command\\)";

describe("what the command stand-in does not model", () => {
  it("local assetPaths and archivePaths fail already in preview, naming the input", (t) => {
    if (!standinOnly(t)) return;
    const stack = commandStack(t, "cmd-no-assets", COMMANDS_PROGRAM, {
      config: { local: { a: { create: "touch out.txt", assetPaths: ["*.txt"] } } },
    });
    if (!stack) return;
    assert.match(output(stack.fails(["preview"])), new RegExp(`assetPaths ${STAND_IN}`));
    stack.setConfig({ local: { a: { create: "touch out.txt", archivePaths: ["*.txt"] } } });
    assert.match(output(stack.fails(["up", "--yes", "--skip-preview"])), new RegExp(`archivePaths ${STAND_IN}`));
  });

  it("remote connection.proxy fails already in preview, naming the input", (t) => {
    if (!standinOnly(t)) return;
    const connection = { host: "127.0.0.1", proxy: { host: "127.0.0.2" } };
    const stack = commandStack(t, "cmd-no-proxy", COMMANDS_PROGRAM, {
      config: { remote: { r: { connection, create: "true" } } },
    });
    if (!stack) return;
    assert.match(output(stack.fails(["preview"])), new RegExp(`connection\\.proxy ${STAND_IN}`));
  });

  it("the resource types CopyToRemote and CopyFile fail, naming the token", (t) => {
    if (!standinOnly(t)) return;
    const stack = commandStack(
      t,
      "cmd-no-copy",
      `
const connection = { host: "127.0.0.1" };
if (cfg.require("kind") === "CopyToRemote") new command.remote.CopyToRemote("copy", { connection, source: new pulumi.asset.StringAsset("x"), remotePath: "/tmp/x" });
else new command.remote.CopyFile("copy", { connection, localPath: "index.js", remotePath: "/tmp/x" });
`,
      { config: { kind: "CopyToRemote" } },
    );
    if (!stack) return;
    assert.match(output(stack.fails(["preview"])), new RegExp(`resource type command:remote:CopyToRemote ${STAND_IN}`));
    stack.setConfig({ kind: "CopyFile" });
    assert.match(output(stack.fails(["preview"])), new RegExp(`resource type command:remote:CopyFile ${STAND_IN}`));
  });

  it("the function command:local:run fails, naming the token", (t) => {
    if (!standinOnly(t)) return;
    const stack = commandStack(
      t,
      "cmd-no-run",
      `exports.out = command.local.runOutput({ command: "echo hi" }).stdout;`,
    );
    if (!stack) return;
    assert.match(output(stack.fails(["preview"])), new RegExp(`function command:local:run ${STAND_IN}`));
  });
});
