/**
 * Choosing how many components T to keep per channel, from the per-channel singular values.
 *
 * Energy rule (the official ND code's, Guo et al. 2018): the smallest T whose retained energy
 * Σ_{t≤T} σ_t² / Σ_t σ_t², averaged over channels, reaches τ. A channel whose singular values are
 * all zero has nothing to lose and counts as fully retained (1).
 */

type SingularValues = readonly Float64Array[] | readonly Float32Array[];

/**
 * Slack on the τ comparison. Retained energies are ratios of float sums, so a spectrum that meets
 * τ exactly can land a few ulps below it; 1e-12 of energy is 1e-6 of relative kernel error, the
 * "exact" level of float32 weights, so τ = 1 picks the smallest T that is exact at that level.
 */
export const ENERGY_TOLERANCE = 1e-12;

export interface ChooseRankOptions {
  /** Fixed T: an integer in 1..maxRank. Exactly one of `rank` and `energy`. */
  rank?: number;
  /** Energy threshold τ in (0, 1]. Exactly one of `rank` and `energy`. */
  energy?: number;
  /** Largest valid T (ND: k² for dw-pw, min(C, k²) for pw-dw). */
  maxRank: number;
  /** Names the thing in error messages, e.g. `layer "conv3_1"`. */
  what?: string;
}

/** Retained energy at T, averaged over channels (1 for a channel with all-zero values). */
export function retainedEnergy(singularValues: SingularValues, T: number): number {
  if (singularValues.length === 0) return 1;
  let sum = 0;
  for (const s of singularValues) {
    let kept = 0;
    let total = 0;
    // One running sum for both, so that T ≥ length gives exactly 1.
    for (let t = 0; t < s.length; t++) {
      total += s[t] * s[t];
      if (t < T) kept = total;
    }
    sum += total === 0 ? 1 : kept / total;
  }
  return sum / singularValues.length;
}

/** Retained energy for T = 1..maxRank (maxRank = the longest channel's length): curve[T − 1]. */
export function energyCurve(singularValues: SingularValues): Float64Array {
  let maxRank = 0;
  for (const s of singularValues) maxRank = Math.max(maxRank, s.length);
  const curve = new Float64Array(maxRank);
  if (singularValues.length === 0) return curve.fill(1);
  for (const s of singularValues) {
    let total = 0;
    for (let t = 0; t < s.length; t++) total += s[t] * s[t];
    let kept = 0;
    for (let T = 1; T <= maxRank; T++) {
      if (T <= s.length) kept += s[T - 1] * s[T - 1];
      // Past the channel's length the running sum has every term, so it equals total exactly.
      curve[T - 1] += total === 0 ? 1 : T >= s.length ? 1 : kept / total;
    }
  }
  for (let i = 0; i < maxRank; i++) curve[i] /= singularValues.length;
  return curve;
}

/** T for one layer from a fixed rank or an energy threshold; throws naming `what` when invalid. */
export function chooseRank(singularValues: SingularValues, opts: ChooseRankOptions): number {
  const what = opts.what ?? 'kernel';
  const { rank, energy, maxRank } = opts;
  if (!Number.isInteger(maxRank) || maxRank < 1) {
    throw new Error(`maxRank ${maxRank} for ${what} must be a positive integer`);
  }
  if ((rank === undefined) === (energy === undefined)) {
    throw new Error(
      `${what}: give exactly one of rank (1..${maxRank}) and energy (τ in (0, 1]), ` +
        `got ${rank === undefined ? 'neither' : 'both'}`,
    );
  }
  if (rank !== undefined) {
    if (!Number.isInteger(rank) || rank < 1 || rank > maxRank) {
      throw new Error(`rank ${rank} is out of range 1..${maxRank} for ${what}`);
    }
    return rank;
  }
  const tau = energy as number;
  if (!(tau > 0 && tau <= 1)) {
    throw new Error(`energy ${tau} is out of range (0, 1] for ${what}; use e.g. 0.9`);
  }
  const curve = energyCurve(singularValues);
  for (let T = 1; T <= maxRank; T++) {
    // Channels shorter than maxRank are complete at their length, so the curve is 1 past its end.
    const kept = T <= curve.length ? curve[T - 1] : 1;
    if (kept >= tau - ENERGY_TOLERANCE) return T;
  }
  return maxRank;
}
