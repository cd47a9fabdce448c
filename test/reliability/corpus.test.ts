/**
 * The reliability corpus (cases.ts) through one runner: every case in a fresh folder of its own,
 * checked by harness.ts. In-process cases run one after another (they switch this process's cwd);
 * real-process cases run alongside, one at a time, so the two cores stay busy and no more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAIN } from '../helpers/cli.js';
import { CASES } from './cases.js';
import { buildBase, freshWork } from './fixtures.js';
import { checkCase, runInProcess, runSpawned, snapshot, type Case, type RunResult, type Work } from './harness.js';

let root: string;
let base: string;
const results = new Map<string, Promise<{ w: Work; r: RunResult; before: Map<string, string>; caseRoot: string }>>();
const startedAt = performance.now();
const removals: Promise<void>[] = [];

async function run(c: Case, i: number) {
  const caseRoot = path.join(root, 'cases', `case-${i}`);
  const w = freshWork(base, caseRoot);
  c.setup?.(w);
  const before = snapshot(caseRoot);
  const args = typeof c.args === 'function' ? c.args(w) : c.args;
  const r = c.spawn ? await runSpawned(args, w) : await runInProcess(args, w);
  return { w, r, before, caseRoot };
}

beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npm run build; npm test does it)`);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'netdecouple-corpus-'));
  base = path.join(root, 'base');
  await buildBase(base);
  // Start everything now: spawned cases on one lane, in-process cases in order on this thread.
  const spawned = CASES.map((c, i) => [c, i] as const).filter(([c]) => c.spawn);
  let chain = Promise.resolve() as Promise<unknown>;
  for (const [c, i] of spawned) {
    const p = chain.then(() => run(c, i));
    chain = p.catch(() => {});
    results.set(c.name, p);
  }
  let local = Promise.resolve() as Promise<unknown>;
  for (const [i, c] of CASES.entries()) {
    if (c.spawn) continue;
    const p = local.then(() => run(c, i));
    local = p.catch(() => {});
    results.set(c.name, p);
  }
});
afterAll(async () => {
  await Promise.all(removals);
  if (process.env.NETDECOUPLE_CORPUS_TIMES) process.stdout.write(`afterAll at ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`);
  if (root) fs.rmSync(root, { recursive: true, force: true });
  if (process.env.NETDECOUPLE_CORPUS_TIMES) process.stdout.write(`removed at ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`);
});

describe('reliability corpus', () => {
  it('has at least 150 cases with distinct names', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const { w, r, before, caseRoot } = await (results.get(c.name) as ReturnType<typeof run>);
      try {
        checkCase(c, w, r, before, caseRoot);
        c.check?.(w, r);
      } finally {
        // Off the main thread, while the next cases run (thousands of small files: slow on some disks).
        removals.push(fs.promises.rm(caseRoot, { recursive: true, force: true }));
      }
    });
  }

  it('figures', async () => {
    const all = await Promise.all([...results.values()]);
    const named = [...results.keys()].map((k, i) => ({ name: k, ...all[i] }));
    const worst = named.filter((x) => CASES.find((c) => c.name === x.name)?.spawn).sort((a, b) => b.r.maxRss - a.r.maxRss)[0];
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    if (process.env.NETDECOUPLE_CORPUS_TIMES) for (const [n, x] of [...results.keys()].map((k, i) => [k, all[i]] as const).sort((a, b) => b[1].r.ms - a[1].r.ms).slice(0, 15)) process.stdout.write(`${x.r.ms.toFixed(0)} ms ${n}\n`);
    process.stdout.write(`reliability corpus: ${CASES.length} cases; peak RSS of the worst separate process ${mib(worst.r.maxRss)} (${worst.name}); this process (all in-process cases) ${mib(process.resourceUsage().maxRSS * 1024)}; ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`);
  });
});
