import { describe, expect, it } from 'vitest';

import {
  cp3,
  cp3Cost,
  cp4,
  cp4Cost,
  reconstructCp3,
  reconstructCp4,
} from '../../src/decompose/cp.js';
import { relFrobeniusError, type Tensor } from '../../src/decompose/tensor.js';
import {
  allFinite,
  bytesOf,
  cp3Kernel,
  cp4Kernel,
  randomKernel,
  wideRangeKernel,
} from './synthetic.js';

const scaled = (t: Tensor, s: number): Tensor => ({
  shape: t.shape,
  data: t.data.map((x) => x * s),
});

describe('cp3', () => {
  it('recovers an exactly rank-4 kernel (16×12×3×3) to fit ≥ 0.999', () => {
    const W = cp3Kernel([16, 12, 3, 3], 4, 1);
    for (const init of ['svd', 'random'] as const) {
      const r = cp3(W, { rank: 4, init, seed: 3 });
      expect(r.fit).toBeGreaterThanOrEqual(0.999);
      expect(relFrobeniusError(W, reconstructCp3(r))).toBeLessThan(1e-3);
      expect(r.degenerate).toBe(false);
      expect(r.outFactor.shape).toEqual([16, 4]);
      expect(r.inFactor.shape).toEqual([4, 12]);
      expect(r.depthwise.shape).toEqual([4, 1, 3, 3]);
    }
  });

  it('recovers an exactly rank-12 kernel with the slice start (R ≥ kh·kw)', () => {
    // Seeded: CP-ALS can stall in a swamp on some draws whatever the start; this draw does not.
    const W = cp3Kernel([16, 12, 3, 3], 12, 50);
    const r = cp3(W, { rank: 12, nIterMax: 500 });
    expect(r.fit).toBeGreaterThanOrEqual(0.999);
  });

  it('the slice start alone is exact on a sum of low-rank slices in an orthonormal filter basis', () => {
    // W = Σ_t M_t ⊗ q_t with 3 orthonormal filters q_t and rank-3 matrices M_t on disjoint output
    // rows (so ⟨M_t, M_t'⟩ = 0 and the q_t are the principal filters): CP rank 9, and the slices in
    // the principal basis are exactly the M_t.
    const [N, C, K] = [10, 8, 9];
    const q = [
      [1, 1, 1, 1, 1, 1, 1, 1, 1].map((x) => x / 3),
      [1, 0, -1, 1, 0, -1, 1, 0, -1].map((x) => x / Math.sqrt(6)),
      [1, 1, 1, 0, 0, 0, -1, -1, -1].map((x) => x / Math.sqrt(6)),
    ];
    const data = new Float32Array(N * C * K);
    for (let t = 0; t < 3; t++) {
      const m = cp3Kernel([3, C, 1, 1], 3, 60 + t).data; // 3×C of rank 3, on rows 3t..3t+2
      for (let n = 3 * t; n < 3 * t + 3; n++) {
        for (let c = 0; c < C; c++) {
          for (let k = 0; k < K; k++) data[(n * C + c) * K + k] += m[(n - 3 * t) * C + c] * q[t][k];
        }
      }
    }
    const r = cp3({ shape: [N, C, 3, 3], data }, { rank: 9, nIterMax: 1 });
    expect(r.fit).toBeGreaterThanOrEqual(0.9999);
  });

  it('keeps the depthwise filters and input rows unit-norm; A carries the weights', () => {
    const r = cp3(randomKernel([10, 8, 3, 3], 2), { rank: 6 });
    for (let q = 0; q < 6; q++) {
      let s = 0;
      let b = 0;
      for (let k = 0; k < 9; k++) s += r.depthwise.data[q * 9 + k] ** 2;
      for (let c = 0; c < 8; c++) b += r.inFactor.data[q * 8 + c] ** 2;
      expect(s).toBeCloseTo(1, 5);
      expect(b).toBeCloseTo(1, 5);
    }
  });

  it('same seed → byte-identical factors; another seed → different ones', () => {
    const W = randomKernel([12, 10, 3, 3], 4);
    for (const init of ['svd', 'random'] as const) {
      const a = cp3(W, { rank: 5, seed: 11, init, nIterMax: 30 });
      const b = cp3(W, { rank: 5, seed: 11, init, nIterMax: 30 });
      for (const key of ['outFactor', 'inFactor', 'depthwise'] as const) {
        expect(bytesOf(a[key]).equals(bytesOf(b[key]))).toBe(true);
      }
    }
    const c = cp3(W, { rank: 5, seed: 11, init: 'random', nIterMax: 30 });
    const d = cp3(W, { rank: 5, seed: 12, init: 'random', nIterMax: 30 });
    expect(bytesOf(c.outFactor).equals(bytesOf(d.outFactor))).toBe(false);
  });

  it('reports the kernelRelError that reconstructCp3 measures', () => {
    const W = randomKernel([20, 14, 3, 3], 6);
    for (const rank of [3, 9, 25, 60]) {
      const r = cp3(W, { rank, nIterMax: 20 });
      expect(Math.abs(r.kernelRelError - relFrobeniusError(W, reconstructCp3(r)))).toBeLessThan(1e-5);
      expect(r.fit).toBeCloseTo(1 - r.kernelRelError, 12);
    }
  });

  it('never increases the error with more ALS iterations', () => {
    const W = randomKernel([16, 16, 3, 3], 8);
    for (const rank of [4, 20]) {
      let prev = Infinity;
      for (const nIterMax of [1, 3, 10, 30]) {
        const r = cp3(W, { rank, nIterMax, tol: 0 });
        expect(r.kernelRelError).toBeLessThanOrEqual(prev + 1e-9);
        prev = r.kernelRelError;
      }
    }
  });

  it('is scale-invariant: a kernel ×1e-30 or ×1e30 gets the same relative error', () => {
    const W = randomKernel([8, 6, 3, 3], 9);
    const ref = cp3(W, { rank: 5, nIterMax: 15 }).kernelRelError;
    for (const s of [1e-30, 1e30]) {
      const r = cp3(scaled(W, s), { rank: 5, nIterMax: 15 });
      expect(r.kernelRelError).toBeCloseTo(ref, 5);
      expect(allFinite(r.outFactor, r.inFactor, r.depthwise)).toBe(true);
    }
  });

  it('handles a kernel spanning 1e-8…1e8 with finite factors and a fit in [0, 1]', () => {
    const W = wideRangeKernel([12, 10, 3, 3], 10);
    for (const init of ['svd', 'random'] as const) {
      const r = cp3(W, { rank: 8, init });
      expect(allFinite(r.outFactor, r.inFactor, r.depthwise)).toBe(true);
      expect(r.fit).toBeGreaterThanOrEqual(0);
      expect(r.fit).toBeLessThanOrEqual(1);
      expect(r.iterations).toBeLessThanOrEqual(200);
    }
  });

  it('decomposes a zero kernel into exact zero factors with fit 1', () => {
    const W: Tensor = { shape: [4, 3, 3, 3], data: new Float32Array(108) };
    const r = cp3(W, { rank: 2 });
    expect(r.fit).toBe(1);
    expect(r.kernelRelError).toBe(0);
    expect(r.outFactor.data.every((x) => x === 0)).toBe(true);
    expect(allFinite(r.outFactor, r.inFactor, r.depthwise)).toBe(true);
  });

  it('throws naming the layer for NaN weights and bad ranks', () => {
    const W = randomKernel([4, 3, 3, 3], 1);
    W.data[17] = NaN;
    expect(() => cp3(W, { rank: 2, name: 'conv3_1' })).toThrow(/layer "conv3_1".*not finite/);
    const ok = randomKernel([4, 3, 3, 3], 1);
    for (const rank of [0, -1, 1.5, NaN]) {
      expect(() => cp3(ok, { rank, name: 'conv1' })).toThrow(/layer "conv1": CP rank .* positive integer/);
    }
    expect(() => cp3(ok, { rank: 4 * 3 * 9 + 1, name: 'conv1' })).toThrow(/exceeds N·C·kh·kw = 108/);
  });

  it('refuses bad options in one line naming the layer, and accepts the extreme legal ones', () => {
    // Guards each option check: a bad value must not reach the ALS loop, a legal one must.
    const ok = randomKernel([2, 2, 1, 1], 3);
    const bad: [Partial<Parameters<typeof cp3>[1]>, string][] = [
      [{ nIterMax: 0 }, 'nIterMax 0 must be a positive integer'],
      [{ nIterMax: 1.5 }, 'nIterMax 1.5 must be a positive integer'],
      [{ tol: -1 }, 'tol -1 must be ≥ 0'],
      [{ tol: NaN }, 'tol NaN must be ≥ 0'],
      [{ maxWeight: 0 }, 'maxWeight 0 must be > 0'],
      [{ seed: 1.5 }, 'seed 1.5 must be an integer'],
      [{ init: 'hosvd' as 'svd' }, `init "hosvd" must be 'svd', 'slice' or 'random'`],
    ];
    for (const [opts, message] of bad) expect(() => cp3(ok, { rank: 2, name: 'c4', ...opts })).toThrow(`layer "c4": ${message}`);
    // R = N·C·kh·kw is the largest rank allowed; nIterMax 1 and tol 0 are legal.
    expect(cp3(ok, { rank: 4, nIterMax: 1, tol: 0 }).rank).toBe(4);
  });

  it('warns only above the exact-fit bound', () => {
    const W = randomKernel([3, 2, 2, 2], 12); // exact at K·min(N, C) = 8
    expect(cp3(W, { rank: 8 }).warnings.join(' ')).not.toMatch(/exceeds/);
  });

  it('with init slice and a spent time cap, returns the slice model: no iterations, its own error', () => {
    const W = randomKernel([5, 4, 3, 3], 14);
    const r = cp3(W, { rank: 12, init: 'slice', maxSeconds: 0 });
    expect([r.iterations, r.converged, r.degenerate]).toEqual([0, false, false]);
    expect(r.fit).toBeCloseTo(1 - r.kernelRelError, 12);
    expect(Math.abs(r.kernelRelError - relFrobeniusError(W, reconstructCp3(r)))).toBeLessThan(1e-5);
    expect(r.kernelRelError).toBeGreaterThanOrEqual(cp3(W, { rank: 12, init: 'slice' }).kernelRelError - 1e-9);
  });

  it('reconstruct refuses factors that disagree on the rank', () => {
    const t = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    expect(() => reconstructCp3({ outFactor: t([4, 2]), inFactor: t([3, 3]), depthwise: t([2, 1, 3, 3]) })).toThrow(/^reconstructCp3: .* disagree on the rank$/);
    expect(() => reconstructCp3({ outFactor: t([4, 2]), inFactor: t([2, 3]), depthwise: t([3, 1, 3, 3]) })).toThrow(/disagree on the rank/);
    const cp4Parts = { outFactor: t([4, 2]), inFactor: t([2, 3]), vertical: t([2, 1, 3, 1]), horizontal: t([2, 1, 1, 3]) };
    expect(() => reconstructCp4(cp4Parts)).not.toThrow();
    for (const part of ['inFactor', 'vertical', 'horizontal'] as const) {
      const shape = [...cp4Parts[part].shape];
      shape[0] = 3;
      expect(() => reconstructCp4({ ...cp4Parts, [part]: t(shape) })).toThrow(/^reconstructCp4: .* disagree on the rank$/);
    }
  });

  it('allows ranks above the exact-fit bound, exact with a warning', () => {
    const W = randomKernel([3, 2, 2, 2], 12); // exact at K·min(N, C) = 8
    const r = cp3(W, { rank: 10 });
    expect(r.kernelRelError).toBeLessThan(1e-5);
    expect(r.warnings.join(' ')).toMatch(/exceeds kh·kw·min\(N, C\) = 8/);
    expect(allFinite(r.outFactor, r.inFactor, r.depthwise)).toBe(true);
  });

  it('flags a diverging (degenerate) CP, restarts once and returns the best finite iterate', () => {
    // a∘a∘b + a∘b∘a + b∘a∘a has rank 3 but border rank 2: rank-2 ALS drifts towards two huge
    // components cancelling each other. A low maxWeight makes the test see it within a few steps.
    const data = new Float32Array(8);
    data[(0 * 2 + 0) * 2 + 1] = 1;
    data[(0 * 2 + 1) * 2 + 0] = 1;
    data[(1 * 2 + 0) * 2 + 0] = 1;
    const W: Tensor = { shape: [2, 2, 2, 1], data };
    const r = cp3(W, { rank: 2, nIterMax: 5000, tol: 0, maxWeight: 2, name: 'swamp' });
    expect(r.degenerate).toBe(true);
    expect(r.warnings[0]).toMatch(/layer "swamp".*restarting once/);
    expect(r.warnings.length).toBeGreaterThanOrEqual(2);
    expect(allFinite(r.outFactor, r.inFactor, r.depthwise)).toBe(true);
    expect(Math.abs(r.kernelRelError - relFrobeniusError(W, reconstructCp3(r)))).toBeLessThan(1e-5);
  });
});

describe('cp4', () => {
  it('recovers an exactly rank-4 4-way kernel to fit ≥ 0.999', () => {
    const W = cp4Kernel([16, 12, 3, 3], 4, 21);
    const r = cp4(W, { rank: 4 });
    expect(r.fit).toBeGreaterThanOrEqual(0.999);
    expect(relFrobeniusError(W, reconstructCp4(r))).toBeLessThan(1e-3);
    expect(r.inFactor.shape).toEqual([4, 12]);
    expect(r.vertical.shape).toEqual([4, 1, 3, 1]);
    expect(r.horizontal.shape).toEqual([4, 1, 1, 3]);
    expect(r.outFactor.shape).toEqual([16, 4]);
  });

  it('recovers a rank-9 4-way kernel with the separable slice start (5×3 taps)', () => {
    const W = cp4Kernel([14, 10, 5, 3], 9, 23);
    const r = cp4(W, { rank: 15, nIterMax: 500 });
    expect(r.fit).toBeGreaterThanOrEqual(0.999);
  });

  it('same seed → byte-identical factors', () => {
    const W = randomKernel([10, 8, 3, 3], 24);
    const a = cp4(W, { rank: 6, seed: 5, init: 'random', nIterMax: 25 });
    const b = cp4(W, { rank: 6, seed: 5, init: 'random', nIterMax: 25 });
    for (const key of ['outFactor', 'inFactor', 'vertical', 'horizontal'] as const) {
      expect(bytesOf(a[key]).equals(bytesOf(b[key]))).toBe(true);
    }
  });

  it('reports the kernelRelError that reconstructCp4 measures', () => {
    const W = randomKernel([18, 12, 3, 3], 25);
    for (const rank of [2, 9, 30]) {
      const r = cp4(W, { rank, nIterMax: 40 });
      expect(Math.abs(r.kernelRelError - relFrobeniusError(W, reconstructCp4(r)))).toBeLessThan(1e-5);
    }
  });

  it('never increases the error with more ALS iterations', () => {
    const W = randomKernel([12, 12, 3, 3], 28);
    let prev = Infinity;
    for (const nIterMax of [1, 3, 10, 30]) {
      const r = cp4(W, { rank: 12, nIterMax, tol: 0 });
      expect(r.kernelRelError).toBeLessThanOrEqual(prev + 1e-9);
      prev = r.kernelRelError;
    }
  });

  it('handles zero, wide-range and NaN kernels', () => {
    const zero: Tensor = { shape: [3, 2, 3, 3], data: new Float32Array(54) };
    const z = cp4(zero, { rank: 3 });
    expect(z.fit).toBe(1);
    expect(allFinite(z.outFactor, z.inFactor, z.vertical, z.horizontal)).toBe(true);
    const w = cp4(wideRangeKernel([10, 8, 3, 3], 26), { rank: 7 });
    expect(allFinite(w.outFactor, w.inFactor, w.vertical, w.horizontal)).toBe(true);
    expect(w.fit).toBeGreaterThanOrEqual(0);
    const bad = randomKernel([3, 2, 3, 3], 27);
    bad.data[0] = Infinity;
    expect(() => cp4(bad, { rank: 2, name: 'conv5_3' })).toThrow(/layer "conv5_3"/);
  });
});

describe('CP costs', () => {
  const x = { N: 64, C: 32, kh: 3, kw: 3, rank: 16, hOut: 14, wOut: 14, hIn: 28, wIn: 28 };

  it('cp3: first 1×1 at input resolution, depthwise and last 1×1 at output resolution', () => {
    expect(cp3Cost(x)).toBe(28 * 28 * 32 * 16 + 14 * 14 * (16 * 9 + 16 * 64));
  });

  it('cp4: the vertical depthwise runs at output height × input width', () => {
    expect(cp4Cost(x)).toBe(28 * 28 * 32 * 16 + 14 * 28 * 16 * 3 + 14 * 14 * (16 * 3 + 16 * 64));
  });
});
