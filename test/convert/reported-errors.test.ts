/**
 * The per-layer figures a conversion reports — kernelRelError, retainedEnergy, maxRank, the rank
 * actually used and the cap note — checked against independent sources: the kernel the rebuilt
 * layers really compute (probed in onnxruntime with one unit impulse per kernel entry, on a
 * 'valid' conv whose output is one pixel), per-channel SVDs from ml-matrix, and the maximum ranks
 * derived by hand from the layer's shape (C = 6 inputs, N = 5 outputs, 3×3).
 */
import { describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { convertGraph, type ConvertOptions, type LayerConversion } from '../../src/convert/convert.js';
import type { Graph } from '../../src/models/ir.js';
import { conv, graph, input, run } from '../onnx/helpers.js';
import { relError } from '../helpers/output-error.js';

const C = 6;
const N = 5;
const K2 = 9;

function layer(): Graph {
  return graph([input('x', [C, 3, 3]), conv('c', 'x', { cin: C, cout: N, k: [3, 3], padding: 'valid', seed: 21 })], ['c']);
}

/** The OIHW kernel a graph computes: its response to each unit impulse, less its response to 0. */
async function effectiveKernel(g: Graph): Promise<Float32Array> {
  const count = C * K2;
  const x = new Float32Array((count + 1) * count);
  for (let k = 0; k < count; k++) x[k * count + k] = 1;
  const y = await run(g, { shape: [count + 1, C, 3, 3], data: x });
  const w = new Float32Array(N * count);
  for (let n = 0; n < N; n++) for (let k = 0; k < count; k++) w[n * count + k] = y.data[k * N + n] - y.data[count * N + n];
  return w;
}

async function convertOne(opts: ConvertOptions): Promise<{ l: LayerConversion; probed: number }> {
  const g = layer();
  const c = convertGraph(g, { minInChannels: 0, keepUnprofitable: true, ...opts });
  expect(c.layers).toHaveLength(1);
  const original = g.nodes[1];
  if (original.op !== 'conv2d') throw new Error('expected a conv');
  return { l: c.layers[0], probed: relError(original.kernel.data, await effectiveKernel(c.graph)) };
}

describe('reported kernel errors are the error of the layers that were built', () => {
  const cases: [string, ConvertOptions][] = [
    ['nd dw-pw T=2', { method: 'nd', rank: 2 }],
    ['nd pw-dw T=2 merged', { method: 'nd', rank: 2, order: 'pw-dw', form: 'merged' }],
    ['cp R=6', { method: 'cp', rank: 6, maxIterations: 30 }],
    ['tucker2 3,4', { method: 'tucker2', tuckerRanks: [3, 4] }],
    ['spatial K=4', { method: 'spatial', rank: 4 }],
    ['spatial-nd K=4 T=1', { method: 'spatial-nd', rank: 4, factorRank: 1 }],
  ];
  for (const [label, opts] of cases) {
    // Guards against a figure computed from a different factorisation than the one spliced in, or
    // a retained energy that is not 1 − error² (ND: the channel average, checked below).
    it(label, async () => {
      const { l, probed } = await convertOne(opts);
      expect(probed).toBeGreaterThan(1e-3);
      expect(Math.abs(l.kernelRelError - probed)).toBeLessThan(1e-4);
      if (l.method !== 'nd') expect(l.retainedEnergy).toBeCloseTo(1 - probed ** 2, 4);
    });
  }

  it('ND retained energy is the channel average of the kept σ² share (ml-matrix SVDs)', async () => {
    const g = layer();
    const w = (g.nodes[1] as { kernel: { data: Float32Array } }).kernel.data;
    for (const order of ['dw-pw', 'pw-dw'] as const) {
      const { l } = await convertOne({ method: 'nd', rank: 2, order });
      // dw-pw: per input channel c, the N × 9 matrix W[:, c]; pw-dw: per output channel n, C × 9.
      const groups = order === 'dw-pw' ? C : N;
      let mean = 0;
      for (let gi = 0; gi < groups; gi++) {
        const rows = order === 'dw-pw' ? N : C;
        const m = new Matrix(rows, K2);
        for (let r = 0; r < rows; r++) for (let k = 0; k < K2; k++) m.set(r, k, order === 'dw-pw' ? w[(r * C + gi) * K2 + k] : w[(gi * C + r) * K2 + k]);
        const s = new SingularValueDecomposition(m, { autoTranspose: true }).diagonal;
        const total = s.reduce((a, v) => a + v * v, 0);
        mean += (s[0] ** 2 + s[1] ** 2) / total / groups;
      }
      expect(l.retainedEnergy, order).toBeCloseTo(mean, 5);
      expect(l.singularValues, order).toHaveLength(groups);
    }
  });
});

describe('a rank above the layer\'s maximum is capped to it, noted, and exact', () => {
  // Maxima by hand for C = 6, N = 5, 3×3: ND dw-pw k² = 9, pw-dw min(C, k²) = 6; spatial
  // min(C·kh, N·kw) = 15; Tucker-2 [N, C] = [5, 6]; spatial-nd factors kh×1 and 1×kw.
  const cases: [string, ConvertOptions, number, number, RegExp][] = [
    ['nd dw-pw', { method: 'nd', rank: 99 }, 9, 9, /^T 99 → 9$/],
    ['nd pw-dw', { method: 'nd', rank: 99, order: 'pw-dw' }, 6, 6, /^T 99 → 6$/],
    ['spatial', { method: 'spatial', rank: 99 }, 15, 15, /^K 99 → 15$/],
    ['tucker2 rank', { method: 'tucker2', rank: 99 }, 5, 5, /^R 99 → \[5, 6\]$/],
    ['tucker2 ranks', { method: 'tucker2', tuckerRanks: [9, 9] }, 5, 5, /^R_out 9 → 5, R_in 9 → 6$/],
    ['spatial-nd dw-pw', { method: 'spatial-nd', rank: 99, factorRank: 9 }, 15, 15, /^K 99 → 15, factor T 9 → 3\/3$/],
  ];
  for (const [label, opts, rank, maxRank, note] of cases) {
    it(label, async () => {
      const { l, probed } = await convertOne(opts);
      expect(l.rank).toBe(rank);
      expect(l.maxRank).toBe(maxRank);
      expect(l.rankCapped).toMatch(note);
      expect(probed).toBeLessThan(1e-5);
      expect(l.kernelRelError).toBeLessThan(1e-5);
    });
  }

  it('spatial-nd pw-dw caps the second factor at min(K, kw)', async () => {
    const { l } = await convertOne({ method: 'spatial-nd', rank: 2, factorRank: 9, order: 'pw-dw' });
    expect(l.rankCapped).toBe('factor T 9 → 3/2');
  });

  it('a rank within the maximum is used as asked, with no note', async () => {
    const { l } = await convertOne({ method: 'nd', rank: 9 });
    expect(l.rank).toBe(9);
    expect(l.rankCapped).toBeUndefined();
  });
});
