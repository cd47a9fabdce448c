/**
 * The shared timing loop (src/eval/timing.ts): properties of the interval, never how fast anything
 * runs. Synthetic runs come from a seeded generator, so these tests are deterministic; the real
 * A-vs-A runs one onnxruntime session against itself.
 */
import { describe, expect, it } from 'vitest';
import { countOutliers, ratioInterval, timeRatio, type Runnable } from '../../src/eval/timing.js';
import { createEngine } from '../../src/eval/engine.js';
import { graphFromLayersModel } from '../../src/models/tfjs/from-model.js';
import { tinyClassifier } from './small-models.js';
import { randomBatch } from '../../src/eval/latency.js';
import { inputNodeOf } from '../../src/eval/inputs.js';

/** Log-normal-ish run times around `ms` with a few slow outliers, seeded. */
function samples(n: number, ms: number, seed: number): number[] {
  let s = seed;
  const u = () => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  return Array.from({ length: n }, (_, i) => ms * Math.exp(0.15 * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())) * (i % 17 === 0 ? 3 : 1));
}

describe('ratioInterval', () => {
  it('narrows as the number of paired runs grows', () => {
    const width = (n: number) => {
      const [lo, hi] = ratioInterval(samples(n, 10, 1), samples(n, 5, 2));
      return hi - lo;
    };
    expect(width(40)).toBeLessThan(width(10));
    expect(width(160)).toBeLessThan(width(40));
  });

  it('contains the true ratio for runs drawn from distributions with that ratio', () => {
    const [lo, hi] = ratioInterval(samples(200, 10, 3), samples(200, 4, 4));
    expect(lo).toBeLessThan(2.5);
    expect(hi).toBeGreaterThan(2.5);
  });

  it('gives the same interval for the same runs (seeded bootstrap)', () => {
    const a = samples(30, 3, 5);
    const b = samples(30, 2, 6);
    expect(ratioInterval(a, b)).toEqual(ratioInterval(a, b));
  });
});

describe('countOutliers', () => {
  it('counts far-out runs without dropping them', () => {
    expect(countOutliers([1, 1.1, 1.2, 0.9, 1, 1.05, 50])).toBe(1);
    expect(countOutliers([1, 2, 3, 4, 5])).toBe(0);
  });
});

describe('timeRatio', () => {
  it('stops when the interval reaches the requested width, and reports why', async () => {
    let i = 0;
    const fake = (ms: number): Runnable => ({ once: async () => { const t = performance.now(); while (performance.now() - t < ms * (1 + 0.05 * Math.sin(i++))); } });
    const r = await timeRatio(fake(0.4), fake(0.2), { warmup: 1, runs: 10, relativeHalfWidth: 0.2, maxSeconds: 20 });
    expect(r.low).toBeLessThanOrEqual(r.ratio);
    expect(r.high).toBeGreaterThanOrEqual(r.ratio);
    expect(['interval', 'time-cap', 'run-cap']).toContain(r.stoppedBy);
    expect(r.a.runs).toBe(r.b.runs);
    expect(r.a.runs).toBeGreaterThanOrEqual(10);
    expect(r.load.cores).toBeGreaterThan(0);
  });

  it('A against A: 1.00× lies within the interval (one ORT session timed against itself)', async () => {
    const g = await graphFromLayersModel(tinyClassifier());
    const engine = await createEngine('ort', g.layout, { threads: 1 });
    const m = await engine.prepare(g);
    try {
      const x = randomBatch(inputNodeOf(g).shape as number[], 1, 1, [0, 1]);
      // 99.9 % interval: a same-model comparison falls outside it once in a thousand runs.
      const r = await timeRatio(m.bind(x), m.bind(x), { warmup: 2, runs: 40, confidence: 0.999, maxSeconds: 5 });
      expect(r.low).toBeLessThanOrEqual(1);
      expect(r.high).toBeGreaterThanOrEqual(1);
    } finally {
      await m.dispose();
    }
  });
});
