/**
 * `compare`'s measurement: every decomposition method on every eligible layer, as error against MACs kept.
 * Per layer and method a curve over a rank grid (src/convert/candidates.ts, each point fitted:
 * Tucker-2 by HOOI, CP by ALS with a capped iteration count), the kernel error of each point, and —
 * given inputs — its output error (the candidate's layers fed the reference network's activation,
 * against the conv's output, as conversion-errors.ts measures a converted layer). The winner at 2×,
 * 3×, 4× MAC reduction is the method with the least error among its points with at least that
 * reduction (output error when measured, else kernel error). Given calibration images, every ND,
 * Tucker-2, spatial and CP point also gets its plain and data-aware layer output error on them
 * (compare-data-aware.ts), and each reduction a second winner: the method with the least
 * data-aware error among its points with at least that reduction (`dataAwareWinner`, counted in
 * `dataAwareWins`). `winner` and `wins` stay chosen by the errors above.
 *
 * Plain JSON (compare.json); the table, the SVGs and the files are rendered from it in
 * src/report/compare.ts.
 */
import type { Conv2DNode, Graph } from '../models/ir.js';
import type { Shape } from '../models/shapes.js';
import type { NdOrder } from '../decompose/nd.js';
import { foldBatchNorms } from '../convert/fold-batchnorm.js';
import { selectLayers, type SelectOptions } from '../convert/select.js';
import { GHOST_RATIOS, layerCandidates, layerGeometries, type Candidate } from '../convert/candidates.js';
import { GhostDataStats, ghostFromStats, ghostPatches } from '../decompose/ghost.js';
import { ghostReplacement } from '../convert/ghost-rewrite.js';
import { preActivationGraph } from './calibrate.js';
import { mulberry32 } from '../decompose/random.js';
import { convMacs, methodMacs, type LayerGeometry } from '../convert/method-cost.js';
import { METHODS, methodEntry, type GhostSettings, type Method } from '../convert/methods.js';
import type { GraphRunner } from './runner.js';
import type { Batch } from './tfjs-run.js';
import { localOutputError, referenceActivations } from './layer-alone.js';
import type { Engine } from './engine.js';
import { candidateDataAware, layerStatistics, sampleLayerOutputs, type DataAwareError, type LayerSamples } from './compare-data-aware.js';

export const REDUCTIONS = [2, 3, 4] as const;

export interface ComparePoint {
  method: Method;
  /** ND T, CP R, spatial / spatial-nd K, Tucker-2 R_out. */
  rank: number;
  tuckerRanks?: [number, number];
  factorRank?: number;
  /** e.g. "T=2", "R=40", "K=12, T=1", "12×9". */
  label: string;
  macs: number;
  /** macs / macsBefore. */
  macsKept: number;
  kernelRelError: number;
  outputRelError: number | null;
  /** With calibration data only: layer output error on it, plain and data-aware (null: no joint refit for this method). */
  dataAware?: DataAwareError | null;
}

export interface MethodBest {
  label: string;
  macs: number;
  kernelRelError: number;
  outputRelError: number | null;
  /** With calibration data only: the same point's plain and data-aware layer output error. */
  dataAware?: DataAwareError | null;
}

export interface ReductionResult {
  reduction: number;
  /** Best point per method with macs ≤ macsBefore / reduction; null when the method cannot reach it. */
  byMethod: Partial<Record<Method, MethodBest | null>>;
  winner: Method | null;
  /**
   * With calibration data only: the method with the least data-aware error (`dataAware.relError`)
   * among its points with macs ≤ macsBefore / reduction, and that point; null when no method with a
   * joint refit reaches the reduction.
   */
  dataAwareWinner?: Method | null;
  dataAwareWinnerPoint?: { label: string; macs: number; relError: number } | null;
}

export interface CompareLayer {
  name: string;
  /** [kh, kw, C, N] as in model.json. */
  kernel: [number, number, number, number];
  stride: [number, number];
  geometry: LayerGeometry;
  macsBefore: number;
  points: ComparePoint[];
  atReduction: ReductionResult[];
  seconds: number;
}

export interface CompareReport {
  tool: 'netdecouple';
  kind: 'compare';
  version: string;
  model: string;
  methods: Method[];
  order: NdOrder;
  cpIterations: number;
  inputShape: Shape | null;
  /** What the output errors were measured on, and where; null = kernel errors only. */
  input: string | null;
  backend: string | null;
  /** With calibration data only: what the data-aware variants were fit and measured on. */
  calibration?: string;
  /** The error the winners are chosen by. */
  winnerBy: 'outputRelError' | 'kernelRelError';
  layers: CompareLayer[];
  /** Per reduction, how many layers each method wins. */
  wins: WinCounts[];
  /** With calibration data only: the same for the winners by data-aware error. */
  dataAwareWins?: WinCounts[];
}

export interface WinCounts {
  reduction: number;
  counts: Partial<Record<Method, number>>;
}

export interface CompareOptions extends SelectOptions {
  methods?: Method[];
  order?: NdOrder;
  /** Grid points per method for spatial and Tucker-2 (CP and spatial-nd a third, at least 4); default 16. */
  gridSize?: number;
  /** ALS iterations per CP point; default 25. */
  cpIterations?: number;
  inputShapes?: Record<string, Shape>;
  foldBatchNorm?: boolean;
  /** Measure output errors: runner and input batch. */
  outputs?: { runner: GraphRunner; input: Batch; description: string };
  /** Ghost: d and the minimum R². */
  ghost?: GhostSettings;
  /**
   * Unlabelled images for Ghost's data fit (its other points are weight-space fits): each layer's
   * ghosts are fit on the reference network's outputs for these, then measured like every point.
   */
  ghostData?: { batches: Batch[]; description: string };
  /**
   * Unlabelled images for the data-aware variants: every ND, Tucker-2, spatial and CP point is also
   * fit activation-aware with a joint refit (compare-data-aware.ts), and both it and the plain
   * decomposition are measured by layer output error on these images.
   */
  calibration?: { engine: Engine; batches: Batch[]; description: string; rounds?: number };
  version?: string;
  model?: string;
  onLayer?: (name: string, index: number, total: number) => void;
}

export async function compareGraph(input: Graph, opts: CompareOptions = {}): Promise<CompareReport> {
  const methods = opts.methods ?? [...METHODS];
  for (const m of methods) if (!METHODS.includes(m)) throw new Error(`--methods "${m}": choose from ${METHODS.join(', ')}`);
  const order = opts.order ?? 'dw-pw';
  const cpIterations = opts.cpIterations ?? 25;
  const graph = opts.foldBatchNorm === false ? input : foldBatchNorms(input).graph;
  const convs = selectLayers(graph, opts);
  if (convs.length === 0) throw new Error('no eligible conv to compare (regular k×k convs with more than --min-in-channels inputs)');
  const geometry = layerGeometries(graph, convs, opts.inputShapes);
  const acts = opts.outputs ? await referenceActivations(opts.outputs.runner, graph, convs.map((c) => ({ name: c.name, input: c.inputs[0] })), opts.outputs.input) : null;
  const ghostStats = opts.ghostData && opts.outputs && methods.includes('ghost') ? await ghostDataStats(opts.outputs.runner, graph, convs, opts.ghostData.batches, opts.ghost?.kernelSize ?? 3) : null;
  const cal = opts.calibration ? { engine: opts.calibration.engine, graph, inputs: opts.calibration.batches, rounds: opts.calibration.rounds } : null;
  const calSamples = cal ? await sampleLayerOutputs(cal, convs) : null;
  const layers: CompareLayer[] = [];
  for (const [i, conv] of convs.entries()) {
    opts.onLayer?.(conv.name, i, convs.length);
    const t0 = performance.now();
    const g = geometry.get(conv.name) as LayerGeometry;
    const before = convMacs(conv, g);
    const cands = layerCandidates(conv, g, { methods, order, gridSize: opts.gridSize ?? 16, cpIterations, anchors: [...REDUCTIONS], realize: { form: 'split', layout: graph.layout, maxIterations: cpIterations }, ghost: opts.ghost });
    const stats = ghostStats?.get(conv.name)?.stats();
    if (stats) {
      for (const s of GHOST_RATIOS.filter((r) => r <= conv.kernel.shape[0])) {
        const d = opts.ghost?.kernelSize ?? 3;
        const r = ghostFromStats(stats, { ratio: s, kernelSize: d, minR2: opts.ghost?.minR2, name: conv.name });
        const m = methodMacs(conv, 'ghost', { rank: s, primaries: r.primaries.length + r.solo.length, ghostSlots: r.ghosts.length, ghostKernel: d }, g);
        if (m >= before) continue;
        // errorKind 'bound' is not meant here: the error is the data fit's, on the ghost data.
        cands.push({ method: 'ghost', rank: s, macs: m, error: r.relError ** 2, errorKind: 'exact', ghostPrimaries: r.primaries.length + r.solo.length, ghostSlots: r.ghosts.length, ghostFit: 'data', replacement: ghostReplacement(conv, r, { form: 'split', layout: graph.layout }) });
      }
    }
    const samples = calSamples?.get(conv.name) as LayerSamples | undefined;
    const moments = cal && samples ? await layerStatistics(cal, conv, samples) : null;
    const points: ComparePoint[] = [];
    for (const c of cands) {
      if (c.method === 'keep') continue;
      let outputRelError: number | null = null;
      if (acts && opts.outputs && c.replacement) {
        const alone = { name: `${conv.name}_candidate`, layout: graph.layout, nodes: c.replacement.nodes, input: conv.inputs[0], output: c.replacement.output };
        outputRelError = await localOutputError(opts.outputs.runner, alone, acts.get(conv.inputs[0]) as Batch, acts.get(conv.name) as Batch);
      }
      points.push({
        method: c.method, rank: c.rank, ...(c.tuckerRanks ? { tuckerRanks: c.tuckerRanks } : {}), ...(c.factorRank !== undefined ? { factorRank: c.factorRank } : {}),
        label: methodEntry(c.method).pointLabel(c), macs: c.macs, macsKept: c.macs / before, kernelRelError: Math.sqrt(c.error), outputRelError,
        ...(cal && samples && moments ? { dataAware: await candidateDataAware(cal, { conv, samples, moments, candidate: c, order }) } : {}),
      });
    }
    const [n, cin, kh, kw] = conv.kernel.shape;
    layers.push({
      name: conv.name, kernel: [kh, kw, cin, n], stride: conv.strides, geometry: g, macsBefore: before, points,
      atReduction: REDUCTIONS.map((r) => ({ ...winnersAt(points, methods, before, r, acts !== null), ...(cal ? dataAwareWinnerAt(points, methods, before, r) : {}) })),
      seconds: (performance.now() - t0) / 1000,
    });
  }
  return {
    tool: 'netdecouple', kind: 'compare', version: opts.version ?? '', model: opts.model ?? graph.name, methods, order, cpIterations,
    inputShape: opts.inputShapes ? (Object.values(opts.inputShapes)[0] ?? null) : null,
    input: opts.outputs?.description ?? null, backend: opts.outputs?.runner.name ?? null,
    ...(opts.calibration ? { calibration: `${opts.calibration.description} (${opts.calibration.engine.name})` } : {}),
    winnerBy: acts ? 'outputRelError' : 'kernelRelError', layers, wins: winCounts(layers, (at) => at.winner),
    ...(cal ? { dataAwareWins: winCounts(layers, (at) => at.dataAwareWinner ?? null) } : {}),
  };
}

/** Per reduction, how many layers each method wins by `winnerOf`. */
function winCounts(layers: CompareLayer[], winnerOf: (at: ReductionResult) => Method | null): WinCounts[] {
  return REDUCTIONS.map((reduction) => {
    const counts: Partial<Record<Method, number>> = {};
    for (const l of layers) {
      const at = l.atReduction.find((x) => x.reduction === reduction);
      const w = at ? winnerOf(at) : null;
      if (w) counts[w] = (counts[w] ?? 0) + 1;
    }
    return { reduction, counts };
  });
}

/**
 * The winner by data-aware error: over every point with a joint refit that reaches the reduction,
 * not only each method's point by plain error, since the refit can reorder a method's ranks.
 */
function dataAwareWinnerAt(points: ComparePoint[], methods: Method[], before: number, reduction: number): Pick<ReductionResult, 'dataAwareWinner' | 'dataAwareWinnerPoint'> {
  let best: { p: ComparePoint; d: DataAwareError } | null = null;
  for (const p of points) {
    if (!methods.includes(p.method) || !p.dataAware || p.macs * reduction > before) continue;
    if (!best || p.dataAware.relError < best.d.relError) best = { p, d: p.dataAware };
  }
  return best ? { dataAwareWinner: best.p.method, dataAwareWinnerPoint: { label: best.p.label, macs: best.p.macs, relError: best.d.relError } } : { dataAwareWinner: null, dataAwareWinnerPoint: null };
}

function winnersAt(points: ComparePoint[], methods: Method[], before: number, reduction: number, byOutput: boolean): ReductionResult {
  const err = (p: { kernelRelError: number; outputRelError: number | null }) => (byOutput && p.outputRelError !== null ? p.outputRelError : p.kernelRelError);
  const byMethod: Partial<Record<Method, MethodBest | null>> = {};
  let winner: Method | null = null;
  let best = Infinity;
  for (const m of methods) {
    const ok = points.filter((p) => p.method === m && p.macs * reduction <= before);
    if (!ok.length) {
      byMethod[m] = null;
      continue;
    }
    const p = ok.reduce((a, b) => (err(b) < err(a) ? b : a));
    byMethod[m] = { label: p.label, macs: p.macs, kernelRelError: p.kernelRelError, outputRelError: p.outputRelError, ...(p.dataAware !== undefined ? { dataAware: p.dataAware } : {}) };
    if (err(p) < best) {
      best = err(p);
      winner = m;
    }
  }
  return { reduction, byMethod, winner };
}

/** Per conv, Ghost data statistics of its pre-activation output on the ghost data (≤ 8192 sampled pixels per layer). */
async function ghostDataStats(runner: GraphRunner, graph: Graph, convs: Conv2DNode[], batches: Batch[], d: number): Promise<Map<string, GhostDataStats>> {
  const pre = preActivationGraph(graph, new Set(convs.map((c) => c.name)));
  const out = new Map(convs.map((c) => [c.name, new GhostDataStats(c.kernel.shape[0], d)]));
  const rand = mulberry32(1);
  for (const batch of batches) {
    const acts = await runner.run(pre, batch, convs.map((c) => c.name));
    convs.forEach((c, i) => {
      const y = acts[i];
      const [B, d1, d2, d3] = y.shape;
      const [H, W, N] = graph.layout === 'NHWC' ? [d1, d2, d3] : [d2, d3, d1];
      const pixels = B * H * W;
      const want = Math.min(pixels, Math.ceil(8192 / batches.length));
      const rows = Int32Array.from({ length: want }, (_, r) => (want === pixels ? r : Math.floor(rand() * pixels)));
      const maps = { data: y.data, batch: B, channels: N, height: H, width: W, channelsLast: graph.layout === 'NHWC' };
      const targets = new Float64Array(want * N);
      const centre = ghostPatches(maps, rows, 1);
      targets.set(centre);
      (out.get(c.name) as GhostDataStats).add(ghostPatches(maps, rows, d), targets, want);
    });
  }
  return out;
}
