// The program's table of WebUI flags and its prefix resolution against the stand-in's argparse model,
// which was written separately from the WebUI's cmd_args.py: they must name the same flags, agree on what
// each takes, and agree on which abbreviations are ambiguous (the WebUI exits on those).
import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILTIN_EXTENSION_FLAGS, resolveFlag, WEBUI_FLAGS } from "../../infra/webui/flag-table.js";
import {
  extraArgProblems,
  INSECURE_FLAGS,
  OWNED_FLAGS,
  STOPPING_FLAGS,
  TLS_FLAGS,
} from "../../infra/config/extra-args.js";
import { ArgError, parseArgs, SPECS } from "../standin/args.js";

/** The table's flags of cmd_args.py itself: not argparse's help, not the built-in extensions'. */
const CMD_ARGS = Object.keys(WEBUI_FLAGS).filter(
  (f) => !["-h", "--help"].includes(f) && !(BUILTIN_EXTENSION_FLAGS as readonly string[]).includes(f),
);

test("the flag table matches the stand-in's model of cmd_args.py, name and arity", () => {
  assert.deepEqual([...CMD_ARGS].sort(), SPECS.map((s) => s.flag).sort());
  // The stand-in has no JSON type: --ngrok-options is a string there.
  const arity = (k: string) =>
    (({ bool: "none", list: "one or more", int: "int", choice: "choice" }) as Record<string, string>)[k] ?? "one";
  for (const s of SPECS) assert.equal(arity(WEBUI_FLAGS[s.flag]!.kind), arity(s.choices ? "choice" : s.kind), s.flag);
});

test("every abbreviation resolves as the WebUI's parser resolves it", () => {
  let checked = 0;
  for (const flag of CMD_ARGS.filter((f) => f.startsWith("--")))
    for (let n = 3; n < flag.length; n++) {
      const prefix = flag.slice(0, n);
      const mine = resolveFlag(prefix);
      // The stand-in knows neither --help nor the extensions' flags: ask it only about prefixes of its own.
      if ("ambiguous" in mine && mine.ambiguous.some((f) => !CMD_ARGS.includes(f))) continue;
      let theirs: "ambiguous" | "ok" = "ok";
      try {
        // Values for flags that take one; the parser is only asked about the name here.
        parseArgs(
          [prefix, ...(SPECS.find((s) => s.flag === ("flag" in mine ? mine.flag : ""))?.kind === "bool" ? [] : ["1"])],
          "/app",
        );
      } catch (e) {
        if (e instanceof ArgError && /ambiguous option/.test(e.message)) theirs = "ambiguous";
      }
      assert.equal("ambiguous" in mine ? "ambiguous" : "ok", theirs, prefix);
      checked++;
    }
  assert.ok(checked > 1000);
});

test("every flag the rules name is a flag of the table", () => {
  for (const f of [
    ...OWNED_FLAGS,
    ...Object.keys(INSECURE_FLAGS),
    ...Object.keys(STOPPING_FLAGS),
    ...Object.keys(TLS_FLAGS),
  ])
    assert.ok(f in WEBUI_FLAGS, f);
});

test("owned and insecure rules see through abbreviations; full names and unknown (extension) flags pass", () => {
  const opts = { allowInsecureFlags: false };
  assert.equal(extraArgProblems(["--shar"], opts).length, 1);
  assert.equal(extraArgProblems(["--api-a=x:y"], opts).length, 1);
  assert.deepEqual(
    extraArgProblems(
      ["--api-log", "--xformers", "--medvram", "--lora-dir=/models/Lora", "--my-extension-flag", "value"],
      opts,
    ),
    [],
  );
  assert.deepEqual(extraArgProblems(["--shar"], { ...opts, allowInsecureFlags: true }), []);
});
