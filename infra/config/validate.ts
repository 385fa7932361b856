// Validation of the whole stack configuration at once: the schema's problems, the rules across keys
// (cross-checks.ts) and secrets stored in plain text, all reported in ONE error (problems.ts).
import type { z } from "zod";
import { crossProblems } from "./cross-checks.js";
import { pathText, type ValuePath } from "./display.js";
import { rmPathCommand, setCommand, setFix } from "./fix-commands.js";
import { ConfigError, type Problem } from "./problems.js";
import { PROJECT, RawSettings, SECRET_KEYS, SETTING_KEYS, SettingsSchema } from "./schema.js";
import type { PublicSettings, SecretSettings } from "./schema.js";

export { ConfigError, type Problem } from "./problems.js";

function schemaProblems(raw: RawSettings): Problem[] {
  const r = SettingsSchema.safeParse(raw);
  if (r.success) return [];
  const out: Problem[] = [];
  for (const issue of r.error.issues) {
    if (issue.code === "unrecognized_keys") {
      out.push(...unknownKeyProblems(issue));
      continue;
    }
    const key = String(issue.path[0] ?? "");
    const path = issue.path.slice(1) as ValuePath;
    const message = raw[key] === undefined ? "is required" : issue.message;
    // A bad map label is not fixed by setting its value: the fix then starts the map afresh.
    out.push({
      key,
      ...(path.length > 0 ? { path } : {}),
      message,
      fix: setFix(key, issue.code === "invalid_key" ? [] : path),
    });
  }
  return out;
}

/** Keys the schema does not know: a setting's (with the name it may have meant) or a field's in a list entry. */
function unknownKeyProblems(issue: z.core.$ZodIssueUnrecognizedKeys): Problem[] {
  if (issue.path.length > 0) {
    // A field inside a list entry (checkpoints[0].size): the setting is the list, the item is where.
    const key = String(issue.path[0]);
    const path = issue.path.slice(1) as ValuePath;
    const fields = issue.keys.join(", ");
    return [
      {
        key,
        path,
        message: `has no field ${fields}`,
        fix: issue.keys.map((f) => rmPathCommand(key, [...path, f])).join(", then "),
      },
    ];
  }
  return issue.keys.map((key) => {
    const near = SETTING_KEYS.find((k) => k.toLowerCase() === key.toLowerCase().replace(/[-_]/g, ""));
    const hint = near ? `; did you mean ${near}?` : ' (see README "Settings" for the names)';
    return {
      key,
      message: `is not a setting of this program${hint}`,
      fix: `pulumi config rm <ns>:${key}${near ? `, then ${setCommand(near)}` : ""}`,
    };
  });
}

/** Secrets must be stored encrypted; the checkpoints list must not be (its token is the secret). */
function storageProblems(raw: RawSettings, isStoredSecret: (key: string) => boolean): Problem[] {
  const out: Problem[] = [];
  for (const k of SECRET_KEYS)
    if (raw[k] !== undefined && !isStoredSecret(k))
      out.push({
        key: k,
        message: "is stored in plain text in the stack file",
        fix: `pulumi config set --secret <ns>:${k} <value> (it is encrypted then)`,
      });
  // The list reaches the placement script (and so the state) in plain text; only the token is secret.
  if (raw.checkpoints !== undefined && isStoredSecret("checkpoints"))
    out.push({
      key: "checkpoints",
      message:
        "holds a value stored with --secret; the list is not secret (its sources and hashes are stored in plain text)",
      fix: "set the entries without --secret; put a token in checkpointToken (pulumi config set --secret <ns>:checkpointToken <token>) and set useToken: true on the entry",
    });
  return out;
}

/** Each problem once: two rules may find the same thing at the same place. */
function unique(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.key}${pathText(p.path ?? [])}\n${p.message}`;
    return seen.has(id) ? false : (seen.add(id), true);
  });
}

/**
 * Validates raw settings. `isStoredSecret(key)` says whether Pulumi holds the key encrypted: a
 * password stored in plain text in the stack file is refused. `stack`: the stack's name, when known
 * (the names of the objects the program would make derive from it).
 */
export function validateSettings(
  raw: RawSettings,
  isStoredSecret: (key: string) => boolean,
  stack?: string,
): { settings: PublicSettings; secrets: SecretSettings } {
  const problems = unique([
    ...schemaProblems(raw),
    ...crossProblems(raw, stack),
    ...storageProblems(raw, isStoredSecret),
  ]);
  if (problems.length > 0) throw new ConfigError(problems, PROJECT, raw, isStoredSecret);
  const all = SettingsSchema.parse(raw);
  const { apiPassword, uiPassword, sshPrivateKey, checkpointToken, kubeconfig, tlsCertificate, tlsKey, ...settings } =
    all;
  return {
    settings,
    secrets: { apiPassword, uiPassword, sshPrivateKey, checkpointToken, kubeconfig, tlsCertificate, tlsKey },
  };
}
