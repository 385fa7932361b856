// What one run of the builder shares: the cache layout and versions (read once, from package-lock.json),
// the manifest the previous run wrote (read before this run overwrites it: it says what is cached), and
// the clock behind every progress line.
import { readManifest, toolchainLayout } from "./layout.js";

export const layout = toolchainLayout();
export const { versions } = layout;
export const started = Date.now();
export const previous = readManifest(layout);

/** Minutes and seconds since `since`, as 1m05s. */
export const elapsed = (since: number) => {
  const s = Math.round((Date.now() - since) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
};

/** A progress line, stamped with the time since the run started. */
export const say = (line: string) => console.log(`toolchain [${elapsed(started)}] ${line}`);

/** Whole seconds since `since`: a piece's build time. */
export const secondsSince = (since: number) => Math.round((Date.now() - since) / 1000);
