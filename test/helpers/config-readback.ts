// A copy of the project whose program reads the stack config exactly as the real one does (readRawSettings,
// then validateSettings, from the built dist/) and reports what it read, instead of deploying anything. The
// real Pulumi.yaml stays, so the CLI's own checks of the declared types apply too. Fast (no plugins, no
// resources), so the tests of config storage and stack ownership can run many stacks through the real CLI.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Problem } from "../../infra/config/validate.js";
import type { EngineProject } from "./pulumi-cli.js";
import { engineProject } from "./pulumi-cli.js";

/** Environment the program reads (never SDWEBUI_*: ci:stack refuses unknown variables of its own prefix). */
export const READBACK_ENV = {
  /** Folder for <stack>.json with what the program read. */
  dir: "CONFIG_READBACK_DIR",
  /** "1": fail the update after reading (a failed `up`). */
  fail: "CONFIG_READBACK_FAIL",
  /** A value to write over the stack's ci:stack tag in the middle of the update (another job's tag). */
  retag: "CONFIG_READBACK_RETAG",
} as const;

const PROGRAM = `"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const pulumi = require("@pulumi/pulumi");
const { readRawSettings } = require("./config/load.js");
const { validateSettings, ConfigError } = require("./config/validate.js");
const { SECRET_KEYS } = require("./config/schema.js");
const raw = readRawSettings();
const isSecret = (k) => pulumi.runtime.isConfigSecret("sdwebui:" + k);
let report;
try {
  report = { ok: true, settings: validateSettings(raw, isSecret).settings };
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  report = { ok: false, problems: e.problems };
}
const secretKeys = SECRET_KEYS.filter((k) => k in raw && isSecret(k));
for (const k of SECRET_KEYS) delete raw[k];
fs.writeFileSync(path.join(process.env.${READBACK_ENV.dir}, pulumi.getStack() + ".json"), JSON.stringify({ raw, secretKeys, ...report }));
if (process.env.${READBACK_ENV.retag}) {
  const r = spawnSync("pulumi", ["stack", "tag", "set", "sdwebui:ci-stack", process.env.${READBACK_ENV.retag}, "--stack", pulumi.getStack(), "--non-interactive"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error("retag failed: " + r.stderr);
}
if (!report.ok) throw new pulumi.RunError("config refused: " + report.problems.map((p) => p.key + ": " + p.message).join("; "));
if (process.env.${READBACK_ENV.fail} === "1") throw new pulumi.RunError("failing on purpose after reading the config");
module.exports = { read: Object.keys(raw).sort() };
`;

export interface Readback {
  /** The non-secret settings as the program received them (text, JSON text for lists and maps). */
  raw: Record<string, unknown>;
  /** The secret settings that arrived encrypted. */
  secretKeys: string[];
  ok: boolean;
  settings?: Record<string, unknown>;
  problems?: Problem[];
}

export interface ReadbackProject extends EngineProject {
  readbackDir: string;
  /** What the program read on the stack's last run (undefined when it did not run). */
  readback(stack: string): Readback | undefined;
  /** `pulumi <args>` for one stack, failing the test with the CLI's output when it fails. */
  must(args: string[]): string;
}

export function readbackProject(name: string): ReadbackProject {
  const project = engineProject(name, { "dist/infra/index.js": PROGRAM });
  const readbackDir = join(project.dir, "readback");
  mkdirSync(readbackDir);
  project.env[READBACK_ENV.dir] = readbackDir;
  return {
    ...project,
    readbackDir,
    readback(stack) {
      const f = join(readbackDir, `${stack}.json`);
      if (!existsSync(f)) return undefined;
      const r = JSON.parse(readFileSync(f, "utf8")) as Readback;
      rmSync(f);
      return r;
    },
    must(args) {
      const r = project.pulumi(args);
      if (r.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    },
  };
}
