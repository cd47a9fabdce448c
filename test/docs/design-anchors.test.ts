/**
 * Comments and docs cite sections of docs/design.md by anchor (`docs/design.md#timing`); every
 * cited anchor must be a heading of that page (GitHub's anchor rule: lower case, punctuation
 * dropped, spaces to hyphens), so renaming a section cannot leave citations pointing nowhere.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'results' ? [] : files(path);
    return /\.(ts|md|ipynb)$/.test(name) ? [path] : [];
  });
}

function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, '').replace(/\s/g, '-');
}

describe('docs/design.md anchors', () => {
  const page = readFileSync(join(ROOT, 'docs/design.md'), 'utf8');
  const anchors = new Set([...page.matchAll(/^#{1,4} (.+)$/gm)].map((m) => anchorOf(m[1])));

  it('computes anchors the way GitHub does', () => {
    expect(anchorOf('Rank rules: energy and VBMF')).toBe('rank-rules-energy-and-vbmf');
    expect(anchorOf('Tucker-2')).toBe('tucker-2');
  });

  it('every section cited from the code and the docs exists', () => {
    const cited: string[] = [];
    for (const dir of ['src', 'cli', 'bench', 'scripts', 'notebooks', 'docs']) {
      for (const f of files(join(ROOT, dir))) {
        const text = readFileSync(f, 'utf8');
        for (const m of text.matchAll(/design\.md#([\w-]+)/g)) cited.push(`${f.slice(ROOT.length + 1)} → ${m[1]}`);
        // Links inside design.md itself: (#anchor).
        if (f.endsWith('design.md')) for (const m of text.matchAll(/\]\(#([\w-]+)\)/g)) cited.push(`${f.slice(ROOT.length + 1)} → ${m[1]}`);
      }
    }
    expect(cited.length).toBeGreaterThan(10);
    expect(cited.filter((c) => !anchors.has(c.split(' → ')[1]))).toEqual([]);
  });
});
