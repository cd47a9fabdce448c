/**
 * Joint refit of a multilinear factorisation Ŵ(θ₁, …, θ_m) of a conv kernel (Tucker-2, spatial,
 * CP) against a layer's output, by block-coordinate least squares (docs/data-aware.md §6). With the
 * centred moments of moments.ts and the optimal bias the per-sample output error is
 *   E(Ŵ) = Σ_n ŵ_nᵀ Σx ŵ_n − 2 ŵ_nᵀ Σxy[:, n] + E‖y − μy‖²,
 * quadratic in each factor with the others fixed. Each round:
 *  - the output-side factor X (Ŵ = X·B, B = p×F from the other factors) is solved exactly: every
 *    row shares the Gram B Σx Bᵀ (p×p), the right-hand sides are B Σxy — one Cholesky;
 *  - every other factor by conjugate gradients from its current value on the normal equations
 *    Jᵀ(I ⊗ Σx)J θ = Jᵀ vec(Σxyᵀ), J the (linear) map θ → Ŵ: a product costs one B(θ)·Σx (p·F²,
 *    p the output factor's inner size, or Ŵ·Σx, N·F², when p ≥ N),
 *    so nothing of size (factor)² is ever formed (Tucker-2's input factor couples every channel
 *    and tap through Σx, so its Gram would be (C·R1)² built at C²R1²K² cost).
 * Every solve is proximal ((G + ρI)θ = r + ρθ₀; CG from θ₀ only lowers a convex quadratic), so no
 * step can raise E; E is still evaluated after each step and the best factors kept.
 * With Σxy = Σx Wᵀ and E‖y − μy‖² = tr(W Σx Wᵀ) the same E is the whitened error
 * tr((W − Ŵ) Σx (W − Ŵ)ᵀ): the activation-aware decompositions use this refit for their ALS.
 */
import { gemmNT, transpose } from './linalg.js';
import type { CentredMoments } from './moments.js';
import { optimalBias, proximalSolve, quadraticError } from './nd-refit.js';
import type { Tensor } from './tensor.js';

/** What the refit needs of the statistics (full or per-channel covariance). */
export type RefitMoments = Pick<CentredMoments, 'channels' | 'taps' | 'outputs' | 'form' | 'cov' | 'cross' | 'meanX' | 'meanY' | 'yVar'>;

/** A multilinear Ŵ (N×F, row n = output n's C·K weights) in float64 factors. */
export interface MultilinearModel {
  N: number;
  F: number;
  /** Ŵ from the factors (linear in each). */
  kernel(f: Float64Array[]): Float64Array;
  /** ∂⟨Ŵ, R⟩/∂θ_i for an N×F matrix R: the adjoint of θ_i ↦ Ŵ with the other factors fixed. */
  adjoint(i: number, f: Float64Array[], r: Float64Array): Float64Array;
  /** The output-side factor X (N×p, row-major) with Ŵ = X·basis(f). */
  outputFactor: number;
  basis(f: Float64Array[]): { b: Float64Array; p: number };
}

export interface FactorRefitOptions {
  /** Rounds (one step per factor each); default 6. */
  rounds?: number;
  /** Conjugate-gradient iterations per non-output factor step; default 40. */
  cgIterations?: number;
  /** Proximal ridge relative to the step's curvature (default 1e-6). */
  relRidge?: number;
  /**
   * Multiply-adds one CG step may spend (default 2e10, ~10 s here): on wide layers (VGG16's
   * 512-channel convs, a product ~3·10⁹) fewer iterations; a cut-short CG still only lowers E.
   */
  maxStepMacs?: number;
}

export interface FactorRefitResult {
  factors: Float64Array[];
  bias: Float64Array;
  /** E at the start, then after every step taken. */
  errors: number[];
  error: number;
}

/** W·Σx for `rows` rows of F weights (Σx symmetric; per-channel blocks when kept that way). */
export function covApply(m: RefitMoments, w: Float64Array, rows: number): Float64Array {
  const K = m.taps;
  const F = m.channels * K;
  const out = new Float64Array(rows * F);
  if (m.form === 'full') {
    gemmNT(w, m.cov, out, { m: rows, n: F, k: F });
    return out;
  }
  for (let c = 0; c < m.channels; c++) {
    gemmNT(w.subarray(c * K), m.cov.subarray(c * K * K), out.subarray(c * K), { m: rows, n: K, k: K, lda: F, ldc: F });
  }
  return out;
}

/** E(Ŵ) with the optimal bias (the whitened error for weight-target moments). */
export function factorError(w: Float64Array, m: RefitMoments): number {
  return quadraticError(w, covApply(m, w, m.outputs), m);
}

/**
 * Moments whose E is the whitened weight error tr((W − Ŵ) Σx (W − Ŵ)ᵀ): the target is y = W x.
 * `w` is N×F in float64.
 */
export function weightTargetMoments(w: Float64Array, m: Pick<CentredMoments, 'channels' | 'taps' | 'form' | 'cov'>, N: number): RefitMoments {
  const F = m.channels * m.taps;
  const wc = covApply({ ...m, outputs: N, cross: new Float64Array(0), meanX: new Float64Array(F), meanY: new Float64Array(N), yVar: 0 }, w, N);
  const cross = new Float64Array(F * N);
  let yVar = 0;
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < F; f++) {
      cross[f * N + n] = wc[n * F + f];
      yVar += w[n * F + f] * wc[n * F + f];
    }
  }
  return { channels: m.channels, taps: m.taps, outputs: N, form: m.form, cov: m.cov, cross, meanX: new Float64Array(F), meanY: new Float64Array(N), yVar };
}

function outputStep(model: MultilinearModel, f: Float64Array[], m: RefitMoments, relRidge: number): Float64Array | null {
  const { N, F } = model;
  const { b, p } = model.basis(f);
  const bs = covApply(m, b, p); // B Σx (p×F)
  const g = new Float64Array(p * p);
  gemmNT(bs, b, g, { m: p, n: p, k: F });
  // Right-hand sides, one row per output: (B Σxy)ᵀ = Σxyᵀ Bᵀ.
  const r = new Float64Array(N * p);
  for (let q = 0; q < p; q++) {
    for (let fi = 0; fi < F; fi++) {
      const v = b[q * F + fi];
      if (v === 0) continue;
      for (let n = 0; n < N; n++) r[n * p + q] += v * m.cross[fi * N + n];
    }
  }
  return proximalSolve(g, p, r, f[model.outputFactor], N, relRidge) ? r : null;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function cgStep(model: MultilinearModel, f: Float64Array[], i: number, m: RefitMoments, o: Required<FactorRefitOptions>): Float64Array | null {
  const { N, F } = model;
  const withTheta = (theta: Float64Array) => f.map((x, j) => (j === i ? theta : x));
  // Ŵ(θ)Σx = X·(B(θ)Σx) with X the output factor (N×p): p·F² + N·p·F instead of N·F² when p < N.
  const x0 = f[model.outputFactor];
  const hess = (theta: Float64Array) => {
    const { b, p } = model.basis(withTheta(theta));
    if (p >= N) return model.adjoint(i, f, covApply(m, model.kernel(withTheta(theta)), N));
    const bs = covApply(m, b, p);
    const ws = new Float64Array(N * F);
    gemmNT(x0, transpose(bs, p, F), ws, { m: N, n: F, k: p });
    return model.adjoint(i, f, ws);
  };
  const x = f[i].slice();
  const sxyT = new Float64Array(N * F);
  for (let fi = 0; fi < F; fi++) for (let n = 0; n < N; n++) sxyT[n * F + fi] = m.cross[fi * N + n];
  const rhs = model.adjoint(i, f, sxyT);
  // ρ from the curvature along θ₀ (the Rayleigh quotient), so it scales with the problem.
  const x2 = dot(x, x);
  const hx = hess(x);
  const ridge = x2 > 0 ? (o.relRidge * Math.max(dot(x, hx), 0)) / x2 : o.relRidge;
  const r = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) r[j] = rhs[j] + ridge * f[i][j] - hx[j] - ridge * x[j];
  const p = r.slice();
  let rr = dot(r, r);
  const stop = 1e-24 * Math.max(dot(rhs, rhs), 1e-300);
  for (let it = 0; it < o.cgIterations && rr > stop; it++) {
    const ap = hess(p);
    for (let j = 0; j < p.length; j++) ap[j] += ridge * p[j];
    const pap = dot(p, ap);
    if (!(pap > 0)) break;
    const alpha = rr / pap;
    for (let j = 0; j < x.length; j++) {
      x[j] += alpha * p[j];
      r[j] -= alpha * ap[j];
    }
    const next = dot(r, r);
    const beta = next / rr;
    rr = next;
    for (let j = 0; j < p.length; j++) p[j] = r[j] + beta * p[j];
  }
  return x.every(Number.isFinite) ? x : null;
}

/** Rounds of block steps from `init` (output factor first); the best factors seen and their bias. */
export function refitFactors(model: MultilinearModel, init: Float64Array[], m: RefitMoments, opts: FactorRefitOptions = {}): FactorRefitResult {
  const o: Required<FactorRefitOptions> = { rounds: opts.rounds ?? 6, cgIterations: opts.cgIterations ?? 40, relRidge: opts.relRidge ?? 1e-6, maxStepMacs: opts.maxStepMacs ?? 2e10 };
  // One CG product: B(θ)Σx and X·(that), or Ŵ(θ)Σx when the output factor is not narrower than N.
  const p = model.basis(init).p;
  const productMacs = p < model.N ? p * model.F * (model.F + model.N) : model.N * model.F * model.F;
  o.cgIterations = Math.min(o.cgIterations, Math.max(3, Math.floor(o.maxStepMacs / productMacs)));
  let best: Float64Array[] = init.map((x) => x.slice());
  let bestErr = factorError(model.kernel(best), m);
  const errors = [bestErr];
  const order = [model.outputFactor, ...init.map((_, i) => i).filter((i) => i !== model.outputFactor)];
  for (let round = 0; round < o.rounds; round++) {
    const before = bestErr;
    for (const i of order) {
      const x = i === model.outputFactor ? outputStep(model, best, m, o.relRidge) : cgStep(model, best, i, m, o);
      if (!x) continue;
      const next = best.map((f, j) => (j === i ? x : f));
      const e = factorError(model.kernel(next), m);
      errors.push(e);
      if (e <= bestErr) {
        bestErr = e;
        best = next;
      }
    }
    if (!(bestErr < before * (1 - 1e-6))) break;
  }
  return { factors: best, bias: optimalBias(model.kernel(best), m), errors, error: bestErr };
}

export interface AwareResult<T> {
  factors: T;
  /** Which start the ALS kept, and the whitened errors tr(ΔΣxΔᵀ) of the plain fit and of the result. */
  start: 'plain' | 'whitened';
  plainError: number;
  error: number;
}

/** W as N×F float64. */
export function kernel64(kernel: Tensor): Float64Array {
  return Float64Array.from(kernel.data);
}

/** Better start of the two by the target's E, then the joint refit on it. */
export function refitBestStart<T extends Float64Array[]>(model: MultilinearModel, starts: { plain: T; whitened: T }, target: RefitMoments, rounds?: number): AwareResult<T> {
  const plainError = factorError(model.kernel(starts.plain), target);
  const whitenedError = factorError(model.kernel(starts.whitened), target);
  const start = whitenedError < plainError ? 'whitened' : 'plain';
  const fit = refitFactors(model, starts[start], target, { rounds });
  return { factors: fit.factors as T, start, plainError, error: fit.error };
}
