/**
 * The converter's method dispatch on IR graphs (no runtime): known-structure kernels are recovered,
 * every rank rule works for every method, the keep-unprofitable rule applies to all of them, the
 * replacement's MACs (counted on the rewritten graph) are what the cost helpers predict, the same
 * seed gives the same bytes, and pathological kernels give a clear result or a clear error.
 */
import { describe, expect, it } from 'vitest';
import { convertGraph, type ConvertOptions } from '../../src/convert/convert.js';
import { METHODS, type Method } from '../../src/convert/methods.js';
import { methodMacs } from '../../src/convert/method-cost.js';
import { graphCosts } from '../../src/models/cost.js';
import type { Conv2DNode, Graph, Padding } from '../../src/models/ir.js';
import type { Tensor } from '../../src/decompose/tensor.js';
import { addNoise, cp3Kernel, cp4Kernel, randomKernel, tuckerKernel, wideRangeKernel } from '../decompose/synthetic.js';

function oneConv(kernel: Tensor, o: { strides?: [number, number]; padding?: Padding; size?: [number, number] } = {}): Graph {
  const [N, C] = kernel.shape;
  const [h, w] = o.size ?? [12, 12];
  const conv: Conv2DNode = {
    op: 'conv2d', name: 'c1', inputs: ['x'], kernel, bias: new Float32Array(N).fill(0.1), strides: o.strides ?? [1, 1], dilations: [1, 1],
    padding: o.padding ?? 'same', groups: 1, activation: 'relu',
  };
  return { name: 't', layout: 'NHWC', inputs: ['x'], outputs: ['c1'], nodes: [{ op: 'input', name: 'x', inputs: [], shape: [h, w, C], dtype: 'float32' }, conv] };
}

const convert = (g: Graph, o: ConvertOptions) => convertGraph(g, { keepUnprofitable: true, minInChannels: 0, ...o });

/** A kernel whose (C·kh)×(N·kw) reshape has rank exactly K. */
function spatialKernel(shape: [number, number, number, number], K: number, seed: number): Tensor {
  const [N, C, kh, kw] = shape;
  const v = randomKernel([K, C * kh], seed).data;
  const h = randomKernel([K, N * kw], seed + 1).data;
  const data = new Float32Array(N * C * kh * kw);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) {
          let x = 0;
          for (let k = 0; k < K; k++) x += v[k * C * kh + c * kh + i] * h[k * N * kw + n * kw + j];
          data[((n * C + c) * kh + i) * kw + j] = x;
        }
  return { shape, data };
}

describe('known structure is recovered through the converter', () => {
  it('CP recovers an exactly rank-R kernel (fit ≥ 0.999), 3-way and 4-way', () => {
    const l3 = convert(oneConv(cp3Kernel([12, 10, 3, 3], 5, 1)), { method: 'cp', rank: 5 }).layers[0];
    expect(l3.fit).toBeGreaterThanOrEqual(0.999);
    expect(l3.kernelRelError).toBeLessThan(1e-3);
    expect(l3.replacedBy).toEqual(['c1/in', 'c1/dw', 'c1/out']);
    const l4 = convert(oneConv(cp4Kernel([12, 10, 3, 3], 4, 2)), { method: 'cp4', rank: 4 }).layers[0];
    expect(l4.fit).toBeGreaterThanOrEqual(0.999);
    expect(l4.replacedBy).toEqual(['c1/in', 'c1/dwv', 'c1/dwh', 'c1/out']);
  });

  it('Tucker-2 at full ranks and at the true multilinear ranks is exact', () => {
    const full = convert(oneConv(randomKernel([9, 7, 3, 3], 3)), { method: 'tucker2', tuckerRanks: [9, 7] }).layers[0];
    expect(full.kernelRelError).toBeLessThan(1e-5);
    expect(full.ranks).toEqual([9, 7]);
    expect(full.replacedBy).toEqual(['c1/in', 'c1/core', 'c1/out']);
    const low = convert(oneConv(tuckerKernel([16, 12, 3, 3], [5, 4], 4)), { method: 'tucker2', tuckerRanks: [5, 4] }).layers[0];
    expect(low.kernelRelError).toBeLessThan(1e-5);
    expect(low.iterations).toBeGreaterThanOrEqual(1);
  });

  it('spatial at full rank and at the reshape rank is exact; spatial-nd at full K and T is exact', () => {
    const W = randomKernel([6, 5, 3, 3], 5);
    expect(convert(oneConv(W), { method: 'spatial', rank: 15 }).layers[0].kernelRelError).toBeLessThan(1e-5);
    expect(convert(oneConv(spatialKernel([10, 8, 3, 3], 4, 6)), { method: 'spatial', rank: 4 }).layers[0].kernelRelError).toBeLessThan(1e-5);
    const snd = convert(oneConv(W), { method: 'spatial-nd', rank: 15, factorRank: 3 }).layers[0];
    expect(snd.kernelRelError).toBeLessThan(1e-5);
    expect(snd.factorRanks).toEqual([3, 3]);
    expect(snd.replacedBy[0]).toBe('c1/v/dw0');
  });
});

describe('rank rules for every method', () => {
  const W = addNoise(tuckerKernel([16, 12, 3, 3], [4, 3], 7), 0.01, 8);

  it('VBMF finds the multilinear ranks of a low-rank + noise kernel (Tucker-2) and a rank in range for every method', () => {
    expect(convert(oneConv(W), { method: 'tucker2', rankRule: 'vbmf' }).layers[0].ranks).toEqual([4, 3]);
    // Ghost's rank is its ratio s, which has no VBMF rule (it rejects --rank-rule).
    for (const method of METHODS.filter((m) => m !== 'ghost')) {
      const l = convert(oneConv(W), { method, rankRule: 'vbmf' }).layers[0];
      expect(l.rank, method).toBeGreaterThanOrEqual(1);
      expect(l.rank, method).toBeLessThanOrEqual(l.maxRank);
      expect(l.rankRule, method).toBe('vbmf');
    }
  });

  it('VBMF finds the spatial rank of a rank-K reshape + noise', () => {
    const S = addNoise(spatialKernel([16, 12, 3, 3], 5, 9), 0.01, 10);
    expect(convert(oneConv(S), { method: 'spatial', rankRule: 'vbmf' }).layers[0].rank).toBe(5);
  });

  it('energy τ: a higher τ never lowers the rank, and the error bound holds', () => {
    const R = randomKernel([16, 12, 3, 3], 11);
    for (const method of METHODS) {
      let prev = 0;
      for (const tau of [0.5, 0.8, 0.95]) {
        const l = convert(oneConv(R), { method, energy: tau }).layers[0];
        expect(l.rank, `${method} τ=${tau}`).toBeGreaterThanOrEqual(prev);
        prev = l.rank;
        // spatial: exact √(1 − τ) bound (Eckart–Young); Tucker-2: HOSVD's sum-of-modes bound; CP above k²: the slice start's.
        if (method === 'spatial') expect(l.kernelRelError).toBeLessThanOrEqual(Math.sqrt(1 - tau) + 1e-6);
        if (method === 'tucker2') expect(l.kernelRelError).toBeLessThanOrEqual(Math.sqrt(2 * (1 - tau)) + 1e-6);
        if ((method === 'cp' || method === 'cp4') && l.rank >= 9) expect(l.kernelRelError).toBeLessThanOrEqual(Math.sqrt(1 - tau) + 1e-4);
      }
    }
  });

  it('rejects contradictory or misplaced rank options with a clear message', () => {
    const g = oneConv(W);
    expect(() => convertGraph(g, { method: 'cp', rank: 3, energy: 0.9 })).toThrow(/exactly one of/);
    expect(() => convertGraph(g, { method: 'cp', tuckerRanks: [2, 2] })).toThrow(/--tucker-ranks applies to --method tucker2/);
    expect(() => convertGraph(g, { method: 'spatial', rank: 2, factorRank: 1 })).toThrow(/--factor-rank applies to --method spatial-nd/);
    expect(() => convertGraph(g, { method: 'bogus' as Method, rank: 2 })).toThrow(/choose one of nd, cp, cp4, tucker2, spatial, spatial-nd/);
    // A CP rank above the layer's exact bound kh·kw·min(N, C) is capped there, not refused (one --rank for mixed widths).
    const capped = convert(g, { method: 'cp', rank: 5000 }).layers[0];
    expect(capped.rank).toBe(W.shape[2] * W.shape[3] * Math.min(W.shape[0], W.shape[1]));
    expect(capped.rankCapped).toMatch(/5000 → /);
    // ND's T above k² is capped at k² (exact), not refused.
    expect(convert(g, { method: 'nd', rank: 10 }).layers[0].rank).toBe(W.shape[2] * W.shape[3]);
  });

  it('a fixed spatial K or Tucker-2 R above a layer\'s exact rank is capped there (one --rank for mixed widths)', () => {
    const g = oneConv(W);
    expect(convert(g, { method: 'spatial', rank: 999 }).layers[0].rank).toBe(36);
    expect(convert(g, { method: 'tucker2', rank: 999 }).layers[0].ranks).toEqual([16, 12]);
  });
});

describe('the keep-unprofitable rule applies to every method', () => {
  it('keeps a conv whose decomposition would cost more MACs, and says so', () => {
    const g = oneConv(randomKernel([4, 16, 3, 3], 12));
    const cases: [Method, ConvertOptions][] = [
      ['nd', { rank: 9 }], ['cp', { rank: 60 }], ['cp4', { rank: 60 }], ['tucker2', { tuckerRanks: [4, 16] }], ['spatial', { rank: 12 }], ['spatial-nd', { rank: 12, factorRank: 3 }],
    ];
    for (const [method, o] of cases) {
      const c = convertGraph(g, { method, minInChannels: 0, ...o });
      expect(c.layers, method).toEqual([]);
      expect(c.kept.find((k) => k.name === 'c1')?.reason, method).toMatch(/would cost .*× the conv's MACs/);
    }
  });
});

describe("the replacement's MACs are what the cost helpers predict", () => {
  const cases: { name: string; strides: [number, number]; padding: Padding; size: [number, number] }[] = [
    { name: 'stride 2 same 9×10', strides: [2, 2], padding: 'same', size: [9, 10] },
    { name: 'stride 1 valid 8×8', strides: [1, 1], padding: 'valid', size: [8, 8] },
    { name: 'stride (2, 1) pads', strides: [2, 1], padding: { pads: [1, 0, 1, 2] }, size: [11, 7] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const g = oneConv(randomKernel([10, 8, 3, 3], 13), c);
      const before = graphCosts(g).find((x) => x.name === 'c1');
      const [, oh, ow] = [0, before?.outputShape[0] as number, before?.outputShape[1] as number];
      const geometry = { hIn: c.size[0], wIn: c.size[1], hOut: oh, wOut: ow };
      for (const [method, o] of [['nd', { rank: 2 }], ['nd', { rank: 2, order: 'pw-dw' }], ['cp', { rank: 6 }], ['cp4', { rank: 6 }], ['tucker2', { tuckerRanks: [5, 4] }], ['spatial', { rank: 6 }], ['spatial-nd', { rank: 6, factorRank: 2 }], ['spatial-nd', { rank: 6, factorRank: 1, order: 'pw-dw' }]] as [Method, ConvertOptions][]) {
        const conv = convert(g, { method, ...o });
        const l = conv.layers[0];
        const counted = graphCosts(conv.graph).filter((x) => l.replacedBy.includes(x.name)).reduce((a, x) => a + (x.macs as number), 0);
        const ranks = { rank: l.rank, ranks: l.ranks, factorRanks: l.factorRanks, order: o.order ?? 'dw-pw' };
        expect(counted, `${method} ${JSON.stringify(o)}`).toBe(methodMacs(conv.reference.nodes[1] as Conv2DNode, method, ranks, geometry));
      }
    });
  }
});

describe('determinism and pathological kernels', () => {
  const bytes = (g: Graph) => g.nodes.flatMap((n) => (n.op === 'conv2d' ? [Buffer.from(n.kernel.data.buffer, n.kernel.data.byteOffset, n.kernel.data.byteLength).toString('hex')] : []));

  it('same seed → byte-identical factors, for every method', () => {
    const g = oneConv(randomKernel([10, 8, 3, 3], 14));
    for (const method of METHODS) {
      const o: ConvertOptions = { method, ...(method === 'tucker2' ? { tuckerRanks: [4, 4] } : { rank: 4 }), seed: 3 };
      expect(bytes(convert(g, o).graph), method).toEqual(bytes(convert(g, o).graph));
    }
  });

  it('a zero kernel gives an exact zero replacement with error 0', () => {
    const g = oneConv({ shape: [6, 5, 3, 3], data: new Float32Array(270) });
    for (const method of METHODS) {
      // Ghost has no VBMF rule (its rank is the ratio s).
      for (const o of [{ rank: 2 }, { energy: 0.9 }, ...(method === 'ghost' ? [] : [{ rankRule: 'vbmf' as const }])]) {
        const l = convert(g, { method, ...o }).layers[0];
        expect(l.kernelRelError, `${method} ${JSON.stringify(o)}`).toBe(0);
      }
    }
  });

  it('a kernel spanning 1e-8…1e8 gives finite factors and a finite error ≤ 1', () => {
    const g = oneConv(wideRangeKernel([8, 6, 3, 3], 15));
    for (const method of METHODS) {
      const c = convert(g, { method, ...(method === 'tucker2' ? { tuckerRanks: [4, 4] } : { rank: 4 }) });
      const l = c.layers[0];
      expect(Number.isFinite(l.kernelRelError) && l.kernelRelError <= 1 + 1e-6, method).toBe(true);
      for (const n of c.graph.nodes) if (n.op === 'conv2d') expect(n.kernel.data.every(Number.isFinite), `${method} ${n.name}`).toBe(true);
    }
  });

  it('a NaN weight is an error naming the layer and the position', () => {
    const W = randomKernel([6, 5, 3, 3], 16);
    W.data[40] = NaN;
    for (const method of METHODS) {
      expect(() => convert(oneConv(W), { method, rank: 2 }), method).toThrow(/layer "c1".*not finite/);
    }
  });
});
