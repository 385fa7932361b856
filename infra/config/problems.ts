// The single config error: every problem found is collected, then reported in ONE error that names each
// key, shows its value (never a secret's) and says how to fix it.
import { escapeControl, pathText, shownValue } from "./display.js";
import type { Problem } from "./problem.js";
import { SECRET_KEYS } from "./schema.js";
import type { RawSettings, SecretKey } from "./schema.js";

export { collect, type Add, type Problem } from "./problem.js";

export class ConfigError extends Error {
  readonly problems: Problem[];
  constructor(
    problems: Problem[],
    namespace: string,
    raw: RawSettings,
    isStoredSecret: (key: string) => boolean = () => false,
  ) {
    super(formatProblems(problems, namespace, raw, isStoredSecret));
    // Keys and messages may carry what the user wrote (an unknown key, a decoded file name): never raw to a terminal.
    this.problems = problems.map((p) => ({
      ...p,
      key: escapeControl(p.key),
      message: escapeControl(p.message),
      fix: escapeControl(p.fix),
    }));
    this.name = "ConfigError";
  }
}

const isSecretKey = (key: string): key is SecretKey => (SECRET_KEYS as readonly string[]).includes(key);

function formatProblems(
  problems: Problem[],
  ns: string,
  raw: RawSettings,
  isStoredSecret: (key: string) => boolean = () => false,
): string {
  const lines = [
    `${ns}: the stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was deployed or changed.`,
  ];
  for (const p of problems) {
    // Never a secret's value (by name, or stored encrypted under any key).
    const value = shownValue(raw, p.key, isSecretKey(p.key) || isStoredSecret(p.key), p.path);
    lines.push(`  - ${ns}:${escapeControl(p.key + pathText(p.path ?? []))} = ${value}: ${escapeControl(p.message)}`);
    lines.push(`      fix: ${escapeControl(p.fix.replaceAll("<ns>", ns))}`);
  }
  return lines.join("\n");
}
