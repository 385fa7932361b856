// The flag table behind the three CLIs: usage text, parsing, defaults, conflicts, dependencies, and no
// value echoed in an error.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { cliTable, CliUsageError, flag, parseTable, usageText } from "../../lib/cli-table.js";

const T = cliTable({
  prog: "tool",
  synopsis: "<go|stop> [flags]",
  commands: { go: "start it", stop: "stop it" },
  flags: {
    port: flag(z.coerce.number().int().min(1).max(65535).default(7860), { arg: "N", help: "the port" }),
    allow: flag(z.array(z.string()).default([]), { arg: "CIDR", multiple: true, help: "a network" }),
    key: flag(z.string().optional(), { arg: "FILE", help: "key file" }),
    "key-env": flag(z.string().optional(), { arg: "VAR", help: "key variable" }),
    user: flag(z.string().optional(), { arg: "U", help: "login" }),
    host: flag(z.string().optional(), { arg: "H", help: "host" }),
    quiet: flag(z.boolean().default(false), { help: "say less" }),
  },
  conflicts: [["key", "key-env"]],
  requires: [["host", "user"]],
});
const usageError = (argv: string[], pattern: RegExp) =>
  assert.throws(
    () => parseTable(T, argv),
    (e: unknown) => e instanceof CliUsageError && pattern.test(e.message) && e.message.includes("usage: tool"),
  );

describe("cli table", () => {
  it("the usage text lists every command and flag with its placeholder, help and default", () => {
    const u = usageText(T);
    for (const line of [
      "  go        start it",
      "--port N",
      "the port (default 7860)",
      "a network (repeatable)",
      "--quiet",
      "say less",
    ])
      assert.ok(u.includes(line), line);
  });

  it("parses values through each flag's schema, with defaults and repeated flags", () => {
    const r = parseTable(T, ["go", "--port", "8080", "--allow", "10.0.0.0/8", "--allow", "::1/128"]);
    assert.ok(!r.help);
    assert.equal(r.command, "go");
    assert.deepEqual(r.values, { port: 8080, allow: ["10.0.0.0/8", "::1/128"], quiet: false });
    assert.deepEqual(parseTable(T, ["-h"]), { help: true });
  });

  it("refuses a missing or unknown command, conflicting flags, a flag without the one it needs, and a bad value, naming the flag", () => {
    usageError([], /no command given: expected one of go, stop/);
    usageError(["run"], /unknown command "run"/);
    usageError(["go", "--key", "a", "--key-env", "B"], /give --key or --key-env, not both/);
    usageError(["go", "--host", "h"], /--host needs --user/);
    usageError(["go", "--port", "0"], /--port: /);
  });

  it("never echoes a value: an unknown --flag=value names the flag only", () => {
    assert.throws(
      () => parseTable(T, ["go", "--token=s3cr3t-value"]),
      (e: unknown) => e instanceof CliUsageError && /--token/.test(e.message) && !e.message.includes("s3cr3t"),
    );
  });
});
