/**
 * Activation-aware CP (docs/data-aware.md §7): minimise tr((W − Ŵ) Σx (W − Ŵ)ᵀ) for
 *   cp3: Ŵ[n,c,k] = Σ_r A[n,r] B[c,r] S[k,r],   cp4: Ŵ[n,c,i,j] = Σ_r A[n,r] B[c,r] V[i,r] H[j,r].
 * CP has no closed form even in the weights, so: a whitened initialisation, then weighted ALS.
 * Under Σx ≈ A_ch ⊗ B_tap (kron-moments.ts) the whitened error is the plain CP error of
 * W̃ = W ×₂ S_A ×₃ S_B; CP-ALS on W̃ (cp.ts) and B = S_A⁺ B̃, S = S_B⁺ S̃ map it back (cp4 whitens
 * the channel mode only: S_B⁺ would mix a separable filter's rows and columns). The weighted ALS is
 * the block-coordinate refit of factor-refit.ts on the exact whitened error (A exactly, the others
 * by CG), from whichever of the plain and whitened CP has the lower whitened error.
 */
import { cp3, cp4, type Cp3Result, type Cp4Result, type CpOptions } from './cp.js';
import { kernel64, refitBestStart, weightTargetMoments, type AwareResult, type MultilinearModel } from './factor-refit.js';
import { partialTraces, whitenKernelKron } from './kron-moments.js';
import { gemmNT, transpose } from './linalg.js';
import type { CentredMoments } from './moments.js';
import { sqrtAndPinv } from './nd-whiten.js';
import type { Tensor } from './tensor.js';

export interface CpDims {
  N: number;
  C: number;
  kh: number;
  kw: number;
  rank: number;
}

/** filters[r, (i, j)] from cp3's taps S (R×K) or cp4's v (R×kh) and h (R×kw). */
function filtersOf(f: Float64Array[], d: CpDims, four: boolean): Float64Array {
  if (!four) return f[1];
  const { kh, kw, rank: R } = d;
  const out = new Float64Array(R * kh * kw);
  for (let r = 0; r < R; r++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) out[(r * kh + i) * kw + j] = f[1][r * kh + i] * f[2][r * kw + j];
  return out;
}

/** B[r, (c, k)] = in[r, c]·filter[r, k]: everything before the last 1×1, as one R×F map. */
function beforeLast(f: Float64Array[], d: CpDims, four: boolean): Float64Array {
  const { C, kh, kw, rank: R } = d;
  const K = kh * kw;
  const filt = filtersOf(f, d, four);
  const b = new Float64Array(R * C * K);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
    const u = f[0][r * C + c];
    for (let k = 0; k < K; k++) b[(r * C + c) * K + k] = u * filt[r * K + k];
  }
  return b;
}

/** Factors [in (R×C), taps (R×K) | v (R×kh), h (R×kw), out (N×R)] in cp.ts's layouts. */
export function cpModel(d: CpDims, four: boolean): MultilinearModel {
  const { N, C, kh, kw, rank: R } = d;
  const K = kh * kw;
  const F = C * K;
  const last = four ? 3 : 2;
  return {
    N,
    F,
    outputFactor: last,
    basis: (f) => ({ b: beforeLast(f, d, four), p: R }),
    kernel: (f) => {
      const w = new Float64Array(N * F);
      gemmNT(f[last], transpose(beforeLast(f, d, four), R, F), w, { m: N, n: F, k: R });
      return w;
    },
    adjoint: (i, f, g) => {
      if (i === last) {
        const out = new Float64Array(N * R);
        gemmNT(g, beforeLast(f, d, four), out, { m: N, n: R, k: F });
        return out;
      }
      const z = new Float64Array(R * F); // outᵀ G
      gemmNT(transpose(f[last], N, R), transpose(g, N, F), z, { m: R, n: F, k: N });
      const filt = filtersOf(f, d, four);
      if (i === 0) {
        const out = new Float64Array(R * C);
        for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += z[(r * C + c) * K + k] * filt[r * K + k];
          out[r * C + c] = s;
        }
        return out;
      }
      // ∂/∂filter[r, k] = Σ_c z[r, c, k]·in[r, c], then the chain rule for cp4's v and h.
      const gf = new Float64Array(R * K);
      for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
        const u = f[0][r * C + c];
        if (u === 0) continue;
        for (let k = 0; k < K; k++) gf[r * K + k] += u * z[(r * C + c) * K + k];
      }
      if (!four) return gf;
      const out = new Float64Array(R * (i === 1 ? kh : kw));
      for (let r = 0; r < R; r++) for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
        const v = gf[(r * kh + a) * kw + b];
        if (i === 1) out[r * kh + a] += v * f[2][r * kw + b];
        else out[r * kw + b] += v * f[1][r * kh + a];
      }
      return out;
    },
  };
}

export function cpFactors64(r: Cp3Result | Cp4Result): Float64Array[] {
  const f = (t: Tensor) => Float64Array.from(t.data);
  return 'depthwise' in r ? [f(r.inFactor), f(r.depthwise), f(r.outFactor)] : [f(r.inFactor), f(r.vertical), f(r.horizontal), f(r.outFactor)];
}

type Moments = Pick<CentredMoments, 'channels' | 'taps' | 'form' | 'cov'>;

/** CP of the whitened kernel mapped back (module comment); `four` selects cp4. */
export function whitenedCp(kernel: Tensor, m: Moments, four: boolean, opts: CpOptions): Float64Array[] {
  const [N, C, kh, kw] = kernel.shape;
  const K = kh * kw;
  if (m.channels !== C || m.taps !== K) throw new Error(`whitened CP: statistics for ${m.channels}×${m.taps} patches do not fit kernel [${kernel.shape.join(', ')}]`);
  const { a, b } = partialTraces(m, K);
  const sa = sqrtAndPinv(a, C);
  const sb = four ? null : sqrtAndPinv(b, K);
  const wt = whitenKernelKron(kernel.data, { N, C, K }, sa.s, sb ? sb.s : null);
  const whiteKernel = { shape: kernel.shape, data: Float32Array.from(wt) };
  const f = cpFactors64(four ? cp4(whiteKernel, opts) : cp3(whiteKernel, opts));
  const R = opts.rank;
  const inF = new Float64Array(R * C);
  gemmNT(f[0], sa.sInv, inF, { m: R, n: C, k: C });
  f[0] = inF;
  if (sb) {
    const taps = new Float64Array(R * K);
    gemmNT(f[1], sb.sInv, taps, { m: R, n: K, k: K });
    f[1] = taps;
  }
  return f;
}

/** Activation-aware CP: whitened start, weighted ALS (never worse than plain CP in the whitened error). */
export function activationAwareCp(kernel: Tensor, m: Moments, four: boolean, opts: CpOptions & { rounds?: number }): AwareResult<Float64Array[]> {
  const [N, C, kh, kw] = kernel.shape;
  const model = cpModel({ N, C, kh, kw, rank: opts.rank }, four);
  const plain = cpFactors64(four ? cp4(kernel, opts) : cp3(kernel, opts));
  return refitBestStart(model, { plain, whitened: whitenedCp(kernel, m, four, opts) }, weightTargetMoments(kernel64(kernel), m, N), opts.rounds);
}
