// Generated blocks of the READMEs: text between `<!-- NAME:start (npm run SCRIPT) -->` and
// `<!-- NAME:end -->` is written from code, and a unit test fails when a README drifts from it.
const blockStart = (name: string, script: string) => `<!-- ${name}:start (npm run ${script}) -->`;
const blockEnd = (name: string) => `<!-- ${name}:end -->`;

/** `text` with the block's body replaced; throws when the markers are missing. */
export function replaceBlock(text: string, name: string, script: string, body: string, file = "the file"): string {
  const [start, end] = [blockStart(name, script), blockEnd(name)];
  const [before, rest] = text.split(start);
  const after = rest?.split(end)[1];
  if (before === undefined || after === undefined) throw new Error(`${file} lacks the ${start} ... ${end} markers`);
  return `${before}${start}\n${body}\n${end}${after}`;
}

/** The block's current body, or undefined when the markers are missing. */
export function blockBody(text: string, name: string, script: string): string | undefined {
  const rest = text.split(blockStart(name, script))[1];
  return rest?.split(blockEnd(name))[0]?.replace(/^\n/, "").replace(/\n$/, "");
}
