/**
 * The rank grids and error bookkeeping every method's candidates are built with (methods/*.ts,
 * candidates.ts): spread ranks, the largest rank within a MAC limit, discarded spectrum shares.
 */
import type { SpatialResult } from '../decompose/spatial.js';
import type { Replacement } from './splice.js';
import type { Candidate } from './method-types.js';

/** Up to `n` integers spread evenly over lo..hi (all of them when there are few). */
export function rankGrid(lo: number, hi: number, n: number): number[] {
  if (hi < lo) return [];
  if (hi - lo + 1 <= n) return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  const out = new Set<number>();
  for (let i = 0; i < n; i++) out.add(Math.round(lo + ((hi - lo) * i) / (n - 1)));
  return [...out];
}

/** Largest rank r in 1..max with macsAt(r) ≤ limit (MACs grow with the rank); 0 if none. */
export function maxRankWithin(max: number, limit: number, macsAt: (r: number) => number): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (macsAt(mid) <= limit) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Largest rank that costs fewer MACs than the conv (MACs are integers). */
export function profitableMax(max: number, before: number, macsAt: (r: number) => number): number {
  return maxRankWithin(max, before - 1, macsAt);
}

/** Tail sums: out[r] = Σ_{t ≥ r} v[t]² / total (so out[r] is the error² of keeping r). */
export function discardedShares(values: ArrayLike<number>, total: number): Float64Array {
  const out = new Float64Array(values.length + 1);
  for (let t = values.length - 1; t >= 0; t--) out[t] = out[t + 1] + (values[t] * values[t]) / total;
  return out;
}

export function realizeWith(c: Candidate, d: { replacement: Replacement; kernelRelError: number }): void {
  c.replacement = d.replacement;
  c.error = d.kernelRelError ** 2;
  c.errorKind = 'exact';
}

/** The rank-K spatial factors from a higher-rank result (the components are nested: Eckart–Young). */
export function leadingSpatial(r: SpatialResult, K: number): Pick<SpatialResult, 'vertical' | 'horizontal'> {
  const [Kt, C, kh] = r.vertical.shape;
  const [N, , , kw] = r.horizontal.shape;
  const horizontal = new Float32Array(N * K * kw);
  for (let n = 0; n < N; n++) horizontal.set(r.horizontal.data.subarray(n * Kt * kw, (n * Kt + K) * kw), n * K * kw);
  return { vertical: { shape: [K, C, kh, 1], data: r.vertical.data.slice(0, K * C * kh) }, horizontal: { shape: [N, K, 1, kw], data: horizontal } };
}
