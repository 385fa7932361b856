// The program's reading of a token list (infra/webui/argv.ts) against CPython's own argparse, with
// a parser built from the same flag table as the WebUI builds its own: for thousands of token lists the
// program must say "the WebUI exits" exactly when argparse exits, say "help" exactly when argparse prints
// its help, and otherwise give each flag the value argparse gives it. argparse is the WebUI's parser.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import fc from "fast-check";
import { readArgv } from "../../infra/webui/argv.js";
import { WEBUI_FLAGS } from "../../infra/webui/flag-table.js";
import { requireOrSkip } from "../helpers/requirements.js";

const PYTHON = `
import argparse, contextlib, io, json, sys
table, cases = json.load(sys.stdin)
p = argparse.ArgumentParser()  # as cmd_args.py: -h/--help come with it
kinds = {"bool": {"action": "store_true"}, "str": {}, "int": {"type": int}, "json": {"type": json.loads},
         "list": {"nargs": "+", "type": str.lower}}
for flag, spec in table:
    if spec["kind"] == "help":
        continue
    kw = dict(kinds.get(spec["kind"], {}))
    if spec["kind"] == "choice":
        kw["choices"] = spec["choices"]
    if flag == "--disable-tls-verify":
        kw = {"action": "store_false"}
    p.add_argument(flag, default=argparse.SUPPRESS, **kw)
out = []
for args in cases:
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            ns = vars(p.parse_args(args))
        out.append({"ok": {k: (v if isinstance(v, (str, list, bool)) or v is None else str(v)) for k, v in ns.items()}})
    except SystemExit as e:
        out.append({"exit": e.code})
print(json.dumps(out))
`;

function python(cases: string[][]): ({ ok: Record<string, unknown> } | { exit: number })[] {
  const r = spawnSync("python3", ["-c", PYTHON], {
    input: JSON.stringify([Object.entries(WEBUI_FLAGS), cases]),
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const pythonPresent = () =>
  spawnSync("python3", ["-c", "import argparse"]).status === 0 ? "" : "python3 is missing (apt-get install python3)";
const dest = (flag: string) => flag.replace(/^-+/, "").replace(/-/g, "_");

/** The namespace argparse would build, as the program's reading gives it (last value wins). */
function namespaceOf(tokens: string[]): Record<string, unknown> {
  const ns: Record<string, unknown> = {};
  for (const u of readArgv(tokens).uses) {
    const spec = WEBUI_FLAGS[u.flag!]!;
    ns[dest(u.flag!)] =
      spec.kind === "bool"
        ? u.flag !== "--disable-tls-verify"
        : spec.kind === "list"
          ? u.value!.split(" ").map((v) => v.toLowerCase())
          : spec.kind === "int"
            ? String(Number(u.value!.replace(/_/g, "")))
            : spec.kind === "json"
              ? undefined
              : u.value;
  }
  return ns;
}

function compare(cases: string[][]): number {
  const theirs = python(cases);
  cases.forEach((tokens, i) => {
    const mine = readArgv(tokens);
    const t = theirs[i]!;
    const shown = JSON.stringify(tokens);
    if ("exit" in t) {
      assert.ok(mine.exits.length > 0, `argparse exits (${t.exit}) on ${shown}; the program said it starts`);
      assert.equal(
        mine.exits[0]!.includes("help text"),
        t.exit === 0,
        `help or error first for ${shown}: ${mine.exits.join(" | ")}`,
      );
    } else {
      assert.deepEqual(mine.exits, [], `argparse starts with ${shown}`);
      const ns = namespaceOf(tokens);
      // JSON values are compared by presence only (Python's NaN and JSON.parse differ in form).
      for (const k of Object.keys(ns))
        if (ns[k] === undefined) {
          assert.ok(k in t.ok, `${k} is set in ${shown}`);
          delete t.ok[k];
          delete ns[k];
        }
      assert.deepEqual(ns, t.ok, `the values of ${shown}`);
    }
  });
  return cases.length;
}

const LONG = Object.keys(WEBUI_FLAGS).filter((f) => f.startsWith("--"));

test("the issue's examples and their neighbours read as argparse reads them", (t) => {
  if (!requireOrSkip(t, pythonPresent())) return;
  const cases = [
    ["-h"],
    ["--help"],
    ["--he"],
    ["--hel"],
    ["-x"],
    ["-f"],
    ["-ff"],
    ["-fh"],
    ["-hf"],
    ["-f=1"],
    ["-fx"],
    ["-"],
    ["--"],
    ["--xformers", "--"],
    ["--ckpt"],
    ["--ckpt", "--xformers"],
    ["--ckpt", "-x"],
    ["--ckpt", "-1"],
    ["--ckpt", "-"],
    ["--ckpt", "--"],
    ["--ckpt="],
    ["--use-cpu"],
    ["--use-cpu", "all", "SD"],
    ["--use-cpu", "--no-half"],
    ["--xformers=1"],
    ["--xformers", "value"],
    ["value"],
    ["-1"],
    ["-1.5"],
    ["--precision", "fp16"],
    ["--precision=half"],
    ["--max-batch-count", "1_6"],
    ["--max-batch-count=x"],
    ["--ngrok-options=1"],
    ["--ngrok-options=NaN"],
    ["--ngrok-options=nope"],
    ["--dump"],
    ["--device-id", "0"],
    ["--lora-dir", "/m"],
    ["--lora-dir"],
    ["--lyco-dir=/l"],
    ["--freeze"],
    ["--freeze-settings"],
    ["--test"],
    ["--=x"],
    ["--tls"],
    ["--gradio-allowed-path=/"],
    ["--cors-allow-origins-regex=.+"],
  ];
  compare(cases);
});

test("thousands of random token lists read as argparse reads them", (t) => {
  if (!requireOrSkip(t, pythonPresent())) return;
  const flag = fc.constantFrom(...LONG, "-f", "-h");
  const prefix = fc.tuple(fc.constantFrom(...LONG), fc.integer({ min: 3, max: 40 })).map(([f, n]) => f.slice(0, n));
  const value = fc.constantFrom(
    "1",
    "0",
    "-1",
    "-0.5",
    "1_0",
    "x",
    "all",
    "SD",
    "full",
    "half",
    "NaN",
    "null",
    "/",
    ".+",
    "-",
    "",
  );
  const withValue = fc.tuple(fc.oneof(flag, prefix), value).map(([f, v]) => `${f}=${v}`);
  const short = fc.constantFrom("-x", "-fh", "-ff", "-hf", "-f1", "-h=1");
  const token = fc.oneof(
    { arbitrary: flag, weight: 4 },
    { arbitrary: prefix, weight: 3 },
    { arbitrary: value, weight: 4 },
    { arbitrary: withValue, weight: 2 },
    { arbitrary: short, weight: 1 },
    { arbitrary: fc.constant("--"), weight: 1 },
  );
  const lists = fc
    .sample(fc.array(token, { minLength: 0, maxLength: 6 }), { numRuns: 4000, seed: 21 })
    .filter((l) => !l.includes(""));
  assert.ok(compare(lists) > 3500);
});
