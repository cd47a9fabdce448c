/**
 * The speed budget's problem, set up once for `--target-speedup` and for the accuracy search: every
 * layer's candidates (method, rank, realisation), their output errors on the calibration data when
 * there is some (data-costs.ts; or, with `sensitivity: 'e2e'`, their effect on the network's final
 * output, sensitivity.ts), and with `--by latency` their measured times (candidate-latency.ts).
 * Solving it for a target is then only the DP (convert/budget.ts).
 */
import type { Shape } from '../models/shapes.js';
import { budgetCandidates, type BudgetCandidates } from '../convert/budget-plan.js';
import type { BudgetBy, BudgetProblem } from '../convert/budget.js';
import type { ConvertOptions } from '../convert/convert.js';
import type { Method } from '../convert/methods.js';
import type { DepthwiseForm } from '../convert/nd-rewrite.js';
import type { NdOrder } from '../decompose/nd.js';
import { timeBudgetCandidates, type CandidateTimingResult } from './candidate-latency.js';
import { dataAwareCandidateErrors } from './data-costs.js';
import { endToEndCandidateErrors, MEASURED_GRID_SIZE, type Sensitivity } from './sensitivity.js';
import type { Engine } from './engine.js';
import type { LatencyCache } from './latency-cache.js';
import { randomBatch } from './latency.js';
import type { Batch } from './tfjs-run.js';

export interface BudgetSetupOptions {
  convert: ConvertOptions;
  methods: Method[];
  by: BudgetBy;
  /** Costs and timings are counted at these input shapes (default: the graph's declared input). */
  inputShapes?: Record<string, Shape>;
  /** Calibration batches: candidates cost their output error on them (rank allocation by data). */
  calibration?: Batch[] | null;
  /** false: kernel errors even when calibration data is given (--no-data-aware). */
  dataAware?: boolean;
  /** With calibration: 'layer' (default) costs a candidate by its layer's output error, 'e2e' by the network's final output (sensitivity.ts). */
  sensitivity?: Sensitivity;
  /** 'e2e': calibration examples measured on, at most (default 64). */
  sensitivityExamples?: number;
  seed?: number;
  /** --by latency: measured candidate times are kept here. */
  cache?: LatencyCache;
  /** --by latency: seconds at most per candidate comparison (candidate-latency.ts's default when absent). */
  timingSeconds?: number;
  onCandidates?: (layer: string, index: number, total: number) => void;
  onTiming?: (label: string, index: number, total: number) => void;
  onSensitivity?: (label: string, index: number, total: number) => void;
}

export interface BudgetSetup {
  bc: BudgetCandidates;
  problem: BudgetProblem;
  /** 1×1 convs are candidates too (their low-rank pair; only spatial builds it). */
  pointwise: boolean;
  /** --by latency: the single-example input the candidates and whole models are timed with, and the timing figures. */
  timing: { input: Batch; result: CandidateTimingResult } | null;
}

/** `engine` runs the calibration data and times candidates; null when neither is asked for (MACs, no data). */
export async function setUpBudget(original: BudgetCandidates['graph'], engine: Engine | null, opts: BudgetSetupOptions): Promise<BudgetSetup> {
  const needs = (what: string): Engine => {
    if (!engine) throw new Error(`setUpBudget: ${what} needs an engine`);
    return engine;
  };
  const { by, convert: co } = opts;
  // 1×1 convs have one realisation, the low-rank pair, which only the spatial method builds.
  const pointwise = by === 'latency' && opts.methods.includes('spatial');
  const e2e = opts.sensitivity === 'e2e' && Boolean(opts.calibration);
  const bc = budgetCandidates(original, {
    pointwise, inputShapes: opts.inputShapes, layers: co.layers, skip: co.skip, minInChannels: co.minInChannels, foldBatchNorm: co.foldBatchNorm,
    methods: opts.methods, order: co.order, cpIterations: co.maxIterations, ghost: co.ghost, onLayer: opts.onCandidates,
    // By latency, every stock-op realisation of ND competes on measured time, and each is timed with ≥ 10 runs;
    // end to end, each candidate costs a network run: keep the grid small.
    ...(by === 'latency' ? { orders: ['dw-pw', 'pw-dw'] as NdOrder[], forms: ['split', 'merged'] as DepthwiseForm[] } : {}),
    ...(by === 'latency' || e2e ? { gridSize: MEASURED_GRID_SIZE } : {}),
  });
  if (e2e) {
    await endToEndCandidateErrors(needs('--sensitivity e2e'), bc, opts.calibration as Batch[], {
      order: co.order, form: co.form, ghost: co.ghost, seed: opts.seed, examples: opts.sensitivityExamples, onCandidate: opts.onSensitivity,
    });
  } else if (opts.calibration && opts.dataAware !== false) await dataAwareCandidateErrors(needs('rank allocation by data'), bc, opts.calibration, { order: co.order, seed: opts.seed });
  if (by === 'macs') return { bc, pointwise, timing: null, problem: { layers: bc.layers, totalBefore: bc.macsBefore, fixedCost: bc.fixedMacs } };
  const shape = Object.values(opts.inputShapes ?? {})[0] ?? (bc.graph.nodes.find((n) => n.name === bc.graph.inputs[0]) as { shape: Shape }).shape;
  if (shape.some((d) => d === null)) throw new Error('--by latency needs the input size: give --input-shape H,W');
  const input = randomBatch(shape as number[], 1, opts.seed ?? 1, [0, 1]);
  const result = await timeBudgetCandidates(needs('--by latency'), bc, input, {
    order: co.order, form: co.form, seed: opts.seed, cache: opts.cache, onStep: opts.onTiming,
    timing: opts.timingSeconds !== undefined ? { maxSeconds: opts.timingSeconds } : undefined,
  });
  return { bc, pointwise, timing: { input, result }, problem: { layers: bc.layers, totalBefore: result.totalMs, fixedCost: result.fixedMs } };
}
