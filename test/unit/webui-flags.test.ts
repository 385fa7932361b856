// The program's table of WebUI flags and its prefix resolution against the stand-in's argparse model,
// which was written separately from the WebUI's cmd_args.py: they must name the same flags and agree on
// which abbreviations are ambiguous (the WebUI exits on those).
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveFlag, WEBUI_FLAGS } from "../../infra/config/webui-flags.js";
import { extraArgProblems } from "../../infra/config/extra-args.js";
import { ArgError, parseArgs, SPECS } from "../standin/args.js";

test("the flag table matches the stand-in's model of cmd_args.py", () => {
  assert.deepEqual([...WEBUI_FLAGS].sort(), SPECS.map((s) => s.flag).filter((f) => f.startsWith("--")).sort());
});

test("every abbreviation resolves as the WebUI's parser resolves it", () => {
  let checked = 0;
  for (const flag of WEBUI_FLAGS)
    for (let n = 3; n < flag.length; n++) {
      const prefix = flag.slice(0, n);
      const mine = resolveFlag(prefix);
      let theirs: "ambiguous" | "ok" = "ok";
      try {
        // Values for flags that take one; the parser is only asked about the name here.
        parseArgs([prefix, ...(SPECS.find((s) => s.flag === ("flag" in mine ? mine.flag : ""))?.kind === "bool" ? [] : ["1"])], "/app");
      } catch (e) {
        if (e instanceof ArgError && /ambiguous option/.test(e.message)) theirs = "ambiguous";
      }
      assert.equal("ambiguous" in mine ? "ambiguous" : "ok", theirs, prefix);
      checked++;
    }
  assert.ok(checked > 1000);
});

test("owned and insecure rules see through abbreviations; full names and unknown (extension) flags pass", () => {
  const opts = { allowInsecureFlags: false, cpuMode: false };
  assert.equal(extraArgProblems(["--shar"], opts).length, 1);
  assert.equal(extraArgProblems(["--api-a=x:y"], opts).length, 1);
  assert.deepEqual(extraArgProblems(["--api-log", "--xformers", "--medvram", "--lora-dir=/models/Lora"], opts), []);
  assert.deepEqual(extraArgProblems(["--shar"], { ...opts, allowInsecureFlags: true }), []);
});
