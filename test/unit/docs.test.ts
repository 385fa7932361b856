// The README tables written from code (npm run docs:tables) match the code, the two CLIs' exit codes
// never mean two things (ci:stack's own codes are disjoint from the smoke CLI's), and the map of the code
// matches the tree.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EXIT_CODES } from "../../tools/ci-stack/lifecycle.js";
import { blockBody } from "../../tools/docs/blocks.js";
import { GENERATED_TABLES } from "../../tools/docs/tables.js";
import { FAILURES } from "../../smoke/errors.js";
import { LAYERS } from "../../tools/architecture.js";
import { REPO_ROOT } from "../../tools/toolchain/layout.js";

describe("generated README tables", () => {
  for (const t of GENERATED_TABLES)
    it(`${t.file}: ${t.name} is what the code says (npm run docs:tables)`, () => {
      assert.equal(
        blockBody(readFileSync(t.file, "utf8"), t.name, "docs:tables"),
        t.render(),
        "run npm run docs:tables",
      );
    });
});

describe("exit codes", () => {
  it("each smoke failure class has its own code", () => {
    const codes = Object.values(FAILURES).map((f) => f.exit);
    assert.equal(new Set(codes).size, codes.length);
  });
  it("ci:stack's codes share none with the smoke CLI but 0, usage (2) and a signal (130)", () => {
    const smoke = new Set<number>(Object.values(FAILURES).map((f) => f.exit));
    const shared = Object.entries(EXIT_CODES)
      .filter(([, c]) => smoke.has(c.exit))
      .map(([k, c]) => `${k}=${c.exit}`);
    assert.deepEqual(
      shared,
      ["usage=2", "config=2"],
      "only the usage-class code is common (bad input, nothing touched)",
    );
    for (const [k, c] of Object.entries(EXIT_CODES))
      if (![0, 2, 130].includes(c.exit as number))
        assert.ok(c.exit >= 40 && c.exit <= 69, `${k}=${c.exit} is in 40-69`);
  });

  it("every exit code README.md names comes with its class, and is that class's code in the table", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8").replace(/\s+/g, " ");
    const smoke = new Map(Object.entries(FAILURES).map(([k, f]) => [k, f.exit as number]));
    const ciStack = new Map(Object.entries(EXIT_CODES).map(([k, c]) => [k, c.exit as number]));
    // "exit 26 `wrong-checkpoint`", "exit 10 `unreachable` or 11 `firewall`", "ci:stack exit 42 `owner`", "(gpus-short, exit 27".
    const withClass = [...readme.matchAll(/(ci:stack )?exit (\d+) `([\w-]+)`(?: or (\d+) `([\w-]+)`)?/g)];
    const inParens = [...readme.matchAll(/\(([\w-]+), exit (\d+)/g)];
    const named = [
      ...withClass.flatMap((m) => [
        { table: m[1] ? ciStack : smoke, code: Number(m[2]), name: m[3]!, text: m[0] },
        ...(m[4] ? [{ table: m[1] ? ciStack : smoke, code: Number(m[4]), name: m[5]!, text: m[0] }] : []),
      ]),
      ...inParens.map((m) => ({ table: smoke, code: Number(m[2]), name: m[1]!, text: m[0] })),
    ];
    for (const n of named)
      assert.equal(
        n.table.get(n.name),
        n.code,
        `README: "${n.text}": ${n.name} is exit ${n.table.get(n.name)} in the table`,
      );
    const bare = [...readme.matchAll(/exit (?:code )?(\d+)/g)].length - withClass.length - inParens.length;
    assert.equal(bare, 0, "an exit code in README.md without its class name (write it as: exit NN `class`)");
    assert.ok(named.length >= 10, `README names ${named.length} exit codes`);
  });
});

describe("README's map of the code", () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Map of the code"), readme.indexOf("## Tests"));
  const rows = section.split("\n").filter((l) => /^\| `[^`]+\/` \|/.test(l));
  const folders = rows.map((r) => /^\| `([^`]+)\/`/.exec(r)![1]!);

  it("has a row for every folder of every layer, in the layers' order from the top down", () => {
    const layerFolders = LAYERS.map(([p]) => p.replace(/\/$/, ""));
    const mapped = folders.filter((f) => layerFolders.includes(f));
    assert.deepEqual(
      [...mapped].sort(),
      [...layerFolders].sort(),
      "a layer folder without a row, or a row for a folder no layer has",
    );
    const ranks = mapped.map((f) => LAYERS.find(([p]) => p === `${f}/`)![1]);
    assert.deepEqual(
      ranks,
      [...ranks].sort((a, b) => b - a),
      "rows run from the top layer down",
    );
  });

  it("names only folders and files that exist", () => {
    for (const [i, row] of rows.entries()) {
      const folder = join(REPO_ROOT, folders[i]!);
      assert.ok(existsSync(folder), `${folders[i]}/`);
      const cell = row.split(" | ")[1]!;
      for (const [, name] of cell.matchAll(/`([\w./-]+\.(?:ts|sh))`/g)) {
        const found = name!.includes("/")
          ? existsSync(join(REPO_ROOT, name!))
          : filesBelow(folder).some((f) => f.endsWith(`/${name}`));
        assert.ok(found, `${folders[i]}/: ${name} does not exist`);
      }
    }
  });
});

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesBelow(join(dir, e.name)) : [join(dir, e.name)],
  );
}
