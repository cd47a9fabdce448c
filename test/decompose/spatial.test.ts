import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { describe, expect, it } from 'vitest';

import {
  reconstructSpatial,
  spatial,
  spatialCost,
  unfoldSpatial,
} from '../../src/decompose/spatial.js';
import { relFrobeniusError, type Tensor } from '../../src/decompose/tensor.js';
import { allFinite, randomKernel, wideRangeKernel } from './synthetic.js';

describe('spatial', () => {
  it('is exact at K = min(C·kh, N·kw), with either side the smaller', () => {
    for (const shape of [
      [10, 6, 3, 3], // C·kh = 18 < N·kw = 30
      [4, 12, 3, 3], // C·kh = 36 > N·kw = 12
      [8, 5, 5, 3],
      [6, 6, 1, 1],
    ]) {
      const [N, C, kh, kw] = shape;
      const W = randomKernel(shape, N * 7 + C);
      const r = spatial(W, { rank: Math.min(C * kh, N * kw) });
      expect(relFrobeniusError(W, reconstructSpatial(r))).toBeLessThan(1e-5);
      expect(r.kernelRelError).toBeLessThan(1e-5);
    }
  });

  it('has error non-increasing with K, equal to the discarded singular-value energy', () => {
    const W = randomKernel([12, 8, 3, 3], 3);
    const all = spatial(W, { rank: 24 }).singularValues;
    const total = all.reduce((s, x) => s + x * x, 0);
    let prev = Infinity;
    for (let K = 1; K <= 24; K += 1) {
      const r = spatial(W, { rank: K });
      let tail = 0;
      for (let t = K; t < all.length; t++) tail += all[t] ** 2;
      expect(r.kernelRelError).toBeCloseTo(Math.sqrt(tail / total), 6);
      expect(Math.abs(r.kernelRelError - relFrobeniusError(W, reconstructSpatial(r)))).toBeLessThan(1e-5);
      expect(r.kernelRelError).toBeLessThanOrEqual(prev + 1e-12);
      prev = r.kernelRelError;
    }
  });

  it('reports the singular values of the (C·kh) × (N·kw) unfolding', () => {
    const W = randomKernel([7, 5, 3, 3], 4);
    const m = unfoldSpatial(W);
    const rows = Array.from({ length: 15 }, (_, i) => Array.from(m.subarray(i * 21, (i + 1) * 21)));
    const ref = new SingularValueDecomposition(new Matrix(rows), { autoTranspose: true }).diagonal;
    const r = spatial(W, { rank: 3 });
    expect(r.singularValues.length).toBe(15);
    for (let t = 0; t < 15; t++) expect(r.singularValues[t]).toBeCloseTo(ref[t], 4);
  });

  it('recovers a separable kernel W[n,c,i,j] = h[n,j]·v[c,i] exactly at K = 1', () => {
    const h = randomKernel([6, 3], 5).data;
    const v = randomKernel([4, 3], 6).data;
    const data = new Float32Array(6 * 4 * 9);
    for (let n = 0; n < 6; n++) {
      for (let c = 0; c < 4; c++) {
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 3; j++) data[((n * 4 + c) * 3 + i) * 3 + j] = h[n * 3 + j] * v[c * 3 + i];
        }
      }
    }
    const W = { shape: [6, 4, 3, 3], data };
    const r = spatial(W, { rank: 1 });
    expect(relFrobeniusError(W, reconstructSpatial(r))).toBeLessThan(1e-5);
    expect(r.vertical.shape).toEqual([1, 4, 3, 1]);
    expect(r.horizontal.shape).toEqual([6, 1, 1, 3]);
  });

  it('handles zero and wide-range kernels; throws naming the layer on NaN and bad ranks', () => {
    const zero: Tensor = { shape: [3, 2, 3, 3], data: new Float32Array(54) };
    const z = spatial(zero, { rank: 2 });
    expect(z.kernelRelError).toBe(0);
    expect(allFinite(z.vertical, z.horizontal)).toBe(true);
    const w = spatial(wideRangeKernel([8, 6, 3, 3], 7), { rank: 5 });
    expect(allFinite(w.vertical, w.horizontal)).toBe(true);
    const bad = randomKernel([3, 2, 3, 3], 8);
    bad.data[3] = NaN;
    expect(() => spatial(bad, { rank: 1, name: 'conv4_2' })).toThrow(/layer "conv4_2".*not finite/);
    const ok = randomKernel([3, 2, 3, 3], 8);
    expect(() => spatial(ok, { rank: 7, name: 'x' })).toThrow(/rank 7 exceeds min\(C·kh, N·kw\) = 6/);
    expect(() => spatial(ok, { rank: 0 })).toThrow(/positive integer/);
  });

  it('reconstructSpatial rejects factors that do not chain', () => {
    // Guards the shape check: a mismatched K or a factor that is not k×1 / 1×k must not be read.
    const r = spatial(randomKernel([4, 3, 3, 3], 31), { rank: 2 });
    const t = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    expect(() => reconstructSpatial(r)).not.toThrow();
    for (const [vertical, horizontal] of [[[3, 3, 3, 1], [4, 2, 1, 3]], [[2, 3, 3, 2], [4, 2, 1, 3]], [[2, 3, 3, 1], [4, 2, 2, 3]]]) {
      expect(() => reconstructSpatial({ vertical: t(vertical), horizontal: t(horizontal) })).toThrow(
        /^reconstructSpatial: vertical \[.*\] and horizontal \[.*\] do not chain \(need \[K, C, kh, 1\] and \[N, K, 1, kw\]\)$/,
      );
    }
  });

  it('costs hOut·wIn·K·C·kh + hOut·wOut·N·K·kw MACs (vertical conv at output height, input width)', () => {
    expect(
      spatialCost({ N: 64, C: 32, kh: 3, kw: 3, rank: 12, hOut: 14, wOut: 14, hIn: 28, wIn: 28 }),
    ).toBe(14 * 28 * 12 * 32 * 3 + 14 * 14 * 64 * 12 * 3);
  });
});
