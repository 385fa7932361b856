// Evaluates the real Pulumi program (infra/program.ts) under pulumi.runtime.setMocks and returns every
// registration with its inputs and options. The mock "provider" differs from the unit tests' in two
// ways that matter for realising the result: the RemoteImage reports the REAL local image id (so the
// container's `image` input is an image the engine has), and every id is a recognisable token
// (`e2e-mock-id:<type>|<name>`) that the realiser later swaps for the real id (container id, ...).
import { execFileSync } from "node:child_process";
import type * as pulumi from "@pulumi/pulumi";
import { installMocks, MockEngine, Registered, resolveOutputs, setStackConfig } from "../../helpers/pulumi-mocks.js";

export const MOCK_ID_PREFIX = "e2e-mock-id:";
export const mockIdOf = (type: string, name: string): string => `${MOCK_ID_PREFIX}${type}|${name}`;

export interface StackInput {
  /** Stack name (labels, container name, firewall tag derive from it). */
  stack: string;
  /** Plain settings: bare keys of the sdwebui namespace. */
  settings: Record<string, unknown>;
  /** Secret settings (apiPassword, ...): set as secret config, unwrapped only inside the harness. */
  secrets: Record<string, string>;
}

export interface Evaluation {
  input: StackInput;
  /** Every registration in program order (components included), inputs with secrets still wrapped. */
  resources: Registered[];
  /** The stack outputs the program returned, resolved. */
  outputs: Record<string, unknown>;
  /** Plaintext secret values of this evaluation: the redactor's list. Never print. */
  secretValues: string[];
}

/** The local engine's id for an image reference, or "" when the engine does not have it. */
export function localImageId(ref: string): string {
  try {
    return execFileSync("docker", ["image", "inspect", ref, "--format", "{{.Id}}"], { encoding: "utf8", stdio: "pipe", timeout: 15_000 }).trim();
  } catch {
    return "";
  }
}

function newResource(args: pulumi.runtime.MockResourceArgs, fallback: { id: string; state: Record<string, unknown> }, imageId: (ref: string) => string) {
  const state = { ...fallback.state };
  if (args.type === "docker:index/remoteImage:RemoteImage") {
    const ref = String(args.inputs.name);
    // An image the engine lacks gets an id that names the problem; the realiser refuses it clearly.
    state.imageId = imageId(ref) || `missing-local-image:${ref}`;
    delete state.repoDigest;
  }
  return { id: mockIdOf(args.type, args.name), state };
}

const engines = new Map<string, MockEngine>();
let current: string | undefined;
let program: { deployStack: () => Record<string, unknown> } | undefined;

export interface EvaluateOptions {
  /** Image id lookup (default: `docker image inspect`); tests without an engine pass a fake. */
  imageId?: (ref: string) => string;
}

/**
 * Evaluate the program with the given stack config. Evaluations run one at a time (the Pulumi runtime
 * is process-global); the stack name is fixed per setMocks call, so a new stack name re-installs mocks.
 */
export async function evaluateProgram(input: StackInput, opts: EvaluateOptions = {}): Promise<Evaluation> {
  const lookup = opts.imageId ?? localImageId;
  let engine = engines.get(input.stack);
  if (!engine || current !== input.stack) {
    engine = await installMocks({ project: "sdwebui", stack: input.stack, newResource: (a, f) => newResource(a, f, (r) => lookupRef(r)) });
    engines.set(input.stack, engine);
    current = input.stack;
  }
  lookupRef = lookup;
  // Imported after setMocks (a static import would run the program without the mocks).
  program ??= (await import("../../../infra/program.js")) as unknown as { deployStack: () => Record<string, unknown> };
  engine.reset();
  setStackConfig({ ...input.settings, ...input.secrets }, Object.keys(input.secrets));
  const outputs = await resolveOutputs(program.deployStack());
  await settle(engine);
  return { input, resources: [...engine.resources], outputs, secretValues: Object.values(input.secrets).filter((s) => s.length > 0) };
}
let lookupRef: (ref: string) => string = localImageId;

/** Resources whose outputs feed no stack output may register later: wait until the list stops growing. */
async function settle(engine: MockEngine): Promise<void> {
  const t0 = Date.now();
  let last = -1;
  let quiet = 0;
  while (quiet < 5) {
    await new Promise((r) => setTimeout(r, 10));
    if (engine.resources.length === last) quiet++;
    else { quiet = 0; last = engine.resources.length; }
    if (Date.now() - t0 > 10_000) throw new Error("program evaluation: registrations still arriving after 10 s");
  }
}
