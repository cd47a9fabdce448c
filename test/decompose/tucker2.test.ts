import { describe, expect, it } from 'vitest';

import { reconstructTucker2, tucker2, tucker2Cost } from '../../src/decompose/tucker2.js';
import { relFrobeniusError, type Tensor } from '../../src/decompose/tensor.js';
import { addNoise, allFinite, randomKernel, tuckerKernel, wideRangeKernel } from './synthetic.js';

/** max |XᵀX − I| for the columns (cols = true) or rows of a rows×cols float32 matrix. */
function orthonormalityError(data: Float32Array, rows: number, cols: number, byCols: boolean) {
  const [count, len] = byCols ? [cols, rows] : [rows, cols];
  const at = (v: number, i: number) => (byCols ? data[i * cols + v] : data[v * cols + i]);
  let worst = 0;
  for (let a = 0; a < count; a++) {
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let i = 0; i < len; i++) s += at(a, i) * at(b, i);
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

describe('tucker2', () => {
  it('reconstructs exactly at full ranks [N, C], for several kernel shapes', () => {
    for (const shape of [
      [16, 12, 3, 3],
      [12, 20, 3, 3],
      [40, 3, 3, 3], // N > C·kh·kw
      [6, 5, 5, 5],
      [8, 6, 3, 1],
      [7, 9, 1, 1],
    ]) {
      const W = randomKernel(shape, shape[0] + shape[1]);
      const r = tucker2(W, { ranks: [shape[0], shape[1]] });
      expect(relFrobeniusError(W, reconstructTucker2(r))).toBeLessThan(1e-5);
      expect(r.kernelRelError).toBeLessThan(1e-5);
    }
  });

  it('recovers a kernel of multilinear rank (5, 4) exactly at ranks [5, 4]', () => {
    const W = tuckerKernel([20, 16, 3, 3], [5, 4], 3);
    const r = tucker2(W, { ranks: [5, 4] });
    expect(relFrobeniusError(W, reconstructTucker2(r))).toBeLessThan(1e-5);
    expect(r.core.shape).toEqual([5, 4, 3, 3]);
    expect(r.first.shape).toEqual([4, 16, 1, 1]);
    expect(r.last.shape).toEqual([20, 5, 1, 1]);
  });

  it('has error non-increasing as the ranks grow', () => {
    const W = randomKernel([24, 18, 3, 3], 4);
    let prev = Infinity;
    for (const ranks of [[2, 2], [4, 3], [8, 6], [12, 9], [18, 14], [24, 18]] as [number, number][]) {
      const r = tucker2(W, { ranks });
      expect(r.kernelRelError).toBeLessThanOrEqual(prev + 1e-9);
      prev = r.kernelRelError;
    }
  });

  it('reports the kernelRelError that reconstructTucker2 measures', () => {
    const W = randomKernel([20, 14, 3, 3], 5);
    for (const ranks of [[3, 2], [10, 7], [20, 3]] as [number, number][]) {
      const r = tucker2(W, { ranks });
      expect(Math.abs(r.kernelRelError - relFrobeniusError(W, reconstructTucker2(r)))).toBeLessThan(1e-5);
    }
  });

  it('HOOI never ends above its HOSVD start, and more iterations never hurt', () => {
    const W = addNoise(tuckerKernel([18, 14, 3, 3], [6, 5], 6), 0.5, 7);
    let prev = tucker2(W, { ranks: [4, 3], nIterMax: 0 }).kernelRelError;
    for (const nIterMax of [1, 2, 5, 20]) {
      const r = tucker2(W, { ranks: [4, 3], nIterMax, tol: 0 });
      expect(r.kernelRelError).toBeLessThanOrEqual(prev + 1e-9);
      prev = r.kernelRelError;
    }
  });

  it('returns orthonormal first rows (U_inᵀ) and last columns (U_out)', () => {
    const r = tucker2(randomKernel([16, 12, 3, 3], 8), { ranks: [7, 5] });
    expect(orthonormalityError(r.first.data, 5, 12, false)).toBeLessThan(1e-5);
    expect(orthonormalityError(r.last.data, 16, 7, true)).toBeLessThan(1e-5);
  });

  it('is deterministic: the same kernel gives byte-identical factors', () => {
    const W = randomKernel([12, 10, 3, 3], 9);
    const a = tucker2(W, { ranks: [5, 4] });
    const b = tucker2(W, { ranks: [5, 4] });
    expect(Buffer.from(a.core.data.buffer).equals(Buffer.from(b.core.data.buffer))).toBe(true);
  });

  it('stops after nIterMax and reports convergence', () => {
    const W = randomKernel([12, 10, 3, 3], 10);
    const r = tucker2(W, { ranks: [5, 4], nIterMax: 2, tol: 0 });
    expect(r.iterations).toBe(2);
    expect(r.converged).toBe(false);
    const s = tucker2(W, { ranks: [5, 4], tol: 1e-3 });
    expect(s.converged).toBe(true);
    expect(s.iterations).toBeLessThan(50);
  });

  it('handles zero and wide-range kernels, and is scale-invariant', () => {
    const zero: Tensor = { shape: [5, 4, 3, 3], data: new Float32Array(180) };
    const z = tucker2(zero, { ranks: [2, 2] });
    expect(z.kernelRelError).toBe(0);
    expect(relFrobeniusError(zero, reconstructTucker2(z))).toBe(0);
    const w = tucker2(wideRangeKernel([12, 10, 3, 3], 11), { ranks: [6, 5] });
    expect(allFinite(w.first, w.core, w.last)).toBe(true);
    const W = randomKernel([10, 8, 3, 3], 12);
    const tiny = { shape: W.shape, data: W.data.map((x) => x * 1e-30) };
    expect(tucker2(tiny, { ranks: [4, 3] }).kernelRelError).toBeCloseTo(
      tucker2(W, { ranks: [4, 3] }).kernelRelError,
      6,
    );
  });

  it('throws naming the layer for NaN weights and out-of-range ranks', () => {
    const W = randomKernel([6, 4, 3, 3], 13);
    W.data[5] = NaN;
    expect(() => tucker2(W, { ranks: [2, 2], name: 'conv2_1' })).toThrow(/layer "conv2_1".*not finite/);
    const ok = randomKernel([6, 4, 3, 3], 13);
    expect(() => tucker2(ok, { ranks: [7, 2], name: 'c' })).toThrow(/layer "c".*R_out ≤ N = 6/);
    expect(() => tucker2(ok, { ranks: [2, 0], name: 'c' })).toThrow(/R_in ≤ C = 4/);
    expect(() => tucker2(ok, { ranks: [2.5, 2] })).toThrow(/kernel: Tucker-2 rank 2.5/);
  });

  it('costs hIn·wIn·C·R1 + hOut·wOut·(R1·R2·kh·kw + R2·N) MACs', () => {
    const x = { N: 64, C: 32, kh: 3, kw: 3, ranks: [20, 10] as [number, number] };
    expect(tucker2Cost({ ...x, hOut: 14, wOut: 14, hIn: 28, wIn: 28 })).toBe(
      28 * 28 * 32 * 10 + 14 * 14 * (10 * 20 * 9 + 20 * 64),
    );
  });
});
