/**
 * From candidates to the plan and the report's `budget` field (budget-plan.ts): BatchNorms are
 * folded before the candidates are built unless asked not to (the kernels scale by γ/√(σ²+ε),
 * derived by hand), the whole network's and the fixed MACs are counted by hand, and a hand-made
 * solver result becomes the plan convertGraph() runs and a report whose every figure is traced to
 * the candidate it came from (ms only for a latency budget).
 */
import { describe, expect, it } from 'vitest';
import { budgetCandidates, budgetReport, toPlan } from '../../src/convert/budget-plan.js';
import { shareFitSeconds } from '../../src/convert/budget-fits.js';
import type { LayerCandidates } from '../../src/convert/candidates.js';
import type { BudgetResult } from '../../src/convert/budget.js';
import type { BatchNormNode, Conv2DNode, Graph } from '../../src/models/ir.js';
import { conv, graph, input } from '../onnx/helpers.js';

// x (3×6×6) → a: 3×3 conv 3 → 4 'same' → BN → b: 3×3 conv 4 → 5 'same' → c: 1×1 conv 5 → 2.
function net(): Graph {
  const bn: BatchNormNode = {
    op: 'batchNorm', name: 'bn', inputs: ['a'], axis: 1, epsilon: 0.25,
    gamma: new Float32Array([2, 1, 1, 3]), beta: new Float32Array(4), mean: new Float32Array(4), variance: new Float32Array([0.75, 3.75, 0, 8.75]),
  };
  return graph([
    input('x', [3, 6, 6]),
    conv('a', 'x', { cin: 3, cout: 4, k: [3, 3], padding: 'same', seed: 1 }),
    bn,
    conv('b', 'bn', { cin: 4, cout: 5, k: [3, 3], padding: 'same', seed: 2 }),
    conv('c', 'b', { cin: 5, cout: 2, k: [1, 1], seed: 3 }),
  ], ['c']);
}

describe('budgetCandidates', () => {
  it('folds BatchNorms first (conv a\'s output channels scale by γ/√(σ² + ε) = 2, 0.5, 2, 1) unless told not to', () => {
    const g = net();
    const a = g.nodes[1] as Conv2DNode;
    const folded = budgetCandidates(g, { minInChannels: 0 });
    expect(folded.graph.nodes.some((n) => n.op === 'batchNorm')).toBe(false);
    const fa = folded.layers.find((l) => l.name === 'a')?.conv as Conv2DNode;
    [2, 0.5, 2, 1].forEach((s, n) => {
      for (let k = 0; k < 27; k++) expect(fa.kernel.data[n * 27 + k]).toBeCloseTo(s * a.kernel.data[n * 27 + k], 5);
    });
    const kept = budgetCandidates(g, { minInChannels: 0, foldBatchNorm: false });
    expect(kept.graph.nodes.some((n) => n.op === 'batchNorm')).toBe(true);
    expect(kept.layers.find((l) => l.name === 'a')?.conv.kernel.data).toEqual(a.kernel.data);
  });

  it('counts the whole network\'s MACs and, as fixed, those of the layers it does not plan', () => {
    const bc = budgetCandidates(net(), { minInChannels: 0 });
    // a: 36·4·3·9, b: 36·5·4·9, c: 36·2·5 (a 1×1: planned only with `pointwise`).
    const [a, b, c] = [36 * 4 * 3 * 9, 36 * 5 * 4 * 9, 36 * 2 * 5];
    expect(bc.layers.map((l) => [l.name, l.macsBefore])).toEqual([['a', a], ['b', b]]);
    expect(bc.macsBefore).toBe(a + b + c);
    expect(bc.fixedMacs).toBe(c);
    const some = budgetCandidates(net(), { minInChannels: 3, pointwise: true });
    expect(some.layers.map((l) => l.name)).toEqual(['b', 'c']);
    expect(some.fixedMacs).toBe(a);
    expect(some.methods).toEqual(['nd']);
  });
});

describe('toPlan and budgetReport', () => {
  const bc = budgetCandidates(net(), { minInChannels: 0, methods: ['nd', 'spatial-nd'] });
  const pick = (name: string, method: string, rank: number) => {
    const c = bc.layers.find((l) => l.name === name)?.candidates.find((x) => x.method === method && (method === 'keep' || x.rank === rank));
    if (!c) throw new Error(`no ${method} ${rank} candidate for ${name}: ${bc.layers.map((l) => l.name)}`);
    return c;
  };
  const a = { ...pick('a', 'spatial-nd', 1), speedup: { ratio: 1.5, low: 1.25, high: 1.75 } };
  const b = { ...pick('b', 'nd', 2), order: 'pw-dw' as const, form: 'merged' as const };
  const keepB = pick('b', 'keep', 0);
  const result = (by: 'macs' | 'latency'): BudgetResult => ({
    by, targetSpeedup: 2, achievedSpeedup: 2.5, totalBefore: 8, totalAfter: 3, totalError: a.error,
    choices: [
      { name: 'a', candidate: a, costBefore: 3, costAfter: 1 },
      { name: 'b', candidate: b, costBefore: 5, costAfter: 2 },
    ],
  });

  it('turn each choice into the layer plan convertGraph runs', () => {
    expect(a.factorRank).toBeDefined();
    expect(toPlan(result('macs'))).toEqual({
      a: { method: 'spatial-nd', rank: a.rank, tuckerRanks: undefined, factorRank: a.factorRank },
      b: { method: 'nd', rank: 2, tuckerRanks: undefined, factorRank: undefined, order: 'pw-dw', form: 'merged' },
    });
    expect(toPlan({ ...result('macs'), choices: [{ name: 'b', candidate: keepB, costBefore: 5, costAfter: 5 }] })).toEqual({ b: { method: 'keep' } });
  });

  it('report each layer\'s choice, MACs, √error and the network totals; times only for a latency budget', () => {
    const r = budgetReport(bc, result('macs'));
    expect(r.unit).toBe('MACs');
    expect(r.methods).toEqual(['nd', 'spatial-nd']);
    const [ra, rb] = r.layers;
    expect(ra).toMatchObject({ name: 'a', method: 'spatial-nd', rank: a.rank, factorRank: a.factorRank, macsBefore: 36 * 4 * 3 * 9, macsAfter: a.macs, measuredSpeedup: 1.5, speedupInterval: [1.25, 1.75] });
    expect(ra.kernelRelError).toBeCloseTo(Math.sqrt(a.error), 12);
    expect(rb).toMatchObject({ name: 'b', method: 'nd', rank: 2, order: 'pw-dw', form: 'merged', macsAfter: b.macs, errorKind: 'exact' });
    for (const l of r.layers) {
      expect(l).not.toHaveProperty('msBefore');
      expect(l.candidates).toBe(bc.layers.find((x) => x.name === l.name)?.candidates.length);
    }
    expect(rb).not.toHaveProperty('factorRank');
    expect(rb).not.toHaveProperty('measuredSpeedup');
    expect(r.macs.after).toBe(a.macs + b.macs + 36 * 2 * 5);
    expect(r.macs.speedup).toBeCloseTo(bc.macsBefore / r.macs.after, 12);
    const lat = budgetReport(bc, result('latency'));
    expect(lat.unit).toBe('ms');
    expect(lat.layers.map((l) => [l.msBefore, l.msAfter])).toEqual([[3, 1], [5, 2]]);
    const kept = budgetReport(bc, { ...result('macs'), choices: [{ name: 'b', candidate: keepB, costBefore: 5, costAfter: 5 }] });
    expect(kept.layers[0]).toMatchObject({ name: 'b', method: 'keep', rank: null, macsAfter: 36 * 5 * 4 * 9, kernelRelError: 0 });
  });
});

describe('shareFitSeconds', () => {
  it('shares the seconds among CP and CP4 layers in proportion to N·C·kh·kw·R, skipping other and unplanned layers', () => {
    const layer = (name: string, cin: number, cout: number, k: [number, number]) => ({ name, conv: conv(name, 'x', { cin, cout, k, seed: 1 }) }) as unknown as LayerCandidates;
    const layers = [layer('p', 4, 6, [3, 5]), layer('q', 8, 2, [5, 1]), layer('r', 3, 3, [3, 3]), layer('s', 3, 3, [3, 3])];
    const s = shareFitSeconds(layers, { p: { method: 'cp4', rank: 7 }, q: { method: 'cp', rank: 3 }, r: { method: 'nd', rank: 2 } }, 12);
    const [wp, wq] = [6 * 4 * 3 * 5 * 7, 2 * 8 * 5 * 1 * 3];
    expect([...s.keys()]).toEqual(['p', 'q']);
    expect(s.get('p')).toBeCloseTo((12 * wp) / (wp + wq), 12);
    expect(s.get('q')).toBeCloseTo((12 * wq) / (wp + wq), 12);
  });
});
