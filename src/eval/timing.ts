/**
 * Latency statistics and the one timing loop every measurement shares (bench, sweep, the latency
 * budget). docs/design.md#timing: measured speedup = median(original) / median(converted), same process, same
 * backend, warm-up first.
 *
 * On 2 shared cores a fixed 10 runs is not enough: per-layer ratios scattered from 0.1× to 11× on
 * layers whose MAC ratio is 1.7× (docs/design.md#timing). So the loop
 *   - runs the two models in alternation (a, b, b, a, …): a load change hits both alike;
 *   - warms up until the run time is stable (the mean of the last 3 pairs within 10 % of the 3
 *     before), not for a fixed count;
 *   - keeps adding pairs until the 95 % confidence interval of median(a)/median(b) is within ±5 %
 *     of the ratio, or a time cap / run cap is hit — and says which;
 *   - reports outliers (beyond Tukey's far fences, Q1 − 3·IQR … Q3 + 3·IQR) but keeps them: the
 *     median is already robust to them, and hiding them would hide what the machine did;
 *   - records the 1-minute load average before and after.
 * The interval is a paired percentile bootstrap (Efron & Tibshirani 1993, ch. 13): resample the
 * (a_i, b_i) pairs with replacement, recompute median(a)/median(b). Resampling pairs keeps the
 * correlation interleaving creates (a slow moment slows both), which an unpaired interval would
 * ignore. Seeded, so the same times give the same interval.
 */
import os from 'node:os';
import { mulberry32 } from '../decompose/random.js';

export interface TimingOptions {
  /** Least untimed runs first (allocation, kernel selection, JIT); default 3. More run until stable. */
  warmup?: number;
  /** Least timed runs (pairs when two models are compared); default and minimum 10. */
  runs?: number;
  /** Most timed runs; default 400. */
  maxRuns?: number;
  /** Stop when the interval's half-width is within this fraction of the ratio; default 0.05. */
  relativeHalfWidth?: number;
  /** Stop after this many seconds of timed runs whatever the interval (reported); default 30. */
  maxSeconds?: number;
  /** Confidence of the interval; default 0.95. */
  confidence?: number;
}

export interface TimingStats {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  runs: number;
  warmup: number;
  /** Runs beyond Tukey's far fences (kept in the statistics, reported here). */
  outliers?: number;
}

/** Two models timed against each other (see the module comment). */
export interface RatioTiming {
  a: TimingStats;
  b: TimingStats;
  /** median(a) / median(b): b's speedup over a. */
  ratio: number;
  /** Confidence interval of the ratio. */
  low: number;
  high: number;
  confidence: number;
  /** Why the loop stopped: the interval reached ±relativeHalfWidth, or a cap was hit first. */
  stoppedBy: 'interval' | 'time-cap' | 'run-cap';
  seconds: number;
  /** 1-minute load average before and after (os.loadavg), and the machine's logical cores. */
  load: { before: number; after: number; cores: number };
  interval: 'paired percentile bootstrap of median(a)/median(b)';
}

/** What one timed call runs: one inference with its input bound, outputs on the host. */
export interface Runnable {
  once(): Promise<void>;
}

/** The harness contract: at least 10 timed runs (a median of fewer is noise on 2 shared cores). */
export const MIN_RUNS = 10;

/** Linear-interpolated quantile of sorted values (same rule as ort.ts timeOrt). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no values');
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Runs outside [Q1 − 3·IQR, Q3 + 3·IQR] (Tukey's "far out" values). */
export function countOutliers(times: readonly number[]): number {
  if (times.length < 4) return 0;
  const sorted = [...times].sort((a, b) => a - b);
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  const lo = q1 - 3 * (q3 - q1);
  const hi = q3 + 3 * (q3 - q1);
  return sorted.filter((x) => x < lo || x > hi).length;
}

export function summarizeTimes(times: readonly number[]): Omit<TimingStats, 'warmup'> {
  const s = [...times].sort((a, b) => a - b);
  return { medianMs: quantile(s, 0.5), p10Ms: quantile(s, 0.1), p90Ms: quantile(s, 0.9), runs: s.length, outliers: countOutliers(s) };
}

/** median(before) / median(after). */
export function measuredSpeedup(before: TimingStats, after: TimingStats): number {
  return before.medianMs / after.medianMs;
}

export function timingCounts(opts: TimingOptions = {}): { warmup: number; runs: number } {
  const warmup = opts.warmup ?? 3;
  const runs = opts.runs ?? MIN_RUNS;
  if (!Number.isInteger(runs) || runs < MIN_RUNS) throw new Error(`--runs ${runs}: at least ${MIN_RUNS} timed runs are needed for a median and spread`);
  if (!Number.isInteger(warmup) || warmup < 1) throw new Error(`--warmup ${warmup}: at least one untimed warm-up run is needed`);
  return { warmup, runs };
}


function median(xs: Float64Array): number {
  xs.sort();
  const n = xs.length;
  return n % 2 ? xs[(n - 1) >> 1] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

/** Paired percentile-bootstrap interval of median(a)/median(b) (see the module comment). */
export function ratioInterval(a: readonly number[], b: readonly number[], opts: { confidence?: number; resamples?: number; seed?: number } = {}): [number, number] {
  const n = a.length;
  if (n !== b.length || n === 0) throw new Error('ratioInterval needs paired, non-empty samples');
  const conf = opts.confidence ?? 0.95;
  const B = opts.resamples ?? 1000;
  // Seeded, so the bootstrap is reproducible.
  const rand = mulberry32(opts.seed ?? 1);
  const ra = new Float64Array(n);
  const rb = new Float64Array(n);
  const ratios = new Float64Array(B);
  for (let k = 0; k < B; k++) {
    for (let i = 0; i < n; i++) {
      const j = Math.floor(rand() * n);
      ra[i] = a[j];
      rb[i] = b[j];
    }
    ratios[k] = median(ra) / median(rb);
  }
  ratios.sort();
  const alpha = (1 - conf) / 2;
  return [quantile(Array.from(ratios), alpha), quantile(Array.from(ratios), 1 - alpha)];
}

async function timed(r: Runnable): Promise<number> {
  const t0 = performance.now();
  await r.once();
  return performance.now() - t0;
}

/**
 * Warm-up pairs until the last 3 pair times average within 10 % of the 3 before — at most 30
 * pairs, and after `least` pairs at most `capMs` (on a busy machine "stable" may never come).
 */
async function warmUp(a: Runnable, b: Runnable, least: number, capMs = Infinity): Promise<number> {
  const sums: number[] = [];
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const t0 = performance.now();
  for (let i = 0; i < 30; i++) {
    if (sums.length >= least && performance.now() - t0 > capMs) break;
    sums.push((await timed(a)) + (await timed(b)));
    if (sums.length < Math.max(least, 6)) continue;
    const last = mean(sums.slice(-3));
    const before = mean(sums.slice(-6, -3));
    if (Math.abs(last - before) <= 0.1 * before) break;
  }
  return sums.length;
}

/**
 * Two models timed in alternation until the ratio of their medians is known to ±relativeHalfWidth
 * (module comment). Each pair runs (a, b) or (b, a), alternating, so neither always runs first.
 */
export async function timeRatio(a: Runnable, b: Runnable, opts: TimingOptions = {}): Promise<RatioTiming> {
  const { warmup: least, runs } = timingCounts(opts);
  const maxRuns = Math.max(runs, opts.maxRuns ?? 400);
  const target = opts.relativeHalfWidth ?? 0.05;
  const capMs = (opts.maxSeconds ?? 30) * 1000;
  const confidence = opts.confidence ?? 0.95;
  const before = os.loadavg()[0];
  const warmup = await warmUp(a, b, least, capMs / 4);
  const ta: number[] = [];
  const tb: number[] = [];
  const t0 = performance.now();
  let stoppedBy: RatioTiming['stoppedBy'] = 'run-cap';
  let interval: [number, number] = [NaN, NaN];
  let nextCheck = runs;
  while (ta.length < maxRuns) {
    if (ta.length % 2) {
      tb.push(await timed(b));
      ta.push(await timed(a));
    } else {
      ta.push(await timed(a));
      tb.push(await timed(b));
    }
    const timeUp = performance.now() - t0 >= capMs;
    if (ta.length < nextCheck && !(timeUp && ta.length >= runs)) continue;
    // The bootstrap costs ~n·1000 log n: check every ~10 % more pairs, not after each.
    nextCheck = Math.max(ta.length + 2, Math.ceil(ta.length * 1.1));
    interval = ratioInterval(ta, tb, { confidence });
    const ratio = median(Float64Array.from(ta)) / median(Float64Array.from(tb));
    if (Math.max(ratio - interval[0], interval[1] - ratio) <= target * ratio) {
      stoppedBy = 'interval';
      break;
    }
    if (timeUp) {
      stoppedBy = 'time-cap';
      break;
    }
  }
  if (stoppedBy === 'run-cap') interval = ratioInterval(ta, tb, { confidence });
  const sa = { ...summarizeTimes(ta), warmup };
  const sb = { ...summarizeTimes(tb), warmup };
  return {
    a: sa, b: sb, ratio: sa.medianMs / sb.medianMs, low: interval[0], high: interval[1], confidence, stoppedBy,
    seconds: (performance.now() - t0) / 1000, load: { before, after: os.loadavg()[0], cores: os.cpus().length },
    interval: 'paired percentile bootstrap of median(a)/median(b)',
  };
}

/** One model alone: stable warm-up, then `runs` timed runs (no ratio, so no interval to reach). */
export async function timeOne(r: Runnable, opts: TimingOptions = {}): Promise<TimingStats> {
  const { warmup: least, runs } = timingCounts(opts);
  const warmup = await warmUp(r, { once: async () => {} }, least);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timed(r));
  return { ...summarizeTimes(times), warmup };
}

/** "2.31× [2.20–2.43]": a ratio with its interval, as every table prints it. */
export function formatRatio(r: Pick<RatioTiming, 'ratio' | 'low' | 'high'>, digits = 2): string {
  return `${r.ratio.toFixed(digits)}× [${r.low.toFixed(digits)}–${r.high.toFixed(digits)}]`;
}
