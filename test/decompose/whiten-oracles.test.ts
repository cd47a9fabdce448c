/**
 * The multilinear models the joint refit works through, and the whitened closed forms' mapping
 * back, against oracles that do not share their code. The refit keeps the best factors it has
 * seen, so a wrong adjoint or basis only makes it slower, never worse than its start: the
 * "never worse than plain" tests cannot see such a mistake, these can.
 * - adjoint: each factor enters Ŵ linearly, so ⟨adjoint(i, f, R), δ⟩ = ⟨Ŵ(θᵢ + δ) − Ŵ(θᵢ), R⟩ exactly;
 * - basis: Ŵ = X·B with X the output-side factor;
 * - kernel: the decomposition's own reconstruction (cp.ts, tucker2.ts, spatial.ts) of the same factors;
 * - closed forms: under Σx = A ⊗ B their kernel, whitened by ml-matrix's square roots of the
 *   partial traces A·tr(B) and B·tr(A), is the plain decomposition of the whitened kernel.
 */
import { describe, expect, it } from 'vitest';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

import { cp3, cp4, reconstructCp3, reconstructCp4 } from '../../src/decompose/cp.js';
import { cpModel, whitenedCp } from '../../src/decompose/cp-whiten.js';
import type { MultilinearModel } from '../../src/decompose/factor-refit.js';
import { gaussianArray } from '../../src/decompose/random.js';
import { reconstructSpatial } from '../../src/decompose/spatial.js';
import { spatialModel } from '../../src/decompose/spatial-whiten.js';
import type { Tensor } from '../../src/decompose/tensor.js';
import { reconstructTucker2, tucker2 } from '../../src/decompose/tucker2.js';
import { tucker2Model, whitenedTucker2 } from '../../src/decompose/tucker2-whiten.js';
import { randomKernel, spdMatrix } from './synthetic.js';

const [N, C, KH, KW] = [4, 3, 3, 2];
const K = KH * KW;
const F = C * K;
const R = 2;
const f64 = (n: number, seed: number) => Float64Array.from(gaussianArray(n, seed));
const t32 = (shape: number[], x: Float64Array): Tensor => ({ shape, data: Float32Array.from(x) });
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

interface Case {
  name: string;
  /** Built inside each test: Stryker only attributes code run inside a test to it. */
  model: () => MultilinearModel;
  factors: Float64Array[];
  /** The same factors through the decomposition's own reconstruction. */
  reference: (f: Float64Array[]) => Tensor;
}

const CASES: Case[] = [
  {
    name: 'CP (cp3)',
    model: () => cpModel({ N, C, kh: KH, kw: KW, rank: R }, false),
    factors: [f64(R * C, 1), f64(R * K, 2), f64(N * R, 3)],
    reference: ([i, d, o]) => reconstructCp3({ inFactor: t32([R, C], i), depthwise: t32([R, 1, KH, KW], d), outFactor: t32([N, R], o) }),
  },
  {
    name: 'CP4',
    model: () => cpModel({ N, C, kh: KH, kw: KW, rank: R }, true),
    factors: [f64(R * C, 4), f64(R * KH, 5), f64(R * KW, 6), f64(N * R, 7)],
    reference: ([i, v, h, o]) => reconstructCp4({ inFactor: t32([R, C], i), vertical: t32([R, 1, KH, 1], v), horizontal: t32([R, 1, 1, KW], h), outFactor: t32([N, R], o) }),
  },
  {
    name: 'Tucker-2 (R2 = 3, R1 = 2)',
    model: () => tucker2Model({ N, C, K, ranks: [3, 2] }),
    factors: [f64(2 * C, 8), f64(3 * 2 * K, 9), f64(N * 3, 10)],
    reference: ([first, core, last]) => reconstructTucker2({ first: t32([2, C, 1, 1], first), core: t32([3, 2, KH, KW], core), last: t32([N, 3, 1, 1], last) }),
  },
  {
    name: 'spatial',
    model: () => spatialModel({ N, C, kh: KH, kw: KW, rank: R }),
    factors: [f64(R * C * KH, 11), f64(N * R * KW, 12)],
    reference: ([v, h]) => reconstructSpatial({ vertical: t32([R, C, KH, 1], v), horizontal: t32([N, R, 1, KW], h) }),
  },
];

describe('the multilinear models of the refit', () => {
  for (const { name, model: makeModel, factors, reference } of CASES) {
    it(`${name}: the kernel is the decomposition's own reconstruction, and X·basis`, () => {
      const model = makeModel();
      expect([model.N, model.F]).toEqual([N, F]);
      const w = model.kernel(factors);
      const ref = reference(factors).data;
      expect(w.length).toBe(N * F);
      for (let i = 0; i < w.length; i++) expect(w[i]).toBeCloseTo(ref[i], 5);
      const { b, p } = model.basis(factors);
      const x = factors[model.outputFactor];
      expect(x.length).toBe(N * p);
      expect(b.length).toBe(p * F);
      const xb = Matrix.from1DArray(N, p, Array.from(x)).mmul(Matrix.from1DArray(p, F, Array.from(b))).to1DArray();
      for (let i = 0; i < w.length; i++) expect(w[i]).toBeCloseTo(xb[i], 10);
    });

    it(`${name}: every factor's adjoint satisfies ⟨adjoint(R), δ⟩ = ⟨Ŵ(θ + δ) − Ŵ(θ), R⟩`, () => {
      const model = makeModel();
      const r = f64(N * F, 20);
      const w = model.kernel(factors);
      factors.forEach((theta, i) => {
        const delta = f64(theta.length, 30 + i);
        const moved = factors.map((f, j) => (j === i ? f.map((v, q) => v + delta[q]) : f));
        const w2 = model.kernel(moved);
        const change = dot(w2.map((v, q) => v - w[q]), r);
        const g = model.adjoint(i, factors, r);
        expect(g.length).toBe(theta.length);
        expect(dot(g, delta)).toBeCloseTo(change, 8);
      });
    });
  }
});

/** √M of a symmetric positive definite matrix, by ml-matrix's eigendecomposition. */
function sqrtm(m: Matrix): Matrix {
  const e = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const v = e.eigenvectorMatrix;
  return v.mmul(Matrix.diag(e.realEigenvalues.map(Math.sqrt))).mmul(v.transpose());
}

describe('the whitened closed forms map their factors back exactly', () => {
  const kernel = randomKernel([N, C, KH, KW], 40);
  const a = spdMatrix(C, 41);
  const b = spdMatrix(K, 42);
  const stats = { channels: C, taps: K, form: 'full' as const, cov: Float64Array.from(a.kroneckerProduct(b).to1DArray()) };
  // The partial traces of A ⊗ B are A·tr(B) and B·tr(A).
  const sa = sqrtm(a.clone().mul(b.trace()));
  const sb = sqrtm(b.clone().mul(a.trace()));
  const w = Matrix.from1DArray(N, F, Array.from(kernel.data));
  /** W (S_A ⊗ S_B) (or S_A ⊗ I) as a kernel tensor, and a kernel's rows times the same. */
  const whiten = (x: Matrix, tapsToo: boolean) => x.mmul(sa.kroneckerProduct(tapsToo ? sb : Matrix.eye(K, K)));
  const whiteKernel = (tapsToo: boolean): Tensor => ({ shape: kernel.shape, data: Float32Array.from(whiten(w, tapsToo).to1DArray()) });

  function expectSameKernel(got: Matrix, want: ArrayLike<number>) {
    const scale = Math.max(...Array.from(want, Math.abs));
    const g = got.to1DArray();
    for (let i = 0; i < g.length; i++) expect(Math.abs(g[i] - want[i])).toBeLessThan(1e-3 * scale);
  }

  it('Tucker-2: Ŵ (S_A ⊗ S_B) is HOOI\'s reconstruction of W (S_A ⊗ S_B)', () => {
    const ranks: [number, number] = [3, 2];
    const f = whitenedTucker2(kernel, stats, ranks);
    const mine = Matrix.from1DArray(N, F, Array.from(tucker2Model({ N, C, K, ranks }).kernel(f)));
    expectSameKernel(whiten(mine, true), reconstructTucker2(tucker2(whiteKernel(true), { ranks })).data);
  });

  it('CP: Ŵ (S_A ⊗ S_B) is CP-ALS\'s reconstruction of W (S_A ⊗ S_B); CP4: Ŵ (S_A ⊗ I) that of W (S_A ⊗ I)', () => {
    const opts = { rank: 2, seed: 3, nIterMax: 40 };
    for (const four of [false, true]) {
      const f = whitenedCp(kernel, stats, four, opts);
      const ref = four ? CASES[1].reference(f) : CASES[0].reference(f);
      const mine = Matrix.from1DArray(N, F, Array.from(ref.data));
      const white = whiteKernel(!four);
      expectSameKernel(whiten(mine, !four), (four ? reconstructCp4(cp4(white, opts)) : reconstructCp3(cp3(white, opts))).data);
    }
  });
});
