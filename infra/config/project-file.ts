// Pulumi.yaml's `config:` block, generated from the settings schema so that the project file, the
// validation and the README never disagree. `npm run config:schema` rewrites the block in place.
import { z } from "zod";
import { SECRET_KEYS, SettingsSchema } from "./schema.js";

interface JsonProp {
  type?: string;
  default?: unknown;
  description?: string;
  items?: { type?: string };
}

export interface ConfigDeclaration {
  type: "string" | "integer" | "boolean" | "array" | "object";
  description: string;
  default?: unknown;
  secret?: true;
  items?: { type: "string" | "object" };
}

/** Every setting, as the README's table lists it. */
export function settingDeclarations(): Record<string, ConfigDeclaration> {
  const js = z.toJSONSchema(SettingsSchema, { io: "output", unrepresentable: "any" }) as {
    properties: Record<string, JsonProp>;
  };
  const out: Record<string, ConfigDeclaration> = {};
  for (const [key, p] of Object.entries(js.properties)) {
    const type = p.type as ConfigDeclaration["type"];
    if (!["string", "integer", "boolean", "array", "object"].includes(type))
      throw new Error(`setting ${key}: type ${p.type} cannot be declared in Pulumi.yaml`);
    const decl: ConfigDeclaration = { type, description: p.description ?? "" };
    if (type === "array") decl.items = { type: p.items?.type === "object" ? "object" : "string" };
    if (p.default !== undefined) decl.default = p.default;
    if ((SECRET_KEYS as readonly string[]).includes(key)) decl.secret = true;
    out[key] = decl;
  }
  return out;
}

/**
 * Pulumi.yaml's `config:` block: only the settings with a default. The CLI treats a declared key
 * without a default as required and refuses to run a stack that lacks it, so optional settings and
 * the password (whose absence the program's own single config error reports) are left undeclared.
 * So are lists of objects (checkpoints) and maps (nodeSelector): the CLI would check them as lists of
 * strings and refuse them, and it has no map type.
 */
export function projectConfigBlock(): Record<string, ConfigDeclaration> {
  return Object.fromEntries(
    Object.entries(settingDeclarations()).filter(
      ([, d]) => d.default !== undefined && d.items?.type !== "object" && d.type !== "object",
    ),
  );
}

/** The README's settings table, from the same declarations. */
export function settingsMarkdownTable(): string {
  const rows = Object.entries(settingDeclarations()).map(([key, d]) => {
    const def = d.default === undefined ? (d.secret ? "(secret)" : "—") : `\`${JSON.stringify(d.default)}\``;
    const type = d.items?.type === "object" ? "list of objects" : d.type === "object" ? "map" : d.type;
    return `| \`${key}\` | ${type}${d.secret ? ", secret" : ""} | ${def} | ${d.description.replaceAll("|", "\\|")} |`;
  });
  return ["| setting | type | default | what it does |", "|---|---|---|---|", ...rows].join("\n");
}
