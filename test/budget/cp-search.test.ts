/**
 * The CP budget search without a fit per candidate (candidates.ts, cp.ts init 'slice',
 * budget-fits.ts): every CP candidate's error is the slice model's, an upper bound — the slice
 * start with no ALS reaches it exactly, and ALS from it only goes lower — and the time left of
 * --budget-seconds is shared among the CP layers in proportion to their size.
 */
import { describe, expect, it } from 'vitest';
import { conv, graph, input } from '../onnx/helpers.js';
import { budgetCandidates } from '../../src/convert/budget-plan.js';
import { shareFitSeconds } from '../../src/convert/budget-fits.js';
import { cp3, cp4 } from '../../src/decompose/cp.js';

const g = graph(
  [
    input('x', [8, 10, 10]),
    conv('a', 'x', { cin: 8, cout: 12, k: [3, 3], padding: 'same', activation: 'relu', seed: 1 }),
    conv('b', 'a', { cin: 12, cout: 16, k: [3, 3], padding: 'same', seed: 2 }),
  ],
  ['b'],
);

describe('CP budget candidates', () => {
  const bc = budgetCandidates(g, { methods: ['cp', 'cp4'], minInChannels: 0 });

  it('carry an upper bound that the slice start reaches with no ALS, and ALS only lowers', () => {
    for (const l of bc.layers) {
      for (const c of l.candidates.filter((x) => x.method !== 'keep').filter((_, i) => i % 5 === 0)) {
        expect(c.errorKind).toBe('bound');
        const fit = c.method === 'cp' ? cp3 : cp4;
        const start = fit(l.conv.kernel, { rank: c.rank, init: 'slice', maxSeconds: 0 });
        expect(start.iterations).toBe(0);
        expect(start.kernelRelError ** 2).toBeCloseTo(c.error, 6);
        const refined = fit(l.conv.kernel, { rank: c.rank, init: 'slice', nIterMax: 10 });
        expect(refined.kernelRelError ** 2).toBeLessThanOrEqual(c.error + 1e-9);
      }
    }
  });

  it('errors fall as the rank grows', () => {
    for (const l of bc.layers) {
      for (const m of ['cp', 'cp4'] as const) {
        const errs = l.candidates.filter((c) => c.method === m).sort((x, y) => x.rank - y.rank).map((c) => c.error);
        for (let i = 1; i < errs.length; i++) expect(errs[i]).toBeLessThanOrEqual(errs[i - 1] + 1e-12);
      }
    }
  });

  it('share the fit time among CP layers in proportion to N·C·kh·kw·R', () => {
    const plan = { a: { method: 'cp' as const, rank: 10 }, b: { method: 'cp' as const, rank: 20 } };
    const s = shareFitSeconds(bc.layers, plan, 30);
    const wa = 12 * 8 * 9 * 10;
    const wb = 16 * 12 * 9 * 20;
    expect(s.get('a')).toBeCloseTo((30 * wa) / (wa + wb), 9);
    expect((s.get('a') as number) + (s.get('b') as number)).toBeCloseTo(30, 9);
    expect(shareFitSeconds(bc.layers, { a: { method: 'nd', rank: 2 } }, 30).size).toBe(0);
  });
});
