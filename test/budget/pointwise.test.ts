/**
 * Low-rank 1×1 pairs: with `pointwise`, 1×1 convs become budget candidates whose only realisation
 * is the spatial method at kh = kw = 1 (C → K → N). At full rank K = min(C, N) the pair is exact
 * (Eckart–Young), checked by running both graphs in onnxruntime; below it, the error the budget
 * assumes is the discarded share of σ², which falls with K.
 */
import { describe, expect, it } from 'vitest';
import { conv, graph, input } from '../onnx/helpers.js';
import { budgetCandidates } from '../../src/convert/budget-plan.js';
import { convertGraph } from '../../src/convert/convert.js';
import { createRunner } from '../../src/eval/runner.js';
import { randomBatch } from '../../src/eval/latency.js';

const g = graph(
  [
    input('x', [16, 12, 12]),
    conv('k3', 'x', { cin: 16, cout: 24, k: [3, 3], padding: 'same', activation: 'relu', seed: 1 }),
    conv('p1', 'k3', { cin: 24, cout: 32, k: [1, 1], strides: [2, 2], padding: 'valid', seed: 2 }),
  ],
  ['p1'],
);

describe('low-rank 1×1 pairs', () => {
  it('are offered for 1×1 convs only with `pointwise`, and only as the spatial method', () => {
    const without = budgetCandidates(g, { methods: ['nd', 'spatial', 'tucker2'], minInChannels: 0 });
    expect(without.layers.map((l) => l.name)).toEqual(['k3']);
    const withPw = budgetCandidates(g, { methods: ['nd', 'spatial', 'tucker2'], minInChannels: 0, pointwise: true });
    const p1 = withPw.layers.find((l) => l.name === 'p1');
    expect(p1).toBeDefined();
    const methods = new Set(p1!.candidates.map((c) => c.method));
    expect([...methods].sort()).toEqual(['keep', 'spatial']);
    const errs = p1!.candidates.filter((c) => c.method === 'spatial').sort((a, b) => a.rank - b.rank).map((c) => c.error);
    for (let i = 1; i < errs.length; i++) expect(errs[i]).toBeLessThanOrEqual(errs[i - 1] + 1e-12);
  });

  it('reproduce the 1×1 conv exactly at full rank (onnxruntime)', async () => {
    const plan = { p1: { method: 'spatial' as const, rank: 24 } };
    const conv2 = convertGraph(g, { plan, pointwise: true, minInChannels: 0, keepUnprofitable: true });
    expect(conv2.layers.map((l) => l.name)).toEqual(['p1']);
    const runner = await createRunner('ort', 'NCHW', { threads: 1 });
    const x = randomBatch([16, 12, 12], 1, 3, [-1, 1]);
    const [a] = await runner.run(g, x);
    const [b] = await runner.run(conv2.graph, x);
    expect(b.shape).toEqual(a.shape);
    let num = 0;
    let den = 0;
    for (let i = 0; i < a.data.length; i++) {
      num += (a.data[i] - b.data[i]) ** 2;
      den += a.data[i] ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
  });
});
