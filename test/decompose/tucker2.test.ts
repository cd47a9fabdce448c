import { Matrix, SingularValueDecomposition } from 'ml-matrix';
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

  it('rejects malformed ranks, nIterMax and factors that do not chain', () => {
    const ok = randomKernel([6, 4, 3, 3], 13);
    expect(() => tucker2(ok, { ranks: [2] as unknown as [number, number], name: 'c' })).toThrow('layer "c": ranks must be [R_out, R_in], got 2');
    for (const nIterMax of [-1, 1.5]) {
      expect(() => tucker2(ok, { ranks: [2, 2], nIterMax, name: 'c' })).toThrow(`layer "c": nIterMax ${nIterMax} must be a non-negative integer`);
    }
    const r = tucker2(ok, { ranks: [3, 2] });
    const core = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    expect(() => reconstructTucker2({ ...r, core: core([3, 3, 3, 3]) })).toThrow(/^reconstructTucker2: .* do not chain/);
    expect(() => reconstructTucker2({ ...r, core: core([2, 2, 3, 3]) })).toThrow(/do not chain/);
  });

  it('nIterMax = 0 is the truncated HOSVD: leading singular vectors of both unfoldings (ml-matrix)', () => {
    // Guards the HOSVD branch, which the HOOI tests only use as a starting value.
    const [N, C, K] = [7, 5, 9];
    const W = randomKernel([N, C, 3, 3], 21);
    const [R2, R1] = [3, 2];
    const r = tucker2(W, { ranks: [R2, R1], nIterMax: 0 });
    expect([r.iterations, r.converged]).toEqual([0, true]);
    const w = (n: number, c: number, k: number) => W.data[(n * C + c) * K + k];
    const leading = (rows: number[][], count: number) => {
      const u = new SingularValueDecomposition(new Matrix(rows), { autoTranspose: true }).leftSingularVectors;
      return Array.from({ length: count }, (_, j) => u.getColumn(j));
    };
    const uOut = leading(Array.from({ length: N }, (_, n) => Array.from({ length: C * K }, (_, i) => w(n, Math.floor(i / K), i % K))), R2);
    const uIn = leading(Array.from({ length: C }, (_, c) => Array.from({ length: N * K }, (_, i) => w(Math.floor(i / K), c, i % K))), R1);
    // Projection onto both subspaces: Ŵ = W ×₁ U_out U_outᵀ ×₂ U_in U_inᵀ.
    const proj = (u: number[][], a: number, b: number) => u.reduce((s, v) => s + v[a] * v[b], 0);
    let err = 0;
    let total = 0;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        for (let k = 0; k < K; k++) {
          let x = 0;
          for (let n2 = 0; n2 < N; n2++) for (let c2 = 0; c2 < C; c2++) x += proj(uOut, n, n2) * proj(uIn, c, c2) * w(n2, c2, k);
          err += (w(n, c, k) - x) ** 2;
          total += w(n, c, k) ** 2;
        }
      }
    }
    expect(r.kernelRelError).toBeCloseTo(Math.sqrt(err / total), 5);
    expect(relFrobeniusError(W, reconstructTucker2(r))).toBeCloseTo(Math.sqrt(err / total), 5);
  });

  it('stops at the first iteration that gains less than tol, and not before', () => {
    // Guards the stopping rule: iteration t's error is the final error of a run capped at t.
    const W = randomKernel([12, 10, 3, 3], 22);
    const tol = 1e-4;
    const r = tucker2(W, { ranks: [4, 3], tol });
    expect(r.converged).toBe(true);
    expect(r.iterations).toBeGreaterThan(2);
    const errAt = (t: number) => tucker2(W, { ranks: [4, 3], nIterMax: t, tol: 0 }).kernelRelError;
    expect(errAt(r.iterations)).toBeCloseTo(r.kernelRelError, 12);
    expect(errAt(r.iterations - 1) - errAt(r.iterations)).toBeLessThan(tol);
    for (let t = 2; t < r.iterations; t++) expect(errAt(t - 1) - errAt(t)).toBeGreaterThanOrEqual(tol);
    // A kernel of exact multilinear rank: the HOSVD start is already exact, so the first
    // iteration gains nothing over its own first half and stops there.
    const exact = tucker2(tuckerKernel([8, 6, 3, 3], [3, 2], 23), { ranks: [3, 2], tol });
    expect([exact.iterations, exact.converged]).toEqual([1, true]);
  });

  it('a zero kernel gets orthonormal factors, a zero core, and counts as converged', () => {
    const zero: Tensor = { shape: [5, 4, 3, 3], data: new Float32Array(180) };
    const z = tucker2(zero, { ranks: [3, 2] });
    expect([z.iterations, z.converged, z.kernelRelError]).toEqual([0, true, 0]);
    expect(z.core.data.every((x) => x === 0)).toBe(true);
    // first [R1, C]: rows orthonormal; last [N, R2]: columns orthonormal.
    const f = z.first.data;
    const l = z.last.data;
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) expect([0, 1, 2, 3].reduce((s, c) => s + f[a * 4 + c] * f[b * 4 + c], 0)).toBe(a === b ? 1 : 0);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) expect([0, 1, 2, 3, 4].reduce((s, n) => s + l[n * 3 + a] * l[n * 3 + b], 0)).toBe(a === b ? 1 : 0);
  });

  it('costs hIn·wIn·C·R1 + hOut·wOut·(R1·R2·kh·kw + R2·N) MACs', () => {
    const x = { N: 64, C: 32, kh: 3, kw: 3, ranks: [20, 10] as [number, number] };
    expect(tucker2Cost({ ...x, hOut: 14, wOut: 14, hIn: 28, wIn: 28 })).toBe(
      28 * 28 * 32 * 10 + 14 * 14 * (10 * 20 * 9 + 20 * 64),
    );
  });
});
