/**
 * Joint refit of network-decoupling factors against a layer's real output (block-coordinate least
 * squares; Zhang et al., TPAMI 2016, reconstruct responses, here for every factor). With x the
 * input patch (F = C·K, feature c·K + k), y the original layer's output and the optimal bias
 * b = μy − Ŵμx, the objective per sample is
 *   E(Ŵ) = Σ_n ŵ_nᵀ Σx ŵ_n − 2 ŵ_nᵀ Σxy[:, n] + E‖y − μy‖²       (centred moments, moments.ts)
 * and Ŵ is bilinear in the two factors, so each block step is a linear least squares:
 *
 * dw-pw, Ŵ[n, (c, k)] = Σ_t P[n, c, t] D[c, t, k]  (z_(c,t) = Σ_k D[c,t,k] x_(c,k)):
 *   P-step: Gz = D Σx Dᵀ ((C·T)²), P[n, :] solves Gz p = (D Σxy)[:, n]   — one Cholesky for all n.
 *   D-step: G[(c,t,k),(c',t',k')] = (PᵀP)[(c,t),(c',t')] · Σx[(c,k),(c',k')],
 *           rhs[(c,t,k)] = Σ_n P[n,(c,t)] Σxy[(c,k), n]                — one (C·T·K) system (CG).
 * pw-dw, Ŵ[n, (c, k)] = Σ_t P[n, t, c] D[n, t, k]: E separates over outputs n, and per n
 *   P-step: G[(t,c),(t',c')] = Σ_kk' D[n,t,k] Σx[(c,k),(c',k')] D[n,t',k']   ((T·C)² per n)
 *   D-step: G[(t,k),(t',k')] = Σ_cc' P[n,t,c] Σx[(c,k),(c',k')] P[n,t',c']   ((T·K)² per n)
 * Every solve is proximal, (G + ρI)x = r + ρx₀, so no step can raise E (the minimiser of
 * E + ρ‖x − x₀‖² is no worse than x₀); E is still evaluated after each step and the best factors
 * kept, which also guards against rounding.
 */
import { cholesky, gemmNT, gramRows, solveRowsCholesky, transpose } from './linalg.js';
import type { CentredMoments } from './moments.js';
import type { NdFactors, NdOrder } from './nd.js';
import type { Tensor } from './tensor.js';

/** ND factors in float64: dw-pw d [C,T,K], p [N,C,T]; pw-dw d [N,T,K], p [N,T,C]. */
export interface NdFactors64 {
  order: NdOrder;
  rank: number;
  depthwise: Float64Array;
  pointwise: Float64Array;
}

export interface NdDims {
  N: number;
  C: number;
  K: number;
}

export interface NdRefitOptions {
  /** Block-coordinate rounds (one P-step and one D-step each); default 8. */
  rounds?: number;
  /** Proximal ridge relative to the mean diagonal of each step's Gram (default 1e-6). */
  relRidge?: number;
}

export interface NdRefitResult {
  factors: NdFactors64;
  bias: Float64Array;
  /** E after the initial factors (optimal bias), then after every step taken. */
  errors: number[];
  /** Smallest E reached (the returned factors'). */
  error: number;
}

/** Ŵ as N×F (row n = output n's C·K weights), float64. */
export function ndKernel64(f: NdFactors64, d: NdDims): Float64Array {
  const { N, C, K } = d;
  const T = f.rank;
  const w = new Float64Array(N * C * K);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let t = 0; t < T; t++) {
        const [p, dOff] = f.order === 'dw-pw' ? [f.pointwise[(n * C + c) * T + t], (c * T + t) * K] : [f.pointwise[(n * T + t) * C + c], (n * T + t) * K];
        if (p === 0) continue;
        const o = (n * C + c) * K;
        for (let k = 0; k < K; k++) w[o + k] += p * f.depthwise[dOff + k];
      }
    }
  }
  return w;
}

/** E(Ŵ) per sample with the optimal bias (needs the full covariance). */
export function outputError(w: Float64Array, m: CentredMoments): number {
  if (m.form !== 'full') throw new Error('outputError: needs the full input covariance (the statistics were kept per channel)');
  const F = m.channels * m.taps;
  const N = m.outputs;
  const wc = new Float64Array(N * F);
  gemmNT(w, m.cov, wc, { m: N, n: F, k: F });
  return quadraticError(w, wc, m);
}

/** E = yVar + Σ_n ŵ_nᵀ (Σx ŵ_n − 2 Σxy[:, n]), given wc = Ŵ Σx (N×F); clamped at 0 against rounding. */
export function quadraticError(w: Float64Array, wc: Float64Array, m: Pick<CentredMoments, 'outputs' | 'channels' | 'taps' | 'cross' | 'yVar'>): number {
  const F = m.channels * m.taps;
  const N = m.outputs;
  let e = m.yVar;
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let f = 0; f < F; f++) s += w[n * F + f] * (wc[n * F + f] - 2 * m.cross[f * N + n]);
    e += s;
  }
  return Math.max(e, 0);
}

/** b = μy − Ŵμx: the bias that minimises E for a given Ŵ. */
export function optimalBias(w: Float64Array, m: Pick<CentredMoments, 'channels' | 'taps' | 'meanX' | 'meanY'>): Float64Array {
  const F = m.channels * m.taps;
  return m.meanY.map((mu, n) => {
    let s = 0;
    for (let f = 0; f < F; f++) s += w[n * F + f] * m.meanX[f];
    return mu - s;
  });
}

/** (G + ρI)ᵀ-solve of `rows` right-hand sides (rows of r, in place), pulled toward x0; false if G is unusable. */
export function proximalSolve(g: Float64Array, n: number, r: Float64Array, x0: Float64Array, rows: number, relRidge: number): boolean {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += g[i * n + i];
  if (!(trace > 0) || !Number.isFinite(trace)) return false;
  let ridge = (relRidge * trace) / n;
  for (let attempt = 0; attempt < 6; attempt++, ridge *= 1e3) {
    const chol = cholesky(g, n, ridge);
    if (!chol) continue;
    for (let i = 0; i < rows * n; i++) r[i] += ridge * x0[i];
    solveRowsCholesky(chol, r, rows, n);
    return r.every(Number.isFinite);
  }
  return false;
}

function dwPwPointwiseStep(f: NdFactors64, m: CentredMoments, d: NdDims, relRidge: number): Float64Array | null {
  const { N, C, K } = d;
  const T = f.rank;
  const F = C * K;
  const CT = C * T;
  // A = D Σx ((C·T)×F), then Gz = A Dᵀ and Sz = D Σxy.
  const a = new Float64Array(CT * F);
  const sz = new Float64Array(CT * N);
  for (let c = 0; c < C; c++) {
    for (let t = 0; t < T; t++) {
      const j = c * T + t;
      for (let k = 0; k < K; k++) {
        const dv = f.depthwise[j * K + k];
        if (dv === 0) continue;
        const row = (c * K + k) * F;
        for (let q = 0; q < F; q++) a[j * F + q] += dv * m.cov[row + q];
        for (let n = 0; n < N; n++) sz[j * N + n] += dv * m.cross[(c * K + k) * N + n];
      }
    }
  }
  const gz = new Float64Array(CT * CT);
  for (let j = 0; j < CT; j++) {
    for (let c2 = 0; c2 < C; c2++) {
      for (let t2 = 0; t2 < T; t2++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[j * F + c2 * K + k] * f.depthwise[(c2 * T + t2) * K + k];
        gz[j * CT + c2 * T + t2] = s;
      }
    }
  }
  const r = transpose(sz, CT, N); // N × CT, the pointwise layout [N, C, T]
  return proximalSolve(gz, CT, r, f.pointwise, N, relRidge) ? r : null;
}

/**
 * The dw-pw D-step's system is (C·T·K)² — 3 200² for a 64→64 5×5 layer at T = 2, 9 216² for
 * VGG16's widest at T = 2 — so it is solved matrix-free by Jacobi-preconditioned conjugate
 * gradients from the current taps: a product costs F²·T + F·C·T² (F = C·K) instead of the
 * (C·T·K)³/3 of a Cholesky, and CG from x₀ only ever lowers a convex quadratic.
 */
function dwPwDepthwiseStep(f: NdFactors64, m: CentredMoments, d: NdDims, relRidge: number, maxIterations = 200): Float64Array | null {
  const { N, C, K } = d;
  const T = f.rank;
  const F = C * K;
  const CT = C * T;
  const U = CT * K;
  const q = gramRows(transpose(f.pointwise, N, CT), CT, N); // PᵀP
  const v = new Float64Array(F * CT);
  // (G x)[(c,t,k)] = Σ_{c',t'} Q[(c,t),(c',t')] Σ_k' Σx[(c,k),(c',k')] x[(c',t',k')].
  const apply = (x: Float64Array, out: Float64Array, ridge: number) => {
    v.fill(0);
    for (let f0 = 0; f0 < F; f0++) {
      const row = f0 * F;
      for (let c2 = 0; c2 < C; c2++) {
        for (let t2 = 0; t2 < T; t2++) {
          let s = 0;
          const xo = (c2 * T + t2) * K;
          const co = row + c2 * K;
          for (let k2 = 0; k2 < K; k2++) s += m.cov[co + k2] * x[xo + k2];
          v[f0 * CT + c2 * T + t2] = s;
        }
      }
    }
    for (let c = 0; c < C; c++) {
      for (let t = 0; t < T; t++) {
        const qo = (c * T + t) * CT;
        for (let k = 0; k < K; k++) {
          const vo = (c * K + k) * CT;
          let s = 0;
          for (let j = 0; j < CT; j++) s += q[qo + j] * v[vo + j];
          const i = (c * T + t) * K + k;
          out[i] = s + ridge * x[i];
        }
      }
    }
  };
  const diag = new Float64Array(U);
  let trace = 0;
  for (let c = 0; c < C; c++) for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) {
    const g = q[(c * T + t) * CT + c * T + t] * m.cov[(c * K + k) * F + c * K + k];
    diag[(c * T + t) * K + k] = g;
    trace += g;
  }
  if (!(trace > 0) || !Number.isFinite(trace)) return null;
  const ridge = (relRidge * trace) / U;
  const b = new Float64Array(U);
  for (let c = 0; c < C; c++) for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += f.pointwise[n * CT + c * T + t] * m.cross[(c * K + k) * N + n];
    const i = (c * T + t) * K + k;
    b[i] = s + ridge * f.depthwise[i];
  }
  const x = f.depthwise.slice();
  const r = new Float64Array(U);
  const ap = new Float64Array(U);
  apply(x, ap, ridge);
  let bNorm = 0;
  for (let i = 0; i < U; i++) {
    r[i] = b[i] - ap[i];
    bNorm += b[i] * b[i];
  }
  const pre = (i: number) => 1 / (diag[i] + ridge || 1);
  const z = r.map((ri, i) => ri * pre(i));
  const p = z.slice();
  let rz = 0;
  for (let i = 0; i < U; i++) rz += r[i] * z[i];
  for (let it = 0; it < maxIterations; it++) {
    apply(p, ap, ridge);
    let pap = 0;
    for (let i = 0; i < U; i++) pap += p[i] * ap[i];
    if (!(pap > 0)) break;
    const alpha = rz / pap;
    let rr = 0;
    for (let i = 0; i < U; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * ap[i];
      rr += r[i] * r[i];
    }
    if (rr <= 1e-24 * bNorm) break;
    let rzNext = 0;
    for (let i = 0; i < U; i++) {
      z[i] = r[i] * pre(i);
      rzNext += r[i] * z[i];
    }
    const beta = rzNext / rz;
    rz = rzNext;
    for (let i = 0; i < U; i++) p[i] = z[i] + beta * p[i];
  }
  return x.every(Number.isFinite) ? x : null;
}

/**
 * pw-dw, one output n: the step for factor `which` with the other fixed. `fixed` is T×A (the
 * other factor's rows), the unknown is T×B; A/B are K/C ('pointwise' step) or C/K ('depthwise').
 */
function pwDwStep(f: NdFactors64, m: CentredMoments, d: NdDims, n: number, which: 'pointwise' | 'depthwise', relRidge: number): boolean {
  const { N, C, K } = d;
  const T = f.rank;
  const F = C * K;
  const fixedArr = which === 'pointwise' ? f.depthwise : f.pointwise;
  const unknownArr = which === 'pointwise' ? f.pointwise : f.depthwise;
  const [A, B] = which === 'pointwise' ? [K, C] : [C, K];
  // feature index of (unknown index b, fixed index a): c·K + k.
  const feat = which === 'pointwise' ? (b: number, a: number) => b * K + a : (b: number, a: number) => a * K + b;
  const fixed = fixedArr.subarray(n * T * A, (n + 1) * T * A);
  const U = T * B;
  // h[(t, b), q] = Σ_a fixed[t, a] Σx[feat(b, a), q]; then G[(t,b),(t',b')] = Σ_a' h[(t,b), feat(b',a')] fixed[t', a'].
  const h = new Float64Array(U * F);
  const r = new Float64Array(U);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const row = (t * B + b) * F;
      let s = 0;
      for (let a = 0; a < A; a++) {
        const v = fixed[t * A + a];
        if (v === 0) continue;
        const fi = feat(b, a);
        const cov = fi * F;
        for (let qq = 0; qq < F; qq++) h[row + qq] += v * m.cov[cov + qq];
        s += v * m.cross[fi * N + n];
      }
      r[t * B + b] = s;
    }
  }
  const g = new Float64Array(U * U);
  for (let i = 0; i < U; i++) {
    for (let t2 = 0; t2 < T; t2++) {
      for (let b2 = 0; b2 < B; b2++) {
        let s = 0;
        for (let a2 = 0; a2 < A; a2++) s += h[i * F + feat(b2, a2)] * fixed[t2 * A + a2];
        g[i * U + t2 * B + b2] = s;
      }
    }
  }
  const x0 = unknownArr.slice(n * U, (n + 1) * U);
  if (!proximalSolve(g, U, r, x0, 1, relRidge)) return false;
  unknownArr.set(r, n * U);
  return true;
}

function copyFactors(f: NdFactors64): NdFactors64 {
  return { ...f, depthwise: f.depthwise.slice(), pointwise: f.pointwise.slice() };
}

/** Rounds of P- and D-steps from `init`; returns the best factors seen and the optimal bias. */
export function refitNd(init: NdFactors64, m: CentredMoments, d: NdDims, opts: NdRefitOptions = {}): NdRefitResult {
  const rounds = opts.rounds ?? 8;
  const relRidge = opts.relRidge ?? 1e-6;
  let cur = copyFactors(init);
  let best = copyFactors(init);
  let bestErr = outputError(ndKernel64(cur, d), m);
  const errors = [bestErr];
  const consider = (f: NdFactors64) => {
    const e = outputError(ndKernel64(f, d), m);
    errors.push(e);
    if (e <= bestErr) {
      bestErr = e;
      best = copyFactors(f);
      cur = f;
    } else {
      cur = copyFactors(best);
    }
  };
  for (let round = 0; round < rounds; round++) {
    const before = bestErr;
    for (const which of ['pointwise', 'depthwise'] as const) {
      const next = copyFactors(cur);
      if (init.order === 'dw-pw') {
        const x = which === 'pointwise' ? dwPwPointwiseStep(next, m, d, relRidge) : dwPwDepthwiseStep(next, m, d, relRidge);
        if (!x) continue;
        (which === 'pointwise' ? next.pointwise : next.depthwise).set(x);
      } else {
        for (let n = 0; n < d.N; n++) pwDwStep(next, m, d, n, which, relRidge);
      }
      consider(next);
    }
    if (!(bestErr < before * (1 - 1e-6))) break;
  }
  return { factors: best, bias: optimalBias(ndKernel64(best, d), m), errors, error: bestErr };
}

/** Float32 ND factors (nd.ts layouts) as float64. */
export function toFactors64(f: { order: NdOrder; rank: number; depthwise: Tensor; pointwise: Tensor }): NdFactors64 {
  return { order: f.order, rank: f.rank, depthwise: Float64Array.from(f.depthwise.data), pointwise: Float64Array.from(f.pointwise.data) };
}

/** Float64 factors back as nd.ts's float32 tensors for a kernel [N, C, kh, kw]. */
export function toNdFactors(f: NdFactors64, kernelShape: readonly number[]): NdFactors {
  const [N, C, kh, kw] = kernelShape;
  const T = f.rank;
  const dwpw = f.order === 'dw-pw';
  return {
    order: f.order,
    rank: T,
    depthwise: { shape: [dwpw ? C : N, T, kh, kw], data: Float32Array.from(f.depthwise) },
    pointwise: { shape: dwpw ? [N, C, T] : [N, T, C], data: Float32Array.from(f.pointwise) },
  };
}
