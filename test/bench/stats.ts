// Small helpers shared by the benchmark sections: medians, timers, and the section result shape.

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The q-th percentile (0-100) by nearest rank: a value that occurred. */
export function percentile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((q / 100) * s.length) - 1))]!;
}

export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Wall time of fn in milliseconds (high-resolution clock). */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

export interface Target {
  /** What the target says, e.g. "overhead < max(10% of bare, 100 ms)". */
  text: string;
  /** null when the target cannot be judged (informational figure). */
  met: boolean | null;
}

export interface Section {
  id: string;
  title: string;
  status: "ok" | "skipped" | "error";
  /** Why the section was skipped or failed. */
  reason?: string;
  runs?: number;
  target?: Target;
  /** The figures: plain numbers / small objects, medians unless named otherwise. */
  figures?: Record<string, unknown>;
  /** One Markdown table (header row first) for the summary. */
  table?: string[][];
  notes?: string[];
  wallMs?: number;
}

export class Skip extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "Skip";
  }
}
