// The `pulumi config` commands a fix text names, so that each one, run as printed with a value put in
// for the placeholder, stores the value in the form the program reads. A top-level `pulumi config set`
// always stores a string; with --path the CLI stores "true"/"false" as booleans and integers as numbers,
// which the schema's string fields refuse. Every field of a list or map is read from a string (booleans
// and whole numbers too), so items are set with --type string. Keys with dots (node labels such as
// nvidia.com/gpu.present) are bracketed: a dotted --path builds nested maps.
import { shellQuote } from "../../lib/shell.js";
import { settingDeclarations } from "./project-file.js";
import { SECRET_KEYS } from "./schema.js";

export type SettingShape = "scalar" | "secret" | "list" | "objectList" | "map";

// Read when first needed: the settings' schema imports modules that import this one.
let decls: ReturnType<typeof settingDeclarations> | undefined;

export function settingShape(key: string): SettingShape {
  decls ??= settingDeclarations();
  const d = decls[key];
  if ((SECRET_KEYS as readonly string[]).includes(key)) return "secret";
  if (d?.type === "array") return d.items?.type === "object" ? "objectList" : "list";
  if (d?.type === "object") return "map";
  return "scalar";
}

/** A segment of a --path key: [0], .field, or ["a.b/c"] for anything that is not a plain name; "<i>" is an index to fill in. */
function segment(s: string | number): string {
  if (typeof s === "number" || s === "<i>") return `[${s}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) || s === "<field>" ? `.${s}` : `[${JSON.stringify(s)}]`;
}

/**
 * `pulumi config set --path --type string '<ns>:key[0].field' -- <value>`: one item or field, stored as a string.
 * `--` ends the CLI's options: an item such as a WebUI flag (--medvram) would otherwise be read as one of them.
 */
export function setPathCommand(key: string, path: readonly (string | number)[], value = "<value>"): string {
  const at = `<ns>:${key}${path.map(segment).join("")}`;
  return `pulumi config set --path --type string ${shellQuote(at)} -- ${value}`;
}

/** `pulumi config rm --path '<ns>:key[0].field'`: one field of an item goes. */
export function rmPathCommand(key: string, path: readonly PropertyKey[]): string {
  const at = `<ns>:${key}${path
    .filter((s) => typeof s !== "symbol")
    .map((s) => segment(s as string | number))
    .join("")}`;
  return `pulumi config rm --path ${shellQuote(at)}`;
}

/** Where a problem sits inside a list or map, as far as the problem's path says (zod's issue path after the key). */
function itemPath(shape: SettingShape, at: readonly PropertyKey[]): (string | number)[] | undefined {
  const [first, second] = at;
  if (shape === "list") return typeof first === "number" ? [first] : undefined;
  if (shape === "objectList")
    return typeof first === "number" ? [first, typeof second === "string" ? second : "<field>"] : undefined;
  if (shape === "map") return typeof first === "string" && at.length === 1 ? [first] : undefined;
  return undefined;
}

/** The command alone: set the key, or the item/field the problem names (a placeholder where it names none). */
export function setCommand(key: string, at: readonly PropertyKey[] = []): string {
  const shape = settingShape(key);
  if (shape === "scalar") return `pulumi config set <ns>:${key} <value>`;
  if (shape === "secret") return `pulumi config set --secret <ns>:${key} <value>`;
  const item = itemPath(shape, at);
  if (item) return setPathCommand(key, item);
  // No item named (the value is not a list at all, a rule across items, a bad label): start afresh.
  const first = shape === "list" ? [0] : shape === "objectList" ? [0, "<field>"] : ["<label>"];
  return `pulumi config rm <ns>:${key}, then ${setPathCommand(key, first)} (one command per ${shape === "map" ? "label" : shape === "list" ? "item" : "field and item"})`;
}

/** A fix that sets `key` (or the item at `at` inside it): the stack file for lists and maps, or the command. */
export function setFix(key: string, at: readonly PropertyKey[] = []): string {
  const shape = settingShape(key);
  const kind = shape === "map" ? "map" : shape === "list" || shape === "objectList" ? "list" : undefined;
  return kind ? `edit the ${key} ${kind} in Pulumi.<stack>.yaml, or ${setCommand(key, at)}` : setCommand(key, at);
}
