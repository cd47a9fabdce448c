/**
 * End-to-end sensitivity (`--sensitivity e2e`): each budget candidate costs its effect on the
 * network's *final output* on a few calibration batches, not its layer's own output error
 * (data-costs.ts, `--sensitivity layer`). Only that layer is replaced (the others stay original),
 * the network runs, and the output is compared with the original network's:
 *   classifiers (output [batch, classes])  mean KL(p ‖ p̂) of the softmax outputs per example
 *                                          (rows that already sum to 1 are taken as probabilities)
 *   image models (any other output)        mean squared error of the output
 * Additivity: the budget's DP adds these costs across layers. Both are second order in the output
 * perturbation (KL ≈ ½ δᵀ F δ, F the Fisher matrix of the softmax; MSE = ‖δ‖²/n), and the DP
 * assumes the perturbations of different layers are small and uncorrelated, so that their cross
 * terms average out and the network's cost is about the sum of the per-layer ones — the same
 * assumption as summing per-layer squared errors.
 * Cost: one network run per candidate, so the caller caps the candidates per layer as `--by
 * latency` does (budget-problem.ts) and the examples to `examples` (default 64).
 */
import type { BudgetCandidates } from '../convert/budget-plan.js';
import type { Candidate } from '../convert/candidates.js';
import { planLayer, type MethodSettings } from '../convert/methods.js';
import type { DepthwiseForm } from '../convert/nd-rewrite.js';
import type { GhostSettings } from '../convert/method-types.js';
import { splice, type Replacement } from '../convert/splice.js';
import type { Conv2DNode, Graph } from '../models/ir.js';
import { inferShapes, type Shape } from '../models/shapes.js';
import type { NdOrder } from '../decompose/nd.js';
import type { Engine } from './engine.js';
import type { Batch } from './tfjs-run.js';

export const SENSITIVITIES = ['layer', 'e2e'] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];
/** Calibration examples the end-to-end costs are measured on, at most (one network run each per candidate). */
export const DEFAULT_SENSITIVITY_EXAMPLES = 64;
/** Grid points per method when every candidate costs a measurement (--by latency, --sensitivity e2e). */
export const MEASURED_GRID_SIZE = 8;

export interface EndToEndOptions {
  order?: NdOrder;
  form?: DepthwiseForm;
  ghost?: GhostSettings;
  seed?: number;
  /** Calibration examples used, at most (default 64). */
  examples?: number;
  onCandidate?: (label: string, index: number, total: number) => void;
}

/**
 * The cost used when the user names none: 'e2e' for image-to-image models (an output with spatial
 * axes), 'layer' for classifiers. Measured (docs/data-aware.md §5a): on esrgan-slim and -medium
 * the layer cost spends the budget on the last upsampling layers, whose errors the output shows
 * undamped (36.2 vs 45.0 dB and 39.1 vs 48.4 dB at the same MACs); on fmnist-vgg both give the
 * same top-1, and e2e costs a network run per candidate.
 */
export function defaultSensitivity(graph: Graph, inputShapes?: Record<string, Shape>): Sensitivity {
  try {
    const out = inferShapes(graph, inputShapes).get(graph.outputs[0]);
    return out && out.length > 2 ? 'e2e' : 'layer';
  } catch {
    return 'layer'; // shapes not known before running: the cheaper cost
  }
}

/** The cost the budget uses: the one named, else without calibration data 'layer' (unused), else defaultSensitivity. */
export function resolveSensitivity(named: Sensitivity | undefined, graph: Graph, inputShapes: Record<string, Shape> | undefined, calibrated: boolean): Sensitivity {
  return named ?? (calibrated ? defaultSensitivity(graph, inputShapes) : 'layer');
}

/** End-to-end costs are measured on calibration data: refuse them without it. */
export function checkSensitivity(sensitivity: Sensitivity | undefined, calibrate: string | undefined): void {
  if (sensitivity === 'e2e' && !calibrate) throw new Error('--sensitivity e2e measures every candidate on calibration data: add --calibrate <data> (e.g. fashion-mnist-train:32)');
}

/** The first `examples` rows of the batches, in order. */
export function firstExamples(batches: Batch[], examples: number): Batch[] {
  const out: Batch[] = [];
  let left = examples;
  for (const b of batches) {
    if (left <= 0) break;
    const m = Math.min(left, b.shape[0]);
    const size = b.data.length / b.shape[0];
    out.push(m === b.shape[0] ? b : { shape: [m, ...b.shape.slice(1)], data: b.data.slice(0, m * size) });
    left -= m;
  }
  return out;
}

function isProbabilityRow(row: Float32Array): boolean {
  let s = 0;
  for (const v of row) {
    if (v < 0) return false;
    s += v;
  }
  return Math.abs(s - 1) < 1e-3;
}

/** log p of a row: the row itself when it is already a probability vector, else its log-softmax. */
function logProbabilities(row: Float32Array, probabilities: boolean): Float64Array {
  const out = new Float64Array(row.length);
  if (probabilities) {
    // A probability output can underflow to 0: a floor keeps KL finite without moving it measurably.
    for (let i = 0; i < row.length; i++) out[i] = Math.log(Math.max(row[i], 1e-30));
    return out;
  }
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let s = 0;
  for (const v of row) s += Math.exp(v - max);
  const logZ = max + Math.log(s);
  for (let i = 0; i < row.length; i++) out[i] = row[i] - logZ;
  return out;
}

/**
 * Σ over examples of the output cost of `approx` against `reference`, and the examples counted:
 * KL(p ‖ p̂) for a [batch, classes] output, the squared error per element for any other.
 */
export function outputCostSum(reference: Batch, approx: Batch): { sum: number; count: number } {
  const rows = reference.shape[0];
  const width = reference.data.length / rows;
  if (reference.shape.length !== 2) {
    let se = 0;
    for (let i = 0; i < reference.data.length; i++) se += (reference.data[i] - approx.data[i]) ** 2;
    return { sum: se / width, count: rows };
  }
  let kl = 0;
  for (let r = 0; r < rows; r++) {
    const y = reference.data.subarray(r * width, (r + 1) * width);
    const yh = approx.data.subarray(r * width, (r + 1) * width);
    const probabilities = isProbabilityRow(y);
    const lp = logProbabilities(y, probabilities);
    const lq = logProbabilities(yh, probabilities);
    for (let i = 0; i < width; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
  }
  return { sum: Math.max(0, kl), count: rows };
}

/** The network's mean output cost (outputCostSum) of `graph` against the reference outputs. */
export async function networkOutputCost(engine: Engine, graph: Graph, batches: Batch[], references: Batch[]): Promise<number> {
  const model = await engine.prepare(graph);
  try {
    let sum = 0;
    let count = 0;
    for (const [i, b] of batches.entries()) {
      const [out] = await model.run(b);
      const c = outputCostSum(references[i], out);
      sum += c.sum;
      count += c.count;
    }
    return sum / count;
  } finally {
    await model.dispose();
  }
}

/** A candidate's replacement of its conv, as the converter would build it without calibration. */
export function candidateReplacement(conv: Conv2DNode, c: Candidate, layout: Graph['layout'], opts: EndToEndOptions): Replacement {
  // One HOOI iteration and CP's slice start: the figures the candidates' errors already assume
  // (candidates.ts); the final fits only lower them.
  const s: MethodSettings = {
    order: c.order ?? opts.order ?? 'dw-pw', form: c.form ?? opts.form ?? 'split', layout, maxIterations: 1, cpSeconds: 0, seed: opts.seed, ghost: opts.ghost,
  };
  return planLayer(conv, c.method as Exclude<Candidate['method'], 'keep'>, { rank: c.rank, tuckerRanks: c.tuckerRanks, factorRank: c.factorRank }, s).decompose().replacement;
}

/** Every candidate's end-to-end cost, in place (candidate.error; 'keep' stays 0). */
export async function endToEndCandidateErrors(engine: Engine, bc: BudgetCandidates, calibration: Batch[], opts: EndToEndOptions = {}): Promise<void> {
  const examples = opts.examples ?? DEFAULT_SENSITIVITY_EXAMPLES;
  if (!(Number.isInteger(examples) && examples > 0)) throw new Error(`--sensitivity-examples ${examples}: must be a positive whole number (default ${DEFAULT_SENSITIVITY_EXAMPLES})`);
  const batches = firstExamples(calibration, examples);
  if (!batches.length) throw new Error('--sensitivity e2e: the calibration data has no examples');
  const reference = await engine.prepare(bc.graph);
  const references: Batch[] = [];
  try {
    for (const b of batches) references.push((await reference.run(b))[0]);
  } finally {
    await reference.dispose();
  }
  const total = bc.layers.reduce((a, l) => a + l.candidates.length - 1, 0);
  let step = 0;
  for (const l of bc.layers) {
    for (const c of l.candidates) {
      if (c.method === 'keep') continue;
      opts.onCandidate?.(`${l.name} ${c.method} ${c.tuckerRanks ? c.tuckerRanks.join('x') : c.rank}`, step++, total);
      const rep = candidateReplacement(l.conv, c, bc.graph.layout, opts);
      c.error = await networkOutputCost(engine, splice(bc.graph, new Map([[l.conv.name, rep]])), batches, references);
      // The kernel error's kind no longer describes this figure: it is a measurement.
      c.errorKind = 'exact';
    }
  }
}
