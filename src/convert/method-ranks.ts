/**
 * Rank rules for the methods other than ND (ND's live in src/decompose/rank.ts and decouple()):
 * a fixed rank, an energy threshold τ, or EVBMF ('vbmf', Nakajima et al. 2013) — every rule for
 * every method, so options mean the same thing whatever --method says.
 *
 *   method      fixed                         energy τ                         vbmf
 *   spatial     K                             smallest K keeping τ of Σσ² of   EVBMF of the
 *                                             the (C·kh)×(N·kw) reshape (exact  (C·kh)×(N·kw) reshape
 *                                             error √(1 − τ))
 *   tucker2     [R_out, R_in], or R →          each unfolding keeps τ            EVBMF on the mode-1 and
 *               [min(R, N), min(R, C)]                                          mode-2 unfoldings (Kim 2016)
 *   cp, cp4     R                             see cpEnergyRank                  max of the two Tucker-2
 *                                                                               VBMF ranks (the usual
 *                                                                               estimate for CP, e.g.
 *                                                                               Gildenblat's PyTorch code)
 *   nd (per     T                             ND's channel-averaged energy      ⌈mean⌉ of per-channel EVBMF
 *   channel)                                  (rank.ts)                         ranks (one T per layer)
 */
import { decouple, type NdOrder, type NdResult } from '../decompose/nd.js';
import type { Tensor } from '../decompose/tensor.js';
import { checkKernel, describe, frobenius, permuted } from '../decompose/kernel64.js';
import { gramRows, transpose } from '../decompose/linalg.js';
import { symEig } from '../decompose/symeig.js';
import { ENERGY_TOLERANCE } from '../decompose/rank.js';
import { evbmf, energyRank, tucker2EnergyRanks, tucker2VbmfRanks } from '../decompose/vbmf.js';

export type RankRule = 'vbmf';

/** How a layer's rank is chosen: exactly one of rank (or tuckerRanks), energy, rankRule. */
export interface RankSpec {
  rank?: number;
  energy?: number;
  rankRule?: RankRule;
  /** Tucker-2 only: [R_out, R_in]. */
  tuckerRanks?: [number, number];
  /** spatial-nd only: T of the ND applied to each spatial factor (default: 1 with a fixed K). */
  factorRank?: number;
}

export function ruleLabel(spec: RankSpec): string {
  if (spec.rankRule === 'vbmf') return 'vbmf';
  if (spec.energy !== undefined) return `energy ${spec.energy}`;
  return 'fixed';
}

/** EVBMF rank of a matrix from all its singular values (descending), at least 1. */
export function vbmfFromSpectrum(sv: ArrayLike<number>, rows: number, cols: number): number {
  const L = Math.min(rows, cols);
  const values = Float64Array.from({ length: L }, (_, i) => (i < sv.length ? sv[i] : 0));
  return Math.max(1, evbmf(values, { L, M: Math.max(rows, cols) }).rank);
}

/** Spatial rank K from the spectrum of the (C·kh)×(N·kw) reshape (spatial()'s singularValues). */
export function spatialRank(sv: Float64Array, dims: { P: number; Q: number }, spec: RankSpec, name: string): number {
  if (spec.rankRule === 'vbmf') return vbmfFromSpectrum(sv, dims.P, dims.Q);
  if (spec.energy !== undefined) return energyRank(sv, spec.energy, { name });
  return spec.rank as number;
}

export function tucker2Ranks(kernel: Tensor, spec: RankSpec, name: string): [number, number] {
  const [N, C] = kernel.shape;
  if (spec.tuckerRanks) return spec.tuckerRanks;
  if (spec.rankRule === 'vbmf') return tucker2VbmfRanks(kernel, { name }).ranks;
  if (spec.energy !== undefined) return tucker2EnergyRanks(kernel, spec.energy, { name });
  const R = spec.rank as number;
  return [Math.min(R, N), Math.min(R, C)];
}

export function cpRank(kernel: Tensor, separable: boolean, spec: RankSpec, name: string): number {
  if (spec.rankRule === 'vbmf') {
    const v = tucker2VbmfRanks(kernel, { name });
    return Math.max(1, v.out.rank, v.in.rank);
  }
  if (spec.energy !== undefined) return cpEnergyRank(kernel, separable, spec.energy, name);
  return spec.rank as number;
}

/**
 * CP energy rule: the smallest R whose "slice" model keeps a fraction τ of ‖W‖². Rotate the taps to
 * the orthonormal principal filter basis q_t (cp4: products of the row and column bases, which are
 * separable), SVD each rotated N×C slice Σ_k q_t[k]·W_k, and keep the R largest σ² over all
 * slices. That model is itself a rank-R CP (each kept singular pair times its filter q_t) with
 * error² = 1 − kept share exactly, and it is cp.ts's 'svd' start for R ≥ kh·kw, which ALS only
 * improves: there the final kernelRelError ≤ √(1 − τ). For R < kh·kw cp.ts starts elsewhere and the
 * reported fit says what was reached.
 */
export function cpEnergyRank(kernel: Tensor, separable: boolean, energy: number, name: string): number {
  if (!(energy > 0 && energy <= 1)) throw new Error(`${describe(name)}: energy ${energy} is out of range (0, 1]; use e.g. 0.9`);
  const shares = cpSliceSpectrum(kernel, separable, name);
  let kept = 0;
  for (let r = 0; r < shares.length; r++) {
    kept += shares[r];
    if (kept >= energy - ENERGY_TOLERANCE) return r + 1;
  }
  return Math.max(1, shares.length);
}

/** σ² / ‖W‖² of every rotated slice, pooled and sorted descending (sums to 1; empty for W = 0). */
export function cpSliceSpectrum(kernel: Tensor, separable: boolean, name?: string): Float64Array {
  const dims = checkKernel(kernel, name);
  const { N, C, K, kh, kw } = dims;
  const norm = frobenius(kernel);
  if (norm === 0) return new Float64Array(0);
  const w = permuted(kernel, dims, 'knc', 1 / norm); // [k][n][c]
  const NC = N * C;
  const tapGram = gramRows(w, K, NC);
  let basis: Float64Array; // K × K, rows orthonormal
  if (separable) {
    const gh = new Float64Array(kh * kh);
    const gw = new Float64Array(kw * kw);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let i2 = 0; i2 < kh; i2++) gh[i * kh + i2] += tapGram[(i * kw + j) * K + i2 * kw + j];
        for (let j2 = 0; j2 < kw; j2++) gw[j * kw + j2] += tapGram[(i * kw + j) * K + i * kw + j2];
      }
    }
    const qh = symEig(gh, kh).vectors;
    const qw = symEig(gw, kw).vectors;
    basis = new Float64Array(K * K);
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) basis[(a * kw + b) * K + i * kw + j] = qh[a * kh + i] * qw[b * kw + j];
      }
    }
  } else {
    basis = symEig(tapGram, K).vectors;
  }
  const small = Math.min(N, C);
  const all = new Float64Array(K * small);
  const slice = new Float64Array(NC);
  for (let t = 0; t < K; t++) {
    slice.fill(0);
    for (let k = 0; k < K; k++) {
      const q = basis[t * K + k];
      if (q === 0) continue;
      for (let i = 0; i < NC; i++) slice[i] += q * w[k * NC + i];
    }
    const g = N <= C ? gramRows(slice, N, C) : gramRows(transpose(slice, N, C), C, N);
    const values = symEig(g, small, { count: 0 }).values;
    for (let i = 0; i < small; i++) all[t * small + i] = Math.max(0, values[i]);
  }
  return all.sort().reverse();
}

/**
 * ND by EVBMF: per SVD'd channel the EVBMF rank of its rows × K matrix, then one T for the layer
 * (a layer is one depthwise conv with T filters per channel): the channel mean rounded up, so the
 * layer keeps about as many components as the channels' signal ranks add up to.
 */
export function ndVbmfRank(full: NdResult, kernelShape: readonly number[]): number {
  const [N, C, kh, kw] = kernelShape;
  const K = kh * kw;
  const rows = full.order === 'dw-pw' ? N : C;
  let sum = 0;
  for (const sv of full.singularValues) sum += vbmfFromSpectrum(sv, rows, K);
  return Math.min(full.maxRank, Math.max(1, Math.ceil(sum / Math.max(1, full.singularValues.length))));
}

/** decouple() with ND's rank rule from a RankSpec (fixed T, energy τ, or vbmf). */
export function decoupleBySpec(kernel: Tensor, order: NdOrder, spec: RankSpec, name: string): NdResult {
  if (spec.rankRule === 'vbmf') {
    const full = decouple(kernel, { order, rank: 1, name });
    return decouple(kernel, { order, rank: ndVbmfRank(full, kernel.shape), name });
  }
  return decouple(kernel, { order, name, ...(spec.energy !== undefined && spec.rank === undefined ? { energy: spec.energy } : { rank: spec.rank }) });
}
