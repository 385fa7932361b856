// npm run docs:tables: writes the exit-code tables of smoke/README.md and tools/ci-stack/README.md from the
// code that defines the codes, so the documentation cannot drift from what the tools return.
import { readFileSync, writeFileSync } from "node:fs";
import { GENERATED_TABLES } from "./tables.js";
import { replaceBlock } from "./blocks.js";

for (const t of GENERATED_TABLES) {
  writeFileSync(t.file, replaceBlock(readFileSync(t.file, "utf8"), t.name, "docs:tables", t.render(), t.file));
  console.log(`${t.file}: ${t.name} written`);
}
