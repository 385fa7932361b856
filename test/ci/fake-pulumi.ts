// A fake `pulumi` executable for the adapter's contract test: it records every argv the Automation API
// sends and answers the handful of commands infra/ci/automation.ts uses, with a stack list kept in a
// JSON file. It models the CLI only as far as those answers go (see automation.test.ts).
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const SCRIPT = String.raw`#!/usr/bin/env node
const fs = require("fs");
const argv = process.argv.slice(2);
const env = process.env;
fs.appendFileSync(env.FAKE_PULUMI_LOG, JSON.stringify(argv) + "\n");
const statePath = env.FAKE_PULUMI_STATE;
const state = fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, "utf8")) : { stacks: {} };
// Write-then-rename, like any state store: a command killed mid-save never leaves a truncated file.
const save = () => { fs.writeFileSync(statePath + ".tmp", JSON.stringify(state)); fs.renameSync(statePath + ".tmp", statePath); };
const fail = (what, text, code = 1) => { process.stderr.write(text + "\n"); process.exit(code); };
const failing = (env.FAKE_PULUMI_FAIL || "").split(",");
const stackArg = () => { const i = argv.indexOf("--stack"); return i >= 0 ? argv[i + 1] : argv.slice(2).find((x) => !x.startsWith("-")); };
const [a, b] = argv;
if (a === "version") { process.stdout.write("v3.248.0\n"); process.exit(0); }
if (a === "stack" && b === "select") {
  const s = stackArg();
  if (!state.stacks[s]) fail("select", "error: no stack named '" + s + "' found", 255);
  process.exit(0);
}
if (a === "stack" && b === "init") { state.stacks[argv[2]] = { deployed: false, config: {} }; save(); process.exit(0); }
if (a === "config" && b === "set-all") {
  if (failing.includes("config")) fail("config", "error: pulumi " + argv.join(" ") + " failed: bad key");
  const s = state.stacks[stackArg()];
  for (let i = 0; i < argv.length; i++) if (argv[i] === "--plaintext" || argv[i] === "--secret") s.config[argv[i + 1].split("=")[0]] = argv[i] === "--secret" ? "[secret]" : argv[i + 1].split("=").slice(1).join("=");
  save();
  process.exit(0);
}
if (a === "up") {
  // Like the real CLI, which handles SIGINT from its first instruction: a cancel cancels the update
  // gracefully however early it comes (registered before the first output a caller could react to).
  process.on("SIGINT", () => fail("up", "error: update canceled", 255));
  process.stdout.write("Updating (" + stackArg() + ")\n     Type                 Name\n +   pulumi:pulumi:Stack  sdwebui-" + stackArg() + "\n");
  if (failing.includes("up")) fail("up", "error: update failed\n    error: exit status 20: running \"node dist/smoke/cli.js\":\n" + (env.FAKE_PULUMI_UP_ERROR || ""));
  state.stacks[stackArg()].deployed = true; save();
  const sleep = Number(env.FAKE_PULUMI_UP_SLEEP_MS || 0);
  if (!sleep) process.exit(0);
  setTimeout(() => process.exit(0), sleep);
  return;
}
if (a === "stack" && b === "output") {
  const show = argv.includes("--show-secrets");
  process.stdout.write(JSON.stringify({ apiUrl: "http://127.0.0.1:7860", smokeFile: "/srv/out/txt2img-images/2026-11-25/00000-7.png", endpoints: [{ smokeFile: "/srv/out/txt2img-images/2026-11-25/00000-7.png" }], auth: show ? "s3cr3t-output" : "[secret]" }));
  process.exit(0);
}
if (a === "stack" && b === "history") { process.stdout.write("[]"); process.exit(0); }
if (a === "destroy") {
  if (failing.includes("destroy")) fail("destroy", "error: destroy failed: container busy");
  state.stacks[stackArg()].deployed = false; save();
  process.exit(0);
}
if (a === "stack" && b === "rm") {
  const s = stackArg();
  if (state.stacks[s] && state.stacks[s].deployed) fail("rm", "error: '" + s + "' still has resources; removal rejected", 255);
  delete state.stacks[s]; save();
  process.exit(0);
}
fail("unknown", "fake pulumi: unexpected command " + argv.join(" "), 2);
`;

export interface FakePulumi {
  /** Folder holding the `pulumi` executable (put it first on PATH). */
  binDir: string;
  log: string;
  state: string;
}

export function makeFakePulumi(parent: string): FakePulumi {
  const binDir = mkdtempSync(join(parent, "fake-pulumi-"));
  const bin = join(binDir, "pulumi");
  writeFileSync(bin, SCRIPT);
  chmodSync(bin, 0o755);
  return { binDir, log: join(binDir, "argv.log"), state: join(binDir, "state.json") };
}
