/**
 * Activation-aware Tucker-2 (docs/data-aware.md §6): minimise the response error
 *   E‖(W − Ŵ)x‖² = tr((W − Ŵ) Σx (W − Ŵ)ᵀ),   Ŵ[n,c,k] = Σ U_out[n,r2] G[r2,r1,k] U_in[c,r1],
 * instead of ‖W − Ŵ‖. Closed form under the Kronecker approximation Σx ≈ A ⊗ B (kron-moments.ts;
 * A over channels, B over taps): with S_A = A^{1/2}, S_B = B^{1/2} the objective is the plain
 * Tucker-2 objective of W̃ = W ×₂ S_A ×₃ S_B, so HOOI on W̃ gives Ũ_in, G̃, U_out and
 *   U_in = S_A⁺ Ũ_in,   G = G̃ ×₃ S_B⁺
 * map them back (the input-side factor from the whitened unfolding). Then block-coordinate least
 * squares on the exact whitened error (factor-refit.ts, last factor exactly, core and input factor
 * by CG) from whichever of the plain and the whitened factors has the lower whitened error, so the
 * result is never worse than plain Tucker-2 in that error; at full ranks both are exact.
 */
import { kernel64, refitBestStart, weightTargetMoments, type AwareResult, type MultilinearModel } from './factor-refit.js';
import { partialTraces, whitenKernelKron } from './kron-moments.js';
import { gemmNT, transpose } from './linalg.js';
import type { CentredMoments } from './moments.js';
import { sqrtAndPinv } from './nd-whiten.js';
import type { Tensor } from './tensor.js';
import { coreTimesFirst, tucker2, type Tucker2Result } from './tucker2.js';

/** Tucker-2 factors in float64, tucker2.ts layouts: first [R1, C], core [R2, R1, K], last [N, R2]. */
export type Tucker2Factors64 = [first: Float64Array, core: Float64Array, last: Float64Array];

export interface Tucker2Dims {
  N: number;
  C: number;
  K: number;
  ranks: [number, number];
}

/** The core and first conv as one R2×F map (tucker2.ts). */
function coreFirst(f: Float64Array[], d: Tucker2Dims): Float64Array {
  return coreTimesFirst(f[0], f[1], d);
}

export function tucker2Model(d: Tucker2Dims): MultilinearModel {
  const { N, C, K } = d;
  const [R2, R1] = d.ranks;
  const F = C * K;
  return {
    N,
    F,
    outputFactor: 2,
    basis: (f) => ({ b: coreFirst(f, d), p: R2 }),
    kernel: (f) => {
      const w = new Float64Array(N * F);
      gemmNT(f[2], transpose(coreFirst(f, d), R2, F), w, { m: N, n: F, k: R2 });
      return w;
    },
    adjoint: (i, f, r) => {
      if (i === 2) {
        const g = new Float64Array(N * R2);
        gemmNT(r, coreFirst(f, d), g, { m: N, n: R2, k: F });
        return g;
      }
      const z = new Float64Array(R2 * F); // U_outᵀ R
      gemmNT(transpose(f[2], N, R2), transpose(r, N, F), z, { m: R2, n: F, k: N });
      const [first, core] = f;
      if (i === 1) {
        const g = new Float64Array(R2 * R1 * K);
        for (let r2 = 0; r2 < R2; r2++) for (let r1 = 0; r1 < R1; r1++) for (let c = 0; c < C; c++) {
          const u = first[r1 * C + c];
          if (u === 0) continue;
          const o = (r2 * R1 + r1) * K;
          const zo = (r2 * C + c) * K;
          for (let k = 0; k < K; k++) g[o + k] += u * z[zo + k];
        }
        return g;
      }
      const g = new Float64Array(R1 * C);
      for (let r2 = 0; r2 < R2; r2++) for (let r1 = 0; r1 < R1; r1++) for (let c = 0; c < C; c++) {
        let s = 0;
        const o = (r2 * R1 + r1) * K;
        const zo = (r2 * C + c) * K;
        for (let k = 0; k < K; k++) s += core[o + k] * z[zo + k];
        g[r1 * C + c] += s;
      }
      return g;
    },
  };
}

export function tucker2Factors64(r: Pick<Tucker2Result, 'first' | 'core' | 'last'>): Tucker2Factors64 {
  return [Float64Array.from(r.first.data), Float64Array.from(r.core.data), Float64Array.from(r.last.data)];
}

type Moments = Pick<CentredMoments, 'channels' | 'taps' | 'form' | 'cov'>;

/** The closed form under Σx ≈ A ⊗ B (module comment), from HOOI on the whitened kernel. */
export function whitenedTucker2(kernel: Tensor, m: Moments, ranks: [number, number], opts: { nIterMax?: number; name?: string } = {}): Tucker2Factors64 {
  const [N, C, kh, kw] = kernel.shape;
  const K = kh * kw;
  if (m.channels !== C || m.taps !== K) throw new Error(`whitened Tucker-2: statistics for ${m.channels}×${m.taps} patches do not fit kernel [${kernel.shape.join(', ')}]`);
  const { a, b } = partialTraces(m, K);
  const sa = sqrtAndPinv(a, C);
  const sb = sqrtAndPinv(b, K);
  const wt = whitenKernelKron(kernel.data, { N, C, K }, sa.s, sb.s);
  const t = tucker2({ shape: kernel.shape, data: Float32Array.from(wt) }, { ranks, nIterMax: opts.nIterMax, name: opts.name });
  const [R2, R1] = t.ranks;
  const first = new Float64Array(R1 * C);
  gemmNT(Float64Array.from(t.first.data), sa.sInv, first, { m: R1, n: C, k: C }); // S_A⁺ symmetric
  const core = new Float64Array(R2 * R1 * K);
  gemmNT(Float64Array.from(t.core.data), sb.sInv, core, { m: R2 * R1, n: K, k: K });
  return [first, core, Float64Array.from(t.last.data)];
}

/** Activation-aware Tucker-2: closed form, then ALS on the whitened error (never worse than plain in it). */
export function activationAwareTucker2(kernel: Tensor, m: Moments, ranks: [number, number], opts: { rounds?: number; name?: string } = {}): AwareResult<Tucker2Factors64> {
  const [N, C, kh, kw] = kernel.shape;
  const model = tucker2Model({ N, C, K: kh * kw, ranks });
  const plain = tucker2Factors64(tucker2(kernel, { ranks, name: opts.name }));
  const whitened = whitenedTucker2(kernel, m, ranks, { name: opts.name });
  return refitBestStart(model, { plain, whitened }, weightTargetMoments(kernel64(kernel), m, N), opts.rounds);
}
