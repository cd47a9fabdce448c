/**
 * One point of the accuracy search: the speed budget's plan for a target speedup, converted,
 * calibrated, its accuracy measured on the validation data and the whole model timed against the
 * original. The budget problem (candidates, their data-driven errors, their measured latencies)
 * is set up once and solved per target: only the DP and the fits run again.
 */
import type { Graph } from '../models/ir.js';
import type { Shape } from '../models/shapes.js';
import { toPlan, type BudgetCandidates } from '../convert/budget-plan.js';
import { solveBudget, type BudgetBy, type BudgetProblem } from '../convert/budget.js';
import { convertGraph, foldGhostOrders, type Conversion, type ConvertOptions, type LayerPlan } from '../convert/convert.js';
import type { Method } from '../convert/methods.js';
import { calibrate, type CalibrationMode } from './calibrate.js';
import { setUpBudget } from './budget-problem.js';
import type { Sensitivity } from './sensitivity.js';
import type { LatencyCache } from './latency-cache.js';
import { compareGraphs, randomBatch } from './latency.js';
import { runOnDataset, type ModelOutputs } from './evaluate.js';
import { measureAccuracy } from './accuracy-constraint.js';
import { meetsConstraint, type AccuracyConstraint, type MeasuredAccuracy, type SearchPoint } from './accuracy-search.js';
import type { Dataset } from './datasets.js';
import type { Engine } from './engine.js';
import type { Batch } from './tfjs-run.js';

export interface AccuracySetupOptions {
  convert: ConvertOptions;
  methods: Method[];
  by: BudgetBy;
  inputShapes: Record<string, Shape>;
  /** Calibration batches (disjoint from the validation data); null: no calibration, no data-driven costs. */
  calibration: Batch[] | null;
  /** Rank allocation by output error on the calibration data (data-costs.ts); default true. */
  dataAware?: boolean;
  /** With calibration: candidates cost their layer's output error ('layer', default) or the network's final output's ('e2e', sensitivity.ts). */
  sensitivity?: Sensitivity;
  sensitivityExamples?: number;
  calibMode?: CalibrationMode;
  refitRounds?: number;
  seed?: number;
  cache?: LatencyCache;
  /** Seconds at most per timing (candidates and whole models); default 4. */
  timingSeconds?: number;
  onProgress?: (stage: string, label: string, index: number, total: number) => void;
}

export interface AccuracySetup {
  original: Graph;
  bc: BudgetCandidates;
  problem: BudgetProblem;
  /** The farthest target the candidates reach. */
  maxTarget: number;
  engine: Engine;
  timingInput: Batch;
  validation: Dataset;
  reference: ModelOutputs;
  /** The original's own figure (top-1 % for max-drop; 100 % agreement; Infinity dB). */
  referenceAccuracy: MeasuredAccuracy;
  pointwise: boolean;
  opts: AccuracySetupOptions;
}

/** Candidates, their costs and the original's outputs on the validation data, once. */
export async function setUpAccuracySearch(original: Graph, engine: Engine, validation: Dataset, c: AccuracyConstraint, opts: AccuracySetupOptions): Promise<AccuracySetup> {
  const by = opts.by;
  const { bc, problem, pointwise, timing } = await setUpBudget(original, engine, {
    convert: opts.convert, methods: opts.methods, by, inputShapes: opts.inputShapes, calibration: opts.calibration, dataAware: opts.dataAware,
    sensitivity: opts.sensitivity, sensitivityExamples: opts.sensitivityExamples,
    seed: opts.seed, cache: opts.cache, timingSeconds: opts.timingSeconds ?? 4,
    onCandidates: (name, i, n) => opts.onProgress?.('candidates', name, i, n), onTiming: (l, i, n) => opts.onProgress?.('timing', l, i, n),
  });
  // Whole models are timed at one example whatever the budget counts.
  const timingInput = timing?.input ?? randomBatch(Object.values(opts.inputShapes)[0] as number[], 1, opts.seed ?? 1, [0, 1]);
  const cheapest = problem.layers.reduce((a, l) => a + Math.min(...l.candidates.map((x) => (by === 'latency' ? (x.ms as number) : x.macs))), 0);
  // 0.5 % inside the reach: the DP's quantisation moves a plan's cost by up to layers / 20 000 of the budget.
  const maxTarget = Math.max(1, (problem.totalBefore / (problem.fixedCost + cheapest)) * 0.995);
  const reference = await runOnDataset(engine, original, validation);
  const referenceAccuracy = measureAccuracy(c, validation, reference, reference);
  return { original, bc, problem, maxTarget, engine, timingInput, validation, reference, referenceAccuracy, pointwise, opts };
}

export interface MeasuredPoint {
  point: SearchPoint;
  conversion: Conversion;
  plan: Record<string, LayerPlan>;
}

/** Plan for `target`, convert, calibrate, measure accuracy and whole-model speed. */
export async function measurePoint(s: AccuracySetup, c: AccuracyConstraint, target: number): Promise<MeasuredPoint> {
  const t0 = performance.now();
  const o = s.opts;
  const result = solveBudget(s.problem, { targetSpeedup: Math.max(1, target), by: o.by });
  const plan = toPlan(result);
  const calibrated = o.calibration !== null;
  let conversion = convertGraph(s.original, { ...o.convert, plan, pointwise: s.pointwise, foldOrders: !calibrated, onLayer: (n, i, k) => o.onProgress?.('decompose', n, i, k) });
  if (o.calibration) {
    const cal = await calibrate(s.engine, conversion, o.calibration, { mode: o.calibMode, dataAware: o.dataAware, rounds: o.refitRounds, seed: o.seed, onLayer: (n, i, k) => o.onProgress?.('calibrate', n, i, k) });
    conversion = foldGhostOrders({ ...conversion, graph: cal.graph, layers: cal.conversionLayers ?? conversion.layers });
  }
  const outputs = await runOnDataset(s.engine, conversion.graph, s.validation);
  const accuracy = measureAccuracy(c, s.validation, outputs, s.reference);
  const t = await compareGraphs(s.engine, s.original, conversion.graph, s.timingInput, { maxSeconds: o.timingSeconds ?? 4 });
  const macsAfter = s.bc.fixedMacs + result.choices.reduce((a, ch) => a + ch.candidate.macs, 0);
  const point: SearchPoint = {
    target, plannedSpeedup: result.achievedSpeedup, macsSpeedup: s.bc.macsBefore / macsAfter,
    measuredSpeedup: t.ratio, speedupInterval: [t.low, t.high], accuracy, passes: meetsConstraint(c, accuracy), seconds: (performance.now() - t0) / 1000, plan: planSummary(plan),
  };
  return { point, conversion, plan };
}

/** "nd T=2 pw-dw merged", "tucker2 8×16", "keep": what a plan gave each layer, for reports. */
function planSummary(plan: Record<string, LayerPlan>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, p] of Object.entries(plan)) {
    if (p.method === 'keep') {
      out[name] = 'keep';
      continue;
    }
    const rank = p.tuckerRanks ? p.tuckerRanks.join('×') : `T=${p.rank}${p.factorRank !== undefined ? `/${p.factorRank}` : ''}`;
    out[name] = [p.method, rank, p.order, p.form].filter((x) => x !== undefined).join(' ');
  }
  return out;
}
