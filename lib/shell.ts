// POSIX shell quoting for the few places where a value must reach a shell script. Values are
// validated at their own boundary first; quoting is the second fence, never the only one.

/** The characters a host path handed to a script may hold: none that a shell or a mount spec acts on. */
export const SAFE_PATH_CHARS = /^[A-Za-z0-9_.@+/-]+$/;

/** The shell boundary's own check of a path the settings validated already: absolute, safe, no "..". */
export function assertSafeAbsolutePath(path: string, what: string): void {
  if (!path.startsWith("/") || !SAFE_PATH_CHARS.test(path) || path.split("/").includes(".."))
    throw new Error(`${what}: "${path}" is not a safe absolute path`);
}

/** Quote one word for a POSIX shell: single quotes, with embedded single quotes closed and escaped. */
export function shellQuote(word: string): string {
  if (word.includes("\0")) throw new Error("shellQuote: a NUL byte cannot be passed to a shell");
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quote every word and join them into one command line. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}
