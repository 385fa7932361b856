// Fingerprints of an evaluation: per resource, a sha256 of its canonical inputs (secrets included,
// unwrapped: the digest shows no value) and of its options. Two evaluations of one config must match.
import { createHash } from "node:crypto";
import { unwrapSecrets } from "../../helpers/pulumi-mocks.js";
import type { Evaluation } from "./evaluate.js";

/** JSON with object keys sorted at every level. */
export function canonical(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === "object") return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])]));
    return x;
  };
  return JSON.stringify(sort(v)) ?? "undefined";
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

export interface ResourceDigest { urn: string; inputs: string; options: string }

export function digestEvaluation(ev: Evaluation): ResourceDigest[] {
  return ev.resources.map((r) => ({
    urn: r.urn,
    inputs: sha(canonical(unwrapSecrets(r.inputs))),
    options: sha(canonical({
      parent: r.parent, provider: r.provider, dependencies: [...r.dependencies].sort(), propertyDependencies: r.propertyDependencies,
      deleteBeforeReplace: r.deleteBeforeReplace, retainOnDelete: r.retainOnDelete, replaceOnChanges: r.replaceOnChanges, ignoreChanges: r.ignoreChanges,
    })),
  }));
}

/** Paths (never values) where two input trees differ, for failure messages that cannot leak secrets. */
export function differingPaths(a: unknown, b: unknown, at = ""): string[] {
  if (canonical(a) === canonical(b)) return [];
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => differingPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}${Array.isArray(a) ? `[${k}]` : `.${k}`}`));
  }
  return [at || "(root)"];
}
