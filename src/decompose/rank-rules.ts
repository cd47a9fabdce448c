/**
 * How each method's rank is chosen (beside the decompositions they choose it for; src/convert only
 * resolves a layer's RankSpec through these): for ND decouple()'s own rules (rank.ts) plus VBMF,
 * for the other methods a fixed rank, an energy threshold τ, or EVBMF ('vbmf', Nakajima et al. 2013) — every rule for
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
import { decouple, type NdOrder, type NdResult } from './nd.js';
import type { Tensor } from './tensor.js';
import { describe } from './kernel64.js';
import { cpSliceSpectrum } from './cp.js';
import { ENERGY_TOLERANCE } from './rank.js';
import { evbmf, energyRank, tucker2EnergyRanks, tucker2VbmfRanks } from './vbmf.js';

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
