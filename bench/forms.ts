/**
 * Merged vs split depthwise (issue item 6): for T = 1…6, which layout of the T depthwise
 * components runs faster on each backend — one DepthwiseConv with depth_multiplier T (merged,
 * Keras SeparableConv2D) or T multiplier-1 depthwise convs + Concatenate (split). Measured on the
 * 28²·256 layer of docs/design.md#runtime-facts (alone) and on the whole VGG16 conv stack at 224².
 * The original is timed once per case; split and merged are timed in alternation at each T (the
 * decision between them is what must survive load changes); at T = 1 both forms are the same
 * graph, timed once and listed under both.
 */
import type { Graph } from '../src/models/ir.js';
import { inferShapes } from '../src/models/shapes.js';
import { graphCosts, totalCost } from '../src/models/cost.js';
import { convertGraph } from '../src/convert/convert.js';
import type { DepthwiseForm } from '../src/convert/nd-rewrite.js';
import type { Engine } from '../src/eval/engine.js';
import { inputNodeOf } from '../src/eval/inputs.js';
import { layerGraphsFor, randomBatch, replacedLayers, timeGraph, timeGraphPair } from '../src/eval/latency.js';
import type { TimingStats } from '../src/eval/timing.js';

export interface FormPoint {
  rank: number;
  form: DepthwiseForm;
  timing: TimingStats;
  macs: number;
  theoreticalSpeedup: number;
  measuredSpeedup: number;
  ratio: number;
}

export interface FormsCase {
  case: string;
  /** 'layer': the conv alone against its replacement; 'model': the whole network. */
  scope: 'layer' | 'model';
  backend: string;
  threads: number | null;
  batchSize: number;
  /** Per-example input shape as timed (layer cases on ORT run in NCHW). */
  inputShape: number[];
  layout: Graph['layout'];
  original: TimingStats;
  macs: number;
  points: FormPoint[];
  /** Per T, the faster form and split median / merged median. */
  faster: { rank: number; form: DepthwiseForm; splitOverMerged: number }[];
}

export interface FormsOptions {
  ranks: number[];
  runs: number;
  warmup: number;
  onStep?: (label: string) => void;
}

const macsOf = (g: Graph, shape: number[]) => totalCost(graphCosts(g, { [g.inputs[0]]: shape })).macs as number;

export async function measureForms(engine: Engine, graph: Graph, scope: 'layer' | 'model', opts: FormsOptions): Promise<FormsCase> {
  const timing = { runs: opts.runs, warmup: opts.warmup };
  // A layer case times the conv alone (graph = one input + one conv); a model case the whole net.
  const pick = (converted: Graph): [Graph, Graph] => {
    if (scope === 'model') return [graph, converted];
    const [pair] = replacedLayers(graph, converted);
    const inShape = inferShapes(graph).get(pair.conv.inputs[0]) as number[];
    return layerGraphsFor(engine, pair, inShape, graph.layout);
  };
  const first = pick(convertGraph(graph, { rank: 1 }).graph)[0];
  const tShape = inputNodeOf(first).shape as number[];
  const x = randomBatch(tShape, 1, 1, scope === 'model' ? [0, 255] : [-1, 1]);
  opts.onStep?.(`${graph.name} ${engine.name} original`);
  const original = await timeGraph(engine, first, x, timing);
  const baseMacs = macsOf(first, tShape);
  const points: FormPoint[] = [];
  const point = (rank: number, form: DepthwiseForm, t: TimingStats, macs: number): FormPoint => {
    const measured = original.medianMs / t.medianMs;
    return { rank, form, timing: t, macs, theoreticalSpeedup: baseMacs / macs, measuredSpeedup: measured, ratio: measured / (baseMacs / macs) };
  };
  for (const rank of opts.ranks) {
    opts.onStep?.(`${graph.name} ${engine.name} T=${rank}`);
    const [, split] = pick(convertGraph(graph, { rank, form: 'split' }).graph);
    if (rank === 1) {
      // Both forms are the same graph at T = 1.
      const t = await timeGraph(engine, split, x, timing);
      points.push(point(1, 'split', t, macsOf(split, tShape)), point(1, 'merged', t, macsOf(split, tShape)));
      continue;
    }
    const [, merged] = pick(convertGraph(graph, { rank, form: 'merged' }).graph);
    // Split and merged alternate run by run, so the comparison between them survives load changes.
    const [ts, tm] = await timeGraphPair(engine, split, merged, x, timing);
    points.push(point(rank, 'split', ts, macsOf(split, tShape)), point(rank, 'merged', tm, macsOf(merged, tShape)));
  }
  const faster = opts.ranks.map((rank) => {
    const s = points.find((p) => p.rank === rank && p.form === 'split') as FormPoint;
    const m = points.find((p) => p.rank === rank && p.form === 'merged') as FormPoint;
    return { rank, form: (s.timing.medianMs <= m.timing.medianMs ? 'split' : 'merged') as DepthwiseForm, splitOverMerged: s.timing.medianMs / m.timing.medianMs };
  });
  return { case: graph.name, scope, backend: engine.name, threads: engine.threads, batchSize: 1, inputShape: tShape, layout: first.layout, original, macs: baseMacs, points, faster };
}
