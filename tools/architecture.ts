// The layers of the tree and the import graph of its production code. A file may import from its own
// folder and from lower layers only: the program (layer 6) sits on the targets, the targets on the shared
// launch parts, those on the settings, the settings on the WebUI's facts, the firewall rules and the proxy's
// configuration, those on the smoke library, and everything on lib. Tools sit apart, above the program.
// The architecture test holds the tree to this table; `npm run shape` reports the figures.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

/** Folder (or file) → layer. The longest matching prefix wins; folders of one layer do not import each other. */
export const LAYERS: readonly (readonly [string, number])[] = [
  ["lib/", 0],
  ["smoke/", 1],
  ["infra/webui/", 2],
  ["infra/firewall/", 2],
  ["infra/tls/", 2],
  ["infra/config/", 3],
  ["infra/common/", 4],
  ["infra/docker/", 5],
  ["infra/kubernetes/", 5],
  ["infra/", 6],
  ["tools/", 7],
];

/** Folders that hold no production code: tests, builds, dependencies. */
const NOT_PRODUCTION = new Set(["node_modules", "dist", ".git", ".pulumi-state", "test"]);

/** The TypeScript sources below `repo` (relative paths), tests included when `withTests`. */
export function sourceFiles(repo: string, withTests: boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repo, dir))) {
      const path = dir === "" ? entry : `${dir}/${entry}`;
      if (NOT_PRODUCTION.has(entry) && !(withTests && entry === "test" && dir === "")) continue;
      if (statSync(join(repo, path)).isDirectory()) walk(path);
      // Files at the top (eslint's configuration) are no part of the program or its tools.
      else if (dir === "") continue;
      else if (/\.(ts|mts|mjs)$/.test(entry) && !entry.endsWith(".d.ts")) out.push(path);
    }
  };
  walk("");
  return out.sort();
}

/** The relative imports of one file that name another production file (static, dynamic and `require`). */
function importsOf(repo: string, file: string, production: ReadonlySet<string>): string[] {
  const text = readFileSync(join(repo, file), "utf8");
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map(
    (m) => m[1]!,
  );
  const targets = specs.map((s) => relative(repo, resolve(repo, dirname(file), s)).replace(/\.js$/, ".ts"));
  return [...new Set(targets.filter((t) => production.has(t) && t !== file))];
}

export interface Layer {
  prefix: string;
  rank: number;
}

export function layerOf(file: string, layers: readonly (readonly [string, number])[] = LAYERS): Layer | undefined {
  const matches = layers.filter(([p]) => file === p || file.startsWith(p));
  const best = matches.sort((a, b) => b[0].length - a[0].length)[0];
  return best && { prefix: best[0], rank: best[1] };
}

export interface ImportGraph {
  files: string[];
  edges: Map<string, string[]>;
  /** Groups of files that import each other round a circle. */
  circles: string[][];
  /** Imports from a lower layer to a higher one: `from -> to`. */
  upward: string[];
  /** Imports between two folders of one layer (one target into the other, say). */
  across: string[];
  /** Production files no layer covers. */
  unlayered: string[];
}

export function importGraph(repo: string, layers: readonly (readonly [string, number])[] = LAYERS): ImportGraph {
  const files = sourceFiles(repo, false);
  const production = new Set(files);
  const edges = new Map(files.map((f) => [f, importsOf(repo, f, production)]));
  const upward: string[] = [];
  const across: string[] = [];
  for (const [from, tos] of edges)
    for (const to of tos) {
      const a = layerOf(from, layers);
      const b = layerOf(to, layers);
      if (a && b && b.rank > a.rank) upward.push(`${from} -> ${to}`);
      else if (a && b && b.rank === a.rank && a.prefix !== b.prefix) across.push(`${from} -> ${to}`);
    }
  const unlayered = files.filter((f) => !layerOf(f, layers));
  return { files, edges, circles: circlesOf(edges), upward, across, unlayered };
}

/** Tarjan's strongly connected components: each one of more than one file is an import circle. */
function circlesOf(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) circles.push(group.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return circles;
}

/** Functions (declarations, methods, arrows, expressions) of a file with their first line and length. */
export function functionsOf(file: string, text: string): { name: string; line: number; lines: number }[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: { name: string; line: number; lines: number }[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isFunctionLike(n) && "body" in n && n.body) {
      const start = sf.getLineAndCharacterOfPosition(n.getStart()).line;
      const end = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
      const named = (n as { name?: ts.Node }).name?.getText(sf);
      const holder = ts.isVariableDeclaration(n.parent) ? n.parent.name.getText(sf) : undefined;
      out.push({ name: named ?? holder ?? "(anonymous)", line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}
