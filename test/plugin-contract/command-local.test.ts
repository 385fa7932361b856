// command:local:Command through the real engine: where the command runs, what environment and
// stdin it gets, what lands in the state, what is logged. Each test names the real plugin's source
// (pulumi-command v1.2.1) it follows.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import {
  COMMANDS_PROGRAM,
  commandStack,
  isSecretValue,
  projectDir,
  resourceNamed,
  upWithEvents,
} from "./command-engine.js";

/** A temp folder the commands write into, removed when the test ends. */
function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "sdwebui-command-local-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A script that writes FOO, the previous outputs (or "unset"), a variable of the CLI's and its stdin to `file`. */
const report = (file: string) =>
  `printf '%s|%s|%s|%s|%s' "$FOO" "\${PULUMI_COMMAND_STDOUT-unset}" "\${PULUMI_COMMAND_STDERR-unset}" "$SDWEBUI_FROM_CLI" "$(cat)" > '${file}'`;

describe("command:local:Command under the real engine", () => {
  it("runs in dirname(Pulumi.yaml main) when dir is absent, in dir when given (local/commandOutputs.go:73-80 at v1.2.1; engine plugin.go:599 cmd.Dir = pwd)", (t) => {
    const elsewhere = scratch(t);
    const local = { "no-dir": { create: "pwd -P" }, "with-dir": { create: "pwd -P", dir: elsewhere } };
    const stack = commandStack(t, "cmd-cwd", COMMANDS_PROGRAM, { main: "dist/infra/index.js", config: { local } });
    if (!stack) return;
    stack.up();
    const cwd = resourceNamed(stack, "no-dir")?.outputs?.stdout;
    assert.equal(
      cwd,
      realpathSync(join(projectDir(stack), "dist/infra")),
      "the plugin's cwd is the folder of main, not the project root",
    );
    assert.equal(resourceNamed(stack, "with-dir")?.outputs?.stdout, realpathSync(elsewhere));
  });

  it("environment adds to the CLI's; update and delete get PULUMI_COMMAND_STDOUT/STDERR; stdin only when non-empty (local/commandOutputs.go:81-99 at v1.2.1)", (t) => {
    const out = scratch(t);
    const local = (gen: number) => ({
      env: {
        create: `${report(join(out, "create.txt"))}; printf 'created'; printf 'warned' >&2`,
        update: `${report(join(out, "update.txt"))}; printf 'updated'`,
        delete: report(join(out, "delete.txt")),
        environment: { FOO: `foo-${gen}` },
        stdin: gen === 1 ? "" : `stdin-${gen}`,
      },
      "no-previous": {
        create: "printf 'created'",
        update: report(join(out, "no-previous.txt")),
        environment: { FOO: `foo-${gen}` },
        addPreviousOutputInEnv: false,
      },
    });
    const stack = commandStack(t, "cmd-env", COMMANDS_PROGRAM, {
      config: { local: local(1) },
      env: { ...process.env, SDWEBUI_FROM_CLI: "from-cli" },
    });
    if (!stack) return;
    stack.up();
    const read = (f: string) => readFileSync(join(out, f), "utf8");
    assert.equal(
      read("create.txt"),
      "foo-1|unset|unset|from-cli|",
      "create: no previous outputs; an empty stdin is /dev/null",
    );

    stack.setConfig({ local: local(2) });
    stack.up();
    assert.equal(
      read("update.txt"),
      "foo-2|created|warned|from-cli|stdin-2",
      "update: the new environment, the create's outputs, the new stdin",
    );
    assert.equal(
      read("no-previous.txt"),
      "foo-2|unset|unset|from-cli|",
      "addPreviousOutputInEnv: false sets neither variable",
    );

    stack.destroy();
    assert.equal(
      read("delete.txt"),
      "foo-2|updated|unset|from-cli|stdin-2",
      "delete: the stored inputs and the update's outputs (its stderr was empty, so unset)",
    );
  });

  it("stdout and stderr lose one trailing newline and stay plain even with secret inputs (local/commandOutputs.go:103-106 at v1.2.1; go-provider v1.3.0 infer/resource.go:772-806 ensureDefaultSecrets)", (t) => {
    const stack = commandStack(
      t,
      "cmd-outputs",
      `
const token = cfg.requireSecret("token");
const c = new command.local.Command("outputs", { create: cfg.require("script"), environment: { TOKEN: token }, stdin: token });
exports.stdout = c.stdout;
`,
      {
        config: {
          token: "s3cret-token-value",
          script: `printf 'one\\n\\n'; printf 'err\\n' >&2; test "$TOKEN" = "$(cat)"`,
        },
        secrets: ["token"],
      },
    );
    if (!stack) return;
    stack.up();
    const r = resourceNamed(stack, "outputs")!;
    assert.equal(r.outputs?.stdout, "one\n", "exactly one newline trimmed");
    assert.equal(r.outputs?.stderr, "err");
    const environment = r.outputs?.environment as Record<string, unknown> | undefined;
    assert.ok(
      isSecretValue(environment?.TOKEN) && isSecretValue(r.outputs?.stdin),
      "the secret inputs stay secret in the state",
    );
    assert.ok(!isSecretValue(r.outputs?.stdout) && !isSecretValue(r.outputs?.stderr), "the outputs are plain");
    assert.equal(stack.outputs().stdout, "one\n", "and the stack output shows stdout");
  });

  it("logs each line of stdout and stderr as ephemeral info status, as logging selects (util/util.go LogOutput, local/logging.go at v1.2.1)", (t) => {
    const local = {
      both: { create: "printf 'out-a\\nout-b\\n'; printf 'err-a\\n' >&2" },
      quiet: { create: "printf 'quiet-out\\n'; printf 'quiet-err\\n' >&2", logging: "none" },
      errs: { create: "printf 'only-out\\n'; printf 'only-err\\n' >&2", logging: "stderr" },
    };
    const stack = commandStack(t, "cmd-logging", COMMANDS_PROGRAM, { config: { local } });
    if (!stack) return;
    // Debug diagnostics (the language host's RPC traces) repeat outputs; only what users see counts.
    const diagnostics = upWithEvents(stack).filter((d) => d.severity !== "debug");
    const statusLines = diagnostics.filter((d) => d.ephemeral && d.severity === "info").map((d) => d.message.trim());
    for (const line of ["out-a", "out-b", "err-a", "only-err"])
      assert.ok(
        statusLines.includes(line),
        `"${line}" is logged as its own status line: ${JSON.stringify(statusLines)}`,
      );
    for (const line of ["quiet-out", "quiet-err", "only-out"])
      assert.ok(!diagnostics.some((d) => d.message.includes(line)), `"${line}" is not logged`);
    assert.ok(
      !diagnostics.some((d) => !d.ephemeral && d.message.includes("out-a")),
      "output is never a kept diagnostic",
    );
  });
});
