// The lifecycle of a command resource through the real engine: what a change of each input does
// (update or replace, and in which order the commands run), what a failed create, update or delete
// leaves in the state, and that preview and refresh run nothing. The diff and failure handling are
// pulumi-go-provider v1.3.0's (infer/resource.go), which the real plugin v1.2.1 uses unchanged.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { output } from "../helpers/engine-stack.js";
import { COMMANDS_PROGRAM, commandStack, linesOf, resourceNamed } from "./command-engine.js";

/** A log file the commands append to, in a temp folder removed when the test ends. */
function logFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "sdwebui-command-lifecycle-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "log");
}

const say = (log: string, what: string) => `echo "${what}" >> '${log}'`;

describe("command resource lifecycle under the real engine", () => {
  it("a triggers element change replaces (create-before-delete, old delete last) even with update set; other inputs update (infer/resource.go:1132-1253 at go-provider v1.3.0; SDK replaceOnChanges triggers[*])", (t) => {
    const log = logFile(t);
    const local = (trigger: number, genB: number, genA = 1) => ({
      a: {
        create: say(log, "create-a"),
        update: say(log, "update-a-$GEN"),
        delete: say(log, "delete-a"),
        environment: { GEN: String(genA) },
        triggers: [trigger],
      },
      b: {
        create: say(log, "create-b"),
        update: say(log, "update-b-$GEN"),
        environment: { GEN: String(genB) },
        dependsOn: ["a"],
      },
    });
    const stack = commandStack(t, "cmd-triggers", COMMANDS_PROGRAM, { config: { local: local(1, 1) } });
    if (!stack) return;
    stack.up();
    assert.deepEqual(linesOf(log), ["create-a", "create-b"]);

    stack.setConfig({ local: local(2, 2) });
    const planned = stack.changes();
    const a = planned.find((c) => c.name === "a");
    assert.equal(a?.op, "replace", JSON.stringify(planned));
    assert.deepEqual(
      a?.replaces,
      [],
      "the provider itself reports no replace for the key triggers[0]: the SDK's replaceOnChanges does it",
    );
    assert.equal(a?.detailedDiff["triggers[0]"]?.kind, "update-replace");
    assert.equal(planned.find((c) => c.name === "b")?.op, "update");
    stack.up();
    assert.deepEqual(
      linesOf(log).slice(2),
      ["create-a", "update-b-2", "delete-a"],
      "the replacement's create first, the dependent's update, the old delete at the very end",
    );

    stack.setConfig({ local: local(2, 2, 3) });
    assert.deepEqual(
      stack.changes().map((c) => [c.name, c.op]),
      [["a", "update"]],
      "another input of a (its environment) is an update",
    );
    stack.up();
    assert.deepEqual(linesOf(log).slice(5), ["update-a-3"], "the update runs `update`, nothing is deleted");
  });

  it('triggers going from absent to present is a replace reported by the provider itself (infer/resource.go:1145,1228: the key "triggers" matches the replaceOnChanges property)', (t) => {
    const log = logFile(t);
    const c = (triggers?: unknown[]) => ({
      c: {
        create: say(log, "create-c"),
        update: say(log, "update-c"),
        delete: say(log, "delete-c"),
        ...(triggers ? { triggers } : {}),
      },
    });
    const stack = commandStack(t, "cmd-triggers-add", COMMANDS_PROGRAM, { config: { local: c() } });
    if (!stack) return;
    stack.up();
    stack.setConfig({ local: c(["x"]) });
    const [change] = stack.changes();
    assert.equal(change?.op, "replace", JSON.stringify(change));
    assert.deepEqual(change?.replaces, ["triggers"]);
    assert.equal(change?.detailedDiff.triggers?.kind, "add-replace");
    stack.up();
    assert.deepEqual(linesOf(log), ["create-c", "create-c", "delete-c"]);
  });

  it("a failed create is not recorded, so the next up runs create again (infer/resource.go:1271-1292; local/commandOutputs.go:112-114 error text)", (t) => {
    const log = logFile(t);
    const failing = { x: { create: `${say(log, "attempt")}; echo 'broke on stdout'; exit 3` } };
    const stack = commandStack(t, "cmd-create-fails", COMMANDS_PROGRAM, { config: { local: failing } });
    if (!stack) return;
    for (const attempt of [1, 2]) {
      const r = stack.fails(["up", "--yes", "--skip-preview"]);
      assert.match(
        output(r),
        /exit status 3: running "echo \\"attempt\\" >> '[^']+'; echo 'broke on stdout'; exit 3":\s+broke on stdout/,
      );
      assert.equal(resourceNamed(stack, "x"), undefined, "nothing is recorded");
      assert.equal(linesOf(log).length, attempt, "each up runs create again");
    }
    stack.setConfig({ local: { x: { create: say(log, "attempt") } } });
    assert.deepEqual(
      stack.changes().map((c) => c.op),
      ["create"],
    );
    stack.up();
    assert.ok(resourceNamed(stack, "x"));
  });

  it("a failed update keeps the old inputs and outputs in the state (infer/resource.go:1434-1464 at go-provider v1.3.0)", (t) => {
    const stack = commandStack(t, "cmd-update-fails", COMMANDS_PROGRAM, {
      config: { local: { y: { create: "printf v1" } } },
    });
    if (!stack) return;
    stack.up();
    stack.setConfig({ local: { y: { create: "printf v2; exit 4" } } });
    assert.match(output(stack.fails(["up", "--yes", "--skip-preview"])), /exit status 4: running "printf v2; exit 4"/);
    const y = resourceNamed(stack, "y");
    assert.equal(y?.outputs?.stdout, "v1");
    assert.equal(y?.inputs?.create, "printf v1", "the old inputs stay");
    assert.deepEqual(
      stack.changes().map((c) => c.op),
      ["update"],
      "so the next up tries the update again",
    );
  });

  it("a failed delete keeps the resource and fails destroy (local/commandController.go:93-99)", (t) => {
    const log = logFile(t);
    const stack = commandStack(t, "cmd-delete-fails", COMMANDS_PROGRAM, {
      config: { local: { z: { create: "true", delete: `${say(log, "delete")}; exit 5` } } },
    });
    if (!stack) return;
    stack.up();
    assert.match(
      output(stack.fails(["destroy", "--yes", "--skip-preview"])),
      /exit status 5: running "echo \\"delete\\" >> '[^']+'; exit 5"/,
    );
    assert.ok(resourceNamed(stack, "z"), "the resource stays in the state");
    assert.deepEqual(linesOf(log), ["delete"]);
    // Clean-up: the stored delete is what runs, so it has to be replaced by an update first.
    stack.setConfig({ local: { z: { create: "true", delete: "true" } } });
    stack.up();
    stack.destroy();
  });

  it("preview and refresh run nothing; stdout is unknown in preview (commandController.go Create/Update preview branches; infer default Read)", (t) => {
    const log = logFile(t);
    const stack = commandStack(
      t,
      "cmd-preview",
      `${COMMANDS_PROGRAM}
exports.stdout = made.p.stdout;`,
      { config: { local: { p: { create: say(log, "create"), update: say(log, "update") } } } },
    );
    if (!stack) return;
    const preview = stack.ok(["preview", "--diff"]);
    assert.match(output(preview), /--outputs:--\s+stdout: \[unknown\]/, "stdout is unknown until the command runs");
    assert.deepEqual(linesOf(log), [], "preview of a create runs nothing");
    stack.up();
    stack.setConfig({ local: { p: { create: say(log, "create"), update: say(log, "update-2") } } });
    stack.ok(["preview"]);
    stack.refresh();
    assert.deepEqual(linesOf(log), ["create"], "neither preview of an update nor refresh runs anything");
    assert.deepEqual(
      stack.changes().map((c) => c.op),
      ["update"],
      "refresh left the state as it was",
    );
  });
});
