/**
 * Latency statistics (STYLE.md): median and 10th/90th percentiles of wall-clock runs, warm-up
 * first. Measured speedup = median(original) / median(converted), same process, same backend.
 */

export interface TimingOptions {
  /** Untimed runs first (allocation, kernel selection, JIT); default 3. */
  warmup?: number;
  /** Timed runs; default and minimum 10. */
  runs?: number;
}

export interface TimingStats {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  runs: number;
  warmup: number;
}

/** Linear-interpolated quantile of sorted values (same rule as ort.ts timeOrt). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no values');
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarizeTimes(times: readonly number[]): Omit<TimingStats, 'warmup'> {
  const s = [...times].sort((a, b) => a - b);
  return { medianMs: quantile(s, 0.5), p10Ms: quantile(s, 0.1), p90Ms: quantile(s, 0.9), runs: s.length };
}

/** median(before) / median(after). */
export function measuredSpeedup(before: TimingStats, after: TimingStats): number {
  return before.medianMs / after.medianMs;
}
