// Rewrites the config block of Pulumi.yaml and the settings table of README.md from the schema
// (npm run config:schema), so that neither can drift from the validation.
import { readFileSync, writeFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { replaceBlock } from "./blocks.js";
import { projectConfigBlock, settingsMarkdownTable } from "../../infra/config/project-file.js";

const doc = parseDocument(readFileSync("Pulumi.yaml", "utf8"));
doc.set("config", doc.createNode(projectConfigBlock()));
writeFileSync("Pulumi.yaml", doc.toString({ lineWidth: 0 }));

writeFileSync(
  "README.md",
  replaceBlock(readFileSync("README.md", "utf8"), "settings", "config:schema", settingsMarkdownTable(), "README.md"),
);
console.log(
  `Pulumi.yaml and README.md: ${Object.keys(projectConfigBlock()).length} settings declared with their defaults, the table lists every one`,
);
