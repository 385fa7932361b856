// The harness's stand-in for the Pulumi engine's planning, as pure functions: dependency order,
// per-resource diff (create / same / update / replace, from each provider's replace-on-change inputs
// plus the resource's replaceOnChanges option), and which dependents a delete-before-replace takes
// down first (Pulumi's calculateDependentReplacements: dependents whose replace-forcing inputs came
// from the replaced resource). Inputs here are plain (secrets unwrapped, mock ids substituted).
import { isDeepStrictEqual } from "node:util";
import type { Registered } from "../../helpers/pulumi-mocks.js";
import { CONTAINER_REPLACE_KEYS, CONTAINER_UPDATE_KEYS, HarnessInputError } from "./container-spec.js";

export const T = {
  container: "docker:index/container:Container",
  image: "docker:index/remoteImage:RemoteImage",
  provider: "pulumi:providers:docker",
  local: "command:local:Command",
  remote: "command:remote:Command",
} as const;

const COMMAND_KEYS = new Set(["create", "update", "delete", "triggers", "environment", "stdin", "dir", "interpreter", "logging", "addPreviousOutputInEnv", "archivePaths", "assetPaths"]);
const IMAGE_REPLACE = new Set(["name", "platform", "pullTriggers", "triggers"]);
const IMAGE_UPDATE = new Set(["build", "forceRemove", "keepLocally"]);

export type Op =
  | { kind: "create" }
  | { kind: "same" }
  | { kind: "update"; keys: string[] }
  | { kind: "replace"; keys: string[]; deleteBeforeReplace: boolean };

type Obj = Record<string, unknown>;

export function changedKeys(before: Obj, after: Obj): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => !isDeepStrictEqual(before[k] ?? null, after[k] ?? null)).sort();
}

/** Top-level input names a replaceOnChanges entry covers ("triggers[*]" -> triggers, "*" -> all). */
function rocCovers(roc: string[], key: string): boolean {
  return roc.some((p) => p === "*" || p.split(/[.[]/)[0] === key);
}

/** Does a change of `key` force replacement of a resource of this type (provider schema + option)? */
export function forcesReplace(type: string, key: string, replaceOnChanges: string[]): boolean {
  if (rocCovers(replaceOnChanges, key)) return true;
  switch (type) {
    case T.container:
      if (CONTAINER_REPLACE_KEYS.has(key)) return true;
      if (CONTAINER_UPDATE_KEYS.has(key)) return false;
      throw new HarnessInputError(`docker.Container input "${key}" changed, and the harness does not know whether the provider replaces or updates on it; classify it in test/e2e/harness/container-spec.ts`);
    case T.local:
      if (!COMMAND_KEYS.has(key)) throw new HarnessInputError(`command:local:Command input "${key}" is not modelled by the e2e harness`);
      return key === "triggers"; // command 1.2.1: only triggers replace; everything else is an update
    case T.image:
      if (IMAGE_REPLACE.has(key)) return true;
      if (IMAGE_UPDATE.has(key)) return false;
      throw new HarnessInputError(`docker.RemoteImage input "${key}" is not modelled by the e2e harness`);
    default:
      throw new HarnessInputError(`a change of ${type} input "${key}" is not modelled by the e2e harness`);
  }
}

export function decide(r: Registered, before: Obj | undefined, after: Obj): Op {
  if (before === undefined) return { kind: "create" };
  const keys = changedKeys(before, after);
  if (keys.length === 0) return { kind: "same" };
  if (r.type === T.provider) throw new HarnessInputError(`provider ${r.name} changed (${keys.join(", ")}): moving a stack to another Docker host is not modelled by the e2e harness`);
  const replacing = keys.filter((k) => forcesReplace(r.type, k, r.replaceOnChanges));
  return replacing.length ? { kind: "replace", keys, deleteBeforeReplace: r.deleteBeforeReplace } : { kind: "update", keys };
}

/** URNs a resource waits for: its dependencies (a component stands for all its descendants) and its provider. */
export function dependencyUrns(r: Registered, all: Registered[]): string[] {
  const byParent = new Map<string, Registered[]>();
  for (const x of all) (byParent.get(x.parent) ?? byParent.set(x.parent, []).get(x.parent)!).push(x);
  const out = new Set<string>();
  const add = (urn: string) => {
    const res = all.find((x) => x.urn === urn);
    if (res && !res.custom) { for (const c of byParent.get(urn) ?? []) add(c.urn); return; }
    out.add(urn);
  };
  for (const d of r.dependencies) add(d);
  if (r.provider) out.add(r.provider.split("::").slice(0, -1).join("::"));
  out.delete(r.urn);
  return [...out];
}

/** Custom resources in an order where each comes after everything it depends on. */
export function dependencyOrder(all: Registered[]): Registered[] {
  const custom = all.filter((r) => r.custom);
  const done = new Set<string>();
  const order: Registered[] = [];
  const visiting = new Set<string>();
  const visit = (r: Registered) => {
    if (done.has(r.urn)) return;
    if (visiting.has(r.urn)) throw new Error(`dependency cycle through ${r.urn}`);
    visiting.add(r.urn);
    for (const d of dependencyUrns(r, all)) {
      const dep = custom.find((x) => x.urn === d);
      if (dep) visit(dep);
    }
    visiting.delete(r.urn);
    done.add(r.urn);
    order.push(r);
  };
  for (const r of custom) visit(r);
  return order;
}

/**
 * The live resources that must go before `replaced` is deleted (delete-before-replace): dependents
 * whose replace-forcing inputs came from it, transitively. Returned dependents-first (deletion order).
 */
export function dependentsToReplace(replaced: string, live: Registered[]): Registered[] {
  const found: Registered[] = [];
  const visit = (urn: string) => {
    for (const d of live) {
      if (found.includes(d) || d.urn === replaced) continue;
      const props = Object.entries(d.propertyDependencies).filter(([, urns]) => urns.includes(urn)).map(([k]) => k);
      if (props.some((k) => forcesReplace(d.type, k, d.replaceOnChanges))) {
        found.push(d);
        visit(d.urn);
      }
    }
  };
  visit(replaced);
  // Deletion order: a dependent before what it depends on.
  const order = dependencyOrder(live).filter((r) => found.includes(r));
  return order.reverse();
}
