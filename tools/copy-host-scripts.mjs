// Build step after tsc: the host scripts (infra/**/*.sh) go next to the compiled modules that read them.
import { cpSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// Folders and .sh files only (a folder has no extension; sources and docs stay behind).
cpSync(join(root, "infra"), join(root, "dist", "infra"), {
  recursive: true,
  filter: (p) => !/\.[A-Za-z]+$/.test(p) || p.endsWith(".sh"),
});
