// The README tables written from code (npm run docs:tables) match the code, and the two CLIs' exit
// codes never mean two things: ci:stack's own codes are disjoint from the smoke CLI's.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { EXIT_CODES } from "../../infra/ci/run.js";
import { blockBody } from "../../infra/docs/blocks.js";
import { GENERATED_TABLES } from "../../infra/docs/tables.js";
import { FAILURES } from "../../smoke/errors.js";

describe("generated README tables", () => {
  for (const t of GENERATED_TABLES)
    it(`${t.file}: ${t.name} is what the code says (npm run docs:tables)`, () => {
      assert.equal(blockBody(readFileSync(t.file, "utf8"), t.name, "docs:tables"), t.render(), "run npm run docs:tables");
    });
});

describe("exit codes", () => {
  it("each smoke failure class has its own code", () => {
    const codes = Object.values(FAILURES).map((f) => f.exit);
    assert.equal(new Set(codes).size, codes.length);
  });
  it("ci:stack's codes share none with the smoke CLI but 0, usage (2) and a signal (130)", () => {
    const smoke = new Set<number>(Object.values(FAILURES).map((f) => f.exit));
    const shared = Object.entries(EXIT_CODES).filter(([, c]) => smoke.has(c.exit)).map(([k, c]) => `${k}=${c.exit}`);
    assert.deepEqual(shared, ["usage=2", "config=2"], "only the usage-class code is common (bad input, nothing touched)");
    for (const [k, c] of Object.entries(EXIT_CODES)) if (![0, 2, 130].includes(c.exit as number)) assert.ok(c.exit >= 40 && c.exit <= 69, `${k}=${c.exit} is in 40-69`);
  });
});
