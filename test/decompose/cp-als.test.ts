/**
 * CP's starts and ALS steps against an independent reference: a few lines of CP-ALS written on
 * ml-matrix (each factor update a plain least-squares solve by QR, each start from ml-matrix's
 * eigen-decompositions), sharing nothing with cp.ts's normal equations, MTTKRP blocks or Gram
 * bookkeeping. Ŵ after a start and after each ALS iteration is unique (it does not depend on the
 * signs or scales of the factors), so the product's model must equal the reference's.
 *
 * Why the existing cp tests were not enough: they check outcomes (planted kernels recovered, the
 * error never rising, the reported error measured), which many wrong steps still reach, because ALS
 * keeps its best iterate, computes its error from its own model and recovers from a poor start.
 */
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition, solve } from 'ml-matrix';
import { describe, expect, it } from 'vitest';

import { cp3, cp4, cpSliceSpectrum, reconstructCp3, reconstructCp4 } from '../../src/decompose/cp.js';
import type { Tensor } from '../../src/decompose/tensor.js';
import { relError } from '../helpers/output-error.js';
import { randomKernel } from './synthetic.js';

/** A tensor's modes and its row-major float64 entries: cp3 sees OIHW as N × C × K, cp4 as N × C × kh × kw. */
interface Modes {
  dims: number[];
  data: Float64Array;
}

const modesOf = (w: Tensor, separable: boolean): Modes => {
  const [N, C, kh, kw] = w.shape;
  return { dims: separable ? [N, C, kh, kw] : [N, C, kh * kw], data: Float64Array.from(w.data) };
};

/** The multi-index of every flat entry, computed once per tensor shape. */
const indexCache = new Map<string, number[][]>();
function multiIndices(dims: number[]): number[][] {
  const key = dims.join('×');
  if (!indexCache.has(key)) indexCache.set(key, enumerate(dims));
  return indexCache.get(key)!;
}

function enumerate(dims: number[]): number[][] {
  const total = dims.reduce((a, b) => a * b, 1);
  return Array.from({ length: total }, (_, flat) => {
    const idx = new Array<number>(dims.length);
    for (let m = dims.length - 1; m >= 0; m--) {
      idx[m] = flat % dims[m];
      flat = Math.floor(flat / dims[m]);
    }
    return idx;
  });
}

/** Ŵ = Σ_r ∏_m F_m[i_m, r]. */
function cpTensor(dims: number[], factors: Matrix[]): Float64Array {
  const R = factors[0].columns;
  return Float64Array.from(multiIndices(dims), (idx) => {
    let s = 0;
    for (let r = 0; r < R; r++) s += idx.reduce((p, i, m) => p * factors[m].get(i, r), 1);
    return s;
  });
}

/** The flat index of idx over every mode but `mode`. */
const otherIndex = (dims: number[], idx: number[], mode: number) => idx.reduce((row, i, m) => (m === mode ? row : row * dims[m] + i), 0);

/** The mode-m unfolding: one row per index of the other modes, one column per index along `mode`. */
function unfold(t: Modes, mode: number): Matrix {
  const y = new Matrix(t.data.length / t.dims[mode], t.dims[mode]);
  multiIndices(t.dims).forEach((idx, flat) => y.set(otherIndex(t.dims, idx, mode), idx[mode], t.data[flat]));
  return y;
}

/** The least-squares F_mode given the other factors: min ‖T − Ŵ‖ is one QR solve per mode index. */
function lsUpdate(t: Modes, factors: Matrix[], mode: number): Matrix {
  const R = factors[0].columns;
  const y = unfold(t, mode);
  const z = new Matrix(y.rows, R); // column r: the product of the other factors' columns r
  multiIndices(t.dims).forEach((idx) => {
    const row = otherIndex(t.dims, idx, mode);
    for (let r = 0; r < R; r++) z.set(row, r, idx.reduce((p, i, m) => (m === mode ? p : p * factors[m].get(i, r)), 1));
  });
  return solve(z, y).transpose();
}

/** One ALS iteration in cp.ts's order: B, A, then the spatial factor(s). */
function alsIteration(t: Modes, factors: Matrix[]): Matrix[] {
  const f = [...factors];
  for (const mode of [1, 0, ...t.dims.slice(2).map((_, i) => i + 2)]) f[mode] = lsUpdate(t, f, mode);
  return f;
}

/** The mode-m unfolding's Gram eigenvectors, largest eigenvalue first, as the columns of a d_m × d_m matrix. */
function modeBasis(t: Modes, mode: number): Matrix {
  const y = unfold(t, mode);
  const g = y.transpose().mmul(y);
  const evd = new EigenvalueDecomposition(g, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((value, i) => ({ value, i })).sort((x, y) => y.value - x.value);
  return new Matrix(order.map(({ i }) => evd.eigenvectorMatrix.getColumn(i))).transpose();
}

const leading = (m: Matrix, R: number) => m.subMatrix(0, m.rows - 1, 0, R - 1);

/** The HOSVD start (R below every spatial size and N): A and the spatial factors from the unfoldings; B is never read. */
function hosvdStart(t: Modes, R: number): Matrix[] {
  return t.dims.map((d, m) => (m === 1 ? Matrix.zeros(d, R) : leading(modeBasis(t, m), R)));
}

/** W'_q = Σ_k q[k]·W_k, an N × C matrix. */
function rotatedSlice(t: Modes, q: number[]): Matrix {
  const [N, C] = t.dims;
  const slice = new Matrix(N, C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) slice.set(n, c, q.reduce((s, qk, k) => s + qk * t.data[(n * C + c) * q.length + k], 0));
  }
  return slice;
}

/**
 * The slice start: filters q_t from the spatial unfoldings (cp4: products of the row and column
 * bases), the rotated slices W'_t = Σ_k q_t[k]·W_k, and the R largest singular triplets pooled
 * over all slices as components (σ·u, v, q_t). Also the kept share of ‖W‖².
 */
function sliceStart(t: Modes, R: number): { factors: Matrix[]; kept: number; shares: number[] } {
  const spatial = t.dims.slice(2).map((_, i) => modeBasis(t, i + 2));
  const taps = multiIndices(t.dims.slice(2)); // tap k's (i) or (i, j), and likewise filter q's (a) or (a, b)
  const filter = (q: number) => taps.map((k) => k.reduce((p, ki, m) => p * spatial[m].get(ki, taps[q][m]), 1));
  const energy = t.data.reduce((s, x) => s + x * x, 0);
  const triplets: { value: number; t: number; u: number[]; v: number[] }[] = [];
  for (let q = 0; q < taps.length; q++) {
    const svd = new SingularValueDecomposition(rotatedSlice(t, filter(q)), { autoTranspose: true });
    svd.diagonal.forEach((s, i) => triplets.push({ value: s * s, t: q, u: svd.leftSingularVectors.getColumn(i).map((x) => x * s), v: svd.rightSingularVectors.getColumn(i) }));
  }
  const kept = triplets.sort((x, y) => y.value - x.value).slice(0, R);
  const factors = [new Matrix(kept.map((k) => k.u)).transpose(), new Matrix(kept.map((k) => k.v)).transpose()];
  spatial.forEach((basis, m) => factors.push(new Matrix(kept.map((k) => basis.getColumn(taps[k.t][m]))).transpose()));
  return { factors, kept: kept.reduce((s, k) => s + k.value, 0) / energy, shares: triplets.map((k) => k.value / energy) };
}

const modelError = (t: Modes, factors: Matrix[]) => relError(t.data, cpTensor(t.dims, factors));

/** Runs the reference n iterations from a start. */
function referenceAls(t: Modes, start: Matrix[], iterations: number): Matrix[] {
  let f = start;
  for (let i = 0; i < iterations; i++) f = alsIteration(t, f);
  return f;
}

describe('CP starts against the reference', () => {
  // Guards the slice start (tap basis, rotated slices, the pooled largest σ, σ on the right side
  // whichever of N and C is smaller) and the spent-time-cap path that returns it unchanged.
  it('cp3 slice start: the R largest singular triplets of the rotated slices, N < C and N > C', () => {
    for (const [shape, R] of [[[5, 7, 3, 3], 12], [[9, 4, 3, 3], 5], [[6, 6, 2, 2], 7]] as const) {
      const w = randomKernel([...shape], R + shape[0]);
      const t = modesOf(w, false);
      const ref = sliceStart(t, R);
      const r = cp3(w, { rank: R, init: 'slice', maxSeconds: 0 });
      expect(r.iterations).toBe(0);
      expect(relError(cpTensor(t.dims, ref.factors), reconstructCp3(r).data)).toBeLessThan(1e-5);
      expect(r.kernelRelError).toBeCloseTo(Math.sqrt(1 - ref.kept), 6);
    }
  });

  it('cp4 slice start: separable filters, products of the row and column bases (5×3 and 2×4 taps)', () => {
    for (const [shape, R] of [[[6, 5, 5, 3], 11], [[4, 7, 2, 4], 6]] as const) {
      const w = randomKernel([...shape], 31 + R);
      const t = modesOf(w, true);
      const ref = sliceStart(t, R);
      const r = cp4(w, { rank: R, init: 'slice', maxSeconds: 0 });
      expect(relError(cpTensor(t.dims, ref.factors), reconstructCp4(r).data)).toBeLessThan(1e-5);
      expect(r.kernelRelError).toBeCloseTo(Math.sqrt(1 - ref.kept), 6);
    }
  });

  // cpSliceSpectrum is the CP energy rule's and the speed budget's input: a wrong share is a wrong rank.
  it('cpSliceSpectrum is every rotated slice σ² over ‖W‖², pooled, descending', () => {
    for (const separable of [false, true]) {
      const w = randomKernel([5, 6, 3, 2], separable ? 41 : 42);
      const t = modesOf(w, separable);
      const { shares } = sliceStart(t, 1); // every triplet's share, pooled and sorted: K·min(N, C) of them
      const got = cpSliceSpectrum(w, separable);
      expect(got.length).toBe(6 * 5);
      shares.forEach((share, i) => expect(got[i]).toBeCloseTo(share, 10));
    }
    expect(cpSliceSpectrum({ shape: [2, 2, 3, 3], data: new Float32Array(36) }, false).length).toBe(0);
  });
});

describe('CP-ALS iterations against the reference', () => {
  // Guards the HOSVD start (A and S or V, H from the unfoldings) and every update of an iteration:
  // B's MTTKRP, A's in row blocks of 64 (N = 70 crosses one), S's from the shared products, the
  // column normalisation carrying the weights into A.
  it('cp3 from the HOSVD start (R < kh·kw): 1 and 3 iterations, N across the 64-row block', () => {
    const w = randomKernel([70, 5, 3, 3], 51);
    const t = modesOf(w, false);
    let ref = hosvdStart(t, 4);
    for (const [iterations, more] of [[1, 1], [3, 2]]) {
      const r = cp3(w, { rank: 4, nIterMax: iterations, tol: 0 });
      expect(r.iterations).toBe(iterations);
      ref = referenceAls(t, ref, more);
      expect(relError(cpTensor(t.dims, ref), reconstructCp3(r).data)).toBeLessThan(1e-5);
      expect(r.kernelRelError).toBeCloseTo(modelError(t, ref), 6);
    }
  });

  it('cp3 from the slice start (R ≥ kh·kw, the default): 2 iterations', () => {
    const w = randomKernel([8, 6, 3, 3], 52);
    const t = modesOf(w, false);
    const r = cp3(w, { rank: 11, nIterMax: 2, tol: 0 });
    const ref = referenceAls(t, sliceStart(t, 11).factors, 2);
    expect(relError(cpTensor(t.dims, ref), reconstructCp3(r).data)).toBeLessThan(1e-5);
  });

  // cp4's V and H updates from M_S, the Khatri–Rao S = V ⊙ H and its Gram as the Hadamard of V's and H's.
  it('cp4 from the HOSVD start and from the slice start: 2 iterations', () => {
    const w = randomKernel([7, 6, 3, 4], 53);
    const t = modesOf(w, true);
    const fromHosvd = cp4(w, { rank: 3, nIterMax: 2, tol: 0 });
    expect(relError(cpTensor(t.dims, referenceAls(t, hosvdStart(t, 3), 2)), reconstructCp4(fromHosvd).data)).toBeLessThan(1e-5);
    const fromSlices = cp4(w, { rank: 9, init: 'slice', nIterMax: 2, tol: 0 });
    const ref = referenceAls(t, sliceStart(t, 9).factors, 2);
    expect(relError(cpTensor(t.dims, ref), reconstructCp4(fromSlices).data)).toBeLessThan(1e-5);
    expect(fromSlices.kernelRelError).toBeCloseTo(modelError(t, ref), 6);
  });

  // Guards the stopping rule: the first iteration whose fit moves by ≤ tol·|previous fit|, not one
  // earlier or later, and converged only when that rule (not nIterMax) ended the run.
  it('stops at the first iteration whose relative fit change is ≤ tol', () => {
    const w = randomKernel([8, 6, 3, 3], 54);
    const t = modesOf(w, false);
    const start = hosvdStart(t, 4);
    const fits = [NaN];
    let f = start;
    for (let i = 1; i <= 8; i++) {
      f = alsIteration(t, f);
      fits.push(1 - modelError(t, f));
    }
    const change = (i: number) => Math.abs(fits[i] - fits[i - 1]) / Math.abs(fits[i - 1]);
    const before = Math.min(change(2), change(3), change(4));
    expect(change(5)).toBeLessThan(before / 1.5); // the reference's own precondition: a clear gap
    const tol = Math.sqrt(before * change(5));
    const r = cp3(w, { rank: 4, tol });
    expect([r.iterations, r.converged]).toEqual([5, true]);
    const capped = cp3(w, { rank: 4, tol, nIterMax: 4 });
    expect([capped.iterations, capped.converged]).toEqual([4, false]);
  });
});
