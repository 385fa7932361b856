// npm run shape [-- --detail] [-- --layers FILE.json]: the code's shape in figures: files and functions
// over a size, lines over 120 characters, blocks of 6 and of 3 lines written more than once, and the
// import graph of the production code (files, imports, circles, imports up the layers of
// tools/architecture.ts or across folders of one layer; FILE.json: [[prefix, layer], …] for another tree).
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { functionsOf, importGraph, LAYERS, sourceFiles } from "./architecture.js";

const { values } = parseArgs({
  options: { detail: { type: "boolean" }, layers: { type: "string" }, repo: { type: "string" } },
});
const repo = resolve(values.repo ?? join(__dirname, ".."));
const layers = values.layers ? (JSON.parse(readFileSync(values.layers, "utf8")) as [string, number][]) : LAYERS;

const files = sourceFiles(repo, true);
const texts = new Map(files.map((f) => [f, readFileSync(join(repo, f), "utf8")]));
const isTest = (f: string) => f.startsWith("test/");

const longLines = [...texts.values()].flatMap((t) => t.split("\n").filter((l) => l.length > 120));
const bigFiles = files.filter((f) => texts.get(f)!.split("\n").length > 300);
const functions = files.flatMap((f) => functionsOf(f, texts.get(f)!).map((fn) => ({ ...fn, file: f })));
const over80 = functions.filter((fn) => fn.lines > 80);
const over60 = functions.filter((fn) => fn.lines > 60 && !isTest(fn.file));

/** Blocks of `size` significant lines (no blank, comment, import or lone-punctuation line) that stand in more than one place. */
function repeatedBlocks(size: number): number {
  const seen = new Map<string, number>();
  for (const text of texts.values()) {
    const lines = text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !/^(\/\/|\/\*|\*|import\b)/.test(l) && !/^[\s{}()[\];,]*$/.test(l));
    for (let i = 0; i + size <= lines.length; i++) {
      const key = lines.slice(i, i + size).join("\n");
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  return [...seen.values()].filter((n) => n > 1).length;
}

const graph = importGraph(repo, layers);
const figures = {
  files: {
    typescript: files.length,
    production: files.filter((f) => !isTest(f)).length,
    lines: [...texts.values()].reduce((n, t) => n + t.split("\n").length, 0),
  },
  filesOver300Lines: bigFiles.length,
  functionsOver80Lines: { all: over80.length, production: over80.filter((fn) => !isTest(fn.file)).length },
  productionFunctionsOver60Lines: over60.length,
  linesOver120: longLines.length,
  longestLine: Math.max(...longLines.map((l) => l.length), 0),
  repeatedBlocks: { sixLines: repeatedBlocks(6), threeLines: repeatedBlocks(3) },
  importGraph: {
    files: graph.files.length,
    imports: [...graph.edges.values()].reduce((n, e) => n + e.length, 0),
    circles: graph.circles.length,
    upward: graph.upward.length,
    across: graph.across.length,
    unlayered: graph.unlayered.length,
  },
};
console.log(JSON.stringify(figures, null, 1));
if (values.detail) {
  const fn = (f: { file: string; line: number; name: string; lines: number }) =>
    `${f.file}:${f.line} ${f.name} (${f.lines} lines)`;
  console.log({
    bigFiles,
    over80: over80.map(fn),
    productionOver60: over60.map(fn),
    circles: graph.circles,
    upward: graph.upward,
    across: graph.across,
    unlayered: graph.unlayered,
  });
}
