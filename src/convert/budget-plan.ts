/**
 * From a graph and a target speedup to a per-layer plan convertGraph() executes: fold BatchNorms,
 * select the layers, build their candidates (candidates.ts), solve (budget.ts), and describe the
 * choice as plain JSON (the report's `budget` field). Latency-driven budgets fill in candidate
 * times between budgetCandidates() and solveBudget() (src/pipeline.ts measures them).
 */
import type { Graph } from '../models/ir.js';
import { graphCosts, totalCost } from '../models/cost.js';
import type { Shape } from '../models/shapes.js';
import { foldBatchNorms } from './fold-batchnorm.js';
import { selectLayers, type SelectOptions } from './select.js';
import { networkCandidates, type CandidateOptions, type LayerCandidates } from './candidates.js';
import { solveBudget, type BudgetBy, type BudgetResult } from './budget.js';
import type { LayerPlan } from './convert.js';
import type { Method } from './methods.js';

export interface BudgetCandidatesOptions extends SelectOptions, CandidateOptions {
  inputShapes?: Record<string, Shape>;
  foldBatchNorm?: boolean;
}

export interface BudgetCandidates {
  /** The graph the candidates were computed on (BatchNorms folded, as convertGraph does). */
  graph: Graph;
  layers: LayerCandidates[];
  /** Whole-network MACs. */
  macsBefore: number;
  /** MACs outside the candidate layers. */
  fixedMacs: number;
  methods: Method[];
}

export function budgetCandidates(input: Graph, opts: BudgetCandidatesOptions): BudgetCandidates {
  const graph = opts.foldBatchNorm === false ? input : foldBatchNorms(input).graph;
  const convs = selectLayers(graph, opts);
  const layers = networkCandidates(graph, convs, opts.inputShapes, opts);
  const total = totalCost(graphCosts(graph, opts.inputShapes)).macs;
  if (total === null) throw new Error('the network\'s MACs are unknown (free spatial size); give --input-shape H,W');
  const variable = layers.reduce((a, l) => a + l.macsBefore, 0);
  return { graph, layers, macsBefore: total, fixedMacs: total - variable, methods: opts.methods ?? ['nd'] };
}

export interface BudgetLayerReport {
  name: string;
  method: Method | 'keep';
  rank: number | null;
  tuckerRanks?: [number, number];
  factorRank?: number;
  /** ND: the ordering and depthwise layout, when the budget chose among them. */
  order?: string;
  form?: string;
  macsBefore: number;
  macsAfter: number;
  /** --by latency: the measured times the solver used. */
  msBefore?: number;
  msAfter?: number;
  /** --by latency: the candidate's measured speedup over the conv, with its 95 % interval. */
  measuredSpeedup?: number;
  speedupInterval?: [number, number];
  /** √(kernelRelError²) the solver assumed; 'bound' = an upper bound (Tucker-2's HOSVD bound). */
  kernelRelError: number;
  errorKind: 'exact' | 'bound';
  candidates: number;
}

export interface BudgetReport {
  by: BudgetBy;
  methods: Method[];
  targetSpeedup: number;
  /** By the solver's cost model: MACs, or the sum of the measured per-layer times plus the rest. */
  achievedSpeedup: number;
  unit: 'MACs' | 'ms';
  totalBefore: number;
  totalAfter: number;
  /**
   * What a candidate's error is: its kernel error ('kernel', no calibration data), its layer's output
   * error on the calibration data ('layer') or its effect on the network's final output ('e2e').
   */
  sensitivity?: 'kernel' | 'layer' | 'e2e';
  /** Σ kernelRelError² over the candidate layers (the objective minimised). */
  totalError: number;
  macs: { before: number; after: number; speedup: number };
  layers: BudgetLayerReport[];
  /** Time spent choosing (candidates and their spectra / timings) and the time left for CP's ALS fits. */
  search?: { budgetSeconds: number; candidateSeconds: number; fitSeconds: number; cpLayers: number };
  /** --by latency: the whole network timed before and after conversion (filled by the pipeline). */
  measured?: {
    backend: string; threads: number | null; msBefore: number; msAfter: number; speedup: number;
    /** 95 % interval of the speedup, runs per model and why timing stopped (timing.ts). */
    speedupInterval: [number, number]; runs: number; stoppedBy: string; load: { before: number; after: number; cores: number };
  } | null;
  /** --by latency: where the candidate timings were cached, how many were found there and how many timed. */
  latencyCache?: { file: string | null; hits: number; timed: number; pruned: number };
}

/** The solver's choice as convertGraph's per-layer plan. */
export function toPlan(result: BudgetResult): Record<string, LayerPlan> {
  const plan: Record<string, LayerPlan> = {};
  for (const ch of result.choices) {
    const c = ch.candidate;
    plan[ch.name] = c.method === 'keep' ? { method: 'keep' } : { method: c.method, rank: c.rank, tuckerRanks: c.tuckerRanks, factorRank: c.factorRank, ...(c.order ? { order: c.order } : {}), ...(c.form ? { form: c.form } : {}) };
  }
  return plan;
}

export function budgetReport(bc: BudgetCandidates, result: BudgetResult): BudgetReport {
  const byName = new Map(bc.layers.map((l) => [l.name, l]));
  const layers: BudgetLayerReport[] = result.choices.map((ch) => {
    const l = byName.get(ch.name) as LayerCandidates;
    const c = ch.candidate;
    return {
      name: ch.name, method: c.method, rank: c.method === 'keep' ? null : c.rank,
      ...(c.tuckerRanks ? { tuckerRanks: c.tuckerRanks } : {}), ...(c.factorRank !== undefined ? { factorRank: c.factorRank } : {}),
      ...(c.order ? { order: c.order } : {}), ...(c.form ? { form: c.form } : {}),
      ...(c.speedup ? { measuredSpeedup: c.speedup.ratio, speedupInterval: [c.speedup.low, c.speedup.high] as [number, number] } : {}),
      macsBefore: l.macsBefore, macsAfter: c.macs,
      ...(result.by === 'latency' ? { msBefore: ch.costBefore, msAfter: ch.costAfter } : {}),
      kernelRelError: Math.sqrt(c.error), errorKind: c.errorKind, candidates: l.candidates.length,
    };
  });
  const macsAfter = bc.fixedMacs + layers.reduce((a, l) => a + l.macsAfter, 0);
  return {
    by: result.by, methods: bc.methods, targetSpeedup: result.targetSpeedup, achievedSpeedup: result.achievedSpeedup,
    unit: result.by === 'latency' ? 'ms' : 'MACs', totalBefore: result.totalBefore, totalAfter: result.totalAfter, totalError: result.totalError,
    macs: { before: bc.macsBefore, after: macsAfter, speedup: bc.macsBefore / macsAfter }, layers,
  };
}

/** MAC budget in one call: candidates, solve, plan. */
export function planByMacs(graph: Graph, opts: BudgetCandidatesOptions & { targetSpeedup: number; buckets?: number }) {
  const bc = budgetCandidates(graph, opts);
  const result = solveBudget({ layers: bc.layers, totalBefore: bc.macsBefore, fixedCost: bc.fixedMacs }, { targetSpeedup: opts.targetSpeedup, by: 'macs', buckets: opts.buckets });
  return { candidates: bc, result, plan: toPlan(result), report: budgetReport(bc, result) };
}
