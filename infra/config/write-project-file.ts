// Rewrites the config block of Pulumi.yaml and the settings table of README.md from the schema
// (npm run config:schema), so that neither can drift from the validation.
import { readFileSync, writeFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { projectConfigBlock, settingsMarkdownTable } from "./project-file.js";

export const TABLE_START = "<!-- settings:start (npm run config:schema) -->";
export const TABLE_END = "<!-- settings:end -->";

const doc = parseDocument(readFileSync("Pulumi.yaml", "utf8"));
doc.set("config", doc.createNode(projectConfigBlock()));
writeFileSync("Pulumi.yaml", doc.toString({ lineWidth: 0 }));

const readme = readFileSync("README.md", "utf8");
const [before, rest] = readme.split(TABLE_START);
const after = rest?.split(TABLE_END)[1];
if (before === undefined || after === undefined) throw new Error(`README.md lacks the ${TABLE_START} ... ${TABLE_END} markers`);
writeFileSync("README.md", `${before}${TABLE_START}\n${settingsMarkdownTable()}\n${TABLE_END}${after}`);
console.log(`Pulumi.yaml and README.md: ${Object.keys(projectConfigBlock()).length} settings declared with their defaults, the table lists every one`);
