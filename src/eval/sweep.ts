/**
 * The sweep: convert at every (order, rank T) and (order, energy τ) setting, measure accuracy (or
 * PSNR) on a dataset and latency on one engine, and return plain JSON rows — what sweep.json,
 * sweep.csv, the plots and report.html are all rendered from.
 *
 * A rank beyond a layer's maximum (kh·kw for dw-pw, min(C, kh·kw) for pw-dw) is capped for that
 * layer, so a 1..9 sweep runs on models that mix 3×3 and 5×5 kernels; each row lists the rank every
 * layer got.
 */
import type { Conv2DNode, Graph } from '../models/ir.js';
import { graphCosts, totalCost } from '../models/cost.js';
import { decouple, type NdOrder } from '../decompose/nd.js';
import { convertGraph, type Conversion } from '../convert/convert.js';
import { selectLayers, type SelectOptions } from '../convert/select.js';
import { foldBatchNorms } from '../convert/fold-batchnorm.js';
import { energyCurve } from '../decompose/rank.js';
import type { DepthwiseForm } from '../convert/nd-rewrite.js';
import type { Engine } from './engine.js';
import { calibrate, type CalibrationMode } from './calibrate.js';
import type { CalibrationData } from './calibration-data.js';
import type { Dataset } from './datasets.js';
import { datasetMetrics, runOnDataset, type ModelOutputs } from './evaluate.js';
import { preprocessedRandomBatch } from './latency.js';
import type { Preprocessing } from './preprocess.js';
import { timeBound, timeInterleavedRatio } from './engine.js';
import { measuredSpeedup, type RatioTiming, type TimingOptions, type TimingStats } from './timing.js';

export interface SweepOptions extends SelectOptions, TimingOptions {
  /** Fixed ranks T to try; default 1..9 when no energies are given. */
  ranks?: number[];
  orders?: NdOrder[];
  /** Energy thresholds τ to try, beside the ranks. */
  energies?: number[];
  form?: DepthwiseForm;
  keepUnprofitable?: boolean;
  /** Images per timed run; default 1. */
  latencyBatch?: number;
  /** Per-example input shape for timing (graph layout); default: the dataset's. */
  inputShape?: number[];
  /** Examples per classification run; default 500. */
  evalBatch?: number;
  seed?: number;
  /** The timing input is pixels [0, 255] through this preprocessing (default: the model's). */
  preprocessing?: Preprocessing;
  /** Called once with the number of steps, then before each step (progress bars). */
  /** Also calibrate every setting on these unlabelled inputs (never the evaluation data) and report it beside the plain one. */
  calibration?: { data: CalibrationData; mode?: CalibrationMode };
  onPlan?: (steps: number) => void;
  onStep?: (label: string) => void;
}

export interface SweepLayer {
  name: string;
  rank: number;
  maxRank: number;
  retainedEnergy: number;
  kernelRelError: number;
}

export interface SweepRow {
  /** 'original', 'dw-pw T=2', 'pw-dw τ=0.95'. */
  setting: string;
  order: NdOrder | null;
  rank: number | null;
  energy: number | null;
  form: DepthwiseForm | null;
  /** Refit by least-squares calibration after decomposition (calibrate.ts). */
  calibrated: boolean;
  replacedLayers: number;
  macs: number;
  params: number;
  theoreticalSpeedup: number;
  latency: TimingStats;
  /** The original, timed in alternation with this setting (measured speedup = its median / latency's median). */
  originalLatency: TimingStats;
  measuredSpeedup: number;
  /** Confidence interval of measuredSpeedup (timing.ts; null for the original). */
  speedupInterval: [number, number] | null;
  /** measured / theoretical. */
  speedupRatio: number;
  top1: number | null;
  top5: number | null;
  agreement: number | null;
  /** Classifiers: the original's top class among this setting's 5 best; mean KL of the softmax outputs; logit rel L2 (accuracy.ts). */
  top5Agreement: number | null;
  meanKl: number | null;
  logitRelL2: number | null;
  psnrVsOriginalDb: number | null;
  psnrVsGroundTruthDb: number | null;
  /** Mean over replaced layers of ‖W − Ŵ‖_F / ‖W‖_F (0 for the original). */
  meanKernelRelError: number;
  layers: SweepLayer[];
}

export interface KernelErrorPoint {
  layer: string;
  order: NdOrder;
  rank: number;
  kernelRelError: number;
  retainedEnergy: number;
}

export interface SweepReport {
  tool: 'netdecouple';
  kind: 'sweep';
  model: string;
  data: string;
  task: Dataset['task'];
  backend: string;
  threads: number | null;
  latency: { batchSize: number; inputShape: number[]; layout: Graph['layout']; warmup: number; runs: number; input: string };
  evaluation: { n: number; method: string };
  calibration: { data: string; images: number; mode: CalibrationMode } | null;
  baseline: SweepRow;
  rows: SweepRow[];
  kernelErrors: KernelErrorPoint[];
  seconds: number;
}

export const DEFAULT_RANKS = [1, 2, 3, 4, 5, 6, 7, 8, 9];

/** Every layer's maximum rank for an order (see nd.ts). */
function maxRankOf(conv: Conv2DNode, order: NdOrder): number {
  const [, c, kh, kw] = conv.kernel.shape;
  return order === 'dw-pw' ? kh * kw : Math.min(c, kh * kw);
}

export function parseRanks(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = part.match(/^(\d+)(?:\.\.(\d+))?$/);
    if (!m) throw new Error(`--ranks "${text}": expected a list like 1..9 or 1,2,4`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a < 1 || b < a) throw new Error(`--ranks "${text}": ranks must be positive and ranges ascending`);
    for (let t = a; t <= b; t++) out.push(t);
  }
  if (!out.length) throw new Error(`--ranks "${text}": no ranks`);
  return [...new Set(out)];
}

export function parseEnergies(text: string): number[] {
  const out = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  for (const e of out) if (!(e > 0 && e <= 1)) throw new Error(`--energies "${text}": each τ must be in (0, 1]`);
  return out;
}

interface Setting {
  order: NdOrder;
  rank?: number;
  energy?: number;
}

function settings(opts: SweepOptions): Setting[] {
  const orders = opts.orders ?? ['dw-pw'];
  for (const o of orders) if (o !== 'dw-pw' && o !== 'pw-dw') throw new Error(`--orders: "${o}" is not dw-pw or pw-dw`);
  const ranks = opts.ranks ?? (opts.energies?.length ? [] : DEFAULT_RANKS);
  const out: Setting[] = [];
  for (const order of orders) {
    for (const rank of ranks) out.push({ order, rank });
    for (const energy of opts.energies ?? []) out.push({ order, energy });
  }
  return out;
}

function label(s: Setting): string {
  return s.rank !== undefined ? `${s.order} T=${s.rank}` : `${s.order} τ=${s.energy}`;
}

export async function runSweep(engine: Engine, original: Graph, data: Dataset, opts: SweepOptions & { model?: string } = {}): Promise<SweepReport> {
  const t0 = performance.now();
  const plan = settings(opts);
  const eligible = selectLayers(original, opts);
  if (!eligible.length) throw new Error(`model "${original.name}" has no conv the converter can decouple (regular k×k convs with more than ${opts.minInChannels ?? 3} input channels)`);
  const cal = opts.calibration;
  opts.onPlan?.(plan.length * (cal ? 2 : 1) + 1);

  const exampleShape = opts.inputShape ?? timingShape(original, data);
  const batchSize = opts.latencyBatch ?? 1;
  const seed = opts.seed ?? 1;
  const timingInput = preprocessedRandomBatch(original, exampleShape, batchSize, seed, opts.preprocessing);
  const input = timingInput.batch;
  const timing = { warmup: opts.warmup, runs: opts.runs, maxSeconds: opts.maxSeconds };
  const cost = (g: Graph) => totalCost(graphCosts(g, { [g.inputs[0]]: exampleShape }));

  opts.onStep?.('original');
  const refOut = await runOnDataset(engine, original, data, { batchSize: opts.evalBatch });
  // The original stays prepared: it is timed again beside every setting (timeInterleaved).
  const origModel = await engine.prepare(original);
  const rows: SweepRow[] = [];
  let baseline: SweepRow;
  try {
    const baseTiming = await timeBound(origModel.bind(input), timing);
    const base = cost(original);
    baseline = row({ setting: 'original', order: null, rank: null, energy: null, form: null, calibrated: false }, null, data, refOut, undefined, base, base.macs as number, baseTiming, baseTiming);
    const measure = async (head: RowHead, conv: Conversion): Promise<SweepRow> => {
      const out = await runOnDataset(engine, conv.graph, data, { batchSize: opts.evalBatch });
      const convModel = await engine.prepare(conv.graph);
      try {
        const t = await timeInterleavedRatio(origModel.bind(input), convModel.bind(input), timing);
        return row(head, conv, data, out, refOut, cost(conv.graph), base.macs as number, t.b, t.a, t);
      } finally {
        await convModel.dispose();
      }
    };

    for (const s of plan) {
      opts.onStep?.(label(s));
      const ranks = s.rank === undefined ? undefined : Object.fromEntries(eligible.map((l) => [l.name, Math.min(s.rank as number, maxRankOf(l, s.order))]));
      const conv = convertGraph(original, {
        order: s.order, rank: s.rank, energy: s.energy, ranks, form: opts.form, layers: opts.layers, skip: opts.skip,
        minInChannels: opts.minInChannels, keepUnprofitable: opts.keepUnprofitable,
      });
      const head: RowHead = { setting: label(s), order: s.order, rank: s.rank ?? null, energy: s.energy ?? null, form: conv.options.form, calibrated: false };
      rows.push(await measure(head, conv));
      if (cal) {
        opts.onStep?.(`${label(s)} + calibration`);
        const c = await calibrate(engine, conv, cal.data.batches, { mode: cal.mode, seed });
        rows.push(await measure({ ...head, setting: `${head.setting} +cal`, calibrated: true }, { ...conv, graph: c.graph }));
      }
    }
  } finally {
    await origModel.dispose();
  }

  return {
    tool: 'netdecouple',
    kind: 'sweep',
    model: opts.model ?? original.name,
    data: data.name,
    task: data.task,
    backend: engine.name,
    threads: engine.threads,
    latency: { batchSize, inputShape: exampleShape, layout: original.layout, warmup: baseline.latency.warmup, runs: baseline.latency.runs, input: timingInput.description },
    evaluation: { n: data.n, method: data.task === 'classification' ? data.preprocessing : data.downscale },
    calibration: cal ? { data: cal.data.description, images: cal.data.images, mode: cal.mode ?? 'joint' } : null,
    baseline,
    rows,
    kernelErrors: kernelErrorCurves(original, [...new Set(plan.map((p) => p.order))], opts),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Timing input per example: the dataset's example shape (the first photo's low-resolution size). */
function timingShape(graph: Graph, data: Dataset): number[] {
  if (data.task === 'classification') {
    const [h, w, c] = data.exampleShape;
    return graph.layout === 'NHWC' ? [h, w, c] : [c, h, w];
  }
  const first = data.items[0].lowRes;
  return [first.height, first.width, 3];
}

type RowHead = Pick<SweepRow, 'setting' | 'order' | 'rank' | 'energy' | 'form' | 'calibrated'>;

function row(
  head: RowHead, conv: Conversion | null, data: Dataset, out: ModelOutputs, ref: ModelOutputs | undefined,
  cost: { macs: number | null; params: number }, baseMacs: number, t: TimingStats, baseT: TimingStats, ratio?: RatioTiming,
): SweepRow {
  const m = datasetMetrics(data, out, ref);
  const layers: SweepLayer[] = (conv?.layers ?? []).map((l) => ({ name: l.name, rank: l.rank, maxRank: l.maxRank, retainedEnergy: l.retainedEnergy, kernelRelError: l.kernelRelError }));
  const theoretical = baseMacs / (cost.macs as number);
  const measured = ratio ? ratio.ratio : measuredSpeedup(baseT, t);
  const sr = m.superResolution;
  return {
    ...head,
    replacedLayers: layers.length,
    macs: cost.macs as number,
    params: cost.params,
    theoreticalSpeedup: theoretical,
    latency: t,
    originalLatency: baseT,
    measuredSpeedup: measured,
    speedupInterval: ratio ? [ratio.low, ratio.high] : null,
    speedupRatio: measured / theoretical,
    top1: m.classification?.top1 ?? null,
    top5: m.classification?.top5 ?? null,
    agreement: conv ? (m.classification?.agreement ?? null) : m.classification ? 1 : null,
    top5Agreement: conv ? (m.classification?.top5Agreement ?? null) : m.classification && m.classification.classes > 5 ? 1 : null,
    meanKl: conv ? (m.classification?.meanKl ?? null) : m.classification ? 0 : null,
    logitRelL2: conv ? (m.classification?.logitRelL2 ?? null) : m.classification ? 0 : null,
    psnrVsOriginalDb: sr ? (conv ? sr.psnrVsOriginalDb : Infinity) : null,
    psnrVsGroundTruthDb: sr?.psnrVsGroundTruthDb ?? null,
    meanKernelRelError: layers.length ? layers.reduce((a, l) => a + l.kernelRelError, 0) / layers.length : 0,
    layers,
  };
}

/**
 * Kernel error of every eligible layer at every T, from one SVD per layer and order: the top-T
 * truncation is optimal per channel, so ‖W − Ŵ_T‖_F² / ‖W‖_F² is the discarded share of σ² over
 * all channels (nd.ts) — no need to rebuild the kernel at each T.
 */
export function kernelErrorCurves(graph: Graph, orders: NdOrder[], select: SelectOptions = {}): KernelErrorPoint[] {
  const layers = selectLayers(foldBatchNorms(graph).graph, select);
  const out: KernelErrorPoint[] = [];
  for (const order of orders) {
    for (const l of layers) {
      const nd = decouple(l.kernel, { order, rank: 1, name: l.name });
      const energy = energyCurve(nd.singularValues);
      let total = 0;
      for (const s of nd.singularValues) for (const v of s) total += v * v;
      let kept = 0;
      for (let T = 1; T <= nd.maxRank; T++) {
        for (const s of nd.singularValues) kept += s[T - 1] * s[T - 1];
        const share = total === 0 || T === nd.maxRank ? 0 : Math.max(0, 1 - kept / total);
        out.push({ layer: l.name, order, rank: T, kernelRelError: Math.sqrt(share), retainedEnergy: energy[T - 1] });
      }
    }
  }
  return out;
}

export interface Tolerance {
  /** Largest allowed top-1 drop against the original, as a fraction (0.005 = 0.5 points). */
  maxTop1Drop?: number;
  /** Smallest allowed PSNR against the original model's output, dB. */
  minPsnrDb?: number;
}

/** The row with the largest measured speedup within the tolerance, or null when none qualifies. */
export function bestSetting(report: SweepReport, tol: Tolerance): SweepRow | null {
  // A setting that replaced nothing is the original network: its "speedup" is timing noise.
  const ok = report.rows.filter((r) => {
    if (r.replacedLayers === 0) return false;
    if (tol.maxTop1Drop !== undefined && r.top1 !== null && report.baseline.top1 !== null) return report.baseline.top1 - r.top1 <= tol.maxTop1Drop + 1e-12;
    // Unlabelled images: the share of changed predictions stands in for the top-1 drop.
    if (tol.maxTop1Drop !== undefined && r.top1 === null && r.agreement !== null) return 1 - r.agreement <= tol.maxTop1Drop + 1e-12;
    if (tol.minPsnrDb !== undefined && r.psnrVsOriginalDb !== null) return r.psnrVsOriginalDb >= tol.minPsnrDb;
    return false;
  });
  return ok.reduce<SweepRow | null>((best, r) => (best === null || r.measuredSpeedup > best.measuredSpeedup ? r : best), null);
}
