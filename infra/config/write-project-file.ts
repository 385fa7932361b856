// Rewrites the config block of Pulumi.yaml from the schema (npm run config:schema).
import { readFileSync, writeFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { projectConfigBlock } from "./project-file.js";

const file = process.argv[2] ?? "Pulumi.yaml";
const doc = parseDocument(readFileSync(file, "utf8"));
doc.set("config", doc.createNode(projectConfigBlock()));
writeFileSync(file, doc.toString({ lineWidth: 0 }));
console.log(`${file}: config block written (${Object.keys(projectConfigBlock()).length} settings)`);
