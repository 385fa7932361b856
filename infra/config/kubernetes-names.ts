// The names of a fleet's objects, derived from the stack name and the claim settings alone (the
// validation checks them before anything exists, the manifests use them).
import { createHash } from "node:crypto";

export interface FleetNames {
  base: string;
  /** The smoke Job's service account (and its Role and RoleBinding). */
  smokeAccount: string;
  outputsClaim: string;
  modelsClaim: string;
  /** Claims the program creates (the others are the user's). */
  ownClaims: ("outputs" | "models")[];
}

/**
 * Object names from the stack: DNS labels, short enough for the suffixes Kubernetes adds to pod names. A
 * stack name that had to be folded or cut gets a short hash of itself, so dev_1 and dev-1 never share objects.
 */
export function fleetNames(stack: string, settings: { outputsClaim?: string; modelsClaim?: string }): FleetNames {
  const slug =
    stack
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "stack";
  const folded = slug !== stack || slug.length > 32;
  const base = folded
    ? `sdwebui-${slug.slice(0, 25).replace(/-+$/, "")}-${createHash("sha256").update(stack).digest("hex").slice(0, 6)}`
    : `sdwebui-${slug}`;
  return {
    base,
    smokeAccount: `${base}-smoke`,
    outputsClaim: settings.outputsClaim ?? `${base}-outputs`,
    modelsClaim: settings.modelsClaim ?? `${base}-models`,
    ownClaims: [
      ...(settings.outputsClaim ? [] : ["outputs" as const]),
      ...(settings.modelsClaim ? [] : ["models" as const]),
    ],
  };
}
