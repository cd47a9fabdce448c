/**
 * The fastest model within an accuracy budget (`convert --max-drop / --min-agreement / --min-psnr`):
 * the constraint, the search over the speed budget's target, and the choice among the points tried.
 *
 * The speed budget (convert/budget.ts) turns one target speedup S into a per-layer plan; accuracy
 * falls, roughly, as S rises, but not exactly (calibration, measured timings), so the search
 * keeps every point it measures and picks afterwards: the fastest *measured* point whose
 * *measured* accuracy meets the constraint. Targets are bisected in log S between 1 and the
 * farthest target the candidates reach: a pass raises the lower end, a failure lowers the upper
 * end. The search stops when the bracket is narrower than `tolerance`, after `maxPoints`, or when
 * the deadline passes.
 */

export type AccuracyConstraint =
  /** Labelled data: top-1 may fall at most this many percentage points below the original's. */
  | { kind: 'max-drop'; points: number }
  /** Unlabelled data: top-1 agreement with the original, percent. */
  | { kind: 'min-agreement'; percent: number }
  /** Image-to-image models: mean PSNR of the output against the original's output, dB. */
  | { kind: 'min-psnr'; db: number };

/** The figure a constraint is judged on, in its own units (top-1 %, agreement %, dB). */
export interface MeasuredAccuracy {
  /** top-1 % (max-drop), agreement % (min-agreement) or mean PSNR vs the original, dB (min-psnr). */
  value: number;
  /** max-drop: the original's top-1 %. */
  reference?: number;
}

export interface SearchPoint {
  /** The budget's target speedup this point was planned for. */
  target: number;
  /** The plan's speedup by its own cost model (MACs or summed per-layer ms). */
  plannedSpeedup: number;
  /** MAC speedup of the converted model. */
  macsSpeedup: number;
  /** Whole model, original / converted median time, with its 95 % interval. */
  measuredSpeedup: number;
  speedupInterval: [number, number];
  accuracy: MeasuredAccuracy;
  passes: boolean;
  seconds: number;
  /** Per layer: the method and rank the plan gave it ("nd T=2", "keep"). */
  plan?: Record<string, string>;
}

export function constraintText(c: AccuracyConstraint): string {
  if (c.kind === 'max-drop') return `top-1 drop ≤ ${c.points} points`;
  if (c.kind === 'min-agreement') return `top-1 agreement with the original ≥ ${c.percent} %`;
  return `PSNR vs the original's output ≥ ${c.db} dB`;
}

/** The constraint's own figure of an accuracy: the drop in points for max-drop, else the value. */
export function constrainedFigure(c: AccuracyConstraint, a: MeasuredAccuracy): number {
  return c.kind === 'max-drop' ? (a.reference as number) - a.value : a.value;
}

/** Shares ×100 are not exact in binary: a drop of exactly X points must meet --max-drop X. */
const SLACK = 1e-9;

export function meetsConstraint(c: AccuracyConstraint, a: MeasuredAccuracy): boolean {
  if (c.kind === 'max-drop') return (a.reference as number) - a.value <= c.points + SLACK;
  if (c.kind === 'min-agreement') return a.value >= c.percent - SLACK;
  return a.value >= c.db;
}

/** a is at least as fast and as accurate as b, and strictly better in one. */
function dominates(a: SearchPoint, b: SearchPoint): boolean {
  const fa = a.measuredSpeedup;
  const fb = b.measuredSpeedup;
  const va = a.accuracy.value;
  const vb = b.accuracy.value;
  return fa >= fb && va >= vb && (fa > fb || va > vb);
}

/** The points no other point dominates in (measured speedup, accuracy), fastest first; equal points are all kept. */
export function paretoFrontier(points: readonly SearchPoint[]): SearchPoint[] {
  // Quadratic: a search tries a handful of points.
  return points.filter((p) => !points.some((q) => dominates(q, p))).sort((a, b) => b.measuredSpeedup - a.measuredSpeedup || b.accuracy.value - a.accuracy.value);
}

/** a is the better pick than b: faster, or as fast and more accurate. */
export function betterPick(a: SearchPoint, b: SearchPoint | null): boolean {
  return !b || a.measuredSpeedup > b.measuredSpeedup || (a.measuredSpeedup === b.measuredSpeedup && a.accuracy.value > b.accuracy.value);
}

/** The fastest point that meets the constraint (ties: the more accurate); null when none does. */
export function pickFastest(points: readonly SearchPoint[], c: AccuracyConstraint): SearchPoint | null {
  let best: SearchPoint | null = null;
  for (const p of points) if (meetsConstraint(c, p.accuracy) && betterPick(p, best)) best = p;
  return best;
}

export interface TargetSearchOptions {
  /** The farthest target the budget reaches (every layer at its cheapest candidate). */
  maxTarget: number;
  /** Plans, converts, calibrates and measures one target. */
  evaluate: (target: number) => Promise<SearchPoint>;
  /** Stop once the bracket's ends are within 1 + tolerance in target and in their plans' MAC speedups (default 0.05). */
  tolerance?: number;
  /** Points at most (default 8). */
  maxPoints?: number;
  /** performance.now() after which no new point is started. */
  deadline?: number;
  onPoint?: (p: SearchPoint, index: number, maxPoints: number) => void;
}

export interface TargetSearch {
  points: SearchPoint[];
  /** Why the search ended. */
  stoppedBy: 'bracket' | 'points' | 'deadline' | 'reach';
  bracket: [number, number];
}

/**
 * Bisection of the target in log S. The farthest target is tried first: on a model that keeps its
 * accuracy at every reachable target, one point settles it.
 */
export async function searchTargets(opts: TargetSearchOptions): Promise<TargetSearch> {
  const tol = opts.tolerance ?? 0.05;
  const maxPoints = opts.maxPoints ?? 8;
  const points: SearchPoint[] = [];
  const step = async (target: number) => {
    const p = await opts.evaluate(target);
    points.push(p);
    opts.onPoint?.(p, points.length - 1, maxPoints);
    return p.passes;
  };
  let lo = 1;
  let hi = opts.maxTarget;
  if (await step(hi)) return { points, stoppedBy: 'reach', bracket: [hi, hi] };
  // The ends' plans, by MACs: 1 (the original) at the start.
  let macsLo = 1;
  let macsHi = points[0].macsSpeedup;
  for (;;) {
    // Narrow in the target and in what the plans at the two ends cost: a per-layer latency model can
    // squeeze a wide range of plans into a narrow range of targets. Plans change in steps, so a
    // bracket far narrower than the tolerance ends the search whatever the MACs.
    if ((hi / lo <= 1 + tol && macsHi / macsLo <= 1 + tol) || hi / lo <= 1 + tol / 50) return { points, stoppedBy: 'bracket', bracket: [lo, hi] };
    if (points.length >= maxPoints) return { points, stoppedBy: 'points', bracket: [lo, hi] };
    if (opts.deadline !== undefined && performance.now() >= opts.deadline) return { points, stoppedBy: 'deadline', bracket: [lo, hi] };
    const mid = Math.sqrt(lo * hi);
    const passes = await step(mid);
    const macs = points[points.length - 1].macsSpeedup;
    if (passes) [lo, macsLo] = [mid, macs];
    else [hi, macsHi] = [mid, macs];
  }
}

/** What report.json holds under `accuracyBudget`: every point tried, the frontier, the pick and its verification. */
export interface AccuracySearchReport {
  constraint: AccuracyConstraint;
  constraintText: string;
  /** Validation data (--data) and calibration data (--calibrate, disjoint). */
  data: string;
  calibration: string | null;
  /** What the budget counted, its methods, where it was measured. */
  by: 'macs' | 'latency';
  methods: string[];
  backend: string;
  threads: number | null;
  /** The original's figure on the validation data (top-1 %; agreement and PSNR are against itself). */
  reference: MeasuredAccuracy;
  points: (SearchPoint & { onFrontier: boolean; chosen: boolean })[];
  stoppedBy: TargetSearch['stoppedBy'];
  bracket: [number, number];
  maxTarget: number;
  seconds: { setup: number; search: number; budget: number };
  /** The written model re-loaded from its files and measured again (not carried over from the search). */
  verified: {
    format: string;
    accuracy: MeasuredAccuracy;
    passes: boolean;
    measuredSpeedup: number;
    speedupInterval: [number, number];
    runs: number;
    stoppedBy: string;
    load: { before: number; after: number; cores: number };
  } | null;
}
