// The e2e test stack: the stand-in image in place of the WebUI image, no GPUs, host folders in a
// temporary directory, a free loopback port, an allowlist (TEST-NET-1, never routed) and a random
// API password set as a secret. Everything a run creates is named after the stack.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { firewallTag } from "../../../infra/deployment.js";
import { makeModelsDir, STANDIN_IMAGE } from "../../helpers/standin.js";
import type { StackInput } from "./evaluate.js";

export interface E2eStack {
  stack: string;
  root: string;
  outputsDir: string;
  modelsDir: string;
  /** Firewall tag and container name (the program's defaults for this stack). */
  tag: string;
  containerName: string;
  username: string;
  password: string;
  settings: Record<string, unknown>;
  input(overrides?: Record<string, unknown>): StackInput;
}

/** A fresh stack; the models folder holds a fake checkpoint owned by the image's uid (1000). */
export function e2eStack(hostPort: number): E2eStack {
  const stack = `e2e-${process.pid}-${randomBytes(2).toString("hex")}`;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "sdwebui-e2e-"));
  const outputsDir = path.join(root, "outputs");
  const modelsDir = makeModelsDir(path.join(root, "models"));
  // The folders script refuses folders uid 1000 cannot write, as it would on a real host.
  for (const p of [modelsDir, path.join(modelsDir, "Stable-diffusion"), ...fs.readdirSync(path.join(modelsDir, "Stable-diffusion")).map((f) => path.join(modelsDir, "Stable-diffusion", f))]) fs.chownSync(p, 1000, 1000);
  const password = `e2e-${randomBytes(12).toString("base64url")}`;
  const username = "e2e-user";
  const settings: Record<string, unknown> = {
    image: STANDIN_IMAGE,
    gpus: "none",
    outputsDir,
    modelsDir,
    hostPort,
    bindAddress: "127.0.0.1",
    apiUsername: username,
    firewallAllowlist: ["192.0.2.0/24"],
    smokeTimeoutSeconds: 60,
    smokeSteps: 2,
    smokeWidth: 128,
    smokeHeight: 128,
    shmSizeMb: 64,
  };
  const containerName = `sdwebui-${stack}`;
  return {
    stack, root, outputsDir, modelsDir, tag: firewallTag(stack, settings.hostPort as number), containerName, username, password, settings,
    input: (overrides = {}) => ({ stack, settings: { ...settings, ...overrides }, secrets: { apiPassword: password } }),
  };
}
