/**
 * Spatial (Jaderberg et al., BMVC 2014, "scheme 2") decomposition of a kh×kw conv into a kh×1
 * conv C → K followed by a 1×kw conv K → N:
 *
 *   W[n, c, i, j] ≈ Σ_k H[n, k, j] · V[k, c, i]
 *
 * W reshaped to the (C·kh) × (N·kw) matrix M[(c, i), (n, j)] = W[n, c, i, j] has rank ≤
 * min(C·kh, N·kw), and the best rank-K approximation of M (truncated SVD, Eckart–Young) is the best
 * such pair of convs in the Frobenius norm. Exact at K = min(C·kh, N·kw).
 *
 * Factors: the smaller side's singular vectors are taken from the eigendecomposition of its Gram
 * matrix and are orthonormal; the other factor is M projected onto them, so it carries the
 * singular values (and ‖W‖). No division by σ, so rank-deficient kernels are handled exactly.
 *
 * Stride, padding and dilation (for the rebuild code): the vertical kh×1 conv takes the
 * height parts (stride_h, pad top/bottom, dilation_h) with width stride 1 and no width padding;
 * the horizontal 1×kw conv takes the width parts (stride_w, pad left/right, dilation_w) with
 * height stride 1 and no height padding. Bias and activation go on the horizontal conv.
 */
import { gemmNT, gramRows, transpose } from './linalg.js';
import { checkKernel, checkRank, describe, frobenius, toTensor } from './kernel64.js';
import { symEig } from './symeig.js';
import type { Tensor } from './tensor.js';

export interface SpatialOptions {
  /** K, channels between the two convs: 1..min(C·kh, N·kw). */
  rank: number;
  /** Layer name for error messages. */
  name?: string;
}

export interface SpatialResult {
  rank: number;
  /** kh×1 conv C → K: OIHW [K, C, kh, 1]. */
  vertical: Tensor;
  /** 1×kw conv K → N: OIHW [N, K, 1, kw]. */
  horizontal: Tensor;
  /** All min(C·kh, N·kw) singular values of M, descending (in the kernel's units). */
  singularValues: Float64Array;
  /**
   * ‖W − Ŵ‖_F / ‖W‖_F = sqrt(Σ_{t>K} σ_t² / Σ σ_t²), of the float64 factors (0 for a zero
   * kernel); the float32 rounding of the returned tensors adds ~1e-7.
   */
  kernelRelError: number;
}

export function spatial(kernel: Tensor, opts: SpatialOptions): SpatialResult {
  const what = describe(opts.name);
  const dims = checkKernel(kernel, opts.name);
  const { N, C, kh, kw } = dims;
  const P = C * kh;
  const Q = N * kw;
  const maxRank = Math.min(P, Q);
  const K = checkRank(opts.rank, maxRank, what, 'min(C·kh, N·kw)');

  const norm = frobenius(kernel);
  if (norm === 0) {
    return {
      rank: K,
      vertical: { shape: [K, C, kh, 1], data: new Float32Array(K * P) },
      horizontal: { shape: [N, K, 1, kw], data: new Float32Array(N * K * kw) },
      singularValues: new Float64Array(maxRank),
      kernelRelError: 0,
    };
  }
  const m = unfoldSpatial(kernel, norm);
  const vertical = new Float64Array(K * P); // [k][(c, i)]
  const hMat = new Float64Array(K * Q); // [k][(n, j)]
  let values: Float64Array;
  if (P <= Q) {
    const eig = symEig(gramRows(m, P, Q), P, { count: K });
    values = eig.values;
    vertical.set(eig.vectors);
    gemmNT(eig.vectors, transpose(m, P, Q), hMat, { m: K, n: Q, k: P });
    for (let i = 0; i < hMat.length; i++) hMat[i] *= norm;
  } else {
    const mt = transpose(m, P, Q);
    const eig = symEig(gramRows(mt, Q, P), Q, { count: K });
    values = eig.values;
    hMat.set(eig.vectors);
    gemmNT(eig.vectors, m, vertical, { m: K, n: P, k: Q });
    for (let i = 0; i < vertical.length; i++) vertical[i] *= norm;
  }
  let kept = 0;
  for (let t = 0; t < K; t++) kept += Math.max(0, values[t]);
  const horizontal = new Float64Array(N * K * kw);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < kw; j++) horizontal[(n * K + k) * kw + j] = hMat[k * Q + n * kw + j];
    }
  }
  const singularValues = new Float64Array(maxRank);
  for (let t = 0; t < maxRank; t++) singularValues[t] = Math.sqrt(Math.max(0, values[t])) * norm;
  return {
    rank: K,
    vertical: toTensor([K, C, kh, 1], vertical),
    horizontal: toTensor([N, K, 1, kw], horizontal),
    singularValues,
    kernelRelError: Math.sqrt(Math.max(0, 1 - kept)),
  };
}

/** M[(c, i), (n, j)] = W[n, c, i, j] / scaleDiv as a (C·kh) × (N·kw) float64 matrix. */
export function unfoldSpatial(kernel: Tensor, scaleDiv = 1): Float64Array {
  const [N, C, kh, kw] = kernel.shape;
  const Q = N * kw;
  const m = new Float64Array(C * kh * Q);
  const d = kernel.data;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < kh; i++) {
        const src = ((n * C + c) * kh + i) * kw;
        const dst = (c * kh + i) * Q + n * kw;
        for (let j = 0; j < kw; j++) m[dst + j] = d[src + j] / scaleDiv;
      }
    }
  }
  return m;
}

/** Ŵ[n, c, i, j] = Σ_k horizontal[n, k, 0, j] · vertical[k, c, i, 0], summed in float64. */
export function reconstructSpatial(r: Pick<SpatialResult, 'vertical' | 'horizontal'>): Tensor {
  const [K, C, kh] = r.vertical.shape;
  const [N, Kh, , kw] = r.horizontal.shape;
  if (Kh !== K || r.vertical.shape[3] !== 1 || r.horizontal.shape[2] !== 1) {
    throw new Error(
      `reconstructSpatial: vertical [${r.vertical.shape}] and horizontal [${r.horizontal.shape}] ` +
        'do not chain (need [K, C, kh, 1] and [N, K, 1, kw])',
    );
  }
  const v = r.vertical.data;
  const h = r.horizontal.data;
  const out = new Float64Array(N * C * kh * kw);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const hBase = (n * K + k) * kw;
      for (let c = 0; c < C; c++) {
        const vBase = (k * C + c) * kh;
        for (let i = 0; i < kh; i++) {
          const x = v[vBase + i];
          if (x === 0) continue;
          const o = ((n * C + c) * kh + i) * kw;
          for (let j = 0; j < kw; j++) out[o + j] += x * h[hBase + j];
        }
      }
    }
  }
  return toTensor([N, C, kh, kw], out);
}

export interface SpatialCostInput {
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
 * MACs per image: hOut·wIn·K·C·kh + hOut·wOut·N·K·kw. The vertical conv already applies the
 * height stride but not the width stride, so it runs at output height × input width.
 */
export function spatialCost(x: SpatialCostInput): number {
  return x.hOut * x.wIn * x.rank * x.C * x.kh + x.hOut * x.wOut * x.N * x.rank * x.kw;
}
