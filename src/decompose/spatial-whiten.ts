/**
 * Activation-aware spatial decomposition (docs/data-aware.md §6): minimise
 *   E‖(W − Ŵ)x‖² = tr((W − Ŵ) Σx (W − Ŵ)ᵀ),   Ŵ[n,c,i,j] = Σ_k H[n,k,j] V[k,c,i],
 * i.e. a rank-K fit of the (C·kh)×(N·kw) unfolding M (spatial.ts) in the response norm. Under
 * Σx ≈ A ⊗ B (kron-moments.ts; A over (channel, row), B over columns) the objective is
 * ‖S_A (M − M̂)(I_N ⊗ S_B)‖²_F, S = (·)^{1/2}; Eckart–Young on M̃ = S_A M (I ⊗ S_B) with Ũ its
 * top-K left singular vectors gives M̂ = S_A⁺ Ũ Ũᵀ S_A M (S_B cancels but chooses Ũ):
 *   V = Ũᵀ S_A⁺ (the kh×1 factor),   H = Ũᵀ S_A M (the 1×kw factor).
 * Then the joint refit on the exact whitened error (factor-refit.ts: H exactly, V by CG) from the
 * better of the plain and whitened factors: never worse than plain spatial in that error.
 */
import { kernel64, refitBestStart, weightTargetMoments, type AwareResult, type MultilinearModel } from './factor-refit.js';
import { partialTraces } from './kron-moments.js';
import { gemmNT, gramRows, transpose } from './linalg.js';
import type { CentredMoments } from './moments.js';
import { sqrtAndPinv } from './nd-whiten.js';
import { spatial, unfoldSpatial, type SpatialResult } from './spatial.js';
import { symEig } from './symeig.js';
import type { Tensor } from './tensor.js';

/** Spatial factors in float64, spatial.ts layouts: vertical [K, C, kh], horizontal [N, K, kw]. */
export type SpatialFactors64 = [vertical: Float64Array, horizontal: Float64Array];

export interface SpatialDims {
  N: number;
  C: number;
  kh: number;
  kw: number;
  rank: number;
}

export function spatialModel(d: SpatialDims): MultilinearModel {
  const { N, C, kh, kw, rank: R } = d;
  const F = C * kh * kw;
  return {
    N,
    F,
    outputFactor: 1,
    // Ŵ = H·B with B[(k, j′), (c, i, j)] = V[k, c, i]·δ(j, j′).
    basis: ([v]) => {
      const p = R * kw;
      const b = new Float64Array(p * F);
      for (let k = 0; k < R; k++) for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) {
        const x = v[(k * C + c) * kh + i];
        for (let j = 0; j < kw; j++) b[(k * kw + j) * F + (c * kh + i) * kw + j] = x;
      }
      return { b, p };
    },
    kernel: ([v, h]) => {
      const w = new Float64Array(N * F);
      for (let n = 0; n < N; n++) for (let k = 0; k < R; k++) {
        const ho = (n * R + k) * kw;
        for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) {
          const x = v[(k * C + c) * kh + i];
          if (x === 0) continue;
          const o = n * F + (c * kh + i) * kw;
          for (let j = 0; j < kw; j++) w[o + j] += x * h[ho + j];
        }
      }
      return w;
    },
    adjoint: (which, [v, h], r) => {
      const g = new Float64Array(which === 0 ? R * C * kh : N * R * kw);
      for (let n = 0; n < N; n++) for (let k = 0; k < R; k++) {
        const ho = (n * R + k) * kw;
        for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) {
          const vi = (k * C + c) * kh + i;
          const o = n * F + (c * kh + i) * kw;
          if (which === 0) {
            let s = 0;
            for (let j = 0; j < kw; j++) s += r[o + j] * h[ho + j];
            g[vi] += s;
          } else {
            const x = v[vi];
            for (let j = 0; j < kw; j++) g[ho + j] += r[o + j] * x;
          }
        }
      }
      return g;
    },
  };
}

export function spatialFactors64(r: Pick<SpatialResult, 'vertical' | 'horizontal'>): SpatialFactors64 {
  return [Float64Array.from(r.vertical.data), Float64Array.from(r.horizontal.data)];
}

type Moments = Pick<CentredMoments, 'channels' | 'taps' | 'form' | 'cov'>;

/** The closed form under Σx ≈ A ⊗ B (module comment). */
export function whitenedSpatial(kernel: Tensor, m: Moments, rank: number): SpatialFactors64 {
  const [N, C, kh, kw] = kernel.shape;
  if (m.channels !== C || m.taps !== kh * kw) throw new Error(`whitened spatial: statistics for ${m.channels}×${m.taps} patches do not fit kernel [${kernel.shape.join(', ')}]`);
  const P = C * kh;
  const Q = N * kw;
  if (!Number.isInteger(rank) || rank < 1 || rank > Math.min(P, Q)) throw new Error(`whitened spatial: rank ${rank} must be in 1..${Math.min(P, Q)}`);
  const { a, b } = partialTraces(m, kw);
  const sa = sqrtAndPinv(a, P);
  const sb = sqrtAndPinv(b, kw);
  const mat = unfoldSpatial(kernel);
  // M (I ⊗ S_B), then M̃ = S_A · that.
  const msb = new Float64Array(P * Q);
  for (let p = 0; p < P; p++) for (let n = 0; n < N; n++) for (let j = 0; j < kw; j++) {
    let s = 0;
    for (let j2 = 0; j2 < kw; j2++) s += mat[p * Q + n * kw + j2] * sb.s[j2 * kw + j];
    msb[p * Q + n * kw + j] = s;
  }
  const mt = new Float64Array(P * Q);
  gemmNT(sa.s, transpose(msb, P, Q), mt, { m: P, n: Q, k: P });
  const u = symEig(gramRows(mt, P, Q), P, { count: rank }).vectors; // rank × P
  const vertical = new Float64Array(rank * P);
  gemmNT(u, sa.sInv, vertical, { m: rank, n: P, k: P });
  const us = new Float64Array(rank * P);
  gemmNT(u, sa.s, us, { m: rank, n: P, k: P });
  const hMat = new Float64Array(rank * Q);
  gemmNT(us, transpose(mat, P, Q), hMat, { m: rank, n: Q, k: P });
  const horizontal = new Float64Array(N * rank * kw);
  for (let k = 0; k < rank; k++) for (let n = 0; n < N; n++) for (let j = 0; j < kw; j++) horizontal[(n * rank + k) * kw + j] = hMat[k * Q + n * kw + j];
  return [vertical, horizontal];
}

/** Activation-aware spatial: closed form, then ALS on the whitened error (never worse than plain in it). */
export function activationAwareSpatial(kernel: Tensor, m: Moments, rank: number, opts: { rounds?: number; name?: string } = {}): AwareResult<SpatialFactors64> {
  const [N, C, kh, kw] = kernel.shape;
  const model = spatialModel({ N, C, kh, kw, rank });
  const plain = spatialFactors64(spatial(kernel, { rank, name: opts.name }));
  return refitBestStart(model, { plain, whitened: whitenedSpatial(kernel, m, rank) }, weightTargetMoments(kernel64(kernel), m, N), opts.rounds);
}
