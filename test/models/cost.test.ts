/**
 * The one MAC / parameter counter (src/models/cost.ts), on nodes small enough to count by hand:
 * conv = H_out·W_out·N·(C/groups)·kh·kw, dense = positions·in·out, everything else 0 MACs; stored
 * numbers vs learned parameters (BN running statistics are not learned); unknown sizes stay unknown.
 * Each case guards against a miscount a report would print (a dropped factor, groups ignored,
 * bias or BN statistics counted twice or not at all, an unknown size summed as 0).
 */
import { describe, expect, it } from 'vitest';
import { formatCount, graphCosts, learnedParams, nodeLearnedParams, nodeParams, totalCost } from '../../src/models/cost.js';
import type { BatchNormNode, Conv2DNode, DenseNode, Graph, Node } from '../../src/models/ir.js';

const f = (n: number) => new Float32Array(n);
const conv = (name: string, input: string, o: { c: number; n: number; k: [number, number]; groups?: number; bias?: boolean; strides?: [number, number] }): Conv2DNode => ({
  op: 'conv2d', name, inputs: [input], kernel: { shape: [o.n, o.c / (o.groups ?? 1), ...o.k], data: f((o.n * o.c * o.k[0] * o.k[1]) / (o.groups ?? 1)) },
  bias: o.bias === false ? null : f(o.n), strides: o.strides ?? [1, 1], dilations: [1, 1], padding: 'valid', groups: o.groups ?? 1, activation: 'linear',
});
const bn = (name: string, input: string, c: number, scale = true): BatchNormNode => ({
  op: 'batchNorm', name, inputs: [input], axis: -1, epsilon: 1e-3, gamma: scale ? f(c) : null, beta: scale ? f(c) : null, mean: f(c), variance: f(c),
});
const dense = (name: string, input: string, i: number, o: number, bias = true): DenseNode => ({ op: 'dense', name, inputs: [input], weight: { shape: [o, i], data: f(i * o) }, bias: bias ? f(o) : null, activation: 'linear' });

/** NHWC: 10×12×4 input → 3×3 conv 4→6 (valid: 8×10) → BN → depthwise 3×3 stride 2 (3×4) → flatten-free dense 6→5 per position. */
function net(h: number | null = 10): Graph {
  const nodes: Node[] = [
    { op: 'input', name: 'x', inputs: [], shape: [h, 12, 4], dtype: 'float32' },
    conv('c', 'x', { c: 4, n: 6, k: [3, 3] }),
    bn('bn', 'c', 6),
    conv('dw', 'bn', { c: 6, n: 6, k: [3, 3], groups: 6, bias: false, strides: [2, 2] }),
    dense('d', 'dw', 6, 5),
  ];
  return { name: 'n', layout: 'NHWC', nodes, inputs: ['x'], outputs: ['d'] };
}

describe('MACs', () => {
  it('conv H_out·W_out·N·(C/groups)·kh·kw, depthwise divides by groups, dense per position, the rest 0', () => {
    const costs = graphCosts(net());
    const macs = Object.fromEntries(costs.map((c) => [c.name, c.macs]));
    expect(macs).toEqual({ x: 0, c: 8 * 10 * 6 * 4 * 9, bn: 0, dw: 3 * 4 * 6 * 1 * 9, d: 3 * 4 * 6 * 5 });
    expect(totalCost(costs).macs).toBe(8 * 10 * 6 * 4 * 9 + 3 * 4 * 6 * 9 + 3 * 4 * 30);
  });

  it('an unknown spatial size is unknown (null), not 0, and stays unknown in the total; given sizes are used', () => {
    const costs = graphCosts(net(null));
    expect(costs.find((c) => c.name === 'c')?.macs).toBeNull();
    expect(costs.find((c) => c.name === 'd')?.macs).toBeNull(); // dense per position: positions unknown
    expect(totalCost(costs).macs).toBeNull();
    // An input size given by the caller (inspect --input-shape) fills the unknown H.
    expect(graphCosts(net(null), { x: [10, 12, 4] }).find((c) => c.name === 'c')?.macs).toBe(8 * 10 * 6 * 4 * 9);
  });

  it('NCHW reads H, W from axes 1, 2 of the per-example shape', () => {
    const g: Graph = { name: 'n', layout: 'NCHW', inputs: ['x'], outputs: ['c'], nodes: [{ op: 'input', name: 'x', inputs: [], shape: [4, 7, 9], dtype: 'float32' }, conv('c', 'x', { c: 4, n: 2, k: [3, 1] })] };
    expect(graphCosts(g)[1].macs).toBe(5 * 9 * 2 * 4 * 3);
  });
});

describe('parameters', () => {
  it('every stored number: kernel + bias, dense weight + bias, BN γ, β, μ, σ²', () => {
    expect(nodeParams(conv('c', 'x', { c: 4, n: 6, k: [3, 3] }))).toBe(6 * 4 * 9 + 6);
    expect(nodeParams(conv('c', 'x', { c: 4, n: 6, k: [3, 3], bias: false }))).toBe(6 * 4 * 9);
    expect(nodeParams(dense('d', 'x', 6, 5))).toBe(35);
    expect(nodeParams(dense('d', 'x', 6, 5, false))).toBe(30);
    expect(nodeParams(bn('b', 'x', 6))).toBe(24);
    expect(nodeParams(bn('b', 'x', 6, false))).toBe(12);
    expect(nodeParams({ op: 'opaque', name: 'o', inputs: ['x'], weights: [{ shape: [3], data: f(3) }, { shape: [2, 2], data: f(4) }], weightNames: ['a', 'b'] } as Node)).toBe(7);
    expect(nodeParams({ op: 'input', name: 'x', inputs: [], shape: [1], dtype: 'float32' })).toBe(0);
  });

  it('learned: BN keeps γ and β only (its running statistics are not learned); the graph sums its nodes', () => {
    expect(nodeLearnedParams(bn('b', 'x', 6))).toBe(12);
    expect(nodeLearnedParams(bn('b', 'x', 6, false))).toBe(0);
    expect(nodeLearnedParams(dense('d', 'x', 6, 5))).toBe(35);
    expect(learnedParams(net())).toBe(6 * 4 * 9 + 6 + 12 + 6 * 9 + 35);
    expect(totalCost(graphCosts(net())).params).toBe(6 * 4 * 9 + 6 + 24 + 6 * 9 + 35);
  });
});

describe('formatCount', () => {
  it('G / M with two decimals, k with one, plain below 1000, ? for unknown; thresholds inclusive', () => {
    expect(formatCount(null)).toBe('?');
    expect(formatCount(3_650_000_000)).toBe('3.65 G');
    expect(formatCount(1e9)).toBe('1.00 G');
    expect(formatCount(1e6)).toBe('1.00 M');
    expect(formatCount(2_345_678)).toBe('2.35 M');
    expect(formatCount(1e3)).toBe('1.0 k');
    expect(formatCount(12_345)).toBe('12.3 k');
    expect(formatCount(999)).toBe('999');
  });
});
