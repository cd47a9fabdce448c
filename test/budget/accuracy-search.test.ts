/**
 * The accuracy search's pure parts on synthetic points: the picker is monotone in the constraint
 * (a looser one never picks a slower point), the Pareto frontier equals a brute-force oracle, the
 * pick is always on the frontier, and the bisection keeps a passing lower end and a failing upper
 * end on a monotone accuracy curve.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/decompose/random.js';
import {
  meetsConstraint, paretoFrontier, pickFastest, searchTargets,
  type AccuracyConstraint, type SearchPoint,
} from '../../src/eval/accuracy-search.js';

function point(speedup: number, value: number, reference?: number): SearchPoint {
  return {
    target: speedup, plannedSpeedup: speedup, macsSpeedup: speedup, measuredSpeedup: speedup, speedupInterval: [speedup * 0.95, speedup * 1.05],
    accuracy: { value, ...(reference !== undefined ? { reference } : {}) }, passes: false, seconds: 0,
  };
}

/** Random clouds, with deliberate ties in speed and in accuracy (values on a coarse grid). */
function cloud(seed: number, n: number, reference?: number): SearchPoint[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, () => point(1 + Math.round(rnd() * 8) / 4, 80 + Math.round(rnd() * 20), reference));
}

describe('the picker', () => {
  const kinds: ((b: number) => AccuracyConstraint)[] = [
    (b) => ({ kind: 'max-drop', points: b / 5 }),
    (b) => ({ kind: 'min-agreement', percent: 100 - b / 5 }),
    (b) => ({ kind: 'min-psnr', db: 100 - b / 5 }),
  ];
  it('a looser constraint never picks a slower point than a tighter one, on the same points', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const pts = cloud(seed, 12, 100);
      for (const make of kinds) {
        let last = -Infinity;
        // b = 0 is the tightest; each step loosens the bound.
        for (let b = 0; b <= 120; b++) {
          const p = pickFastest(pts, make(b));
          const s = p ? p.measuredSpeedup : -Infinity;
          expect(s).toBeGreaterThanOrEqual(last);
          last = s;
        }
      }
    }
  });

  it('picks a point that meets the constraint, and none faster meets it', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const pts = cloud(seed, 10, 100);
      const c: AccuracyConstraint = { kind: 'max-drop', points: 8 };
      const p = pickFastest(pts, c);
      const passing = pts.filter((q) => meetsConstraint(c, q.accuracy));
      if (!passing.length) {
        expect(p).toBeNull();
        continue;
      }
      expect(p && meetsConstraint(c, p.accuracy)).toBe(true);
      for (const q of passing) expect(q.measuredSpeedup).toBeLessThanOrEqual((p as SearchPoint).measuredSpeedup);
    }
  });
});

describe('the Pareto frontier', () => {
  /** Oracle: p is kept unless some q is at least as good in both and better in one. */
  const oracle = (pts: SearchPoint[]) =>
    pts.filter((p) => !pts.some((q) => q.measuredSpeedup >= p.measuredSpeedup && q.accuracy.value >= p.accuracy.value && (q.measuredSpeedup > p.measuredSpeedup || q.accuracy.value > p.accuracy.value)));

  it('equals the brute-force set of non-dominated points, ties kept', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const pts = cloud(seed, 1 + (seed % 15));
      const got = paretoFrontier(pts);
      expect(new Set(got)).toEqual(new Set(oracle(pts)));
      expect(got).toHaveLength(oracle(pts).length);
      for (let i = 1; i < got.length; i++) expect(got[i].measuredSpeedup).toBeLessThanOrEqual(got[i - 1].measuredSpeedup);
    }
  });

  it('holds the pick of every constraint', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const pts = cloud(seed, 10, 100);
      const front = new Set(paretoFrontier(pts));
      for (const drop of [0, 3, 8, 15, 25]) {
        const p = pickFastest(pts, { kind: 'max-drop', points: drop });
        if (p) expect(front.has(p)).toBe(true);
      }
    }
  });
});

describe('the target bisection', () => {
  /** Accuracy falls linearly with the target: the constraint holds exactly below `edge`. */
  const linear = (edge: number) => async (target: number) => {
    const p = point(target, 100 - (target - 1) * 10, 100);
    return { ...p, passes: meetsConstraint({ kind: 'max-drop', points: (edge - 1) * 10 }, p.accuracy) };
  };

  it('ends with a passing lower end and a failing upper end around the edge', async () => {
    for (const edge of [1.3, 2, 3.7]) {
      const s = await searchTargets({ maxTarget: 5, evaluate: linear(edge), tolerance: 0.02, maxPoints: 40 });
      expect(s.stoppedBy).toBe('bracket');
      const [lo, hi] = s.bracket;
      expect(lo).toBeLessThanOrEqual(edge);
      expect(hi).toBeGreaterThan(edge);
      expect(hi / lo).toBeLessThanOrEqual(1.02);
      // Every evaluated point is kept, the farthest target first.
      expect(s.points[0].target).toBe(5);
      expect(new Set(s.points.map((p) => p.target)).size).toBe(s.points.length);
    }
  });

  it('keeps bisecting while the plans at the two ends still differ in MACs, though the targets are close', async () => {
    // A latency model that squeezes plans: MAC speedup = target¹⁰.
    const squeezed = async (target: number) => {
      const p = { ...point(target, 100 - (target - 1) * 100, 100), macsSpeedup: target ** 10 };
      return { ...p, passes: meetsConstraint({ kind: 'max-drop', points: 10 }, p.accuracy) };
    };
    const s = await searchTargets({ maxTarget: 1.2, evaluate: squeezed, maxPoints: 40 });
    expect(s.stoppedBy).toBe('bracket');
    const [lo, hi] = s.bracket;
    expect(hi ** 10 / lo ** 10).toBeLessThanOrEqual(1.05 + 1e-9);
  });

  it('stops after one point when the farthest target already passes', async () => {
    const s = await searchTargets({ maxTarget: 3, evaluate: linear(10) });
    expect(s.stoppedBy).toBe('reach');
    expect(s.points).toHaveLength(1);
  });

  it('honours the point limit and a past deadline', async () => {
    const byPoints = await searchTargets({ maxTarget: 5, evaluate: linear(2), tolerance: 1e-9, maxPoints: 3 });
    expect(byPoints.stoppedBy).toBe('points');
    expect(byPoints.points).toHaveLength(3);
    const byTime = await searchTargets({ maxTarget: 5, evaluate: linear(2), deadline: performance.now() - 1 });
    expect(byTime.stoppedBy).toBe('deadline');
    expect(byTime.points).toHaveLength(1);
  });
});
