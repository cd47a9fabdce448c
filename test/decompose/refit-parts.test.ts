/**
 * The pieces the activation-aware decompositions and refits are built from, each against an
 * independent oracle (ml-matrix's solve, pseudo-inverse and products; the documented rules):
 * Σ^{1/2} and its pseudo-inverse, the proximal solve, Σx applied to weights in both forms, the
 * better-start choice, the CG budget, each refit step's exact minimum, and the input checks of the
 * whitened closed forms.
 */
import { describe, expect, it } from 'vitest';
import { Matrix, pseudoInverse, QrDecomposition, solve } from 'ml-matrix';

import { activationAwareCp, cpModel, whitenedCp } from '../../src/decompose/cp-whiten.js';
import { covApply, factorError, refitBestStart, refitFactors, weightTargetMoments, type MultilinearModel, type RefitMoments } from '../../src/decompose/factor-refit.js';
import { ndKernel64, proximalSolve, toFactors64, toNdFactors } from '../../src/decompose/nd-refit.js';
import { sqrtAndPinv, whitenedDecouple } from '../../src/decompose/nd-whiten.js';
import { decouple } from '../../src/decompose/nd.js';
import { gaussianArray } from '../../src/decompose/random.js';
import { spatial } from '../../src/decompose/spatial.js';
import { spatialFactors64, spatialModel, whitenedSpatial } from '../../src/decompose/spatial-whiten.js';
import { tucker2Model, whitenedTucker2 } from '../../src/decompose/tucker2-whiten.js';
import { quadraticMinimum } from '../helpers/quadratic-minimum.js';
import { randomKernel, spdMatrix } from './synthetic.js';

const toMatrix = (a: ArrayLike<number>, rows: number, cols: number) => Matrix.from1DArray(rows, cols, Array.from(a));

function expectMatrixClose(actual: Matrix, expected: Matrix, tol: number) {
  expect([actual.rows, actual.columns]).toEqual([expected.rows, expected.columns]);
  const scale = Math.max(expected.norm('max'), 1e-300);
  expect(actual.clone().sub(expected).norm('max')).toBeLessThan(tol * scale);
}

/** Q diag(λ) Qᵀ with Q an orthogonal basis from ml-matrix's QR of a seeded Gaussian. */
function withEigenvalues(values: number[], seed: number): Matrix {
  const n = values.length;
  const q = new QrDecomposition(toMatrix(gaussianArray(n * n, seed), n, n)).orthogonalMatrix;
  return q.mmul(Matrix.diag(values)).mmul(q.transpose());
}

describe('sqrtAndPinv', () => {
  it('positive definite Σ: S is symmetric, S² = Σ and S⁺ = S⁻¹', () => {
    const sigma = spdMatrix(5, 1);
    const { s, sInv } = sqrtAndPinv(Float64Array.from(sigma.to1DArray()), 5);
    const S = toMatrix(s, 5, 5);
    expectMatrixClose(S, S.transpose(), 1e-12);
    expectMatrixClose(S.mmul(S), sigma, 1e-10);
    expectMatrixClose(toMatrix(sInv, 5, 5).mmul(S), Matrix.eye(5, 5), 1e-10);
  });

  it('rank-deficient Σ: S² = Σ and S⁺ is the Moore–Penrose inverse of S', () => {
    const sigma = withEigenvalues([4, 1, 0.25, 0, 0], 2);
    const { s, sInv } = sqrtAndPinv(Float64Array.from(sigma.to1DArray()), 5);
    const S = toMatrix(s, 5, 5);
    expectMatrixClose(S.mmul(S), sigma, 1e-9);
    expectMatrixClose(S, withEigenvalues([2, 1, 0.5, 0, 0], 2), 1e-7);
    expectMatrixClose(toMatrix(sInv, 5, 5), pseudoInverse(S, 1e-6), 1e-7);
  });

  it('eigenvalues under 1e-12 of the largest count as zero, 1e-11 of it does not', () => {
    // Diagonal, so the eigenvectors are exact and the cut is all that is tested.
    const sigma = Matrix.diag([4, 1, 4e-11, 4e-13, 0]);
    const { s, sInv } = sqrtAndPinv(Float64Array.from(sigma.to1DArray()), 5);
    const root = [2, 1, Math.sqrt(4e-11), 0, 0];
    for (let i = 0; i < 5; i++) {
      expect(s[i * 5 + i]).toBeCloseTo(root[i], 12);
      expect(sInv[i * 5 + i] * (root[i] || 1)).toBeCloseTo(root[i] ? 1 : 0, 9);
    }
  });

  it('a zero or negative semi-definite Σ gives zeros, not NaN', () => {
    for (const sigma of [new Matrix(3, 3), Matrix.diag([-1, -2, 0])]) {
      const { s, sInv } = sqrtAndPinv(Float64Array.from(sigma.to1DArray()), 3);
      expect([...s, ...sInv].every((v) => v === 0)).toBe(true);
    }
  });
});

describe('proximalSolve', () => {
  const n = 4;
  const g = spdMatrix(n, 4);
  const rhs = toMatrix(gaussianArray(2 * n, 5), 2, n);
  const x0 = toMatrix(gaussianArray(2 * n, 6), 2, n);

  /** Each row x of the answer solves (G + ρI) x = r + ρ x₀ (G symmetric), by ml-matrix. */
  const oracle = (gm: Matrix, rho: number) => solve(gm.clone().add(Matrix.eye(n, n).mul(rho)), rhs.clone().add(x0.clone().mul(rho)).transpose()).transpose();

  it('solves every row of (G + ρI) x = r + ρ x₀ with ρ = relRidge · tr(G)/n', () => {
    for (const rel of [0, 1e-3, 1]) {
      const r = Float64Array.from(rhs.to1DArray());
      expect(proximalSolve(Float64Array.from(g.to1DArray()), n, r, Float64Array.from(x0.to1DArray()), 2, rel)).toBe(true);
      expectMatrixClose(toMatrix(r, 2, n), oracle(g, (rel * g.trace()) / n), 1e-9);
    }
  });

  it('an indefinite G with a positive trace: the ridge grows 1000-fold until G + ρI is positive definite', () => {
    // Eigenvalues 3, 1, 0.5, −2: trace 2.5, ρ₀ = 1e-6·2.5/4 = 6.25e-7; ρ₀·1e3³ = 625 is the first ρ > 2.
    const gi = withEigenvalues([3, 1, 0.5, -2], 7);
    const r = Float64Array.from(rhs.to1DArray());
    expect(proximalSolve(Float64Array.from(gi.to1DArray()), n, r, Float64Array.from(x0.to1DArray()), 2, 1e-6)).toBe(true);
    expectMatrixClose(toMatrix(r, 2, n), oracle(gi, ((1e-6 * gi.trace()) / n) * 1e9), 1e-8);
  });

  it('refuses a G it cannot use: zero or non-finite trace, or no ridge within six tries', () => {
    const r = new Float64Array(2 * n);
    const x = new Float64Array(2 * n);
    expect(proximalSolve(new Float64Array(n * n), n, r, x, 2, 1e-6)).toBe(false);
    expect(proximalSolve(Float64Array.from(g.to1DArray()).fill(Number.NaN, 0, 1), n, r, x, 2, 1e-6)).toBe(false);
    expect(proximalSolve(Float64Array.from(withEigenvalues([-3, -1, 1, 1], 8).to1DArray()), n, r, x, 2, 1e-6)).toBe(false);
    // Trace 1 > 0, ρ₀ = 2.5e-18: the sixth try (×1e3⁵) reaches 2.5e-3, short of the eigenvalue −1; a seventh would pass.
    const g1 = Float64Array.from(withEigenvalues([3, 0, -1, -1], 9).to1DArray());
    expect(proximalSolve(g1, n, r, x, 2, 1e-17)).toBe(false);
    expect(proximalSolve(g1, n, r, x, 2, 1e-14)).toBe(true);
  });
});

describe('covApply', () => {
  const C = 3;
  const K = 4;
  const F = C * K;
  const sigma = spdMatrix(F, 10);
  const w = toMatrix(gaussianArray(2 * F, 11), 2, F);
  const base = { channels: C, taps: K, outputs: 2, cross: new Float64Array(0), meanX: new Float64Array(F), meanY: new Float64Array(2), yVar: 0 };

  it('full form: W Σx', () => {
    const m: RefitMoments = { ...base, form: 'full', cov: Float64Array.from(sigma.to1DArray()) };
    expectMatrixClose(toMatrix(covApply(m, Float64Array.from(w.to1DArray()), 2), 2, F), w.mmul(sigma), 1e-12);
  });

  it('per-channel form: W times the block-diagonal Σx the blocks stand for', () => {
    const blocks = new Float64Array(C * K * K);
    const bd = new Matrix(F, F);
    for (let c = 0; c < C; c++) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
      const v = sigma.get(c * K + i, c * K + j);
      blocks[c * K * K + i * K + j] = v;
      bd.set(c * K + i, c * K + j, v);
    }
    const m: RefitMoments = { ...base, form: 'blocks', cov: blocks };
    expectMatrixClose(toMatrix(covApply(m, Float64Array.from(w.to1DArray()), 2), 2, F), w.mmul(bd), 1e-12);
  });
});

/** A 4→3 3×3 layer: a seeded kernel and a seeded positive definite input covariance over its C·kh·kw features. */
function layerCase(kernelSeed: number, covSeed: number) {
  const [N, C, kh, kw] = [4, 3, 3, 3];
  const F = C * kh * kw;
  return { N, C, kh, kw, F, kernel: randomKernel([N, C, kh, kw], kernelSeed), cov: Float64Array.from(spdMatrix(F, covSeed).to1DArray()) };
}

describe('the better start and the CG budget (refitBestStart, refitFactors)', () => {
  const { N, C, kh, kw, F, kernel, cov } = layerCase(12, 13);
  // Built inside each test (Stryker attributes only code run inside a test to it).
  const setUp = () => {
    const m = weightTargetMoments(Float64Array.from(kernel.data), { channels: C, taps: kh * kw, form: 'full', cov }, N);
    const model = spatialModel({ N, C, kh, kw, rank: 2 });
    const good = spatialFactors64(spatial(kernel, { rank: 2 }));
    const bad = good.map((f) => f.map((v, i) => v * (1 + 0.5 * Math.sin(i))));
    return { m, model, good, bad };
  };

  it('starts from whichever start has the lower error, reports the plain one, and never ends above the start it took', () => {
    const { m, model, good, bad } = setUp();
    for (const [plain, whitened, want] of [[good, bad, 'plain'], [bad, good, 'whitened']] as const) {
      const fit = refitBestStart(model, { plain, whitened }, m, 2);
      expect(fit.start).toBe(want);
      const plainError = refitFactors(model, plain, m, { rounds: 0 }).error;
      const startError = refitFactors(model, want === 'plain' ? plain : whitened, m, { rounds: 0 }).error;
      expect(fit.plainError).toBeCloseTo(plainError, 10);
      expect(fit.error).toBeLessThanOrEqual(startError);
      expect(fit.error).toBeCloseTo(refitFactors(model, want === 'plain' ? plain : whitened, m, { rounds: 2 }).error, 10);
    }
  });

  it('maxStepMacs caps the CG iterations at ⌊budget / one product⌋: one product is p·F·(F + N) when p < N, else N·F²', () => {
    const { m, model, bad } = setUp();
    // Spatial rank 2, kw 3: the output factor's inner size is p = 6 ≥ N = 4, so a product costs N·F².
    const product = N * F * F;
    const capped = refitFactors(model, bad, m, { rounds: 2, maxStepMacs: 5 * product });
    const five = refitFactors(model, bad, m, { rounds: 2, cgIterations: 5 });
    expect(capped.errors).toEqual(five.errors);
    const roomy = refitFactors(model, bad, m, { rounds: 2, maxStepMacs: 1e3 * product, cgIterations: 7 });
    expect(roomy.errors).toEqual(refitFactors(model, bad, m, { rounds: 2, cgIterations: 7 }).errors);
    // p < N: Tucker-2-like narrow basis, spatial at rank 1 with kw = 3 on N = 8 outputs.
    const wide = randomKernel([8, C, kh, kw], 14);
    const mw = weightTargetMoments(Float64Array.from(wide.data), { channels: C, taps: kh * kw, form: 'full', cov: Float64Array.from(spdMatrix(F, 15).to1DArray()) }, 8);
    const narrow = spatialModel({ N: 8, C, kh, kw, rank: 1 });
    const start = spatialFactors64(spatial(wide, { rank: 1 })).map((f) => f.map((v, i) => v * (1 + 0.3 * Math.cos(i))));
    const cheap = 3 * F * (F + 8);
    expect(refitFactors(narrow, start, mw, { rounds: 2, maxStepMacs: 4 * cheap }).errors).toEqual(refitFactors(narrow, start, mw, { rounds: 2, cgIterations: 4 }).errors);
  });
});

describe('nd-refit conversions', () => {
  it('toNdFactors(toFactors64(f)) gives back nd.ts\'s factors, both orders, and ndKernel64 their kernel', () => {
    const kernel = randomKernel([4, 3, 3, 3], 16);
    for (const order of ['dw-pw', 'pw-dw'] as const) {
      const f = decouple(kernel, { order, rank: 2 });
      const back = toNdFactors(toFactors64(f), kernel.shape);
      expect(back.depthwise.shape).toEqual(f.depthwise.shape);
      expect(back.pointwise.shape).toEqual(f.pointwise.shape);
      expect(Array.from(back.depthwise.data)).toEqual(Array.from(f.depthwise.data));
      expect(Array.from(back.pointwise.data)).toEqual(Array.from(f.pointwise.data));
      expect(back.order).toBe(order);
      expect(back.rank).toBe(2);
    }
  });
});

describe('the whitened closed forms refuse statistics that do not fit the kernel', () => {
  const kernel = randomKernel([4, 3, 3, 3], 17);
  const stats = (channels: number, taps: number) => ({ channels, taps, form: 'full' as const, cov: Float64Array.from(spdMatrix(channels * taps, 18).to1DArray()) });

  it('wrong channel or tap count, in one line naming both shapes', () => {
    for (const bad of [stats(2, 9), stats(3, 4)]) {
      const got = `${bad.channels}×${bad.taps} patches do not fit kernel [4, 3, 3, 3]`;
      expect(() => whitenedDecouple(kernel, bad, 2)).toThrow(`whitened ND: statistics for ${got}`);
      expect(() => whitenedSpatial(kernel, bad, 2)).toThrow(`whitened spatial: statistics for ${got}`);
      expect(() => whitenedTucker2(kernel, bad, [2, 2])).toThrow(`whitened Tucker-2: statistics for ${got}`);
      expect(() => whitenedCp(kernel, bad, false, { rank: 2 })).toThrow(`whitened CP: statistics for ${got}`);
      expect(() => activationAwareCp(kernel, bad, true, { rank: 2 })).toThrow(`whitened CP: statistics for ${got}`);
    }
  });

  it('ranks outside 1..K (ND) and 1..min(C·kh, N·kw) (spatial)', () => {
    const ok = stats(3, 9);
    for (const rank of [0, 10, 1.5]) expect(() => whitenedDecouple(kernel, ok, rank)).toThrow(`whitened ND: rank ${rank} must be in 1..9`);
    expect(() => whitenedDecouple(kernel, ok, 9)).not.toThrow();
    for (const rank of [0, 10, 2.5]) expect(() => whitenedSpatial(kernel, ok, rank)).toThrow(`whitened spatial: rank ${rank} must be in 1..9`);
    expect(() => whitenedSpatial(kernel, ok, 9)).not.toThrow();
  });

  it('at full rank the whitened ND is the kernel itself', () => {
    const w = ndKernel64(whitenedDecouple(kernel, stats(3, 9), 9), { N: 4, C: 3, K: 9 });
    for (let i = 0; i < w.length; i++) expect(w[i]).toBeCloseTo(kernel.data[i], 4);
  });
});

describe('refitFactors: every block step reaches the exact minimum over its factor', () => {
  // Guards each model's basis and adjoint inside the steps: the refit keeps its best factors, so a
  // wrong step is only rejected, and the "no step raises E" tests cannot see it.
  const { N, C, kh, kw, kernel: target, cov } = layerCase(60, 61);
  const f64 = (sizes: number[], seed: number) => sizes.map((n, i) => Float64Array.from(gaussianArray(n, seed + i)));
  // Built inside each test: Stryker only attributes code run inside a test to it.
  const models: [string, () => MultilinearModel, Float64Array[]][] = [
    ['spatial', () => spatialModel({ N, C, kh, kw, rank: 2 }), f64([2 * C * kh, N * 2 * kw], 62)],
    ['Tucker-2', () => tucker2Model({ N, C, K: kh * kw, ranks: [2, 2] }), f64([2 * C, 2 * 2 * 9, N * 2], 64)],
    ['CP', () => cpModel({ N, C, kh, kw, rank: 2 }, false), f64([2 * C, 2 * 9, N * 2], 67)],
  ];
  for (const [name, makeModel, init] of models) {
    it(`${name}: the output factor's step, then each other factor's, each to its minimum with the rest fixed`, () => {
      const model = makeModel();
      const m = weightTargetMoments(Float64Array.from(target.data), { channels: C, taps: kh * kw, form: 'full', cov }, N);
      const fit = refitFactors(model, init, m, { rounds: 1, relRidge: 0, cgIterations: 200 });
      const order = [model.outputFactor, ...init.map((_, i) => i).filter((i) => i !== model.outputFactor)];
      let cur = init;
      order.forEach((i, step) => {
        const best = quadraticMinimum((x) => factorError(model.kernel(cur.map((f, j) => (j === i ? x : f))), m), cur[i].length);
        expect(fit.errors[step + 1]).toBeCloseTo(best.value, 6);
        cur = cur.map((f, j) => (j === i ? best.x : f));
      });
    });
  }
});
