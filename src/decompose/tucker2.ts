/**
 * Tucker-2 decomposition of a conv kernel (Kim et al., ICLR 2016): W ≈ G ×₁ U_out ×₂ U_in,
 *
 *   W[n, c, i, j] ≈ Σ_{r2, r1} U_out[n, r2] · G[r2, r1, i, j] · U_in[c, r1]
 *
 * with orthonormal U_out (N × R2) and U_in (C × R1) and core G [R2, R1, kh, kw]. As layers:
 *   first  1×1 conv C → R1,   OIHW [R1, C, 1, 1]   = U_inᵀ
 *   core   kh×kw conv R1 → R2, OIHW [R2, R1, kh, kw] = G   (takes the stride, padding, dilation)
 *   last   1×1 conv R2 → N,   OIHW [N, R2, 1, 1]   = U_out (takes the bias and activation)
 *
 * Fitting: HOSVD initialisation of U_in (leading eigenvectors of the C×C Gram matrix of the mode-2
 * unfolding) — U_out needs none, HOOI updates it first — then HOOI (De Lathauwer et al. 2000):
 * alternately U_out = leading eigenvectors of the Gram matrix of (W ×₂ U_inᵀ)'s mode-1 unfolding
 * and U_in likewise of (W ×₁ U_outᵀ)'s mode-2 unfolding. With orthonormal factors
 * ‖W − Ŵ‖² = ‖W‖² − ‖G‖², and ‖G‖² is the sum of the kept eigenvalues, so each half step reports
 * its error for free; HOOI never increases it.
 */
import { gemmNT, gramRows, sumSquares, transpose } from './linalg.js';
import { checkKernel, describe, frobenius, permuted, toTensor } from './kernel64.js';
import { symEig } from './symeig.js';
import type { Tensor } from './tensor.js';

export interface Tucker2Options {
  /** [R_out (R2, core output channels), R_in (R1, core input channels)]. 1 ≤ R2 ≤ N, 1 ≤ R1 ≤ C. */
  ranks: [number, number];
  /** HOOI iterations after the HOSVD start; 0 returns the HOSVD (truncated) result. */
  nIterMax?: number;
  /** Stop when an iteration lowers kernelRelError by less than this (absolute). */
  tol?: number;
  /** Layer name for error messages. */
  name?: string;
}

export interface Tucker2Result {
  ranks: [number, number];
  /** 1×1 conv C → R1: OIHW [R1, C, 1, 1] = U_inᵀ (orthonormal rows). */
  first: Tensor;
  /** kh×kw conv R1 → R2: OIHW [R2, R1, kh, kw]. */
  core: Tensor;
  /** 1×1 conv R2 → N: OIHW [N, R2, 1, 1] = U_out (orthonormal columns). */
  last: Tensor;
  /**
   * ‖W − Ŵ‖_F / ‖W‖_F of the float64 factors, from ‖W‖² − ‖G‖² (0 for a zero kernel). The
   * float32 rounding of the returned tensors adds ~1e-7; near exact fits the difference of squares
   * limits it to ~1e-8 absolute.
   */
  kernelRelError: number;
  /** HOOI iterations run. */
  iterations: number;
  /** The last iteration improved the error by less than `tol` (true for nIterMax = 0). */
  converged: boolean;
}

export function tucker2(kernel: Tensor, opts: Tucker2Options): Tucker2Result {
  const what = describe(opts.name);
  const dims = checkKernel(kernel, opts.name);
  const { N, C, kh, kw, K } = dims;
  if (!Array.isArray(opts.ranks) || opts.ranks.length !== 2) {
    throw new Error(`${what}: ranks must be [R_out, R_in], got ${String(opts.ranks)}`);
  }
  const [R2, R1] = opts.ranks;
  for (const [r, max, label] of [
    [R2, N, 'R_out ≤ N'],
    [R1, C, 'R_in ≤ C'],
  ] as const) {
    if (!Number.isInteger(r) || r < 1 || r > max) {
      throw new Error(`${what}: Tucker-2 rank ${r} is out of range, need 1 ≤ ${label} = ${max}`);
    }
  }
  const nIterMax = opts.nIterMax ?? 50;
  const tol = opts.tol ?? 1e-8;
  if (!Number.isInteger(nIterMax) || nIterMax < 0) {
    throw new Error(`${what}: nIterMax ${nIterMax} must be a non-negative integer`);
  }

  const norm = frobenius(kernel);
  if (norm === 0) return zeroResult(dims, R2, R1);
  const scale = 1 / norm;
  // (N·K) × C rows for W ×₂ U_inᵀ, and (C·K) × N rows for W ×₁ U_outᵀ and the mode-2 Gram.
  const wNkc = permuted(kernel, dims, 'nkc', scale);
  const wCkn = permuted(kernel, dims, 'ckn', scale);

  let uIn = symEig(gramRows(wCkn, C, K * N), C, { count: R1 }).vectors; // R1 × C
  let uOut: Float64Array = new Float64Array(0);
  let y2: Float64Array; // W ×₁ U_outᵀ as (C·K) × R2, i.e. [c][k][r2]
  let iterations = 0;
  let converged = nIterMax === 0;
  if (nIterMax === 0) {
    uOut = symEig(gramRows(wNkc, N, K * C), N, { count: R2 }).vectors;
    y2 = new Float64Array(C * K * R2);
    gemmNT(wCkn, uOut, y2, { m: C * K, n: R2, k: N });
  } else {
    const y1 = new Float64Array(N * K * R1); // [n][k][r1]
    y2 = new Float64Array(C * K * R2);
    let prevErr = Infinity;
    for (let it = 1; it <= nIterMax; it++) {
      iterations = it;
      gemmNT(wNkc, uIn, y1, { m: N * K, n: R1, k: C });
      const e1 = symEig(gramRows(y1, N, K * R1), N, { count: R2 });
      uOut = e1.vectors;
      const errHalf = residual(e1.values, R2);
      gemmNT(wCkn, uOut, y2, { m: C * K, n: R2, k: N });
      const e2 = symEig(gramRows(y2, C, K * R2), C, { count: R1 });
      uIn = e2.vectors;
      const err = residual(e2.values, R1);
      // Iteration 1 has no previous full iteration: compare with its own first half.
      const before = it === 1 ? errHalf : prevErr;
      prevErr = err;
      if (before - err < tol) {
        converged = true;
        break;
      }
    }
  }
  // Core G[r1][(k, r2)] = Σ_c U_in[c, r1] · y2[(c, k), r2], then reordered to [r2][r1][k].
  const y2t = transpose(y2, C, K * R2); // (K·R2) × C
  const coreT = new Float64Array(R1 * K * R2);
  gemmNT(uIn, y2t, coreT, { m: R1, n: K * R2, k: C });
  const core = new Float64Array(R2 * R1 * K);
  for (let r1 = 0; r1 < R1; r1++) {
    for (let k = 0; k < K; k++) {
      const src = (r1 * K + k) * R2;
      for (let r2 = 0; r2 < R2; r2++) core[(r2 * R1 + r1) * K + k] = coreT[src + r2];
    }
  }
  const kernelRelError = Math.sqrt(Math.max(0, 1 - sumSquares(core)));
  return {
    ranks: [R2, R1],
    first: toTensor([R1, C, 1, 1], uIn),
    core: toTensor([R2, R1, kh, kw], core, norm),
    last: toTensor([N, R2, 1, 1], transpose(uOut, R2, N)),
    kernelRelError,
    iterations,
    converged,
  };
}

/** Relative error left by keeping the top `r` eigenvalues of a Gram matrix of the unit-norm W. */
function residual(values: Float64Array, r: number): number {
  let kept = 0;
  for (let t = 0; t < r; t++) kept += Math.max(0, values[t]);
  return Math.sqrt(Math.max(0, 1 - kept));
}

function zeroResult(d: { N: number; C: number; kh: number; kw: number }, R2: number, R1: number) {
  // Any orthonormal factors with a zero core reconstruct a zero kernel exactly.
  const first = new Float32Array(R1 * d.C);
  for (let r = 0; r < R1; r++) first[r * d.C + r] = 1;
  const last = new Float32Array(d.N * R2);
  for (let r = 0; r < R2; r++) last[r * R2 + r] = 1;
  return {
    ranks: [R2, R1] as [number, number],
    first: { shape: [R1, d.C, 1, 1], data: first },
    core: { shape: [R2, R1, d.kh, d.kw], data: new Float32Array(R2 * R1 * d.kh * d.kw) },
    last: { shape: [d.N, R2, 1, 1], data: last },
    kernelRelError: 0,
    iterations: 0,
    converged: true,
  };
}

/** t[r2, (c, k)] = Σ_r1 G[r2, r1, k] U_in[r1, c]: the core and first conv as one R2×(C·K) map (first [R1, C], core [R2, R1, K]). */
export function coreTimesFirst(first: Float64Array, core: Float64Array, d: { C: number; K: number; ranks: [number, number] }): Float64Array {
  const { C, K } = d;
  const [R2, R1] = d.ranks;
  const t = new Float64Array(R2 * C * K);
  for (let r2 = 0; r2 < R2; r2++) {
    for (let r1 = 0; r1 < R1; r1++) {
      const g = (r2 * R1 + r1) * K;
      for (let c = 0; c < C; c++) {
        const u = first[r1 * C + c];
        if (u === 0) continue;
        const o = (r2 * C + c) * K;
        for (let k = 0; k < K; k++) t[o + k] += u * core[g + k];
      }
    }
  }
  return t;
}

/** Ŵ = G ×₁ U_out ×₂ U_in as an OIHW kernel [N, C, kh, kw], summed in float64. */
export function reconstructTucker2(r: Pick<Tucker2Result, 'first' | 'core' | 'last'>): Tensor {
  const [R1, C] = r.first.shape;
  const [R2, R1c, kh, kw] = r.core.shape;
  const [N, R2l] = r.last.shape;
  if (R1c !== R1 || R2l !== R2) {
    throw new Error(
      `reconstructTucker2: first [${r.first.shape}] / core [${r.core.shape}] / last ` +
        `[${r.last.shape}] do not chain (need first [R1, C], core [R2, R1, kh, kw], last [N, R2])`,
    );
  }
  const K = kh * kw;
  // Ŵ[n][(c, k)] = Σ_r2 U_out[n, r2] · t[r2], t = the core and first conv as one map.
  const t = coreTimesFirst(Float64Array.from(r.first.data), Float64Array.from(r.core.data), { C, K, ranks: [R2, R1] });
  const tT = transpose(t, R2, C * K); // (C·K) × R2
  const out = new Float64Array(N * C * K);
  gemmNT(Float64Array.from(r.last.data), tT, out, { m: N, n: C * K, k: R2 });
  return toTensor([N, C, kh, kw], out);
}

export interface Tucker2CostInput {
  N: number;
  C: number;
  kh: number;
  kw: number;
  ranks: [number, number];
  hOut: number;
  wOut: number;
  hIn: number;
  wIn: number;
}

/**
 * MACs per image: hIn·wIn·C·R1 + hOut·wOut·(R1·R2·kh·kw + R2·N). The first 1×1 runs at input
 * resolution (before the strided core), the core and the last 1×1 at output resolution.
 */
export function tucker2Cost(x: Tucker2CostInput): number {
  const [R2, R1] = x.ranks;
  return x.hIn * x.wIn * x.C * R1 + x.hOut * x.wOut * (R1 * R2 * x.kh * x.kw + R2 * x.N);
}
