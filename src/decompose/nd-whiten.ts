/**
 * Activation-aware network decoupling, dw-pw (docs/data-aware.md §2): instead of the best rank-T
 * fit of each input channel's N×K slice W_c in the weights, the best fit of its *response*,
 *   min Σ_c E‖(W_c − P_c D_c) x_c‖² = Σ_c ‖(W_c − P_c D_c) S_c‖²_F,   S_c = Σ_c^{1/2},
 * Σ_c the K×K covariance of channel c's patches (cross-channel terms dropped: that is what
 * makes it closed form). Eckart–Young on A = W_c S_c: with U_T the top-T right singular vectors of
 * A, P_c = A U_T and D_c = U_Tᵀ S_c⁺ give P_c D_c S_c = A U_T U_Tᵀ, the best rank-T response.
 * With Σ_c = I this is plain ND. The refit (nd-refit.ts) then adds the cross-channel terms.
 */
import { covBlock, type CentredMoments } from './moments.js';
import type { NdFactors64 } from './nd-refit.js';
import { symEig } from './symeig.js';
import type { Tensor } from './tensor.js';

/** S = Σ^{1/2} and its pseudo-inverse (eigenvalues below 1e-12·max count as zero). */
export function sqrtAndPinv(sigma: Float64Array, K: number): { s: Float64Array; sInv: Float64Array } {
  const { values, vectors } = symEig(sigma, K);
  const top = Math.max(values[0], 0);
  const s = new Float64Array(K * K);
  const sInv = new Float64Array(K * K);
  for (let e = 0; e < K; e++) {
    const lam = values[e];
    if (!(lam > 1e-12 * top)) continue;
    const r = Math.sqrt(lam);
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        const vv = vectors[e * K + i] * vectors[e * K + j];
        s[i * K + j] += r * vv;
        sInv[i * K + j] += vv / r;
      }
    }
  }
  return { s, sInv };
}

/** Per-channel whitened dw-pw factors at rank T for the OIHW kernel [N, C, kh, kw]. */
export function whitenedDecouple(kernel: Tensor, m: Pick<CentredMoments, 'cov' | 'form' | 'channels' | 'taps'>, rank: number): NdFactors64 {
  const [N, C, kh, kw] = kernel.shape;
  const K = kh * kw;
  if (m.channels !== C || m.taps !== K) throw new Error(`whitened ND: statistics for ${m.channels}×${m.taps} patches do not fit kernel [${kernel.shape.join(', ')}]`);
  if (!Number.isInteger(rank) || rank < 1 || rank > K) throw new Error(`whitened ND: rank ${rank} must be in 1..${K}`);
  const T = rank;
  const depthwise = new Float64Array(C * T * K);
  const pointwise = new Float64Array(N * C * T);
  const a = new Float64Array(N * K);
  for (let c = 0; c < C; c++) {
    const { s, sInv } = sqrtAndPinv(covBlock(m, c, c), K);
    // A = W_c S (N×K), then the top-T eigenvectors of AᵀA are A's right singular vectors.
    a.fill(0);
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < K; i++) {
        const w = kernel.data[(n * C + c) * K + i];
        if (w === 0) continue;
        for (let j = 0; j < K; j++) a[n * K + j] += w * s[i * K + j];
      }
    }
    const ata = new Float64Array(K * K);
    for (let n = 0; n < N; n++) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) ata[i * K + j] += a[n * K + i] * a[n * K + j];
    const { vectors } = symEig(ata, K, { count: T });
    for (let t = 0; t < T; t++) {
      const u = vectors.subarray(t * K, (t + 1) * K);
      for (let k = 0; k < K; k++) {
        let v = 0;
        for (let i = 0; i < K; i++) v += u[i] * sInv[i * K + k];
        depthwise[(c * T + t) * K + k] = v;
      }
      for (let n = 0; n < N; n++) {
        let v = 0;
        for (let i = 0; i < K; i++) v += a[n * K + i] * u[i];
        pointwise[(n * C + c) * T + t] = v;
      }
    }
  }
  return { order: 'dw-pw', rank: T, depthwise, pointwise };
}

/** The per-channel whitened error Σ_c ‖(W_c − Ŵ_c) S_c‖² = Σ_c tr(Δ_c Σ_c Δ_cᵀ) for Ŵ (N×C·K, float64). */
export function perChannelWhitenedError(kernel: Tensor, w: Float64Array, m: Pick<CentredMoments, 'cov' | 'form' | 'channels' | 'taps'>): number {
  const [N, C] = kernel.shape;
  const K = m.taps;
  let e = 0;
  for (let c = 0; c < C; c++) {
    const sig = covBlock(m, c, c);
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * K;
      for (let i = 0; i < K; i++) {
        const di = kernel.data[o + i] - w[o + i];
        let s = 0;
        for (let j = 0; j < K; j++) s += sig[i * K + j] * (kernel.data[o + j] - w[o + j]);
        e += di * s;
      }
    }
  }
  return e;
}
