// A command-line tool's flags as one table: each flag's zod schema (its type, default and rule), its
// value placeholder and its help line. From the table come the parseArgs options (node:util does the
// parsing), the usage text, the typed and validated values, and the errors for missing, conflicting
// and dependent flags. The three CLIs (smoke, firewall, ci:stack) each declare one table.
import { parseArgs } from "node:util";
import { z } from "zod";

export interface FlagDef<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** Placeholder of the value (`URL`); none for an on/off flag. */
  arg?: string;
  /** The flag may be given several times; its values form a list. */
  multiple?: boolean;
  short?: string;
  help: string;
}

export interface CliTable<F extends Record<string, FlagDef>> {
  /** The usage line's command part, e.g. `npm run smoke --`. */
  prog: string;
  /** Positional commands (exactly one is required when given), with their help. */
  commands?: Record<string, string>;
  /** The rest of the usage line, e.g. `--url <api> … [options]`. */
  synopsis: string;
  flags: F;
  /** Pairs of flags that exclude each other. */
  conflicts?: [keyof F & string, keyof F & string][];
  /** [flag, needs]: the first is only valid together with the second. */
  requires?: [keyof F & string, keyof F & string][];
  /** Lines after the flags. */
  notes?: string[];
}

/** A bad command line: the message names the flag (never its value) and ends with the usage text. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliUsageError";
  }
}

export type TableValues<F extends Record<string, FlagDef>> = z.infer<z.ZodObject<{ [K in keyof F]: F[K]["schema"] }>>;

/** A table, with its flag names checked in `conflicts` and `requires`. */
export function cliTable<F extends Record<string, FlagDef>>(t: CliTable<F>): CliTable<F> {
  return t;
}

/** One flag: a zod schema plus how it is written and explained. */
export function flag<S extends z.ZodType>(schema: S, o: Omit<FlagDef<S>, "schema">): FlagDef<S> {
  return { schema, ...o };
}

/** The schema of all flags: what the values are checked with, and where their types come from. */
export function tableSchema<F extends Record<string, FlagDef>>(t: CliTable<F>) {
  return z.object(
    Object.fromEntries(Object.entries(t.flags).map(([k, f]) => [k, f.schema])) as { [K in keyof F]: F[K]["schema"] },
  );
}

function defaultOf(f: FlagDef): string | undefined {
  const r = f.schema.safeParse(undefined);
  if (!r.success || r.data === undefined || r.data === false || (Array.isArray(r.data) && r.data.length === 0))
    return undefined;
  return String(r.data);
}

export function usageText<F extends Record<string, FlagDef>>(t: CliTable<F>): string {
  const lines = [`usage: ${t.prog} ${t.synopsis}`];
  for (const [name, help] of Object.entries(t.commands ?? {})) lines.push(`  ${name.padEnd(10)}${help}`);
  if (t.commands) lines.push("flags:");
  for (const [name, f] of Object.entries(t.flags)) {
    const left = `  --${name}${f.arg ? ` ${f.arg}` : ""}`;
    const def = defaultOf(f);
    lines.push(
      `${left.padEnd(Math.max(34, left.length + 2))}${f.help}${f.multiple ? " (repeatable)" : ""}${def === undefined ? "" : ` (default ${def})`}`,
    );
  }
  return [...lines, ...(t.notes ?? [])].join("\n");
}

/**
 * Parse argv with the table: the values checked by each flag's schema, and the command when the table has
 * commands. `help: true` when -h/--help was given (then nothing else is checked).
 */
export function parseTable<F extends Record<string, FlagDef>>(
  t: CliTable<F>,
  argv: string[],
): { help: true } | { help: false; command?: string; values: TableValues<F> } {
  const usage = usageText(t);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const options = Object.fromEntries([
      ...Object.entries(t.flags).map(([k, f]) => [
        k,
        {
          type: f.arg ? ("string" as const) : ("boolean" as const),
          ...(f.multiple ? { multiple: true } : {}),
          ...(f.short ? { short: f.short } : {}),
        },
      ]),
      ["help", { type: "boolean" as const, short: "h" }],
    ]);
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: t.commands !== undefined });
  } catch (e) {
    // parseArgs quotes the offending argument; drop any "=value" part so no value is echoed.
    throw new CliUsageError(`${(e as Error).message.replace(/'(--?[^'=]*)=[^']*'/g, "'$1=…'")}\n${usage}`);
  }
  if (parsed.values.help) return { help: true };
  let command: string | undefined;
  if (t.commands) {
    const names = Object.keys(t.commands);
    command = parsed.positionals[0];
    if (!command || !names.includes(command) || parsed.positionals.length > 1)
      throw new CliUsageError(
        `${command ? `unknown command "${parsed.positionals.join(" ")}"` : "no command given"}: expected one of ${names.join(", ")}\n${usage}`,
      );
  }
  const given = (k: string) => parsed.values[k] !== undefined;
  for (const [a, b] of t.conflicts ?? [])
    if (given(a) && given(b)) throw new CliUsageError(`give --${a} or --${b}, not both\n${usage}`);
  for (const [a, b] of t.requires ?? [])
    if (given(a) && !given(b)) throw new CliUsageError(`--${a} needs --${b}\n${usage}`);
  const r = tableSchema(t).safeParse(parsed.values);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => {
      const [k, index] = i.path;
      const value = parsed.values[String(k)];
      const which = Array.isArray(value) && typeof index === "number" ? ` (item ${index + 1})` : "";
      return parsed.values[String(k)] === undefined
        ? `--${String(k)} is required`
        : `--${String(k)}${which}: ${i.message}`;
    });
    throw new CliUsageError(`${msgs.join("; ")}\n${usage}`);
  }
  return { help: false, command, values: r.data as TableValues<F> };
}
