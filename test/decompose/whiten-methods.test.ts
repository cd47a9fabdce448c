import { describe, expect, it } from 'vitest';
import { Matrix, SVD } from 'ml-matrix';
import { factorError, refitFactors, weightTargetMoments } from '../../src/decompose/factor-refit.js';
import { MomentAccumulator } from '../../src/decompose/moments.js';
import { gaussianArray } from '../../src/decompose/random.js';
import { reconstructSpatial, spatial, unfoldSpatial } from '../../src/decompose/spatial.js';
import { activationAwareSpatial, spatialFactors64, spatialModel, whitenedSpatial } from '../../src/decompose/spatial-whiten.js';
import type { Tensor } from '../../src/decompose/tensor.js';
import { reconstructTucker2, tucker2 } from '../../src/decompose/tucker2.js';
import { activationAwareTucker2, tucker2Factors64, tucker2Model } from '../../src/decompose/tucker2-whiten.js';
import { cp3, cp4, reconstructCp3, reconstructCp4 } from '../../src/decompose/cp.js';
import { activationAwareCp, cpModel } from '../../src/decompose/cp-whiten.js';
import { cp3Kernel, randomKernel } from './synthetic.js';

/** A random SPD F×F matrix with a spread of eigenvalues (G Gᵀ with scaled columns + a small ridge). */
function randomSpd(F: number, seed: number): Float64Array {
  const g = gaussianArray(F * F, seed);
  const m = new Float64Array(F * F);
  for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) {
    let s = 0;
    for (let q = 0; q < F; q++) s += g[i * F + q] * g[j * F + q] * (q < 3 ? 25 : 1 / (1 + q));
    m[i * F + j] = s + (i === j ? 0.01 : 0);
  }
  return m;
}

/** tr((W − Ŵ) M (W − Ŵ)ᵀ) by plain loops over the OIHW tensors. */
function whitenedError(w: Tensor, wh: Tensor, m: Float64Array): number {
  const [N] = w.shape;
  const F = w.data.length / N;
  let e = 0;
  for (let n = 0; n < N; n++) for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) {
    e += (w.data[n * F + i] - wh.data[n * F + i]) * m[i * F + j] * (w.data[n * F + j] - wh.data[n * F + j]);
  }
  return e;
}

function tucker2Tensors(f: Float64Array[], shape: number[], ranks: [number, number]) {
  const [N, C, kh, kw] = shape;
  const [R2, R1] = ranks;
  return reconstructTucker2({
    first: { shape: [R1, C, 1, 1], data: Float32Array.from(f[0]) },
    core: { shape: [R2, R1, kh, kw], data: Float32Array.from(f[1]) },
    last: { shape: [N, R2, 1, 1], data: Float32Array.from(f[2]) },
  });
}

function spatialTensors(f: Float64Array[], shape: number[], rank: number) {
  const [N, C, kh, kw] = shape;
  return reconstructSpatial({ vertical: { shape: [rank, C, kh, 1], data: Float32Array.from(f[0]) }, horizontal: { shape: [N, rank, 1, kw], data: Float32Array.from(f[1]) } });
}

const full = (shape: number[], cov: Float64Array) => ({ channels: shape[1], taps: shape[2] * shape[3], form: 'full' as const, cov });
const energy = (w: Tensor, m: Float64Array) => whitenedError(w, { shape: w.shape, data: new Float32Array(w.data.length) }, m);

describe('activation-aware Tucker-2', () => {
  const shape = [6, 5, 3, 3];
  const w = randomKernel(shape, 11);
  const m = randomSpd(45, 12);
  it('whitened error ≤ plain Tucker-2 at every rank pair, ≈ 0 at full ranks', () => {
    for (const ranks of [[1, 1], [2, 3], [4, 2], [5, 5], [6, 4], [6, 5]] as [number, number][]) {
      const plain = whitenedError(w, reconstructTucker2(tucker2(w, { ranks })), m);
      const aware = activationAwareTucker2(w, full(shape, m), ranks);
      const got = whitenedError(w, tucker2Tensors(aware.factors, shape, ranks), m);
      expect(got).toBeLessThanOrEqual(plain * (1 + 1e-5) + 1e-9 * energy(w, m));
      if (ranks[0] === 6 && ranks[1] === 5) expect(got).toBeLessThan(1e-9 * energy(w, m));
    }
  });
  it('strictly better than plain at a low rank on an anisotropic input', () => {
    const plain = whitenedError(w, reconstructTucker2(tucker2(w, { ranks: [2, 2] })), m);
    const aware = whitenedError(w, tucker2Tensors(activationAwareTucker2(w, full(shape, m), [2, 2]).factors, shape, [2, 2]), m);
    expect(aware).toBeLessThan(plain);
  });
});

describe('activation-aware spatial', () => {
  const shape = [5, 4, 3, 3];
  const w = randomKernel(shape, 21);
  const m = randomSpd(36, 22);
  it('whitened error ≤ plain spatial at every rank, ≈ 0 at full rank', () => {
    for (let rank = 1; rank <= 12; rank++) {
      const plain = whitenedError(w, reconstructSpatial(spatial(w, { rank })), m);
      const aware = activationAwareSpatial(w, full(shape, m), rank);
      const got = whitenedError(w, spatialTensors(aware.factors, shape, rank), m);
      expect(got).toBeLessThanOrEqual(plain * (1 + 1e-5) + 1e-9 * energy(w, m));
      if (rank === 12) expect(got).toBeLessThan(1e-9 * energy(w, m));
    }
  });
  it('the closed form is the optimum when Σx is a Kronecker product (the discarded σ² of S_A M (I ⊗ S_B))', () => {
    const a = randomSpd(12, 23);
    const b = randomSpd(3, 24);
    const kron = new Float64Array(36 * 36);
    for (let p = 0; p < 12; p++) for (let q = 0; q < 12; q++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) kron[(p * 3 + i) * 36 + q * 3 + j] = a[p * 12 + q] * b[i * 3 + j];
    // Independent oracle: ml-matrix's square roots and SVD.
    const sqrt = (x: Float64Array, n: number) => {
      const e = new SVD(new Matrix(Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * n, (i + 1) * n)))));
      return e.leftSingularVectors.mmul(Matrix.diag(e.diagonal.map(Math.sqrt))).mmul(e.rightSingularVectors.transpose());
    };
    const mm = unfoldSpatial(w);
    const M = new Matrix(Array.from({ length: 12 }, (_, i) => Array.from(mm.subarray(i * 15, (i + 1) * 15))));
    const sb = sqrt(b, 3);
    const ib = new Matrix(15, 15);
    for (let n = 0; n < 5; n++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) ib.set(n * 3 + i, n * 3 + j, sb.get(i, j));
    const sigma = new SVD(sqrt(a, 12).mmul(M).mmul(ib), { autoTranspose: true }).diagonal;
    for (const rank of [1, 3, 7]) {
      const want = sigma.slice(rank).reduce((s, v) => s + v * v, 0);
      const got = whitenedError(w, spatialTensors(whitenedSpatial(w, full(shape, kron), rank), shape, rank), kron);
      expect(Math.abs(got - want)).toBeLessThan(1e-4 * want);
    }
  });
  it('per-channel statistics (block form) also work: ≤ plain in the block-diagonal error', () => {
    const blocks = new Float64Array(4 * 81);
    const bd = new Float64Array(36 * 36);
    for (let c = 0; c < 4; c++) for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) {
      blocks[c * 81 + i * 9 + j] = m[(c * 9 + i) * 36 + c * 9 + j];
      bd[(c * 9 + i) * 36 + c * 9 + j] = m[(c * 9 + i) * 36 + c * 9 + j];
    }
    for (const rank of [2, 5]) {
      const plain = whitenedError(w, reconstructSpatial(spatial(w, { rank })), bd);
      const aware = activationAwareSpatial(w, { channels: 4, taps: 9, form: 'blocks', cov: blocks }, rank);
      expect(whitenedError(w, spatialTensors(aware.factors, shape, rank), bd)).toBeLessThanOrEqual(plain * (1 + 1e-5));
    }
  });
});

describe('joint refit of Tucker-2 and spatial factors against a layer output', () => {
  /** Correlated patches x and targets y = W′x + noise (W′ ≠ W: the refit sees the real output). */
  function layerMoments(shape: number[], seed: number) {
    const [N, C, kh, kw] = shape;
    const F = C * kh * kw;
    const rows = 800;
    const mix = gaussianArray(F * F, seed);
    const g = gaussianArray(rows * F, seed + 1);
    const w2 = gaussianArray(N * F, seed + 2);
    const noise = gaussianArray(rows * N, seed + 3, 0.1);
    const x = new Float64Array(rows * F);
    const y = new Float64Array(rows * N);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < F; i++) {
        let s = 0.2 * (i % 4);
        for (let j = 0; j < F; j++) s += mix[i * F + j] * g[r * F + j] * (j < 6 ? 1 : 0.1);
        x[r * F + i] = s;
      }
      for (let n = 0; n < N; n++) {
        let s = noise[r * N + n] + 0.3 * n;
        for (let i = 0; i < F; i++) s += w2[n * F + i] * x[r * F + i];
        y[r * N + n] = s;
      }
    }
    const acc = new MomentAccumulator({ channels: C, taps: kh * kw, outputs: N });
    acc.add(x, y, rows);
    return { m: acc.centred(), x, y, rows, w: { shape, data: Float32Array.from(w2) } as Tensor };
  }
  /** Mean ‖y − Ŵx − b‖² over the samples. */
  function direct(wh: Float64Array, b: Float64Array, s: ReturnType<typeof layerMoments>): number {
    const N = s.w.shape[0];
    const F = wh.length / N;
    let e = 0;
    for (let r = 0; r < s.rows; r++) for (let n = 0; n < N; n++) {
      let v = b[n];
      for (let i = 0; i < F; i++) v += wh[n * F + i] * s.x[r * F + i];
      e += (s.y[r * N + n] - v) ** 2;
    }
    return e / s.rows;
  }
  const monotone = (errors: number[]) => errors.every((e, i) => i === 0 || e <= Math.min(...errors.slice(0, i)) * (1 + 1e-9) + 1e-12);

  it('Tucker-2: no step raises the output error; the moments error matches the samples; better than the last factor alone', () => {
    const shape = [5, 4, 3, 3];
    const s = layerMoments(shape, 31);
    const ranks: [number, number] = [2, 2];
    const model = tucker2Model({ N: 5, C: 4, K: 9, ranks });
    const fit = refitFactors(model, tucker2Factors64(tucker2(s.w, { ranks })), s.m, { rounds: 5 });
    expect(monotone(fit.errors)).toBe(true);
    expect(Math.abs(direct(model.kernel(fit.factors), fit.bias, s) - fit.error)).toBeLessThan(1e-6 * fit.error);
    // The first step is the last-factor least squares (what the plain refit does); the rest only lower E.
    expect(fit.error).toBeLessThan(fit.errors[1]);
  });
  it('spatial: no step raises the output error; the moments error matches the samples', () => {
    const shape = [4, 3, 3, 3];
    const s = layerMoments(shape, 41);
    const model = spatialModel({ N: 4, C: 3, kh: 3, kw: 3, rank: 3 });
    const fit = refitFactors(model, spatialFactors64(spatial(s.w, { rank: 3 })), s.m, { rounds: 5 });
    expect(monotone(fit.errors)).toBe(true);
    expect(Math.abs(direct(model.kernel(fit.factors), fit.bias, s) - fit.error)).toBeLessThan(1e-6 * fit.error);
    expect(fit.error).toBeLessThan(fit.errors[1]);
  });
  it('with weight targets the refit error is the whitened error', () => {
    const shape = [4, 3, 3, 3];
    const w = randomKernel(shape, 51);
    const m = randomSpd(27, 52);
    const f = spatialFactors64(spatial(w, { rank: 2 }));
    const model = spatialModel({ N: 4, C: 3, kh: 3, kw: 3, rank: 2 });
    const e = factorError(model.kernel(f), weightTargetMoments(Float64Array.from(w.data), full(shape, m), 4));
    const want = whitenedError(w, spatialTensors(f, shape, 2), m);
    expect(Math.abs(e - want)).toBeLessThan(1e-6 * want);
  });
});

function cpTensors(f: Float64Array[], shape: number[], R: number, four: boolean): Tensor {
  const [N, C, kh, kw] = shape;
  const t = (sh: number[], x: Float64Array) => ({ shape: sh, data: Float32Array.from(x) });
  return four
    ? reconstructCp4({ inFactor: t([R, C], f[0]), vertical: t([R, 1, kh, 1], f[1]), horizontal: t([R, 1, 1, kw], f[2]), outFactor: t([N, R], f[3]) })
    : reconstructCp3({ inFactor: t([R, C], f[0]), depthwise: t([R, 1, kh, kw], f[1]), outFactor: t([N, R], f[2]) });
}

describe('activation-aware CP (whitened start + weighted ALS)', () => {
  const shape = [5, 4, 3, 3];
  const w = randomKernel(shape, 61);
  const m = randomSpd(36, 62);
  for (const four of [false, true]) {
    it(`${four ? 'cp4' : 'cp3'}: whitened error ≤ plain CP at every rank tested, strictly lower at a low rank`, () => {
      for (const rank of [1, 2, 4, 8]) {
        const opts = { rank, seed: 5, nIterMax: 60 };
        const plain = whitenedError(w, four ? reconstructCp4(cp4(w, opts)) : reconstructCp3(cp3(w, opts)), m);
        const aware = activationAwareCp(w, full(shape, m), four, { ...opts, rounds: 4 });
        const got = whitenedError(w, cpTensors(aware.factors, shape, rank, four), m);
        expect(got).toBeLessThanOrEqual(plain * (1 + 1e-5) + 1e-9 * energy(w, m));
        if (rank === 2) expect(got).toBeLessThan(plain);
      }
    });
  }
  it('cp3: ≈ 0 when the kernel has CP rank R (the exact fit)', () => {
    const exact = cp3Kernel([5, 4, 3, 3], 2, 71);
    const aware = activationAwareCp(exact, full(shape, m), false, { rank: 2, seed: 5, rounds: 4 });
    expect(whitenedError(exact, cpTensors(aware.factors, shape, 2, false), m)).toBeLessThan(1e-8 * energy(exact, m));
  });
  it('the CP model reproduces cp.ts reconstruction (factor layouts agree)', () => {
    const r = cp4(w, { rank: 3, seed: 5 });
    const mine = cpModel({ N: 5, C: 4, kh: 3, kw: 3, rank: 3 }, true).kernel([r.inFactor, r.vertical, r.horizontal, r.outFactor].map((t) => Float64Array.from(t.data)));
    const ref = reconstructCp4(r).data;
    for (let i = 0; i < ref.length; i++) expect(mine[i]).toBeCloseTo(ref[i], 5);
  });
});
