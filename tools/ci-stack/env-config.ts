// Stack settings from environment variables: SDWEBUI_<SETTING> -> sdwebui:<setting> (e.g.
// SDWEBUI_HOST_PORT -> sdwebui:hostPort). Pure. The values are checked by the program's own
// validateSettings BEFORE Pulumi is touched, so a bad environment fails with one error listing every
// problem, phrased in environment-variable terms. Secrets are marked secret and never shown.
import { settingDeclarations, type ConfigDeclaration } from "../../infra/config/project-file.js";
import { PROJECT, SECRET_KEYS, SETTING_KEYS, type RawSettings } from "../../infra/config/schema.js";
import type { PublicSettings } from "../../infra/config/schema.js";
import { ConfigError, validateSettings, type Problem } from "../../infra/config/validate.js";
import { pathText, shownValue } from "../../infra/config/display.js";
import { settingShape } from "../../infra/config/fix-commands.js";
import { TOOLCHAIN_DIR_ENV } from "../toolchain/layout.js";

const ENV_PREFIX = "SDWEBUI_";
/** Variables of the CI tool itself (stack naming); never a program setting. */
export const TOOL_PREFIX = "SDWEBUI_CI_";
/** Variables of the project's other tools that share the prefix; never a program setting either. */
const OTHER_TOOL_VARIABLES: readonly string[] = [TOOLCHAIN_DIR_ENV];

type Env = Record<string, string | undefined>;
export type SettingKind = ConfigDeclaration["type"];

/** hostPort -> SDWEBUI_HOST_PORT, profileFlagsEnvVar -> SDWEBUI_PROFILE_FLAGS_ENV_VAR. */
export function envVarFor(key: string): string {
  return ENV_PREFIX + key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

const DECLS = settingDeclarations();
const SECRETS = new Set<string>(SECRET_KEYS);

export interface EnvSetting {
  env: string;
  key: string;
  kind: SettingKind;
  secret: boolean;
}

/** Every setting with its variable, in the schema's order. */
export const ENV_SETTINGS: EnvSetting[] = SETTING_KEYS.map((key) => ({
  env: envVarFor(key),
  key,
  kind: DECLS[key]!.type,
  secret: SECRETS.has(key),
}));
const BY_ENV = new Map(ENV_SETTINGS.map((s) => [s.env, s]));

/**
 * One setting as `pulumi config set-all --json` takes it (the form `pulumi config --json` prints): lists and
 * maps as whole JSON values, so every item keeps the type it was validated with (a --path item "60" or
 * "true" would be stored as a number or a boolean).
 */
export interface ConfigValue {
  /** What the program reads: the text of a scalar, the JSON text of a list or map. */
  value: string;
  objectValue?: unknown;
  secret: boolean;
}
/** The stack's config, keyed `sdwebui:<setting>`. */
export type ConfigDocument = Record<string, ConfigValue>;

export interface EnvConfig {
  settings: PublicSettings;
  /** Exactly what is stored, and what the settings were validated from. */
  document: ConfigDocument;
  /** The values of the secret settings, so callers can scrub them from any text they print. */
  secretValues: string[];
  /** Human summary, secrets shown as [secret]. */
  summary: string[];
}

/** A map (nodeSelector): a JSON object of string values. */
function parseObjectMap(text: string): { value: Record<string, string> } | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `is not valid JSON (${(e as Error).message}); write a JSON object like {"label": "value"}` };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string"))
    return { error: 'must be a JSON object of strings, e.g. {"nvidia.com/gpu.present": "true"}' };
  return { value: v as Record<string, string> };
}

/** A list of objects (checkpoints): a JSON array of objects only; the program's schema checks the fields. */
function parseObjectList(text: string): Record<string, unknown>[] | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text.trim());
  } catch (e) {
    return {
      error: `is not valid JSON (${(e as Error).message}); write a JSON list of objects like [{"source":"https://…","sha256":"…"}]`,
    };
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== "object" || x === null || Array.isArray(x)))
    return { error: 'must be a JSON list of objects, e.g. [{"source":"https://…","sha256":"…"}]' };
  return v as Record<string, unknown>[];
}

/** A list: a JSON array of strings, or words separated by white space / new lines. */
export function parseList(text: string): string[] | { error: string } {
  const t = text.trim();
  if (t.startsWith("[")) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      return {
        error: `is not valid JSON (${(e as Error).message}); write a JSON list like ["a","b"], or the items separated by spaces`,
      };
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
      return { error: 'must be a JSON list of strings, e.g. ["a","b"]' };
    return v as string[];
  }
  return t.split(/\s+/).filter((w) => w !== "");
}

const BOOLEAN_WORDS: Record<string, string> = {
  true: "true",
  false: "false",
  "1": "true",
  "0": "false",
  yes: "true",
  no: "false",
};

/** Raw settings from the environment, plus problems only the environment can have. Empty = unset. */
export function readEnvSettings(env: Env): { raw: RawSettings; problems: Problem[] } {
  const raw: RawSettings = {};
  const problems: Problem[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (
      !name.startsWith(ENV_PREFIX) ||
      name.startsWith(TOOL_PREFIX) ||
      OTHER_TOOL_VARIABLES.includes(name) ||
      value === undefined ||
      value === ""
    )
      continue;
    const s = BY_ENV.get(name);
    if (!s) {
      const near = ENV_SETTINGS.find((x) => x.env.replace(/_/g, "") === name.replace(/_/g, ""));
      problems.push({
        key: `env:${name}`,
        message: `is not a setting of this program${near ? `; did you mean ${near.env}?` : " (see tools/ci-stack/README.md for the names)"}`,
        fix: near ? `rename it to ${near.env}` : `unset ${name}`,
      });
      continue;
    }
    if (s.kind === "array") {
      const list = DECLS[s.key]!.items?.type === "object" ? parseObjectList(value) : parseList(value);
      if ("error" in list) problems.push({ key: s.key, message: list.error, fix: `set ${s.env} to a list` });
      else raw[s.key] = list;
    } else if (s.kind === "object") {
      const map = parseObjectMap(value);
      if ("error" in map) problems.push({ key: s.key, message: map.error, fix: `set ${s.env} to a JSON object` });
      else raw[s.key] = map.value;
    } else if (s.kind === "boolean") {
      raw[s.key] = BOOLEAN_WORDS[value.trim().toLowerCase()] ?? value;
    } else raw[s.key] = s.kind === "integer" ? value.trim() : value;
  }
  return { raw, problems };
}

/** What to write in a list or map variable, e.g. SDWEBUI_HOSTS='["..."]'; `path` is the --path after the key. */
function envExample(key: string, path: string, item: string): string {
  const v = envVarFor(key);
  const x = item === "<value>" ? "..." : item;
  const shape = settingShape(key);
  if (shape === "map") return `a JSON object, e.g. ${v}='{"<label>":"${x}"}'`;
  const field = /\.(\w+|<field>)$/.exec(path)?.[1] ?? "<field>";
  if (shape === "objectList") return `a JSON list of objects, e.g. ${v}='[{"${field}":"${x}"}]'`;
  return `a list, e.g. ${v}='["${x}"]'`;
}

/** Rewrites the program's `pulumi config` fixes into what to do with the variables. */
export function envFix(fix: string): string {
  const v = (key: string) => envVarFor(key);
  return (
    fix
      .replace(/edit the (\w+) (list|map) in Pulumi\.<stack>\.yaml, or /g, "")
      // The item the problem names: corrected inside the variable's JSON.
      .replace(
        /^pulumi config set --path --type string '<ns>:(\w+)([^']+)' -- <value>$/g,
        (_m, k: string, at: string) => `correct ${k}${at} in ${v(k)}`,
      )
      // A value to write, or a list or map to start afresh: the variable, with an example of its JSON.
      .replace(
        /(?:pulumi config rm <ns>:\w+, then )?pulumi config set --path --type string '<ns>:(\w+)([^']*)' -- (\S+)(?: \(one command per [^)]*\))?/g,
        (_m, k: string, at: string, x: string) => `set ${v(k)} to ${envExample(k, at, x)}`,
      )
      .replace(
        /pulumi config rm --path '<ns>:(\w+)([^']*)'/g,
        (_m, k: string, at: string) => `remove ${k}${at} from ${v(k)}`,
      )
      .replace(/pulumi config rm <ns>:(\w+)/g, (_m, k: string) => `unset ${v(k)}`)
      .replace(
        /pulumi config set --secret <ns>:(\w+)(?: <value>| "[^"]*"| < \S+)?( \(it is encrypted then\))?/g,
        (_m, k: string) => `set ${v(k)} from a CI secret`,
      )
      .replace(/pulumi config set <ns>:(\w+) (\S+)/g, (_m, k: string, x: string) => `set ${v(k)}=${x}`)
      .replace(/<ns>:(\w+)/g, (_m, k: string) => v(k))
  );
}

/** As the program's config error shows a value: secrets, credential flags and URL credentials masked, controls escaped. */
const shown = (key: string, raw: RawSettings): string => shownValue(raw, key, SECRETS.has(key));

export class EnvConfigError extends Error {
  constructor(
    readonly problems: Problem[],
    raw: RawSettings,
  ) {
    const lines = [
      `${PROJECT}: the CI environment has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was deployed or changed.`,
    ];
    for (const p of problems) {
      const where = p.key.startsWith("env:")
        ? p.key.slice(4)
        : `${envVarFor(p.key)} (${PROJECT}:${p.key}${pathText(p.path ?? [])}) = ${shownValue(raw, p.key, SECRETS.has(p.key), p.path)}`;
      lines.push(`  - ${where}: ${p.message}`);
      lines.push(`      fix: ${envFix(p.fix)}`);
    }
    super(lines.join("\n"));
    this.name = "EnvConfigError";
  }
}

/** The config to store: scalars as text, lists and maps as JSON values whose items keep their types. */
export function configDocument(raw: RawSettings): ConfigDocument {
  const doc: ConfigDocument = {};
  for (const s of ENV_SETTINGS) {
    const v = raw[s.key];
    if (v === undefined) continue;
    doc[`${PROJECT}:${s.key}`] =
      typeof v === "object" && v !== null
        ? { value: JSON.stringify(v), objectValue: v, secret: s.secret }
        : { value: String(v), secret: s.secret };
  }
  return doc;
}

/** The settings as the program reads a stored document (pulumi.runtime.allConfig: text, JSON text for lists and maps). */
export function programView(doc: ConfigDocument): RawSettings {
  const prefix = `${PROJECT}:`;
  return Object.fromEntries(
    Object.entries(doc)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v.value]),
  );
}

/** Read, validate (the program's rules) and map the environment; throws EnvConfigError listing everything. */
export function envConfig(env: Env): EnvConfig {
  const { raw, problems } = readEnvSettings(env);
  const document = configDocument(raw);
  let settings: PublicSettings | undefined;
  try {
    // Validated as the program will read the stored document. Every secret is stored with secret: true,
    // so the "stored in plain text" check always passes.
    settings = validateSettings(programView(document), (k) => SECRETS.has(k)).settings;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  if (problems.length > 0 || !settings) throw new EnvConfigError(problems, raw);
  const secretValues = SECRET_KEYS.map((k) => raw[k]).filter((v): v is string => typeof v === "string" && v !== "");
  const summary = ENV_SETTINGS.filter((s) => s.key in raw).map(
    (s) => `${PROJECT}:${s.key} = ${shown(s.key, raw)}   (from ${s.env})`,
  );
  return { settings, document, secretValues, summary };
}

/** Replace every secret value in a text by [secret] (error messages of tools may echo arguments). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Also the JSON-escaped form: a value with quotes or backslashes may be echoed inside JSON.
  const forms = secrets.filter((x) => x.length > 0).flatMap((x) => [x, JSON.stringify(x).slice(1, -1)]);
  for (const s of [...new Set(forms)].sort((a, b) => b.length - a.length)) out = out.split(s).join("[secret]");
  return out;
}
