// A unique, deterministic stack name per CI run, from the CI system's own run variables. Pure.
// Deterministic on purpose: a separate cleanup step (`ci:stack destroy`, run `if: always()`) in the
// same job computes the same name from the same variables and finds the stack again.
import { createHash, randomBytes } from "node:crypto";

/** Pulumi's rule for a bare stack name: letters, digits, `_ . -`, 1-100 characters. */
export const PULUMI_STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/**
 * Our own cap, well below Pulumi's 100: the program names the container `sdwebui-<stack>` (at most 63
 * characters), and short names keep resource names and firewall tags readable.
 */
export const MAX_STACK_NAME = 32;

/** Variables the tool itself reads (the SDWEBUI_CI_ prefix is never a program setting). */
const STACK_ENV = {
  /** Use exactly this stack name (sanitised and checked). */
  name: "SDWEBUI_CI_STACK",
  /** Appended to the derived name: tells matrix legs of one job apart (e.g. the matrix value). */
  suffix: "SDWEBUI_CI_STACK_SUFFIX",
  /** First word of the derived name (default "ci"). */
  prefix: "SDWEBUI_CI_STACK_PREFIX",
} as const;

type Env = Record<string, string | undefined>;

/** A CI system: the variables that identify one run (and one attempt of it) uniquely. */
interface CiSystem {
  id: string;
  /** The variable whose presence says "this is that CI". */
  marker: string;
  parts: (env: Env) => (string | undefined)[];
}

// Order matters: Jenkins' BUILD_ID is generic, so it comes after the systems with specific names.
export const CI_SYSTEMS: CiSystem[] = [
  // Re-runs keep GITHUB_RUN_ID and bump GITHUB_RUN_ATTEMPT; jobs of one run share both, GITHUB_JOB differs.
  { id: "gh", marker: "GITHUB_RUN_ID", parts: (e) => [e.GITHUB_RUN_ID, e.GITHUB_RUN_ATTEMPT ?? "1", e.GITHUB_JOB] },
  // A retried GitLab job gets a new CI_JOB_ID.
  { id: "gl", marker: "CI_PIPELINE_ID", parts: (e) => [e.CI_PIPELINE_ID, e.CI_JOB_ID] },
  { id: "az", marker: "BUILD_BUILDID", parts: (e) => [e.BUILD_BUILDID, e.SYSTEM_JOBATTEMPT ?? "1", e.SYSTEM_JOBNAME] },
  {
    id: "bk",
    marker: "BUILDKITE_BUILD_NUMBER",
    parts: (e) => [e.BUILDKITE_BUILD_NUMBER, e.BUILDKITE_RETRY_COUNT ?? "0", e.BUILDKITE_STEP_KEY],
  },
  { id: "cc", marker: "CIRCLE_BUILD_NUM", parts: (e) => [e.CIRCLE_BUILD_NUM, e.CIRCLE_NODE_INDEX] },
  { id: "jk", marker: "BUILD_ID", parts: (e) => [e.BUILD_ID, e.JOB_BASE_NAME ?? e.JOB_NAME] },
];

/** Lower-case, every run of other characters becomes one "-", no separator at either end. */
export function sanitise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .replace(/[-_.]{2,}/g, "-")
    .replace(/^[-_.]+|[-_.]+$/g, "");
}

/**
 * Fit a sanitised name into `max` characters. A name that is too long keeps its head and ends in an
 * 8-hex hash of the WHOLE name, so names that differ only in their tail stay different.
 */
export function fit(name: string, max = MAX_STACK_NAME): string {
  if (name.length <= max) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  const head = name.slice(0, max - hash.length - 1).replace(/[-_.]+$/, "");
  return `${head}-${hash}`;
}

export interface StackNameResult {
  name: string;
  /** Where the name came from, e.g. "GITHUB_RUN_ID/GITHUB_RUN_ATTEMPT/GITHUB_JOB" or "fallback". */
  source: string;
  /** True when the name is derived from run variables (a cleanup step can recompute it). */
  deterministic: boolean;
}

export class StackNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackNameError";
  }
}

export interface NameOptions {
  /** Time and randomness of the fallback name, injectable for tests. */
  now?: Date;
  random?: () => string;
}

function compactTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 13);
}

/** The stack name for this CI run. */
export function ciStackName(env: Env, opts: NameOptions = {}): StackNameResult {
  const explicit = env[STACK_ENV.name]?.trim();
  if (explicit) {
    const name = sanitise(explicit);
    if (!name || name !== explicit || name.length > MAX_STACK_NAME)
      throw new StackNameError(
        `${STACK_ENV.name}="${explicit}" is not a usable stack name: use 1-${MAX_STACK_NAME} characters from a-z 0-9 _ . - ` +
          `starting and ending with a letter or digit${name ? ` (e.g. ${fit(name)})` : ""}`,
      );
    return { name, source: STACK_ENV.name, deterministic: true };
  }
  const prefix = sanitise(env[STACK_ENV.prefix] ?? "ci") || "ci";
  const suffix = sanitise(env[STACK_ENV.suffix] ?? "");
  const ci = ciRun(env);
  if (ci) {
    const { parts } = ci;
    const name = fit([prefix, ci.id, ...parts, suffix].filter((p) => p !== "").join("-"));
    return { name, source: `${ci.id}: ${ci.marker}`, deterministic: true };
  }
  // Not in a known CI: time plus randomness is unique enough, but cannot be recomputed later.
  const rand = sanitise(opts.random?.() ?? randomBytes(3).toString("hex"));
  const name = fit(
    [prefix, "local", compactTime(opts.now ?? new Date()), rand, suffix].filter((p) => p !== "").join("-"),
  );
  return { name, source: "fallback (no CI run variables found)", deterministic: false };
}

/** Check a name given on the command line (`--stack`). */
export function checkStackName(name: string): string {
  if (!PULUMI_STACK_NAME.test(name))
    throw new StackNameError(
      `--stack "${name}" is not a Pulumi stack name: use 1-100 characters from A-Z a-z 0-9 _ . -`,
    );
  return name;
}

/** The most a run id may have: the ci:stack tag's value holds it and a nonce, well under the tag limit (256). */
export const MAX_RUN_ID = 100;

export interface RunIdResult {
  id: string;
  /** True when a later step of the same job computes the same id (from the CI run variables). */
  deterministic: boolean;
}

/** The CI system this run is on, and its run's words (sanitised, empty ones dropped); undefined outside a known CI. */
function ciRun(env: Env): { id: string; marker: string; parts: string[] } | undefined {
  const ci = CI_SYSTEMS.find((s) => env[s.marker]?.trim());
  if (!ci) return undefined;
  const parts = ci
    .parts(env)
    .map((p) => sanitise(p ?? ""))
    .filter((p) => p !== "");
  return { id: ci.id, marker: ci.marker, parts };
}

/**
 * This run's identity, which ci:stack writes on every stack it creates: the CI system's run variables and
 * the suffix in full (a name may be cut to 32 characters; the identity is not), or a random id outside CI.
 * A cleanup step of the same job computes the same id, and so may remove what the job's `up` left.
 */
export function ciRunId(env: Env, opts: Pick<NameOptions, "random"> = {}): RunIdResult {
  const suffix = sanitise(env[STACK_ENV.suffix] ?? "");
  const ci = ciRun(env);
  if (ci) {
    const { parts } = ci;
    return { id: fit([ci.id, ...parts, suffix].filter((p) => p !== "").join("-"), MAX_RUN_ID), deterministic: true };
  }
  return { id: `local-${sanitise(opts.random?.() ?? randomBytes(6).toString("hex"))}`, deterministic: false };
}

/** Check a run id given on the command line (`--run-id`). */
export function checkRunId(id: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(id) || id.length > MAX_RUN_ID)
    throw new StackNameError(
      `--run-id "${id}" is not a run id: use 1-${MAX_RUN_ID} characters from A-Z a-z 0-9 _ . - (the up's result file names it as runId)`,
    );
  return id;
}
