/**
 * Latency of an original and a converted model in one process, on one engine: whole model, and
 * per replaced layer (the regular conv alone against its replacement subgraph, each fed a random
 * input of the layer's input shape). Measured speedup is printed beside the theoretical (MAC)
 * speedup and their ratio — the number that says whether the runtime delivers what the MAC count
 * promises.
 */
import { channelAxis, type Conv2DNode, type Graph, type Node } from '../models/ir.js';
import { graphCosts, totalCost } from '../models/cost.js';
import { inferShapes, type Shape } from '../models/shapes.js';
import { kerasLayerName } from '../models/tfjs/ir-to-keras.js';
import { timeInterleavedRatio, type Engine } from './engine.js';
import { seededUniform, inputNodeOf } from './inputs.js';
import { profileOrt, profileTfjs, type ModelProfile } from './profile.js';
import type { Batch } from './tfjs-run.js';
import { normaliseTensor, resolvePreprocessing, valueRange, type Preprocessing } from './preprocess.js';
import { measuredSpeedup, type RatioTiming, type TimingOptions, type TimingStats } from './timing.js';
import { toNchw } from '../models/relayout.js';
import { singleLayerGraph } from './layer-alone.js';

export interface LatencyOptions extends TimingOptions {
  /** Images per run; default 1. */
  batchSize?: number;
  /** Per-example input shape (no batch dim) in the graph's layout; default: the declared one. */
  inputShape?: Shape;
  /** Seed of the random inputs; default 1. */
  seed?: number;
  /** Also time every replaced layer alone; default true. */
  perLayer?: boolean;
  /** Called before each timing, for progress bars. */
  onStep?: (label: string) => void;
  /** The random input is pixels [0, 255] through this preprocessing (default: the model's, preprocess.ts). */
  preprocessing?: Preprocessing;
  /** Also profile both models with the runtime's own profiler, per operator kind (profile.ts). */
  profile?: boolean;
}

export interface ModelLatency {
  timing: TimingStats;
  macs: number | null;
  params: number;
}

export interface LayerLatency {
  name: string;
  /** [kh, kw, C, N] as in model.json. */
  kernel: [number, number, number, number];
  stride: [number, number];
  /** Per-example input shape of the layer, graph layout. */
  inputShape: number[];
  /** Nodes standing in for the conv in the converted model. */
  replacedBy: string[];
  original: TimingStats;
  converted: TimingStats;
  macsBefore: number;
  macsAfter: number;
  measuredSpeedup: number;
  /** Confidence interval of measuredSpeedup (timing.ts). */
  speedupInterval: [number, number];
  stoppedBy: RatioTiming['stoppedBy'];
  /** Copies of the layer run per session call to amortise per-call overhead (copiesFor); times are per copy. */
  copiesPerCall: number;
  theoreticalSpeedup: number;
  /** measured / theoretical. */
  ratio: number;
}

/** How the whole-model comparison was measured (timing.ts). */
export interface ComparisonTiming {
  confidence: number;
  interval: RatioTiming['interval'];
  stoppedBy: RatioTiming['stoppedBy'];
  seconds: number;
  load: RatioTiming['load'];
}

export interface LatencyReport {
  tool: 'netdecouple';
  kind: 'latency';
  model: string;
  against: string | null;
  backend: string;
  threads: number | null;
  batchSize: number;
  /** Per-example input shape, graph layout. */
  inputShape: number[];
  layout: Graph['layout'];
  input: string;
  original: ModelLatency;
  converted: ModelLatency | null;
  measuredSpeedup: number | null;
  /** Confidence interval of measuredSpeedup. */
  speedupInterval: [number, number] | null;
  comparison: ComparisonTiming | null;
  theoreticalSpeedup: number | null;
  ratio: number | null;
  layers: LayerLatency[];
  /** Per-layer timings ran without layout transposes (ORT: NCHW mini graphs). */
  layerLayout: Graph['layout'] | null;
  /** --profile: where the time goes, per operator kind, by the runtime's own profiler. */
  profile?: { original: ModelProfile; converted: ModelProfile | null };
}

/** The per-example input shape to time at: the given one, else the declared one when fully known. */
export function resolveInputShape(graph: Graph, shape?: Shape): number[] {
  const node = inputNodeOf(graph);
  const s = shape ?? node.shape;
  if (s.some((d) => d === null)) throw new Error(`the model's input shape [${node.shape.map((d) => d ?? '?').join(',')}] has free dimensions: give --input-shape H,W`);
  return s as number[];
}

export function randomBatch(shape: number[], batchSize: number, seed: number, range: [number, number]): Batch {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`--batch ${batchSize}: must be a positive integer`);
  const n = shape.reduce((a, b) => a * b, 1) * batchSize;
  return { shape: [batchSize, ...shape], data: seededUniform(n, seed, range[0], range[1]) };
}

/** Random pixels uniform in [0, 255] through the model's preprocessing: the values it expects to see. */
export function preprocessedRandomBatch(graph: Graph, shape: number[], batchSize: number, seed: number, p: Preprocessing = resolvePreprocessing(graph)): { batch: Batch; description: string } {
  const batch = randomBatch(shape, batchSize, seed, [0, 255]);
  normaliseTensor(batch.data, shape, graph.layout, p);
  const [lo, hi] = valueRange(p);
  return { batch, description: `random pixels uniform in [0, 255], seed ${seed}, preprocessed ${p.name} to [${+lo.toFixed(4)}, ${+hi.toFixed(4)}]` };
}

export async function timeGraph(engine: Engine, graph: Graph, input: Batch, opts: TimingOptions = {}): Promise<TimingStats> {
  const m = await engine.prepare(graph);
  try {
    return await m.time(input, opts);
  } finally {
    await m.dispose();
  }
}

/** Two graphs on the same input, timed in alternation until their ratio is known (timing.ts timeRatio). */
export async function compareGraphs(engine: Engine, a: Graph, b: Graph, input: Batch, opts: TimingOptions = {}): Promise<RatioTiming> {
  const ma = await engine.prepare(a);
  try {
    const mb = await engine.prepare(b);
    try {
      return await timeInterleavedRatio(ma.bind(input), mb.bind(input), opts);
    } finally {
      await mb.dispose();
    }
  } finally {
    await ma.dispose();
  }
}

export async function timeGraphPair(engine: Engine, a: Graph, b: Graph, input: Batch, opts: TimingOptions = {}): Promise<[TimingStats, TimingStats]> {
  const r = await compareGraphs(engine, a, b, input, opts);
  return [r.a, r.b];
}

export function comparisonOf(r: RatioTiming): ComparisonTiming {
  return { confidence: r.confidence, interval: r.interval, stoppedBy: r.stoppedBy, seconds: r.seconds, load: r.load };
}

export async function benchLatency(
  engine: Engine,
  original: Graph,
  converted: Graph | null,
  opts: LatencyOptions & { model?: string; against?: string | null } = {},
): Promise<LatencyReport> {
  const batchSize = opts.batchSize ?? 1;
  const seed = opts.seed ?? 1;
  const shape = resolveInputShape(original, opts.inputShape);
  const { batch: input, description } = preprocessedRandomBatch(original, shape, batchSize, seed, opts.preprocessing);
  const inputShapes = { [original.inputs[0]]: shape };
  const cost = (g: Graph) => totalCost(graphCosts(g, { [g.inputs[0]]: shape }));
  const timing: TimingOptions = { warmup: opts.warmup, runs: opts.runs, maxSeconds: opts.maxSeconds };
  // Per layer: a shorter cap, since a network has dozens of layers.
  const layerTiming: TimingOptions = { ...timing, maxSeconds: opts.maxSeconds ?? 10 };

  opts.onStep?.(converted ? 'original and converted model' : 'model');
  const whole = converted ? await compareGraphs(engine, original, converted, input, timing) : null;
  const [origTiming, convTiming] = whole ? [whole.a, whole.b] : [await timeGraph(engine, original, input, timing), null];
  const oc = cost(original);
  let conv: ModelLatency | null = null;
  const layers: LayerLatency[] = [];
  let layerLayout: Graph['layout'] | null = null;
  if (converted && convTiming) {
    const cc = cost(converted);
    conv = { timing: convTiming, macs: cc.macs, params: cc.params };
    if (opts.perLayer !== false) {
      const shapes = inferShapes(original, inputShapes);
      for (const pair of replacedLayers(original, converted)) {
        opts.onStep?.(`layer ${pair.conv.name}`);
        const inShape = shapes.get(pair.conv.inputs[0]) as number[];
        const [a, b] = layerGraphsFor(engine, pair, inShape, original.layout);
        layerLayout = a.layout;
        const miniShape = (inputNodeOf(a).shape as number[]);
        const x = randomBatch(miniShape, batchSize, seed + 1, [-1, 1]);
        const copies = copiesFor(totalCost(graphCosts(a)).macs as number);
        const t = perCopy(await compareGraphs(engine, replicate(a, copies), replicate(b, copies), x, layerTiming), copies);
        const [ta, tb] = [t.a, t.b];
        const ma = totalCost(graphCosts(a)).macs as number;
        const mb = totalCost(graphCosts(b)).macs as number;
        const [n, cg, kh, kw] = pair.conv.kernel.shape;
        const measured = t.ratio;
        layers.push({
          name: pair.conv.name, kernel: [kh, kw, cg * pair.conv.groups, n], stride: pair.conv.strides, inputShape: inShape,
          replacedBy: pair.nodes.map((x) => x.name), original: ta, converted: tb, macsBefore: ma, macsAfter: mb,
          measuredSpeedup: measured, speedupInterval: [t.low, t.high], stoppedBy: t.stoppedBy, copiesPerCall: copies, theoreticalSpeedup: ma / mb, ratio: measured / (ma / mb),
        });
      }
    }
  }
  const measured = whole ? whole.ratio : null;
  let profile: LatencyReport['profile'];
  if (opts.profile) {
    opts.onStep?.('profile');
    const one = (g: Graph) => (engine.name === 'ort' ? profileOrt(g, input, { threads: engine.threads ?? 2 }) : profileTfjs(g, input));
    profile = { original: await one(original), converted: converted ? await one(converted) : null };
  }
  const theoretical = conv && oc.macs !== null && conv.macs ? oc.macs / conv.macs : null;
  return {
    tool: 'netdecouple',
    kind: 'latency',
    model: opts.model ?? original.name,
    against: opts.against ?? null,
    backend: engine.name,
    threads: engine.threads,
    batchSize,
    inputShape: shape,
    layout: original.layout,
    input: description,
    original: { timing: origTiming, macs: oc.macs, params: oc.params },
    converted: conv,
    measuredSpeedup: measured,
    speedupInterval: whole ? [whole.low, whole.high] : null,
    comparison: whole ? comparisonOf(whole) : null,
    theoreticalSpeedup: theoretical,
    ratio: measured !== null && theoretical !== null ? measured / theoretical : null,
    layers,
    layerLayout,
    ...(profile ? { profile } : {}),
  };
}

/** Times of r copies per call → times of one (the ratio and its interval are unchanged). */
export function perCopy(t: RatioTiming, r: number): RatioTiming {
  const one = (s: TimingStats): TimingStats => ({ ...s, medianMs: s.medianMs / r, p10Ms: s.p10Ms / r, p90Ms: s.p90Ms / r });
  return r === 1 ? t : { ...t, a: one(t.a), b: one(t.b) };
}

export interface ReplacedLayer {
  conv: Conv2DNode;
  /** The replacement nodes in the converted graph, topological order. */
  nodes: Node[];
  /** The node outside the group the replacement reads. */
  input: string;
  /** The group node standing for the conv's output. */
  output: string;
}

/**
 * Pairs each regular conv of `original` that is gone from `converted` with the nodes that replaced
 * it. Rewrites name them `<conv>/…` in the IR; a converted model read back from model.json has
 * them as `<conv>__…` (kerasLayerName). Works for in-process conversions and saved ones alike.
 */
export function replacedLayers(original: Graph, converted: Graph): ReplacedLayer[] {
  const have = new Set(converted.nodes.map((n) => n.name));
  const out: ReplacedLayer[] = [];
  for (const conv of original.nodes) {
    if (conv.op !== 'conv2d' || have.has(conv.name)) continue;
    const prefixes = [`${conv.name}/`, `${kerasLayerName(conv.name)}__`];
    const nodes = converted.nodes.filter((n) => prefixes.some((p) => n.name.startsWith(p)));
    if (!nodes.length) continue;
    const names = new Set(nodes.map((n) => n.name));
    const external = [...new Set(nodes.flatMap((n) => n.inputs).filter((i) => !names.has(i)))];
    if (external.length !== 1) continue; // not a single-input replacement: nothing to time alone
    const usedOutside = nodes.filter((n) => converted.outputs.includes(n.name) || converted.nodes.some((m) => !names.has(m.name) && m.inputs.includes(n.name)));
    if (usedOutside.length !== 1) continue;
    out.push({ conv, nodes, input: external[0], output: usedOutside[0].name });
  }
  return out;
}

/** [conv alone, replacement] as runnable graphs with one input of the conv's input shape. */
export function layerGraphs(pair: ReplacedLayer, inputShape: number[], layout: Graph['layout']): [Graph, Graph] {
  const conv: Conv2DNode = { ...pair.conv, inputs: ['x'], source: undefined };
  const a = singleLayerGraph({ name: `${pair.conv.name}_regular`, layout, nodes: [conv], input: 'x', output: conv.name }, inputShape);
  const nodes = pair.nodes.map((n) => ({ ...n, source: undefined, inputs: n.inputs.map((i) => (i === pair.input ? 'x' : i)) }) as Node);
  const b = singleLayerGraph({ name: `${pair.conv.name}_replacement`, layout, nodes, input: 'x', output: pair.output }, inputShape);
  return [a, b];
}

/**
 * The two mini graphs in the layout to time them in: on ORT an NHWC pair is run as NCHW, since
 * ORT would otherwise time two layout transposes around a single layer, which a whole converted
 * model pays once, not per layer.
 */
export function layerGraphsFor(engine: Pick<Engine, 'name'>, pair: ReplacedLayer, inputShape: number[], layout: Graph['layout']): [Graph, Graph] {
  const minis = layerGraphs(pair, inputShape, layout);
  const useNchw = engine.name === 'ort' && layout === 'NHWC' && minis.every(canRelayout);
  return useNchw ? [toNchw(minis[0]), toNchw(minis[1])] : minis;
}

/**
 * How many copies of a layer to run per session call: per-call overhead (feeding, output copies,
 * the session's own bookkeeping: ~0.05–0.1 ms) would otherwise be a large part of a small layer's
 * time and pull its measured ratio towards 1. Copies up to about 20 M MACs per call, at most 4.
 */
export function copiesFor(macs: number): number {
  return Math.max(1, Math.min(4, Math.floor(20e6 / Math.max(1, macs))));
}

/**
 * `r` independent copies of a single-input mini graph side by side in one graph (same input, r
 * outputs): one session call then runs the layer r times, amortising the per-call overhead. The
 * runtime runs them one after another (one inter-op thread), each with all intra-op threads, as
 * the layers of a whole model run.
 */
export function replicate(g: Graph, r: number): Graph {
  if (r <= 1) return g;
  const input = g.inputs[0];
  const rename = (name: string, i: number) => (name === input ? name : `${name}~${i}`);
  const copies = Array.from({ length: r }, (_, i) => g.nodes.filter((n) => n.name !== input).map((n) => ({ ...n, name: rename(n.name, i), inputs: n.inputs.map((x) => rename(x, i)) }) as Node));
  return { ...g, nodes: [...g.nodes.filter((n) => n.name === input), ...copies.flat()], outputs: Array.from({ length: r }, (_, i) => g.outputs.map((o) => rename(o, i))).flat() };
}

const LAYOUT_FREE: ReadonlySet<Node['op']> = new Set(['input', 'conv2d', 'concat', 'add', 'multiply', 'activation', 'identity']);

function canRelayout(g: Graph): boolean {
  return g.nodes.every((n) => LAYOUT_FREE.has(n.op));
}

