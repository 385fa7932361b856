// How the WebUI's argparse parser reads a list of tokens: which flag each token is, which value it takes,
// and every reading that makes the parser exit (print its help, or an error) instead of starting the
// WebUI. Only what argparse decides from the flag table is modelled here; which flags the program
// allows is extra-args.ts's concern.
import { FlagSpec, resolveFlag, WEBUI_FLAGS } from "./flag-table.js";

/** One flag as the parser takes it. `flag` is undefined for a flag the table does not know (an extension's). */
export interface FlagUse {
  /** The token as written, `=value` cut off. */
  given: string;
  flag?: string;
  /** The value it takes (`--flag=v` or the next token); undefined for a flag that takes none. */
  value?: string;
}

export interface ArgvReading {
  uses: FlagUse[];
  /** Why the parser would exit before the WebUI starts, one line per cause, the one argparse meets first first. */
  exits: string[];
}

/**
 * argparse meets a cause of exit at one of three times: while it classifies every token (an ambiguous
 * abbreviation), while it takes the options in order (help, a missing or bad value), or at the end (a
 * token nothing took). The first one met decides whether the WebUI prints its help or an error.
 */
interface Exits {
  scan: string[];
  now: string[];
  late: string[];
}

// argparse reads "-5" and "-.5" as values, not options, while no option looks like a negative number.
const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;
/** Whether argparse takes the token for an option (else it is a value). */
const looksLikeOption = (t: string): boolean => t.startsWith("-") && t !== "-" && !NEGATIVE_NUMBER.test(t);

/** Python's int(): optional sign, digits with single underscores between them. */
const PYTHON_INT = /^[+-]?\d+(_\d+)*$/;

/** Python's json.loads, for the texts a token can hold (it also takes NaN and the infinities). */
function pythonJson(v: string): boolean {
  if (["NaN", "Infinity", "-Infinity"].includes(v)) return true;
  try {
    JSON.parse(v);
    return true;
  } catch {
    return false;
  }
}

/** Why argparse refuses `value` for a flag of this kind, or "". */
function valueProblem(name: string, spec: FlagSpec, value: string): string {
  if (spec.kind === "int" && !PYTHON_INT.test(value)) return `${name} takes a whole number, not "${value}"`;
  // Not echoed: JSON options may hold credentials (--ngrok-options).
  if (spec.kind === "json" && !pythonJson(value)) return `${name} takes JSON text, and its value is not`;
  if (spec.kind === "choice" && !spec.choices!.includes(value))
    return `${name} takes one of ${spec.choices!.join(", ")}, not "${value}"`;
  return "";
}

const HELP = "prints the WebUI's help text and exits instead of starting it";

/** A single-dash token: argparse reads it as a cluster of one-letter options; only -f and -h exist. */
function readShort(token: string, uses: FlagUse[], exits: Exits): void {
  if (/^-[fh]+$/.test(token)) {
    if (token.includes("h")) exits.now.push(`${token} ${HELP}`);
    else uses.push({ given: token, flag: "-f" });
    return;
  }
  // A cluster that starts with a known letter fails as argparse takes it; any other is left over to the end.
  (/^-[fh]/.test(token) ? exits.now : exits.late).push(
    `${token} is not an option of the WebUI (its only single-dash options are -h and -f, which take no value); its parser exits on it`,
  );
}

/** How the WebUI's parser reads `tokens` (the flags after the program's own, which are complete). */
export function readArgv(tokens: readonly string[]): ArgvReading {
  const uses: FlagUse[] = [];
  const exits: Exits = { scan: [], now: [], late: [] };
  let afterUnknown = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === "--") {
      exits.late.push('"--" makes every later token an argument, and the WebUI takes none: its parser exits');
      break;
    }
    if (!looksLikeOption(token)) {
      // After a flag the table does not know, a value may be that flag's own.
      if (!afterUnknown)
        exits.late.push(
          `${token} follows no flag that takes a value; the WebUI's parser exits on it as an unrecognized argument`,
        );
      continue;
    }
    afterUnknown = false;
    if (!token.startsWith("--")) {
      readShort(token, uses, exits);
      continue;
    }
    const eq = token.indexOf("=");
    const given = eq >= 0 ? token.slice(0, eq) : token;
    const r = resolveFlag(token);
    if ("ambiguous" in r) {
      exits.scan.push(
        `${given} is an abbreviation of several WebUI flags (${r.ambiguous.join(", ")}), which stops the WebUI at start-up; write the flag in full`,
      );
      continue;
    }
    if ("unknown" in r) {
      uses.push({ given, ...(eq >= 0 ? { value: token.slice(eq + 1) } : {}) });
      afterUnknown = eq < 0;
      continue;
    }
    const spec = WEBUI_FLAGS[r.flag]!;
    const name = given === r.flag ? given : `${given} (${r.flag})`;
    if (spec.kind === "help" || spec.kind === "bool") {
      if (eq >= 0)
        exits.now.push(`${name} takes no value, and the WebUI's parser exits on "${token}"; write ${given} alone`);
      else if (spec.kind === "help") exits.now.push(`${name} ${HELP}`);
      else uses.push({ given, flag: r.flag });
      continue;
    }
    const values = eq >= 0 ? [token.slice(eq + 1)] : [];
    if (eq < 0)
      while (i + 1 < tokens.length && tokens[i + 1] !== "--" && !looksLikeOption(tokens[i + 1]!)) {
        values.push(tokens[++i]!);
        if (spec.kind !== "list") break;
      }
    if (values.length === 0) {
      const next = tokens[i + 1];
      exits.now.push(
        `${name} takes a value, but ${next === undefined ? "it is the last token" : `the next token, ${next}, is an option`}: the WebUI's parser exits; write ${given}=<value>`,
      );
      continue;
    }
    for (const v of values) {
      const problem = valueProblem(name, spec, v);
      if (problem) exits.now.push(`${problem}: the WebUI's parser exits on it`);
    }
    uses.push({ given, flag: r.flag, value: values.join(" ") });
  }
  return { uses, exits: [...exits.scan, ...exits.now, ...exits.late] };
}
