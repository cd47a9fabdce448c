/**
 * CP (CANDECOMP/PARAFAC) decompositions of a conv kernel (Lebedev et al., ICLR 2015) by
 * alternating least squares.
 *
 * cp3 — rank-R CP of the 3-way tensor W[n, c, k] (k = i·kw + j):
 *   W[n, c, i, j] ≈ Σ_r A[n, r] · B[c, r] · S[(i, j), r]
 *   as layers: 1×1 conv C → R (inFactor = Bᵀ, [R, C]) → depthwise kh×kw on R channels
 *   (depthwise [R, 1, kh, kw] = Sᵀ; takes the stride, padding, dilation) → 1×1 conv R → N
 *   (outFactor = A, [N, R]; takes the bias and activation): MobileNetV2's linear bottleneck.
 * cp4 — rank-R CP of the 4-way tensor W[n, c, i, j] ≈ Σ_r A[n, r]·B[c, r]·V[i, r]·H[j, r]:
 *   1×1 C → R → depthwise kh×1 (vertical [R, 1, kh, 1]; stride_h, pad_h) → depthwise 1×kw
 *   (horizontal [R, 1, 1, kw]; stride_w, pad_w) → 1×1 R → N.
 *
 * Normalisation: B, S (cp3) and B, V, H (cp4) have unit-norm columns after every update; the
 * weights λ_r are absorbed into A, so the returned outFactor carries the component scales (and
 * ‖W‖). Internally W is divided by ‖W‖, so "1" is the kernel's norm in every threshold below.
 *
 * Cost control (a VGG16 512×512×3×3 layer at R ≈ 1142 is 2.4 M entries × R per pass):
 *   - MTTKRP is never formed through the Khatri–Rao product (that would be (C·K) × R doubles,
 *     larger than the kernel). Instead, per tap k, P_k = W_k·B (N × R) and W_kᵀ·(A∘s_k) (C × R)
 *     are products of the kernel's N × C slices with the factors, and
 *       M_A[n, r] = Σ_k P_k[n, r]·S[k, r],  M_S[k, r] = Σ_n A[n, r]·P_k[n, r],
 *       M_B = Σ_k W_kᵀ·(A∘s_k).
 *     The A and S updates share the P_k (computed in blocks of rows, so only K·64·R of them live at
 *     once): two kernel-sized products per iteration instead of three.
 *   - Memory: two float64 copies of the kernel (slices N×C and C×N), the factors, and about six
 *     R×R matrices (Gram matrices, the normal matrix, its Cholesky factor and transpose): ~100 MB
 *     for a 512×512×3×3 layer at R = 1142, whose float32 kernel is 9.4 MB.
 *
 * Stability: seeded initialisation; a ridge of 1e-10·trace/R on every R×R normal matrix (raised
 * ×1e3 until its Cholesky succeeds); degeneracy — a non-finite value, or a component weight above
 * maxWeight·‖W‖ (default 1e6: components diverging against each other, CP "swamps") — triggers one
 * restart from a random start with a derived seed; if that degenerates too, the best finite
 * iterate seen is returned with a warning. The reported error is always finite.
 */
import { gemmNT, gramRows, solveSpdRows, spdRowSolver, transpose } from './linalg.js';
import {
  checkKernel,
  describe,
  frobenius,
  permuted,
  toTensor,
  type KernelDims,
} from './kernel64.js';
import { mulberry32 } from './random.js';
import { symEig, symEigSolver, type SymEigSolver } from './symeig.js';
import type { Tensor } from './tensor.js';

export type CpInit = 'svd' | 'slice' | 'random';

export interface CpOptions {
  /** Number of components R ≥ 1 (at most N·C·kh·kw). */
  rank: number;
  /** ALS iterations at most (one iteration updates every factor once). */
  nIterMax?: number;
  /** Stop when |fit − previous fit| ≤ tol·|previous fit|. */
  tol?: number;
  /** Seed of every random draw: same seed → byte-identical factors. */
  seed?: number;
  /**
   * 'svd' (default): deterministic SVD-based start. For R ≥ kh·kw, the "slice" start: rotate the
   * taps to an orthonormal basis of filters (cp3: the principal directions of the mode-3 unfolding;
   * cp4: products of the row and column principal directions, which are separable) and give the R
   * components to the largest singular values of the rotated N×C slices — already a CP model whose
   * error is the discarded singular-value energy, which ALS then only improves. For R < kh·kw,
   * HOSVD-style (tensorly's 'svd'): leading singular vectors of each unfolding, padded with seeded
   * random columns where R exceeds the dimension.
   * 'slice': the slice start at every R (also R < kh·kw). Its error is known before any ALS
   * iteration (the discarded share of the slices' σ²) and ALS only lowers it, so the slice
   * spectrum is an upper bound on the result at every rank: what the speed budget relies on.
   * 'random': seeded Gaussian factors.
   */
  init?: CpInit;
  /**
   * Wall-clock cap on the ALS iterations (seconds, counted from the start of the call): the fit
   * stops at the first iteration that ends past it. With init 'slice', a cap already spent by the
   * start returns the slice model itself (0 iterations, its exact error).
   */
  maxSeconds?: number;
  /**
   * A component whose weight λ_r exceeds maxWeight·‖W‖ is treated as diverging (degenerate CP:
   * two or more components cancelling each other with growing norms). Default 1e6.
   */
  maxWeight?: number;
  /** Layer name for error messages. */
  name?: string;
}

export interface CpDiagnostics {
  /** 1 − kernelRelError. */
  fit: number;
  /**
   * ‖W − Ŵ‖_F / ‖W‖_F of the float64 factors (0 for a zero kernel), from
   * ‖W‖² − 2⟨W, Ŵ⟩ + ‖Ŵ‖²: near an exact fit that difference limits it to ~1e-8 absolute; the
   * float32 rounding of the returned tensors adds ~1e-7.
   */
  kernelRelError: number;
  /** ALS iterations run, summed over the restart if there was one. */
  iterations: number;
  /** The fit changed by ≤ tol (relative) in the last iteration. */
  converged: boolean;
  /** Degeneracy (non-finite values or exploding components) was detected; see warnings. */
  degenerate: boolean;
  warnings: string[];
}

export interface Cp3Result extends CpDiagnostics {
  rank: number;
  /** Last 1×1 conv R → N: OIHW-squeezed [N, R] = A (carries the component weights). */
  outFactor: Tensor;
  /** First 1×1 conv C → R: [R, C] = Bᵀ (unit rows). */
  inFactor: Tensor;
  /** Depthwise kh×kw on R channels: OIHW [R, 1, kh, kw] = Sᵀ (unit filters). */
  depthwise: Tensor;
}

export interface Cp4Result extends CpDiagnostics {
  rank: number;
  /** First 1×1 conv C → R: [R, C] = Bᵀ (unit rows). */
  inFactor: Tensor;
  /** Depthwise kh×1 on R channels: OIHW [R, 1, kh, 1] = Vᵀ (unit filters). */
  vertical: Tensor;
  /** Depthwise 1×kw on R channels: OIHW [R, 1, 1, kw] = Hᵀ (unit filters). */
  horizontal: Tensor;
  /** Last 1×1 conv R → N: [N, R] = A (carries the component weights). */
  outFactor: Tensor;
}

/** Rank-R CP of W as N × C × (kh·kw): 1×1 → depthwise kh×kw → 1×1. */
export function cp3(kernel: Tensor, opts: CpOptions): Cp3Result {
  const run = decompose(kernel, opts, false);
  const { dims, R, f } = run;
  return {
    rank: R,
    outFactor: toTensor([dims.N, R], f.A, run.norm),
    inFactor: toTensor([R, dims.C], transpose(f.B, dims.C, R)),
    depthwise: toTensor([R, 1, dims.kh, dims.kw], transpose(f.S, dims.K, R)),
    ...run.diagnostics,
  };
}

/** Rank-R CP of W as N × C × kh × kw: 1×1 → depthwise kh×1 → depthwise 1×kw → 1×1. */
export function cp4(kernel: Tensor, opts: CpOptions): Cp4Result {
  const run = decompose(kernel, opts, true);
  const { dims, R, f } = run;
  return {
    rank: R,
    inFactor: toTensor([R, dims.C], transpose(f.B, dims.C, R)),
    vertical: toTensor([R, 1, dims.kh, 1], transpose(f.V, dims.kh, R)),
    horizontal: toTensor([R, 1, 1, dims.kw], transpose(f.H, dims.kw, R)),
    outFactor: toTensor([dims.N, R], f.A, run.norm),
    ...run.diagnostics,
  };
}

/** Row-major factor matrices: A N×R, B C×R, S K×R; for cp4 also V kh×R, H kw×R, S = V ⊙ H. */
interface Factors {
  A: Float64Array;
  B: Float64Array;
  S: Float64Array;
  V: Float64Array;
  H: Float64Array;
  /** The slice start's kept share of ‖W‖² (its error² is 1 − kept). */
  kept?: number;
}

interface Problem {
  dims: KernelDims;
  R: number;
  separable: boolean;
  /** Slices W_k (N × C) of the unit-norm kernel, k-major: [k][n][c]. */
  wKnc: Float64Array;
  /** Transposed slices W_kᵀ (C × N): [k][c][n]. */
  wKcn: Float64Array;
}

interface RunOutcome {
  best: Factors | null;
  bestErr: number;
  iterations: number;
  converged: boolean;
  degenerate: string | null;
}

const DEFAULTS = { nIterMax: 200, tol: 1e-7, seed: 0, init: 'svd' as CpInit };
/** Ridge on the R×R normal matrices, relative to their mean diagonal. */
const RIDGE = 1e-10;
/** Default CpOptions.maxWeight. */
const EXPLODE = 1e6;

function decompose(kernel: Tensor, opts: CpOptions, separable: boolean) {
  const what = describe(opts.name);
  const dims = checkKernel(kernel, opts.name);
  const { N, C, K } = dims;
  const R = opts.rank;
  if (typeof R !== 'number' || !Number.isInteger(R) || R < 1) {
    throw new Error(`${what}: CP rank ${String(R)} must be a positive integer`);
  }
  if (R > N * C * K) {
    throw new Error(
      `${what}: CP rank ${R} exceeds N·C·kh·kw = ${N * C * K}, more parameters than the kernel; ` +
        'use a smaller rank',
    );
  }
  const nIterMax = opts.nIterMax ?? DEFAULTS.nIterMax;
  const tol = opts.tol ?? DEFAULTS.tol;
  const seed = opts.seed ?? DEFAULTS.seed;
  const init = opts.init ?? DEFAULTS.init;
  if (!Number.isInteger(nIterMax) || nIterMax < 1) {
    throw new Error(`${what}: nIterMax ${nIterMax} must be a positive integer`);
  }
  if (!(tol >= 0)) throw new Error(`${what}: tol ${tol} must be ≥ 0`);
  const maxWeight = opts.maxWeight ?? EXPLODE;
  if (!(maxWeight > 0)) throw new Error(`${what}: maxWeight ${maxWeight} must be > 0`);
  if (!Number.isInteger(seed)) throw new Error(`${what}: seed ${seed} must be an integer`);
  if (init !== 'svd' && init !== 'slice' && init !== 'random') {
    throw new Error(`${what}: init "${String(init)}" must be 'svd', 'slice' or 'random'`);
  }

  const norm = frobenius(kernel);
  const warnings: string[] = [];
  if (norm === 0) {
    // Exact zero factors; fit is defined as 1 (nothing to approximate).
    const diagnostics = { fit: 1, kernelRelError: 0, iterations: 0, converged: true };
    const f = emptyFactors(dims, R);
    return { dims, R, f, norm, diagnostics: { ...diagnostics, degenerate: false, warnings } };
  }
  const problem: Problem = {
    dims,
    R,
    separable,
    wKnc: permuted(kernel, dims, 'knc', 1 / norm),
    wKcn: permuted(kernel, dims, 'kcn', 1 / norm),
  };
  const exactBound = K * Math.min(N, C);
  if (R > exactBound) {
    warnings.push(
      `${what}: rank ${R} exceeds kh·kw·min(N, C) = ${exactBound}, at which CP is already exact; ` +
        'the extra components stay zero',
    );
  }

  const t0 = performance.now();
  const deadline = opts.maxSeconds !== undefined ? t0 + opts.maxSeconds * 1000 : Infinity;
  const als = { nIterMax, tol, maxWeight, deadline };
  const start = initialFactors(problem, init, seed);
  if (start.kept !== undefined && performance.now() >= deadline) {
    const err = Math.sqrt(Math.max(0, 1 - start.kept));
    return { dims, R, f: start, norm, diagnostics: { fit: 1 - err, kernelRelError: err, iterations: 0, converged: false, degenerate: false, warnings } };
  }
  let out = runAls(problem, start, als);
  let iterations = out.iterations;
  let degenerate = false;
  let best = { f: out.best, err: out.bestErr };
  if (out.degenerate) {
    degenerate = true;
    warnings.push(`${what}: ${out.degenerate}; restarting once from a random start`);
    const retrySeed = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0) + 1;
    out = runAls(problem, initialFactors(problem, 'random', retrySeed), als);
    iterations += out.iterations;
    if (out.degenerate) {
      warnings.push(
        `${what}: the restart degenerated too (${out.degenerate}); ` +
          'returning the best finite iterate of both runs',
      );
    }
    if (out.best && out.bestErr < best.err) best = { f: out.best, err: out.bestErr };
  }
  let { f, err } = best;
  if (!f) {
    warnings.push(`${what}: no finite CP iterate; returning zero factors (kernelRelError 1)`);
    f = emptyFactors(dims, R);
    err = 1;
  }
  const diagnostics = { fit: 1 - err, kernelRelError: err, iterations, converged: out.converged };
  return { dims, R, f, norm, diagnostics: { ...diagnostics, degenerate, warnings } };
}

function emptyFactors(d: KernelDims, R: number): Factors {
  return {
    A: new Float64Array(d.N * R),
    B: new Float64Array(d.C * R),
    S: new Float64Array(d.K * R),
    V: new Float64Array(d.kh * R),
    H: new Float64Array(d.kw * R),
  };
}

function copyFactors(f: Factors): Factors {
  return { A: f.A.slice(), B: f.B.slice(), S: f.S.slice(), V: f.V.slice(), H: f.H.slice() };
}

/** Standard normal draws from a seeded mulberry32 (Box–Muller). */
function gaussian(seed: number): () => number {
  const rand = mulberry32(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const phi = 2 * Math.PI * rand();
    spare = r * Math.sin(phi);
    return r * Math.cos(phi);
  };
}

/** Fills columns from..R−1 of the rows×R matrix m with seeded unit-norm Gaussian columns. */
function randomColumns(m: Float64Array, rows: number, R: number, from: number, g: () => number) {
  for (let r = from; r < R; r++) {
    let s = 0;
    for (let i = 0; i < rows; i++) {
      const x = g();
      m[i * R + r] = x;
      s += x * x;
    }
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < rows; i++) m[i * R + r] *= inv;
  }
}

/** Leading min(R, n) eigenvectors of the n×n Gram g as the first columns of an n×R matrix. */
function leadingColumns(g: Float64Array, n: number, R: number, gauss: () => number): Float64Array {
  const take = Math.min(R, n);
  const vecs = symEig(g, n, { count: take }).vectors;
  const m = new Float64Array(n * R);
  for (let t = 0; t < take; t++) for (let i = 0; i < n; i++) m[i * R + t] = vecs[t * n + i];
  randomColumns(m, n, R, take, gauss);
  return m;
}

function initialFactors(p: Problem, init: CpInit, seed: number): Factors {
  const { dims, R } = p;
  const { N, C, K, kh, kw } = dims;
  const gauss = gaussian(seed);
  const f = emptyFactors(dims, R);
  if (init === 'random') {
    randomColumns(f.A, N, R, 0, gauss);
    randomColumns(f.B, C, R, 0, gauss);
    if (p.separable) {
      randomColumns(f.V, kh, R, 0, gauss);
      randomColumns(f.H, kw, R, 0, gauss);
      khatriRao(f.V, f.H, f.S, kh, kw, R);
    } else {
      randomColumns(f.S, K, R, 0, gauss);
    }
    return f;
  }
  // Spatial bases: rows are orthonormal filters of length kh (qh), kw (qw) or K (q).
  const tapGram = gramRows(p.wKnc, K, N * C); // K×K Gram of the mode-3 unfolding
  if (R >= K || init === 'slice') return sliceInit(p, tapGram, gauss);
  // HOSVD-style. The first ALS update is B, so B's start is never read: only A and S are needed.
  const gA = new Float64Array(N * N);
  for (let k = 0; k < K; k++) {
    const gk = gramRows(p.wKnc.subarray(k * N * C, (k + 1) * N * C), N, C);
    for (let i = 0; i < N * N; i++) gA[i] += gk[i];
  }
  f.A.set(leadingColumns(gA, N, R, gauss));
  randomColumns(f.B, C, R, 0, gauss);
  if (p.separable) {
    const [gh, gw] = rowColumnGrams(tapGram, kh, kw);
    f.V.set(leadingColumns(gh, kh, R, gauss));
    f.H.set(leadingColumns(gw, kw, R, gauss));
    khatriRao(f.V, f.H, f.S, kh, kw, R);
  } else {
    f.S.set(leadingColumns(tapGram, K, R, gauss));
  }
  return f;
}

/**
 * kh×kh and kw×kw Gram matrices of the mode-3 (rows i) and mode-4 (columns j) unfoldings, from
 * the K×K tap Gram: G_h[i, i'] = Σ_j G[(i, j), (i', j)], G_w[j, j'] = Σ_i G[(i, j), (i, j')].
 */
function rowColumnGrams(g: Float64Array, kh: number, kw: number): [Float64Array, Float64Array] {
  const K = kh * kw;
  const gh = new Float64Array(kh * kh);
  const gw = new Float64Array(kw * kw);
  for (let i = 0; i < kh; i++) {
    for (let i2 = 0; i2 < kh; i2++) {
      for (let j = 0; j < kw; j++) gh[i * kh + i2] += g[(i * kw + j) * K + i2 * kw + j];
    }
  }
  for (let j = 0; j < kw; j++) {
    for (let j2 = 0; j2 < kw; j2++) {
      for (let i = 0; i < kh; i++) gw[j * kw + j2] += g[(i * kw + j) * K + i * kw + j2];
    }
  }
  return [gh, gw];
}

/** S[(i, j), r] = V[i, r]·H[j, r]. */
function khatriRao(
  V: Float64Array,
  H: Float64Array,
  S: Float64Array,
  kh: number,
  kw: number,
  R: number,
): void {
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const o = (i * kw + j) * R;
      for (let r = 0; r < R; r++) S[o + r] = V[i * R + r] * H[j * R + r];
    }
  }
}

/** The slice start's filter basis, rotated slices and their spectra (rotatedSlices). */
interface RotatedSlices {
  /** K × K, rows the orthonormal filters q_t. */
  basis: Float64Array;
  /** cp4: q_t = qh[rowOf[t]] ⊗ qw[colOf[t]], the separable parts. */
  rowOf: Int32Array;
  colOf: Int32Array;
  qh: Float64Array;
  qw: Float64Array;
  /** W'_t = Σ_k q_t[k]·W_k (N × C), t = 0…K−1. */
  slices: Float64Array[];
  /** Each slice's spectrum: eigen-solver of its Gram on the smaller side. */
  solvers: SymEigSolver[];
}

/**
 * An orthonormal basis of K filters q_t — the principal filters of the taps' Gram (cp4: products
 * of the row and column bases, which are separable) — and the rotated slices W'_t = Σ_k q_t[k]·W_k
 * with their spectra: what the slice start (sliceInit) and the CP energy rule (cpSliceSpectrum)
 * are built from.
 */
function rotatedSlices(wKnc: Float64Array, dims: KernelDims, separable: boolean, tapGram: Float64Array): RotatedSlices {
  const { N, C, K, kh, kw } = dims;
  const basis = new Float64Array(K * K);
  const rowOf = new Int32Array(K);
  const colOf = new Int32Array(K);
  let qh: Float64Array = new Float64Array(0);
  let qw: Float64Array = new Float64Array(0);
  if (separable) {
    const [gh, gw] = rowColumnGrams(tapGram, kh, kw);
    qh = symEig(gh, kh).vectors;
    qw = symEig(gw, kw).vectors;
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const t = a * kw + b;
        rowOf[t] = a;
        colOf[t] = b;
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) basis[t * K + i * kw + j] = qh[a * kh + i] * qw[b * kw + j];
        }
      }
    }
  } else {
    basis.set(symEig(tapGram, K).vectors);
  }
  // Rotated slices and their spectra (Gram of the smaller side).
  const small = Math.min(N, C);
  const slices: Float64Array[] = [];
  const solvers: SymEigSolver[] = [];
  for (let t = 0; t < K; t++) {
    const w = new Float64Array(N * C);
    for (let k = 0; k < K; k++) {
      const q = basis[t * K + k];
      if (q === 0) continue;
      const src = wKnc.subarray(k * N * C, (k + 1) * N * C);
      for (let i = 0; i < N * C; i++) w[i] += q * src[i];
    }
    slices.push(w);
    const g = N <= C ? gramRows(w, N, C) : gramRows(transpose(w, N, C), C, N);
    solvers.push(symEigSolver(g, small));
  }
  return { basis, rowOf, colOf, qh, qw, slices, solvers };
}

/**
 * σ² / ‖W‖² of every rotated slice (rotatedSlices), pooled and sorted descending (sums to 1; empty
 * for W = 0): the slice model keeping the R largest is a rank-R CP with error² = 1 − their sum
 * (the CP energy rule, rank-rules.ts, and the speed budget's CP candidates).
 */
export function cpSliceSpectrum(kernel: Tensor, separable: boolean, name?: string): Float64Array {
  const dims = checkKernel(kernel, name);
  const { N, C, K } = dims;
  const norm = frobenius(kernel);
  if (norm === 0) return new Float64Array(0);
  const w = permuted(kernel, dims, 'knc', 1 / norm);
  const { solvers } = rotatedSlices(w, dims, separable, gramRows(w, K, N * C));
  const small = Math.min(N, C);
  const all = new Float64Array(K * small);
  for (let t = 0; t < K; t++) {
    const values = solvers[t].values;
    for (let i = 0; i < small; i++) all[t * small + i] = Math.max(0, values[i]);
  }
  return all.sort().reverse();
}

/**
 * The slice start (see CpOptions.init): the rotated slices (rotatedSlices) and the R largest
 * singular triplets over all slices, each giving the component (σ·u, v, q_t). Equal singular
 * values are taken in slice order, so it is deterministic.
 */
function sliceInit(p: Problem, tapGram: Float64Array, gauss: () => number): Factors {
  const { dims, R } = p;
  const { N, C, K, kh, kw } = dims;
  const f = emptyFactors(dims, R);
  const { basis, rowOf, colOf, qh, qw, slices, solvers } = rotatedSlices(p.wKnc, dims, p.separable, tapGram);
  const small = Math.min(N, C);
  // Greedy allocation: the R largest σ² over all slices.
  const candidates: { t: number; idx: number; value: number }[] = [];
  for (let t = 0; t < K; t++) {
    const vals = solvers[t].values;
    for (let idx = 0; idx < small; idx++) candidates.push({ t, idx, value: vals[idx] });
  }
  candidates.sort((x, y) => y.value - x.value || x.t - y.t || x.idx - y.idx);
  const take = new Int32Array(K);
  let kept = 0;
  for (let r = 0; r < Math.min(R, candidates.length); r++) {
    take[candidates[r].t]++;
    kept += Math.max(0, candidates[r].value);
  }
  f.kept = kept;

  let r = 0;
  for (let t = 0; t < K; t++) {
    const m = take[t];
    if (m === 0) continue;
    const vecs = solvers[t].vectors(m); // m × small, unit rows
    const w = slices[t];
    // The other side of each singular pair, all m at once: N ≤ C gives left vectors u and
    // Wᵀu = σ·v (m × C); C < N gives right vectors v and W·v = σ·u (m × N).
    const other = new Float64Array(m * (N <= C ? C : N));
    if (N <= C) gemmNT(vecs, transpose(w, N, C), other, { m, n: C, k: N });
    else gemmNT(vecs, w, other, { m, n: N, k: C });
    for (let s = 0; s < m; s++, r++) {
      if (N <= C) {
        // A = u·σ, B = Wᵀu/σ with σ = ‖Wᵀu‖ (B stays 0 for σ = 0).
        let sigma = 0;
        for (let c = 0; c < C; c++) sigma += other[s * C + c] ** 2;
        sigma = Math.sqrt(sigma);
        for (let n = 0; n < N; n++) f.A[n * R + r] = vecs[s * N + n] * sigma;
        if (sigma > 0) for (let c = 0; c < C; c++) f.B[c * R + r] = other[s * C + c] / sigma;
      } else {
        // B = v, A = W·v.
        for (let c = 0; c < C; c++) f.B[c * R + r] = vecs[s * C + c];
        for (let n = 0; n < N; n++) f.A[n * R + r] = other[s * N + n];
      }
      for (let k = 0; k < K; k++) f.S[k * R + r] = basis[t * K + k];
      if (p.separable) {
        for (let i = 0; i < kh; i++) f.V[i * R + r] = qh[rowOf[t] * kh + i];
        for (let j = 0; j < kw; j++) f.H[j * R + r] = qw[colOf[t] * kw + j];
      }
    }
  }
  // Components beyond K·min(N, C) (R above the exact-fit bound): zero weight, random directions.
  if (r < R) {
    randomColumns(f.B, C, R, r, gauss);
    if (p.separable) {
      randomColumns(f.V, kh, R, r, gauss);
      randomColumns(f.H, kw, R, r, gauss);
      khatriRao(f.V, f.H, f.S, kh, kw, R);
    } else {
      randomColumns(f.S, K, R, r, gauss);
    }
  }
  return f;
}

/** (x ∗ y)[i] (Hadamard) of two R×R matrices into out; with z, x ∗ y ∗ z. */
function hadamard(out: Float64Array, x: Float64Array, y: Float64Array, z?: Float64Array) {
  if (z) for (let i = 0; i < out.length; i++) out[i] = x[i] * y[i] * z[i];
  else for (let i = 0; i < out.length; i++) out[i] = x[i] * y[i];
}

/** Gram FᵀF (R×R) of a rows×R factor. */
function factorGram(f: Float64Array, rows: number, R: number): Float64Array {
  return gramRows(transpose(f, rows, R), R, rows);
}

/**
 * Divides each column of f (rows×R) by its norm, multiplies A's column by it, and keeps the
 * listed Gram matrices and MTTKRP consistent. Zero columns are left alone.
 */
function normalizeColumns(
  f: Float64Array,
  rows: number,
  R: number,
  gram: Float64Array,
  carry: {
    A: Float64Array;
    N: number;
    gramA: Float64Array;
    alsoScale?: { m: Float64Array; rows: number }[];
  },
): void {
  const s = new Float64Array(R);
  for (let r = 0; r < R; r++) s[r] = Math.sqrt(Math.max(0, gram[r * R + r]));
  for (let r = 0; r < R; r++) if (!(s[r] > 0)) s[r] = 1;
  for (let i = 0; i < rows; i++) for (let r = 0; r < R; r++) f[i * R + r] /= s[r];
  for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) gram[a * R + b] /= s[a] * s[b];
  for (let n = 0; n < carry.N; n++) for (let r = 0; r < R; r++) carry.A[n * R + r] *= s[r];
  for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) carry.gramA[a * R + b] *= s[a] * s[b];
  for (const x of carry.alsoScale ?? []) {
    for (let i = 0; i < x.rows; i++) for (let r = 0; r < R; r++) x.m[i * R + r] *= s[r];
  }
}

interface AlsOptions {
  nIterMax: number;
  tol: number;
  maxWeight: number;
  /** performance.now() after which no further iteration starts (at least one always runs). */
  deadline: number;
}

function runAls(p: Problem, f: Factors, o: AlsOptions): RunOutcome {
  const { dims, R, separable } = p;
  const { N, C, K, kh, kw } = dims;
  const NC = N * C;
  const out: RunOutcome = {
    best: null,
    bestErr: Infinity,
    iterations: 0,
    converged: false,
    degenerate: null,
  };

  let gramA = factorGram(f.A, N, R);
  let gramB = factorGram(f.B, C, R);
  let gramS = factorGram(f.S, K, R);
  // cp4 only: the R×R Grams are the largest buffers at VGG scale (10 MB each at R = 1142).
  let gramV = separable ? factorGram(f.V, kh, R) : new Float64Array(0);
  let gramH = separable ? factorGram(f.H, kw, R) : new Float64Array(0);
  const h = new Float64Array(R * R);
  const mB = new Float64Array(C * R);
  const mS = new Float64Array(K * R);
  const zt = new Float64Array(R * N);
  const BLOCK = 64;
  const pBlock = new Float64Array(K * BLOCK * R);
  let prevFit = NaN;

  for (let it = 1; it <= o.nIterMax; it++) {
    if (it > 1 && performance.now() > o.deadline) break;
    out.iterations = it;
    // --- B: M_B = Σ_k W_kᵀ·(A∘s_k), normal matrix AᵀA ∗ SᵀS.
    const At = transpose(f.A, N, R);
    mB.fill(0);
    for (let k = 0; k < K; k++) {
      for (let r = 0; r < R; r++) {
        const s = f.S[k * R + r];
        const row = r * N;
        for (let n = 0; n < N; n++) zt[row + n] = At[row + n] * s;
      }
      gemmNT(p.wKcn.subarray(k * NC, (k + 1) * NC), zt, mB, { m: C, n: R, k: N, accumulate: true });
    }
    hadamard(h, gramA, gramS);
    if (!solveSpdRows(h, R, mB, C, RIDGE)) return fail(out, 'singular normal matrix for B');
    f.B.set(mB);
    gramB = factorGram(f.B, C, R);
    normalizeColumns(f.B, C, R, gramB, { A: f.A, N, gramA });

    // --- A (and the spatial MTTKRP M_S with the new A), row blocks sharing P_k = W_k·B.
    hadamard(h, gramB, gramS);
    const Bt = transpose(f.B, C, R);
    mS.fill(0);
    if (!solveABlocks(p, f, h, Bt, mS, pBlock, BLOCK)) {
      return fail(out, 'singular normal matrix for A');
    }
    gramA = factorGram(f.A, N, R);

    // --- Spatial factors.
    if (!separable) {
      hadamard(h, gramA, gramB);
      const mNew = mS.slice();
      if (!solveSpdRows(h, R, mNew, K, RIDGE)) return fail(out, 'singular normal matrix for S');
      f.S.set(mNew);
      gramS = factorGram(f.S, K, R);
      normalizeColumns(f.S, K, R, gramS, { A: f.A, N, gramA, alsoScale: [{ m: mS, rows: K }] });
    } else {
      // V from M_V[i, r] = Σ_j M_S[(i, j), r]·H[j, r], then H from the new V.
      const mV = new Float64Array(kh * R);
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const o2 = (i * kw + j) * R;
          for (let r = 0; r < R; r++) mV[i * R + r] += mS[o2 + r] * f.H[j * R + r];
        }
      }
      hadamard(h, gramA, gramB, gramH);
      if (!solveSpdRows(h, R, mV, kh, RIDGE)) return fail(out, 'singular normal matrix for V');
      f.V.set(mV);
      gramV = factorGram(f.V, kh, R);
      normalizeColumns(f.V, kh, R, gramV, { A: f.A, N, gramA, alsoScale: [{ m: mS, rows: K }] });
      const mH = new Float64Array(kw * R);
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const o2 = (i * kw + j) * R;
          for (let r = 0; r < R; r++) mH[j * R + r] += mS[o2 + r] * f.V[i * R + r];
        }
      }
      hadamard(h, gramA, gramB, gramV);
      if (!solveSpdRows(h, R, mH, kw, RIDGE)) return fail(out, 'singular normal matrix for H');
      f.H.set(mH);
      gramH = factorGram(f.H, kw, R);
      normalizeColumns(f.H, kw, R, gramH, { A: f.A, N, gramA, alsoScale: [{ m: mS, rows: K }] });
      khatriRao(f.V, f.H, f.S, kh, kw, R);
      hadamard(gramS, gramV, gramH);
    }

    // --- Error: ‖W − Ŵ‖² = 1 − 2⟨W, Ŵ⟩ + ‖Ŵ‖² with ⟨W, Ŵ⟩ = Σ M_S ∗ S (M_S matches the current
    // A and B) and ‖Ŵ‖² = Σ AᵀA ∗ BᵀB ∗ SᵀS.
    let inner = 0;
    for (let i = 0; i < K * R; i++) inner += mS[i] * f.S[i];
    let hat = 0;
    let heaviest = 0; // max_r λ_r², λ_r = ‖A[:, r]‖ (B and S have unit columns)
    for (let a = 0; a < R; a++) {
      heaviest = Math.max(heaviest, gramA[a * R + a]);
      for (let b = 0; b < R; b++) hat += gramA[a * R + b] * gramB[a * R + b] * gramS[a * R + b];
    }
    const err = Math.sqrt(Math.max(0, 1 - 2 * inner + hat));
    if (!Number.isFinite(err) || !allFinite(f)) {
      return fail(out, `non-finite values at iteration ${it}`);
    }
    if (Math.sqrt(heaviest) > o.maxWeight) {
      const weight = Math.sqrt(heaviest).toExponential(2);
      return fail(out, `a component weight reached ${weight}·‖W‖ at iteration ${it} (diverging)`);
    }
    if (err < out.bestErr) {
      out.bestErr = err;
      out.best = copyFactors(f);
    }
    const fit = 1 - err;
    if (Math.abs(fit - prevFit) <= o.tol * Math.abs(prevFit)) {
      out.converged = true;
      break;
    }
    prevFit = fit;
  }
  return out;
}

/** A ← M_A·(BᵀB ∗ SᵀS)⁻¹ in row blocks, and M_S += Σ_n A[n]∘P_k[n] with the new rows. */
function solveABlocks(
  p: Problem,
  f: Factors,
  h: Float64Array,
  Bt: Float64Array,
  mS: Float64Array,
  pBlock: Float64Array,
  BLOCK: number,
): boolean {
  const { N, C, K } = p.dims;
  const R = p.R;
  const NC = N * C;
  const mA = new Float64Array(BLOCK * R);
  // One factorisation for all blocks.
  const solve = spdRowSolver(h, R, RIDGE);
  if (!solve) return false;
  for (let n0 = 0; n0 < N; n0 += BLOCK) {
    const nb = Math.min(BLOCK, N - n0);
    mA.fill(0);
    for (let k = 0; k < K; k++) {
      const pk = pBlock.subarray(k * BLOCK * R, k * BLOCK * R + nb * R);
      const rows = p.wKnc.subarray(k * NC + n0 * C, k * NC + (n0 + nb) * C);
      gemmNT(rows, Bt, pk, { m: nb, n: R, k: C });
      for (let i = 0; i < nb; i++) {
        for (let r = 0; r < R; r++) mA[i * R + r] += pk[i * R + r] * f.S[k * R + r];
      }
    }
    solve(mA, nb);
    f.A.set(mA.subarray(0, nb * R), n0 * R);
    for (let k = 0; k < K; k++) {
      const pk = pBlock.subarray(k * BLOCK * R, k * BLOCK * R + nb * R);
      const o = k * R;
      for (let i = 0; i < nb; i++) {
        for (let r = 0; r < R; r++) mS[o + r] += mA[i * R + r] * pk[i * R + r];
      }
    }
  }
  return true;
}

function allFinite(f: Factors): boolean {
  for (const m of [f.A, f.B, f.S]) {
    let probe = 0;
    for (let i = 0; i < m.length; i++) probe += m[i] * 0;
    if (probe !== 0) return false;
  }
  return true;
}

function fail(out: RunOutcome, reason: string): RunOutcome {
  out.degenerate = reason;
  return out;
}

/** Ŵ[n, c, k] = Σ_r A[n, r]·B[c, r]·S[k, r] (cp3), as OIHW [N, C, kh, kw], summed in float64. */
export function reconstructCp3(r: Pick<Cp3Result, 'outFactor' | 'inFactor' | 'depthwise'>): Tensor {
  const [N, R] = r.outFactor.shape;
  const [R2, C] = r.inFactor.shape;
  const [R3, , kh, kw] = r.depthwise.shape;
  if (R2 !== R || R3 !== R) {
    throw new Error(
      `reconstructCp3: outFactor [${r.outFactor.shape}], inFactor [${r.inFactor.shape}] and ` +
        `depthwise [${r.depthwise.shape}] disagree on the rank`,
    );
  }
  return expand(r.outFactor.data, r.inFactor.data, r.depthwise.data, { N, C, R, kh, kw });
}

/** Ŵ[n, c, i, j] = Σ_r A[n, r]·B[c, r]·V[i, r]·H[j, r] (cp4), as OIHW [N, C, kh, kw]. */
export function reconstructCp4(
  r: Pick<Cp4Result, 'outFactor' | 'inFactor' | 'vertical' | 'horizontal'>,
): Tensor {
  const [N, R] = r.outFactor.shape;
  const [R2, C] = r.inFactor.shape;
  const kh = r.vertical.shape[2];
  const kw = r.horizontal.shape[3];
  if (R2 !== R || r.vertical.shape[0] !== R || r.horizontal.shape[0] !== R) {
    throw new Error(
      `reconstructCp4: outFactor [${r.outFactor.shape}], inFactor [${r.inFactor.shape}], ` +
        `vertical [${r.vertical.shape}], horizontal [${r.horizontal.shape}] disagree on the rank`,
    );
  }
  // Filters (R × K): the outer product of each component's vertical and horizontal parts.
  const K = kh * kw;
  const filters = new Float64Array(R * K);
  for (let q = 0; q < R; q++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        filters[q * K + i * kw + j] = r.vertical.data[q * kh + i] * r.horizontal.data[q * kw + j];
      }
    }
  }
  return expand(r.outFactor.data, r.inFactor.data, filters, { N, C, R, kh, kw });
}

/** Σ_r A[n, r]·Bᵀ[r, c]·F[r, k] through K products (A∘f_k)·B, each N×R by R×C. */
function expand(
  a: ArrayLike<number>,
  bt: ArrayLike<number>,
  filters: ArrayLike<number>,
  d: { N: number; C: number; R: number; kh: number; kw: number },
): Tensor {
  const { N, C, R, kh, kw } = d;
  const K = kh * kw;
  const b = transpose(Float64Array.from(bt), R, C); // C × R
  const as = new Float64Array(N * R);
  const slice = new Float64Array(N * C);
  const out = new Float64Array(N * C * K);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      for (let r = 0; r < R; r++) as[n * R + r] = a[n * R + r] * filters[r * K + k];
    }
    gemmNT(as, b, slice, { m: N, n: C, k: R });
    for (let i = 0; i < N * C; i++) out[i * K + k] = slice[i];
  }
  return toTensor([N, C, kh, kw], out);
}

export interface CpCostInput {
  N: number;
  C: number;
  kh: number;
  kw: number;
  rank: number;
  hOut: number;
  wOut: number;
  hIn: number;
  wIn: number;
}

/**
 * cp3 MACs per image: hIn·wIn·C·R + hOut·wOut·(R·kh·kw + R·N). The first 1×1 runs at input
 * resolution; the depthwise conv carries the stride, so it and the last 1×1 run at output
 * resolution.
 */
export function cp3Cost(x: CpCostInput): number {
  return x.hIn * x.wIn * x.C * x.rank + x.hOut * x.wOut * (x.rank * x.kh * x.kw + x.rank * x.N);
}

/**
 * cp4 MACs per image: hIn·wIn·C·R + hOut·wIn·R·kh + hOut·wOut·(R·kw + R·N). The vertical
 * depthwise applies the height stride only, so it runs at output height × input width.
 */
export function cp4Cost(x: CpCostInput): number {
  return (
    x.hIn * x.wIn * x.C * x.rank +
    x.hOut * x.wIn * x.rank * x.kh +
    x.hOut * x.wOut * (x.rank * x.kw + x.rank * x.N)
  );
}
