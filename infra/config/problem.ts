// One problem of a stack's configuration, as every check reports it, and how a check gathers its problems.
// Apart from the config error (problems.ts), which reads the schema: the schema's own modules report problems too.
import type { ValuePath } from "./display.js";

export interface Problem {
  key: string;
  /** Where in the key's value the problem is (a list item, a field); absent: the whole value. */
  path?: ValuePath;
  message: string;
  fix: string;
}

export type Add = (key: string, message: string, fix: string) => void;

/** The problems a check adds, in the order it adds them. */
export function collect(fn: (add: Add) => void): Problem[] {
  const out: Problem[] = [];
  fn((key, message, fix) => out.push({ key, message, fix }));
  return out;
}
