// command:remote:Command against a stock Debian sshd (AcceptEnv LANG LC_*), through the real engine:
// `environment` goes out as SSH Setenv requests, so a name sshd does not accept fails the command,
// while the previous-output variables only warn; what the state holds; one connection per operation.
// Each test names the real plugin's source (pulumi-command v1.2.1) it follows.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { output } from "../helpers/engine-stack.js";
import { COMMANDS_PROGRAM, commandStack, isSecretValue, resourceNamed, runWithEvents } from "./command-engine.js";
import { loginConfig, useStockSshd, type StockSshd } from "./command-sshd.js";

const ADVICE = "This only works if your SSH server is configured to accept\n\tthese variables via AcceptEnv.";

function markerDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "sdwebui-command-remote-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A stack whose "remote" config the test sets, logged in to `sshd` as root with the client key. */
function remoteStack(
  t: TestContext,
  sshd: StockSshd,
  name: string,
  remote: (connection: object) => Record<string, object>,
) {
  const login = loginConfig(sshd);
  const stack = commandStack(t, name, COMMANDS_PROGRAM, {
    config: { ...login.config, remote: remote(login.connection) },
    secrets: login.secrets,
  });
  return {
    stack,
    set: (next: (connection: object) => Record<string, object>) => stack?.setConfig({ remote: next(login.connection) }),
  };
}

const logins = (sshd: StockSshd) => (sshd.log().match(/Accepted publickey for root/g) ?? []).length;

describe("command:remote:Command environment against a stock sshd", () => {
  const sshdFor = useStockSshd();

  it("a user environment name outside AcceptEnv is an error and the command does not run (remote/commandOutputs.go:42-49,110-126 at v1.2.1)", (t) => {
    const sshd = sshdFor(t);
    if (!sshd) return;
    const marker = join(markerDir(t), "ran");
    const { stack } = remoteStack(t, sshd, "cmd-setenv-refused", (connection) => ({
      fw: { connection, create: `touch '${marker}'`, environment: { SDWEBUI_FIREWALL_REAPPLY_ON: "digest" } },
    }));
    if (!stack) return;
    const { result, diagnostics } = runWithEvents(stack, ["up", "--yes", "--skip-preview"]);
    assert.notEqual(result.status, 0, output(result));
    const errors = diagnostics.filter((d) => d.severity === "error").map((d) => d.message);
    assert.ok(
      errors.some((m) => m.includes(`Unable to set 'SDWEBUI_FIREWALL_REAPPLY_ON'. ${ADVICE}`)),
      `the advice is logged as an error: ${JSON.stringify(errors)}`,
    );
    assert.match(
      output(result),
      /could not set environment variable "SDWEBUI_FIREWALL_REAPPLY_ON": ssh: setenv failed/,
    );
    assert.equal(existsSync(marker), false, "the command never ran");
    assert.equal(resourceNamed(stack, "fw"), undefined, "and nothing is recorded");
  });

  it("LANG is accepted by the stock AcceptEnv and reaches the command (remote/commandOutputs.go:42-49 at v1.2.1; sshd_config AcceptEnv LANG LC_*)", (t) => {
    const sshd = sshdFor(t);
    if (!sshd) return;
    const { stack } = remoteStack(t, sshd, "cmd-setenv-lang", (connection) => ({
      lang: { connection, create: 'printf %s "${LANG-unset}"', environment: { LANG: "C.UTF-8" } },
      control: { connection, create: 'printf %s "${LANG-unset}"' },
    }));
    if (!stack) return;
    stack.up();
    assert.equal(resourceNamed(stack, "lang")?.outputs?.stdout, "C.UTF-8");
    assert.equal(
      resourceNamed(stack, "control")?.outputs?.stdout,
      "unset",
      "without the Setenv the session has no LANG",
    );
  });

  it("PULUMI_COMMAND_STDOUT refused on update is only a warning, and only sent when non-empty and allowed (remote/commandOutputs.go:51-71 at v1.2.1)", (t) => {
    const sshd = sshdFor(t);
    if (!sshd) return;
    const report = 'printf "%s/%s" "${PULUMI_COMMAND_STDOUT-unset}" "${PULUMI_COMMAND_STDERR-unset}"';
    const remote = (gen: number) => (connection: object) => ({
      prev: { connection, create: "printf first", update: report, environment: { LANG: `C.UTF-${gen}` } },
      off: {
        connection,
        create: "printf first",
        update: report,
        environment: { LANG: `C.UTF-${gen}` },
        addPreviousOutputInEnv: false,
      },
    });
    const { stack, set } = remoteStack(t, sshd, "cmd-setenv-previous", remote(8));
    if (!stack) return;
    const created = runWithEvents(stack, ["up", "--yes", "--skip-preview"]);
    assert.equal(created.result.status, 0, output(created.result));
    assert.ok(
      !created.diagnostics.some((d) => d.severity === "warning"),
      "create sends no previous output, so nothing to warn about",
    );

    set(remote(9));
    const updated = runWithEvents(stack, ["up", "--yes", "--skip-preview"]);
    assert.equal(updated.result.status, 0, `the update succeeds: ${output(updated.result)}`);
    const warnings = updated.diagnostics.filter(
      (d) => d.severity === "warning" && d.message.includes("Unable to set 'PULUMI_COMMAND_"),
    );
    assert.equal(warnings.length, 1, `one warning, for prev's non-empty stdout only: ${JSON.stringify(warnings)}`);
    assert.ok(warnings[0]!.message.includes(`Unable to set 'PULUMI_COMMAND_STDOUT'. ${ADVICE}`));
    assert.equal(warnings[0]!.urn?.endsWith("::prev"), true, "none for the command with addPreviousOutputInEnv: false");
    assert.equal(
      resourceNamed(stack, "prev")?.outputs?.stdout,
      "unset/unset",
      "the refused variable is absent from the command's environment",
    );
  });

  it("connection is secret and stdout plain in the state; every operation logs in anew; delete uses the stored connection; stdin only when non-empty (remote/command.go:46, commandController.go, commandOutputs.go:73-75 at v1.2.1)", (t) => {
    const sshd = sshdFor(t);
    if (!sshd) return;
    const marker = join(markerDir(t), "deleted");
    const remote = (stdin: string) => (connection: object) => ({
      io: { connection, create: "cat; printf '\\n'", stdin, delete: `touch '${marker}'` },
    });
    const { stack, set } = remoteStack(t, sshd, "cmd-remote-state", remote(""));
    if (!stack) return;
    const before = logins(sshd);
    stack.up();
    assert.equal(logins(sshd) - before, 1, "create: one login");
    const io = resourceNamed(stack, "io")!;
    assert.equal(io.outputs?.stdout, "", "an empty stdin is EOF at once (no hang), and the one newline is trimmed");
    assert.ok(
      isSecretValue(io.outputs?.connection) && isSecretValue(io.inputs?.connection),
      "connection is secret in inputs and outputs",
    );

    set(remote("from stdin"));
    stack.up();
    assert.equal(logins(sshd) - before, 2, "update: a new login");
    const updated = resourceNamed(stack, "io")!;
    assert.equal(updated.outputs?.stdout, "from stdin");
    assert.ok(!isSecretValue(updated.outputs?.stdout), "stdout is plain although the connection is secret");

    stack.destroy();
    assert.equal(logins(sshd) - before, 3, "delete: a new login");
    assert.ok(existsSync(marker), "the stored delete ran over the stored connection");
  });
});
