/**
 * The budget DP (src/convert/budget.ts) against brute force on problems where the single-swap
 * polish cannot rescue a wrong DP: five layers, six candidates, errors from a small integer set so
 * that many plans tie. With integer costs and one bucket per unit of cost the quantisation is
 * exact, so the solver must return the least error and, among the plans with that error, the
 * cheapest (a plan that spends MACs for nothing is a slower model at the same accuracy). With the
 * default buckets the rounding may cost a little: never more than the brute-force optimum for a
 * budget L buckets smaller.
 */
import { describe, expect, it } from 'vitest';
import { solveBudget } from '../../src/convert/budget.js';
import type { Candidate, LayerCandidates } from '../../src/convert/candidates.js';
import { mulberry32 } from '../../src/decompose/random.js';
import type { Conv2DNode } from '../../src/models/ir.js';

interface Problem {
  layers: LayerCandidates[];
  fixed: number;
  totalBefore: number;
}

function randomProblem(rand: () => number, integerErrors: boolean): Problem {
  const layers: LayerCandidates[] = [];
  for (let l = 0; l < 5; l++) {
    const before = 50 + Math.floor(rand() * 200);
    const candidates: Candidate[] = [{ method: 'keep', rank: 0, macs: before, error: 0, errorKind: 'exact' }];
    for (let c = 0; c < 5; c++) {
      const error = integerErrors ? 1 + Math.floor(rand() * 3) : rand();
      candidates.push({ method: 'nd', rank: c + 1, macs: 1 + Math.floor(rand() * (before - 1)), error, errorKind: 'exact' });
    }
    layers.push({ name: `l${l}`, conv: {} as Conv2DNode, geometry: { hIn: 1, wIn: 1, hOut: 1, wOut: 1 }, macsBefore: before, candidates });
  }
  const fixed = Math.floor(rand() * 50);
  return { layers, fixed, totalBefore: fixed + layers.reduce((a, l) => a + l.macsBefore, 0) };
}

/** Every plan within `budget`: the least error, and the least cost among plans with that error. */
function bruteForce(p: Problem, budget: number): { error: number; cost: number } {
  let best = { error: Infinity, cost: Infinity };
  const walk = (li: number, cost: number, error: number) => {
    if (cost > budget) return;
    if (li === p.layers.length) {
      if (error < best.error || (error === best.error && cost < best.cost)) best = { error, cost };
      return;
    }
    for (const c of p.layers[li].candidates) walk(li + 1, cost + c.macs, error + c.error);
  };
  walk(0, 0, 0);
  return best;
}

describe('the budget DP against brute force', () => {
  it('exact quantisation: least error, then least cost, on tie-heavy problems', () => {
    const rand = mulberry32(7);
    let solved = 0;
    for (let trial = 0; trial < 300; trial++) {
      const p = randomProblem(rand, true);
      // An integer budget B for the candidate layers: S = totalBefore / (fixed + B).
      const sum = p.layers.reduce((a, l) => a + l.macsBefore, 0);
      const B = Math.floor(sum * (0.3 + 0.6 * rand()));
      const S = p.totalBefore / (p.fixed + B);
      // Brute force at B itself: the solver's budget is B up to the rounding of S, which it accepts
      // (relative 1e-12), so a plan costing exactly B fits both; one bucket per unit of cost.
      const want = bruteForce(p, B);
      if (want.error === Infinity) continue;
      const r = solveBudget({ layers: p.layers, totalBefore: p.totalBefore, fixedCost: p.fixed }, { targetSpeedup: S, buckets: B });
      expect(r.totalError, `trial ${trial}`).toBe(want.error);
      expect(r.totalAfter - p.fixed, `trial ${trial}`).toBe(want.cost);
      // The reported figures are the chosen candidates' sums (independent recount).
      expect(r.totalError).toBe(r.choices.reduce((a, c) => a + c.candidate.error, 0));
      expect(r.achievedSpeedup).toBeCloseTo(p.totalBefore / (p.fixed + r.choices.reduce((a, c) => a + c.candidate.macs, 0)), 12);
      expect(r.choices.map((c) => c.costBefore)).toEqual(p.layers.map((l) => l.macsBefore));
      solved++;
    }
    expect(solved).toBeGreaterThan(40);
  });

  it('default buckets: within budget, never worse than the optimum L buckets below it', () => {
    const rand = mulberry32(11);
    for (let trial = 0; trial < 40; trial++) {
      const p = randomProblem(rand, false);
      const S = 1.2 + rand() * 1.5;
      const budget = p.totalBefore / S - p.fixed;
      const buckets = 200;
      const slack = bruteForce(p, budget - (p.layers.length * budget) / buckets);
      let r;
      try {
        r = solveBudget({ layers: p.layers, totalBefore: p.totalBefore, fixedCost: p.fixed }, { targetSpeedup: S, buckets });
      } catch (e) {
        // Only when not even the cheapest plan fits.
        expect(bruteForce(p, budget).error, `trial ${trial}`).toBe(Infinity);
        expect(String(e)).toMatch(/out of reach/);
        continue;
      }
      expect(r.totalAfter - p.fixed, `trial ${trial}`).toBeLessThanOrEqual(budget * (1 + 1e-12));
      expect(r.totalError, `trial ${trial}`).toBeLessThanOrEqual(slack.error + 1e-12);
      expect(r.totalError).toBeGreaterThanOrEqual(bruteForce(p, budget).error - 1e-12);
    }
  });

  // Guards against a missing or wrong polish: with a handful of buckets the DP keeps one path per
  // bucket and loses plans; the returned plan must still fit and admit no single-layer swap to a
  // lower-error candidate that fits (integer costs, so swaps landing exactly on the budget occur).
  // 300 trials: only a few need a second polish pass or a swap that relies on the spend updated by
  // the first, so fewer let a one-pass polish or a wrong running spend through.
  it('coarse buckets: within budget, and no single-layer swap lowers the error and still fits', () => {
    const rand = mulberry32(23);
    let swapsChecked = 0;
    for (let trial = 0; trial < 300; trial++) {
      const p = randomProblem(rand, false);
      const sum = p.layers.reduce((a, l) => a + l.macsBefore, 0);
      const B = Math.floor(sum * (0.3 + 0.6 * rand()));
      const S = p.totalBefore / (p.fixed + B);
      let r;
      try {
        r = solveBudget({ layers: p.layers, totalBefore: p.totalBefore, fixedCost: p.fixed }, { targetSpeedup: S, buckets: 2 + (trial % 5) });
      } catch {
        continue;
      }
      const spent = r.choices.reduce((a, c) => a + c.candidate.macs, 0);
      expect(spent, `trial ${trial}`).toBeLessThanOrEqual(B);
      for (const [li, ch] of r.choices.entries()) {
        for (const alt of p.layers[li].candidates) {
          if (alt.error < ch.candidate.error) {
            swapsChecked++;
            expect(spent - ch.candidate.macs + alt.macs, `trial ${trial}, layer ${li}`).toBeGreaterThan(B);
          }
        }
      }
    }
    expect(swapsChecked).toBeGreaterThan(50);
  });

  // Guards against a tie-break that keeps the dearer of two equal-error plans in one bucket: with
  // one bucket both candidates quantise to cost 0, and only the exact cost can tell them apart.
  it('of two equal-error candidates in one bucket, keeps the cheaper, in either order', () => {
    for (const costs of [[12, 10], [10, 12]]) {
      const candidates: Candidate[] = [{ method: 'keep', rank: 0, macs: 100, error: 0, errorKind: 'exact' }, ...costs.map((macs, i) => ({ method: 'nd' as const, rank: i + 1, macs, error: 1, errorKind: 'exact' as const }))];
      const layers: LayerCandidates[] = [{ name: 'a', conv: {} as Conv2DNode, geometry: { hIn: 1, wIn: 1, hOut: 1, wOut: 1 }, macsBefore: 100, candidates }];
      const r = solveBudget({ layers, totalBefore: 100, fixedCost: 0 }, { targetSpeedup: 5, buckets: 1 });
      expect(r.totalAfter, `costs ${costs}`).toBe(10);
      expect(r.achievedSpeedup).toBe(10);
    }
  });

  it('budget by latency uses each candidate\'s measured ms, and a missing one is an error naming it', () => {
    const layer = (name: string, ms: number[]): LayerCandidates => ({
      name, conv: {} as Conv2DNode, geometry: { hIn: 1, wIn: 1, hOut: 1, wOut: 1 }, macsBefore: 100, msBefore: ms[0],
      candidates: ms.map((t, i) => ({ method: i === 0 ? ('keep' as const) : ('nd' as const), rank: i, macs: 100 - 10 * i, ms: t, error: i === 0 ? 0 : 1 / i, errorKind: 'exact' as const })),
    });
    // MACs say rank 1 is the cheapest; the measured times say rank 3 is.
    const layers = [layer('a', [10, 8, 6, 4])];
    const r = solveBudget({ layers, totalBefore: 12, fixedCost: 2 }, { targetSpeedup: 2, by: 'latency' });
    expect(r.by).toBe('latency');
    // Budget 12/2 − 2 = 4 ms: only rank 3 (4 ms) fits.
    expect(r.choices[0].candidate.rank).toBe(3);
    expect(r.totalAfter).toBe(6);
    expect(r.choices[0].costBefore).toBe(10);
    const noTime = [{ ...layers[0], candidates: layers[0].candidates.map((c, i) => (i === 2 ? { ...c, ms: undefined } : c)) }];
    expect(() => solveBudget({ layers: noTime, totalBefore: 12, fixedCost: 2 }, { targetSpeedup: 1.5, by: 'latency' })).toThrow(/budget by latency: candidate nd rank 2 has no measured time/);
    expect(() => solveBudget({ layers: [{ ...layers[0], candidates: [] }], totalBefore: 12, fixedCost: 2 }, { targetSpeedup: 1.5 })).toThrow(/layer "a": no candidate/);
    expect(() => solveBudget({ layers, totalBefore: 12, fixedCost: 2 }, { targetSpeedup: 3, by: 'latency' })).toThrow(/--target-speedup 3: out of reach — .* gives 2\.00× \(2\.00 ms outside/);
  });
});
