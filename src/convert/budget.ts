/**
 * The global speed budget: pick one candidate (method, ranks) per layer so that the whole network
 * reaches a target speedup S with the least total error — a multiple-choice knapsack, solved by a
 * DP over layers (MXNet accnn's approach; docs/design.md#global-budget).
 *
 * Cost: MACs, or measured milliseconds (`by: 'latency'`). Everything outside the candidate layers
 * is a fixed cost F, so the candidate layers may spend B = total/S − F.
 *
 * Objective: Σ_layers kernelRelError², the relative error each layer adds to its own output (for
 * inputs with isotropic statistics ‖ΔW·x‖²/‖W·x‖² averages to ‖ΔW‖²/‖W‖²). Relative, not absolute
 * ‖ΔW‖²: a ReLU network is unchanged when one layer's weights are scaled by a and the next one's by
 * 1/a, so absolute kernel norms say nothing about a layer's importance, and BatchNorm folding
 * rescales kernels arbitrarily. Summed, not weighted by MACs: small relative perturbations
 * compound through depth roughly additively in the square (‖∏(1 + εₗ)‖ − 1 ≈ Σ εₗ to first order,
 * independent errors add in the square), and a layer's MACs say what it costs, not how much its
 * error hurts — the MACs are the constraint side of the knapsack.
 *
 * DP: costs quantised to q = B / buckets, rounded down, so every solution within the exact budget
 * is representable; each bucket keeps the least-error path and that path's exact cost, and the
 * answer is the least-error path whose exact cost fits. With the default 20 000 buckets the
 * rounding moves the chosen cost by at most layers·q (0.07 % of B for VGG16's 13 layers).
 * Time: layers × candidates × buckets (VGG16, ND: 12 × 9 × 20 001 ≈ 2 M steps).
 */
import type { Candidate, LayerCandidates } from './candidates.js';

export type BudgetBy = 'macs' | 'latency';

export interface BudgetOptions {
  targetSpeedup: number;
  by?: BudgetBy;
  /** Cost quantisation of the DP (default 20 000). */
  buckets?: number;
}

export interface BudgetProblem {
  layers: LayerCandidates[];
  /** The whole network's cost before conversion (MACs, or ms for latency). */
  totalBefore: number;
  /** Cost of everything outside the candidate layers. */
  fixedCost: number;
}

export interface BudgetChoice {
  name: string;
  candidate: Candidate;
  costBefore: number;
  costAfter: number;
}

export interface BudgetResult {
  by: BudgetBy;
  targetSpeedup: number;
  /** totalBefore / totalAfter of the chosen plan, by the cost model (MACs or the measured per-layer ms). */
  achievedSpeedup: number;
  totalBefore: number;
  totalAfter: number;
  /** Σ kernelRelError² over the candidate layers (the objective). */
  totalError: number;
  choices: BudgetChoice[];
}

function costOf(c: Candidate, by: BudgetBy): number {
  const v = by === 'latency' ? c.ms : c.macs;
  if (v === undefined || !(v >= 0)) throw new Error(`budget by ${by}: candidate ${c.method} rank ${c.rank} has no ${by === 'latency' ? 'measured time' : 'MAC count'}`);
  return v;
}

function beforeOf(l: LayerCandidates, by: BudgetBy): number {
  const keep = l.candidates.find((c) => c.method === 'keep');
  if (keep) return costOf(keep, by);
  return by === 'latency' ? (l.msBefore as number) : l.macsBefore;
}

export function solveBudget(p: BudgetProblem, opts: BudgetOptions): BudgetResult {
  const by = opts.by ?? 'macs';
  const S = opts.targetSpeedup;
  if (!(S >= 1) || !Number.isFinite(S)) throw new Error(`--target-speedup ${S}: must be a number ≥ 1 (e.g. 3 for 3× fewer ${by === 'latency' ? 'milliseconds' : 'MACs'})`);
  const nb = opts.buckets ?? 20000;
  const unit = by === 'latency' ? 'ms' : 'MACs';
  const layers = p.layers.map((l) => ({ l, cands: l.candidates.map((c) => ({ c, cost: costOf(c, by) })) }));
  for (const { l, cands } of layers) if (cands.length === 0) throw new Error(`layer "${l.name}": no candidate, not even the regular conv`);
  const budget = p.totalBefore / S - p.fixedCost;
  const cheapest = layers.reduce((a, x) => a + Math.min(...x.cands.map((y) => y.cost)), 0);
  if (cheapest > budget) {
    const best = p.totalBefore / (p.fixedCost + cheapest);
    throw new Error(
      `--target-speedup ${S}: out of reach — the cheapest candidate of every layer gives ${best.toFixed(2)}× ` +
        `(${fmt(p.fixedCost)} ${unit} outside the decomposed layers); lower the target or allow more methods (--methods)`,
    );
  }
  const q = budget / nb;
  const L = layers.length;
  // dp over buckets 0..nb: least error, its exact cost, and per layer the candidate index taken.
  let err = new Float64Array(nb + 1).fill(Infinity);
  let exact = new Float64Array(nb + 1);
  err[0] = 0;
  const took: Int32Array[] = [];
  const from: Int32Array[] = [];
  for (let li = 0; li < L; li++) {
    const nextErr = new Float64Array(nb + 1).fill(Infinity);
    const nextExact = new Float64Array(nb + 1);
    const t = new Int32Array(nb + 1).fill(-1);
    const f = new Int32Array(nb + 1).fill(-1);
    for (const [ci, { c, cost }] of layers[li].cands.entries()) {
      const step = Math.floor(cost / q);
      if (step > nb) continue;
      for (let b = 0; b + step <= nb; b++) {
        if (err[b] === Infinity) continue;
        const e = err[b] + c.error;
        const to = b + step;
        // Ties: the cheaper exact cost, so the plan does not spend for nothing.
        if (e < nextErr[to] || (e === nextErr[to] && exact[b] + cost < nextExact[to])) {
          nextErr[to] = e;
          nextExact[to] = exact[b] + cost;
          t[to] = ci;
          f[to] = b;
        }
      }
    }
    took.push(t);
    from.push(f);
    err = nextErr;
    exact = nextExact;
  }
  let best = -1;
  for (let b = 0; b <= nb; b++) {
    if (err[b] === Infinity || exact[b] > budget * (1 + 1e-12)) continue;
    if (best < 0 || err[b] < err[best] || (err[b] === err[best] && exact[b] < exact[best])) best = b;
  }
  if (best < 0) throw new Error(`--target-speedup ${S}: no plan fits the budget after quantisation; try a slightly lower target`);
  const pick = new Int32Array(L);
  let b = best;
  for (let li = L - 1; li >= 0; li--) {
    pick[li] = took[li][b];
    b = from[li][b];
  }
  polish(layers.map((x) => x.cands), pick, budget);
  const choices: BudgetChoice[] = layers.map(({ l, cands }, li) => ({ name: l.name, candidate: cands[pick[li]].c, costBefore: beforeOf(l, by), costAfter: cands[pick[li]].cost }));
  const spent = choices.reduce((a, c) => a + c.costAfter, 0);
  const totalError = choices.reduce((a, c) => a + c.candidate.error, 0);
  const totalAfter = p.fixedCost + spent;
  return { by, targetSpeedup: S, achievedSpeedup: p.totalBefore / totalAfter, totalBefore: p.totalBefore, totalAfter, totalError, choices };
}

/**
 * Single-layer swaps that lower the error and still fit, until none is left: recovers what the
 * quantisation may lose at the edge of the budget (each bucket keeps one path only).
 */
function polish(cands: { c: Candidate; cost: number }[][], pick: Int32Array, budget: number): void {
  let spent = 0;
  for (let li = 0; li < pick.length; li++) spent += cands[li][pick[li]].cost;
  for (let improved = true; improved; ) {
    improved = false;
    for (let li = 0; li < pick.length; li++) {
      const cur = cands[li][pick[li]];
      for (const [ci, alt] of cands[li].entries()) {
        if (alt.c.error < cur.c.error && spent - cur.cost + alt.cost <= budget * (1 + 1e-12)) {
          spent += alt.cost - cands[li][pick[li]].cost;
          pick[li] = ci;
          improved = true;
          break;
        }
      }
    }
  }
}

function fmt(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(1)} M` : x.toFixed(2);
}
