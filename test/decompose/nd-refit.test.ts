import { describe, expect, it } from 'vitest';
import { EigenvalueDecomposition, Matrix, SVD } from 'ml-matrix';
import { MomentAccumulator, type CentredMoments } from '../../src/decompose/moments.js';
import { ndKernel64, optimalBias, outputError, refitNd, toFactors64, type NdDims, type NdFactors64 } from '../../src/decompose/nd-refit.js';
import { perChannelWhitenedError, whitenedDecouple } from '../../src/decompose/nd-whiten.js';
import { decouple, reconstruct, type NdOrder } from '../../src/decompose/nd.js';
import { gaussianArray, mulberry32 } from '../../src/decompose/random.js';
import type { Tensor } from '../../src/decompose/tensor.js';
import { quadraticMinimum } from '../helpers/quadratic-minimum.js';

/** Correlated patches (x = A·g + offset, g Gaussian) and targets y = W x + b + noise. */
function samples(d: NdDims, rows: number, seed: number, noise = 0.1) {
  const F = d.C * d.K;
  const mix = gaussianArray(F * F, seed);
  const g = gaussianArray(rows * F, seed + 1);
  const w = gaussianArray(d.N * F, seed + 2);
  const e = gaussianArray(rows * d.N, seed + 3, noise);
  const x = new Float64Array(rows * F);
  const y = new Float64Array(rows * d.N);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < F; i++) {
      let s = 0.3 * (i % 3);
      for (let j = 0; j < F; j++) s += mix[i * F + j] * g[r * F + j] * (j < F / 2 ? 1 : 0.2);
      x[r * F + i] = s;
    }
    for (let n = 0; n < d.N; n++) {
      let s = 0.5 * n + e[r * d.N + n];
      for (let i = 0; i < F; i++) s += w[n * F + i] * x[r * F + i];
      y[r * d.N + n] = s;
    }
  }
  const kernel: Tensor = { shape: [d.N, d.C, Math.sqrt(d.K), Math.sqrt(d.K)], data: Float32Array.from(w) };
  return { x, y, kernel };
}

function moments(d: NdDims, x: Float64Array, y: Float64Array, rows: number, maxFullBytes?: number): CentredMoments {
  const acc = new MomentAccumulator({ channels: d.C, taps: d.K, outputs: d.N, maxFullBytes });
  const half = Math.floor(rows / 2);
  const F = d.C * d.K;
  acc.add(x.subarray(0, half * F), y.subarray(0, half * d.N), half);
  acc.add(x.subarray(half * F), y.subarray(half * d.N), rows - half);
  return acc.centred();
}

/** Mean over rows of ‖y − Ŵx − b‖², straight from the samples. */
function directError(w: Float64Array, b: Float64Array, x: Float64Array, y: Float64Array, d: NdDims, rows: number): number {
  const F = d.C * d.K;
  let e = 0;
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < d.N; n++) {
      let s = b[n];
      for (let i = 0; i < F; i++) s += w[n * F + i] * x[r * F + i];
      e += (y[r * d.N + n] - s) ** 2;
    }
  }
  return e / rows;
}

const D: NdDims = { N: 5, C: 3, K: 4 };
const ROWS = 600;

describe('patch moments', () => {
  it('streamed batches give the sample covariance, cross-covariance and means', () => {
    const { x, y } = samples(D, ROWS, 1);
    const m = moments(D, x, y, ROWS);
    const F = D.C * D.K;
    const mx = new Float64Array(F);
    for (let r = 0; r < ROWS; r++) for (let i = 0; i < F; i++) mx[i] += x[r * F + i] / ROWS;
    for (const [i, j] of [[0, 0], [2, 7], [11, 5]]) {
      let s = 0;
      for (let r = 0; r < ROWS; r++) s += (x[r * F + i] - mx[i]) * (x[r * F + j] - mx[j]);
      expect(m.cov[i * F + j]).toBeCloseTo(s / ROWS, 9);
    }
    expect(m.count).toBe(ROWS);
  });

  it('the per-channel form keeps exactly the diagonal K×K blocks of the full one', () => {
    const { x, y } = samples(D, ROWS, 2);
    const full = moments(D, x, y, ROWS);
    const blocks = moments(D, x, y, ROWS, 8);
    expect(blocks.form).toBe('blocks');
    const F = D.C * D.K;
    for (let c = 0; c < D.C; c++)
      for (let i = 0; i < D.K; i++)
        for (let j = 0; j < D.K; j++) expect(blocks.cov[c * D.K * D.K + i * D.K + j]).toBeCloseTo(full.cov[(c * D.K + i) * F + c * D.K + j], 12);
  });

  it('outputError from the moments equals the error on the samples, and its bias is optimal', () => {
    const { x, y, kernel } = samples(D, ROWS, 3);
    const m = moments(D, x, y, ROWS);
    const w = ndKernel64(toFactors64(decouple(kernel, { order: 'dw-pw', rank: 2 })), D);
    const b = optimalBias(w, m);
    const direct = directError(w, b, x, y, D, ROWS);
    expect(outputError(w, m)).toBeCloseTo(direct, 8);
    for (let n = 0; n < D.N; n++) {
      const moved = b.slice();
      moved[n] += 0.05;
      expect(directError(w, moved, x, y, D, ROWS)).toBeGreaterThan(direct);
    }
  });
});

describe('joint refit of ND factors (block-coordinate least squares)', () => {
  for (const order of ['dw-pw', 'pw-dw'] as NdOrder[]) {
    for (const rank of [1, 2, 3]) {
      it(`${order} T = ${rank}: no step raises the output error, and the result's error is the samples' error`, () => {
        const { x, y, kernel } = samples(D, ROWS, 10 + rank);
        const m = moments(D, x, y, ROWS);
        const init = toFactors64(decouple(kernel, { order, rank }));
        const fit = refitNd(init, m, D, { rounds: 5 });
        for (let i = 1; i < fit.errors.length; i++) expect(fit.errors[i]).toBeLessThanOrEqual(fit.errors[i - 1] * (1 + 1e-12));
        expect(fit.error).toBeLessThan(fit.errors[0]);
        expect(directError(ndKernel64(fit.factors, D), fit.bias, x, y, D, ROWS)).toBeCloseTo(fit.error, 8);
      });
    }
  }

  it('dw-pw: after a round the depthwise taps are a stationary point (finite-difference oracle)', () => {
    const { x, y, kernel } = samples(D, ROWS, 20);
    const m = moments(D, x, y, ROWS);
    const fit = refitNd(toFactors64(decouple(kernel, { order: 'dw-pw', rank: 2 })), m, D, { rounds: 1, relRidge: 0 });
    const e = (f: NdFactors64) => outputError(ndKernel64(f, D), m);
    const h = 1e-4;
    for (let i = 0; i < fit.factors.depthwise.length; i++) {
      const plus = { ...fit.factors, depthwise: fit.factors.depthwise.slice() };
      const minus = { ...fit.factors, depthwise: fit.factors.depthwise.slice() };
      plus.depthwise[i] += h;
      minus.depthwise[i] -= h;
      const slope = (e(plus) - e(minus)) / (2 * h);
      expect(Math.abs(slope)).toBeLessThan(1e-5 * fit.error + 1e-8);
    }
  });

  it('recovers an output that is exactly ND of rank T (error → 0) from the plain start', () => {
    const d: NdDims = { N: 4, C: 3, K: 4 };
    const true64: NdFactors64 = { order: 'dw-pw', rank: 2, depthwise: Float64Array.from(gaussianArray(3 * 2 * 4, 5)), pointwise: Float64Array.from(gaussianArray(4 * 3 * 2, 6)) };
    const w = ndKernel64(true64, d);
    const { x } = samples(d, ROWS, 30);
    const F = d.C * d.K;
    const y = new Float64Array(ROWS * d.N);
    for (let r = 0; r < ROWS; r++) for (let n = 0; n < d.N; n++) for (let i = 0; i < F; i++) y[r * d.N + n] += w[n * F + i] * x[r * F + i];
    const m = moments(d, x, y, ROWS);
    const kernel: Tensor = { shape: [4, 3, 2, 2], data: Float32Array.from(w) };
    const fit = refitNd(toFactors64(decouple(kernel, { order: 'dw-pw', rank: 2 })), m, d, { rounds: 30 });
    expect(fit.error).toBeLessThan(1e-6 * m.yVar);
  });
});

/** Brute force: Σ_c of the discarded σ² of W_c Σ_c^{1/2}, from ml-matrix's EVD and SVD (independent of symeig). */
function eckartYoungTail(kernel: Tensor, m: CentredMoments, rank: number): number {
  const [N, C] = kernel.shape;
  const K = m.taps;
  let tail = 0;
  for (let c = 0; c < C; c++) {
    const sig = new Matrix(K, K);
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) sig.set(i, j, m.cov[c * K * K + i * K + j]);
    const evd = new EigenvalueDecomposition(sig, { assumeSymmetric: true });
    const root = evd.eigenvectorMatrix.mmul(Matrix.diag(evd.realEigenvalues.map((v) => Math.sqrt(Math.max(v, 0))))).mmul(evd.eigenvectorMatrix.transpose());
    const wc = new Matrix(N, K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wc.set(n, k, kernel.data[(n * C + c) * K + k]);
    const sv = new SVD(wc.mmul(root), { autoTranspose: true }).diagonal;
    for (let t = rank; t < sv.length; t++) tail += sv[t] ** 2;
  }
  return tail;
}

describe('activation-whitened ND (dw-pw, per-channel closed form)', () => {
  const d: NdDims = { N: 6, C: 3, K: 9 };
  const { x, y, kernel } = samples(d, 900, 40);
  const m = moments(d, x, y, 900, 8); // per-channel blocks: the objective this closed form minimises

  for (let rank = 1; rank <= 9; rank++) {
    it(`T = ${rank}: whitened error ≤ plain ND's whitened error, and equals the Eckart–Young tail of W_c Σ_c^½`, () => {
      const plain = ndKernel64(toFactors64(decouple(kernel, { order: 'dw-pw', rank })), d);
      const white = ndKernel64(whitenedDecouple(kernel, m, rank), d);
      const ePlain = perChannelWhitenedError(kernel, plain, m);
      const eWhite = perChannelWhitenedError(kernel, white, m);
      const scale = perChannelWhitenedError(kernel, new Float64Array(white.length), m);
      expect(eWhite).toBeLessThanOrEqual(ePlain + 1e-9 * scale);
      expect(eWhite).toBeCloseTo(eckartYoungTail(kernel, m, rank), 5);
      if (rank === 9) {
        expect(eWhite).toBeLessThan(1e-9 * scale);
        expect(ePlain).toBeLessThan(1e-9 * scale);
      }
    });
  }

  it('with identity statistics it is plain ND', () => {
    const K = 9;
    const eye = new Float64Array(d.C * K * K);
    for (let c = 0; c < d.C; c++) for (let k = 0; k < K; k++) eye[c * K * K + k * K + k] = 1;
    const idm = { cov: eye, form: 'blocks' as const, channels: d.C, taps: K };
    const white = ndKernel64(whitenedDecouple(kernel, idm, 3), d);
    const plain = reconstruct(decouple(kernel, { order: 'dw-pw', rank: 3 }), kernel.shape);
    const r = mulberry32(1);
    for (let i = 0; i < 20; i++) {
      const j = Math.floor(r() * white.length);
      expect(white[j]).toBeCloseTo(plain.data[j], 4);
    }
  });
});

describe('each block step reaches the exact minimum over its factor (both orders)', () => {
  for (const order of ['dw-pw', 'pw-dw'] as NdOrder[]) {
    it(`${order}: the P-step's error is the minimum over P, the D-step's the minimum over D after it`, () => {
      // Guards the Gram and right-hand side of every step: the refit keeps its best factors, so a
      // wrong step would only be rejected, never seen by the "no step raises E" tests.
      const d: NdDims = { N: 3, C: 2, K: 4 };
      const { x, y, kernel } = samples(d, 300, 50 + order.length);
      const m = moments(d, x, y, 300);
      const init = toFactors64(decouple(kernel, { order, rank: 2 }));
      const fit = refitNd(init, m, d, { rounds: 1, relRidge: 0 });
      const withP = (p: Float64Array) => ({ ...init, pointwise: p });
      const pStep = quadraticMinimum((p) => outputError(ndKernel64(withP(p), d), m), init.pointwise.length);
      expect(fit.errors[1]).toBeCloseTo(pStep.value, 8);
      const afterP = withP(pStep.x);
      const dStep = quadraticMinimum((dw) => outputError(ndKernel64({ ...afterP, depthwise: dw }, d), m), init.depthwise.length);
      expect(fit.errors[2]).toBeCloseTo(dStep.value, 6);
    });
  }
});
