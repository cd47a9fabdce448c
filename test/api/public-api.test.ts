/**
 * The notebooks (and notebooks/show.ts) import the library only through its public entry, and that
 * entry exports every name they import. Checked independently of tslab, on the built dist/: the
 * import lines are parsed from the notebooks' own JSON, values are looked up in the loaded module,
 * types in the entry's declaration file through the TypeScript compiler. A removed or renamed export
 * fails here before the slow notebook run does. Needs `npm run build` first (as the CLI tests do).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NOTEBOOKS = join(ROOT, 'notebooks');
const ENTRY = '../dist/src/index.js';

interface NamedImport {
  file: string;
  from: string;
  name: string;
  typeOnly: boolean;
}

/** The TypeScript source a notebook runs: its code cells, in order. */
function notebookSource(file: string): string {
  const nb = JSON.parse(readFileSync(file, 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
  return nb.cells
    .filter((c) => c.cell_type === 'code')
    .map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source))
    .join('\n');
}

/** Every `import { … } from '…'` (multi-line and `import type` included) naming a project file. */
function projectImports(file: string, source: string): NamedImport[] {
  const out: NamedImport[] = [];
  for (const m of source.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    const from = m[3];
    if (!from.includes('dist/')) continue;
    for (const part of m[2].split(',').map((p) => p.trim()).filter(Boolean)) {
      const typeOnly = Boolean(m[1]) || part.startsWith('type ');
      const name = part.replace(/^type\s+/, '').split(/\s+as\s+/)[0].trim();
      out.push({ file, from, name, typeOnly });
    }
  }
  return out;
}

function allImports(): NamedImport[] {
  const files = readdirSync(NOTEBOOKS).filter((f) => f.endsWith('.ipynb')).map((f) => join(NOTEBOOKS, f));
  const show = join(NOTEBOOKS, 'show.ts');
  return [
    ...files.flatMap((f) => projectImports(f, notebookSource(f))),
    ...projectImports(show, readFileSync(show, 'utf8')),
  ];
}

/** Names (values and types) the built entry's declaration file exports, per the TypeScript checker. */
function declaredExports(): Set<string> {
  const dts = join(ROOT, 'dist/src/index.d.ts');
  const program = ts.createProgram([dts], { noEmit: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(dts);
  if (!file) throw new Error(`netdecouple: ${dts} not found: run npm run build first`);
  const symbol = checker.getSymbolAtLocation(file);
  if (!symbol) throw new Error(`netdecouple: ${dts} is not a module`);
  return new Set(checker.getExportsOfModule(symbol).map((s) => s.getName()));
}

describe('public API', () => {
  const imports = allImports();

  it('finds the notebooks\' imports (the parser is not silently matching nothing)', () => {
    const files = new Set(imports.map((i) => i.file));
    const notebooks = readdirSync(NOTEBOOKS).filter((f) => f.endsWith('.ipynb'));
    expect(notebooks.length).toBeGreaterThan(0);
    expect(files.size).toBe(notebooks.length + 1); // every notebook and show.ts import the library
    expect(imports.some((i) => i.typeOnly)).toBe(true);
  });

  it('the notebooks import the library only through its public entry', () => {
    const deep = imports.filter((i) => i.from !== ENTRY).map((i) => `${i.file}: ${i.name} from ${i.from}`);
    expect(deep).toEqual([]);
  });

  it('the public entry is what package.json exports', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string; exports: { '.': { default: string; types: string } } };
    const built = ENTRY.replace(/^\.\.\//, '');
    expect(pkg.main).toBe(built);
    expect(pkg.exports['.'].default).toBe(`./${built}`);
    expect(pkg.exports['.'].types).toBe(`./${built.replace(/\.js$/, '.d.ts')}`);
  });

  it('every value the notebooks import exists in the built entry', async () => {
    const entry = (await import(pathToFileURL(join(ROOT, 'dist/src/index.js')).href)) as Record<string, unknown>;
    const missing = imports.filter((i) => !i.typeOnly && entry[i.name] === undefined).map((i) => i.name);
    expect(missing).toEqual([]);
  });

  it('every type the notebooks import is declared by the built entry', () => {
    const declared = declaredExports();
    const missing = imports.filter((i) => !declared.has(i.name)).map((i) => i.name);
    expect(missing).toEqual([]);
  });
});
