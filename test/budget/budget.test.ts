/**
 * The global speed budget (src/convert/budget*.ts):
 *   - on VGG16's conv stack (13 convs, 224², seeded weights) it reaches 2×, 3× and 4× fewer MACs
 *     within the README's 0.3 % (and never short of the target);
 *   - at the MACs of every uniform-rank choice its total kernel error Σ relErr² is ≤ the uniform's;
 *   - convertGraph executes the plan: the converted graph has the planned MACs and errors;
 *   - the DP matches brute force on small random problems, more methods never cost error, and an
 *     unreachable target is a clear error.
 */
import { describe, expect, it } from 'vitest';
import { vggConvStack } from './vgg-ir.js';
import { budgetCandidates, budgetReport, planByMacs, toPlan } from '../../src/convert/budget-plan.js';
import { solveBudget, type BudgetProblem } from '../../src/convert/budget.js';
import type { Candidate, LayerCandidates } from '../../src/convert/candidates.js';
import { convertGraph } from '../../src/convert/convert.js';
import { graphCosts, totalCost } from '../../src/models/cost.js';
import { mulberry32 } from '../../src/decompose/random.js';
import type { Conv2DNode } from '../../src/models/ir.js';

const vgg = vggConvStack();
const nd = budgetCandidates(vgg, { methods: ['nd'] });
const problem = (bc = nd): BudgetProblem => ({ layers: bc.layers, totalBefore: bc.macsBefore, fixedCost: bc.fixedMacs });

describe('VGG16-shaped network, ND candidates', () => {
  it('has the 13 convs and 15.35 G MACs; the RGB conv stays out of the candidates', () => {
    expect(nd.macsBefore).toBe(15_346_630_656);
    expect(nd.layers.map((l) => l.name)).not.toContain('block1_conv1');
    expect(nd.layers).toHaveLength(12);
  });

  for (const S of [2, 3, 4]) {
    // Guards against a solver that overshoots the target (the README promises 0.3 %; 2 % let a DP
    // that stops at a coarse grid pass).
    it(`reaches ${S}× fewer MACs within 0.3 %`, () => {
      const r = solveBudget(problem(), { targetSpeedup: S });
      expect(r.achievedSpeedup).toBeGreaterThanOrEqual(S);
      expect(r.achievedSpeedup / S - 1).toBeLessThanOrEqual(0.003);
      expect(r.totalAfter).toBe(nd.fixedMacs + r.choices.reduce((a, c) => a + c.candidate.macs, 0));
    });
  }

  it('at equal MACs its total kernel error is ≤ every uniform-rank choice (T = 1…4)', () => {
    for (let T = 1; T <= 4; T++) {
      const uniform = nd.layers.map((l) => l.candidates.find((c) => c.method === 'nd' && c.rank === T) as Candidate);
      const macs = nd.fixedMacs + uniform.reduce((a, c) => a + c.macs, 0);
      const error = uniform.reduce((a, c) => a + c.error, 0);
      const r = solveBudget(problem(), { targetSpeedup: nd.macsBefore / macs });
      expect(r.totalAfter, `T=${T}`).toBeLessThanOrEqual(macs);
      expect(r.totalError, `T=${T}`).toBeLessThanOrEqual(error);
    }
  });

  it('convertGraph executes the plan: planned MACs and kernel errors are what the conversion gets', () => {
    const { result, plan, report } = planByMacs(vgg, { methods: ['nd'], targetSpeedup: 3 });
    const conv = convertGraph(vgg, { plan });
    expect(totalCost(graphCosts(conv.graph)).macs).toBe(report.macs.after);
    expect(report.macs.speedup).toBeCloseTo(result.achievedSpeedup, 10);
    const planned = new Map(report.layers.map((l) => [l.name, l]));
    for (const l of conv.layers) {
      expect(l.rankRule).toBe('budget');
      expect(l.rank).toBe(planned.get(l.name)?.rank);
      expect(Math.abs(l.kernelRelError - (planned.get(l.name)?.kernelRelError as number))).toBeLessThan(1e-4);
    }
    const keptByPlan = report.layers.filter((l) => l.method === 'keep').map((l) => l.name);
    for (const k of keptByPlan) expect(conv.kept.find((x) => x.name === k)?.reason).toMatch(/budget keeps it regular/);
    expect(conv.options.method).toBe('budget');
  });

  it('an unreachable target is an error that says what is reachable', () => {
    expect(() => solveBudget(problem(), { targetSpeedup: 50 })).toThrow(/out of reach .* gives \d+\.\d+×/);
    expect(() => solveBudget(problem(), { targetSpeedup: 0.5 })).toThrow(/must be a number ≥ 1/);
  });
});

describe('more methods, a narrower VGG (channels ÷ 8, 64²)', () => {
  const small = vggConvStack({ widthDivisor: 8, resolution: 64, seed: 100 });
  const one = budgetCandidates(small, { methods: ['nd'] });
  const two = budgetCandidates(small, { methods: ['nd', 'spatial', 'tucker2'] });

  it('more candidate methods never give more error at the same target', () => {
    for (const S of [1.5, 2, 3]) {
      const a = solveBudget(problem(one), { targetSpeedup: S });
      const b = solveBudget(problem(two), { targetSpeedup: S });
      expect(b.totalError, `S=${S}`).toBeLessThanOrEqual(a.totalError + 1e-12);
      expect(b.achievedSpeedup).toBeGreaterThanOrEqual(S);
    }
  });

  it('a mixed plan converts, and the report names each layer\'s method', () => {
    const r = solveBudget(problem(two), { targetSpeedup: 2.5 });
    const report = budgetReport(two, r);
    const conv = convertGraph(small, { plan: toPlan(r) });
    expect(totalCost(graphCosts(conv.graph)).macs).toBe(report.macs.after);
    for (const l of conv.layers) {
      const p = report.layers.find((x) => x.name === l.name);
      expect(l.method).toBe(p?.method);
      // Tucker-2 candidates carry the HOSVD bound; HOOI only does better.
      if (p?.errorKind === 'bound') expect(l.kernelRelError).toBeLessThanOrEqual(p.kernelRelError + 1e-6);
      else expect(Math.abs(l.kernelRelError - (p?.kernelRelError as number))).toBeLessThan(1e-4);
    }
  });
});

describe('the DP solver', () => {
  it('finds the brute-force optimum on small random problems', () => {
    const rand = mulberry32(42);
    for (let trial = 0; trial < 40; trial++) {
      const L = 2 + Math.floor(rand() * 3);
      const layers: LayerCandidates[] = [];
      for (let l = 0; l < L; l++) {
        const before = 100 + Math.floor(rand() * 900);
        const candidates: Candidate[] = [{ method: 'keep', rank: 0, macs: before, error: 0, errorKind: 'exact' }];
        for (let c = 0; c < 4; c++) candidates.push({ method: 'nd', rank: c + 1, macs: Math.floor(rand() * before), error: rand(), errorKind: 'exact' });
        layers.push({ name: `l${l}`, conv: {} as Conv2DNode, geometry: { hIn: 1, wIn: 1, hOut: 1, wOut: 1 }, macsBefore: before, candidates });
      }
      const fixed = Math.floor(rand() * 100);
      const totalBefore = fixed + layers.reduce((a, l) => a + l.macsBefore, 0);
      const S = 1 + rand() * 1.5;
      const budget = totalBefore / S - fixed;
      // Brute force over every combination.
      let best = Infinity;
      const walk = (li: number, cost: number, err: number) => {
        if (cost > budget) return;
        if (li === L) {
          best = Math.min(best, err);
          return;
        }
        for (const c of layers[li].candidates) walk(li + 1, cost + c.macs, err + c.error);
      };
      walk(0, 0, 0);
      if (best === Infinity) {
        expect(() => solveBudget({ layers, totalBefore, fixedCost: fixed }, { targetSpeedup: S })).toThrow(/out of reach|no plan fits/);
        continue;
      }
      const r = solveBudget({ layers, totalBefore, fixedCost: fixed }, { targetSpeedup: S });
      expect(r.totalAfter).toBeLessThanOrEqual(totalBefore / S + 1e-9);
      expect(r.totalError).toBeCloseTo(best, 12);
    }
  });

  it('budgets by measured latency when candidates carry times', () => {
    const layers: LayerCandidates[] = [0, 1].map((l) => ({
      name: `l${l}`, conv: {} as Conv2DNode, geometry: { hIn: 1, wIn: 1, hOut: 1, wOut: 1 }, macsBefore: 1000, msBefore: 10,
      candidates: [
        { method: 'keep', rank: 0, macs: 1000, ms: 10, error: 0, errorKind: 'exact' },
        // Fewer MACs but no faster (the runtime's slow path): a MAC budget would take it, a latency budget must not.
        { method: 'nd', rank: 1, macs: 100, ms: 10, error: 0.1, errorKind: 'exact' },
        { method: 'nd', rank: 2, macs: 600, ms: 4, error: 0.2, errorKind: 'exact' },
      ],
    }));
    const r = solveBudget({ layers, totalBefore: 22, fixedCost: 2 }, { targetSpeedup: 1.3, by: 'latency' });
    expect(r.by).toBe('latency');
    expect(r.totalAfter).toBeLessThanOrEqual(22 / 1.3);
    expect(r.choices.map((c) => c.candidate.rank).sort()).toEqual([0, 2]);
    expect(r.achievedSpeedup).toBeCloseTo(22 / 16, 12);
  });
});
