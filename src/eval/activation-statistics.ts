/**
 * Activation statistics in one streaming pass: every listed conv's input patches, sampled at
 * seeded random output pixels of each batch, into a float64 second-moment accumulator per layer
 * (decompose/moments.ts: the whole C·kh·kw matrix when it fits the cap, else per-channel blocks).
 * All layers' inputs come out of one run of the given graph per batch, so memory is the
 * accumulators plus one batch of activations.
 */
import type { Conv2DNode, Graph } from '../models/ir.js';
import { windowOut } from '../models/shapes.js';
import { MomentAccumulator } from '../decompose/moments.js';
import { mulberry32 } from '../decompose/random.js';
import type { Engine } from './engine.js';
import { gatherPatches } from './calibrate-nd.js';
import { ortMomentFeeder } from './ort-moments.js';
import type { Batch } from './tfjs-run.js';

export interface StatisticsOptions {
  /** Sampled output pixels per layer and batch (default 512). */
  rowsPerBatch?: number;
  /** Largest whole covariance per layer in bytes (default 512 MiB, as MomentAccumulator). */
  maxFullBytes?: number;
  seed?: number;
  onBatch?: (index: number, total: number) => void;
}

export interface LayerStatistics {
  name: string;
  accumulator: MomentAccumulator;
}

export async function collectStatistics(engine: Engine, graph: Graph, convs: Conv2DNode[], inputs: Batch[], opts: StatisticsOptions = {}): Promise<LayerStatistics[]> {
  const rand = mulberry32(opts.seed ?? 1);
  const perBatch = opts.rowsPerBatch ?? 512;
  const stats = convs.map((c) => ({ name: c.name, accumulator: new MomentAccumulator({ channels: c.kernel.shape[1], taps: c.kernel.shape[2] * c.kernel.shape[3], maxFullBytes: opts.maxFullBytes }) }));
  const feeds = [...new Set(convs.map((c) => c.inputs[0]))];
  const model = await engine.prepare(graph, feeds);
  const feeder = await ortMomentFeeder(engine.threads ?? 2);
  try {
    for (const [bi, batch] of inputs.entries()) {
      opts.onBatch?.(bi, inputs.length);
      const acts = await model.run(batch);
      for (const [li, conv] of convs.entries()) {
        const act = acts[feeds.indexOf(conv.inputs[0])];
        const [, d1, d2] = act.shape;
        const [inH, inW] = graph.layout === 'NHWC' ? [d1, d2] : [act.shape[2], act.shape[3]];
        const [, , kh, kw] = conv.kernel.shape;
        const outH = windowOut(inH, kh, conv.strides[0], conv.dilations[0], conv.padding, 0) as number;
        const outW = windowOut(inW, kw, conv.strides[1], conv.dilations[1], conv.padding, 1) as number;
        const pixels = act.shape[0] * outH * outW;
        const rows = new Int32Array(Math.min(perBatch, pixels));
        for (let r = 0; r < rows.length; r++) rows[r] = rows.length === pixels ? r : Math.floor(rand() * pixels);
        await feeder.add(stats[li].accumulator, gatherPatches(act, graph.layout, conv, rows, [outH, outW]), null, rows.length);
      }
    }
  } finally {
    await model.dispose();
    await feeder.release();
  }
  return stats;
}
