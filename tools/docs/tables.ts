// The README tables generated from code by npm run docs:tables (the settings table has its own script,
// config:schema, because it also rewrites Pulumi.yaml).
import { exitCodeTable as ciStackExitCodes } from "../ci-stack/lifecycle.js";
import { exitCodeTable as smokeExitCodes } from "../../smoke/errors.js";
import { USAGE as smokeUsage } from "../../smoke/cli-flags.js";
import { flagRulesTable } from "../../infra/config/extra-args.js";

export const GENERATED_TABLES = [
  { file: "smoke/README.md", name: "smoke-exit-codes", render: smokeExitCodes },
  { file: "smoke/README.md", name: "smoke-usage", render: () => `\`\`\`text\n${smokeUsage}\n\`\`\`` },
  { file: "tools/ci-stack/README.md", name: "ci-stack-exit-codes", render: ciStackExitCodes },
  { file: "README.md", name: "webui-flag-rules", render: flagRulesTable },
] as const;
