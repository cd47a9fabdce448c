/**
 * Joint calibration of a network-decoupled layer: the second moments of its input patches, taken
 * through the network converted so far (asymmetric, Zhang et al. 2016), against the original
 * layer's pre-activation output at the same sampled pixels; then every factor is refit by
 * block-coordinate least squares (decompose/nd-refit.ts), starting from the plain ND factors and,
 * when data-aware, also from the activation-whitened ones (decompose/nd-whiten.ts, dw-pw): the
 * lower output error wins, so data-aware is never worse than plain on the calibration samples.
 */
import type { Conv2DNode, Graph } from '../models/ir.js';
import { decouple } from '../decompose/nd.js';
import { MomentAccumulator, type CentredMoments } from '../decompose/moments.js';
import { ndKernel64, optimalBias, outputError, refitNd, toFactors64, toNdFactors, type NdDims } from '../decompose/nd-refit.js';
import { whitenedDecouple } from '../decompose/nd-whiten.js';
import { dwPwReplacement, pwDwReplacement } from '../convert/nd-rewrite.js';
import type { LayerConversion } from '../convert/convert.js';
import type { Engine } from './engine.js';
import { padBefore } from './calibrate-depthwise.js';
import { ortMomentFeeder } from './ort-moments.js';
import type { Batch } from './tfjs-run.js';

export interface NdLayerRefit {
  graph: Graph;
  /** Relative output error ‖y − ŷ‖/‖y‖ on the sampled rows: the decomposition as spliced, and after. */
  before: number;
  after: number;
  rows: number;
  /** Which start gave the kept factors. */
  start: 'plain' | 'whitened';
  /** Relative error after each block step of the kept run (first entry: its start, optimal bias). */
  steps: number[];
  /** 'full' or 'blocks' (per-channel) input statistics. */
  statistics: 'full' | 'blocks';
}

export interface NdLayerRefitInput {
  engine: Engine;
  graph: Graph;
  layer: LayerConversion;
  /** The original (BatchNorm-folded) conv. */
  conv: Conv2DNode;
  inputs: Batch[];
  /** Sampled output pixels per batch (b·H·W + y·W + x) and the original outputs there (rows × N). */
  rows: Int32Array[];
  targets: Float64Array[];
  /** Output spatial size of the conv. */
  outHW: [number, number];
  dataAware: boolean;
  rounds?: number;
  /** This layer's statistics when already taken (e.g. once for many candidates of one layer); else measured here. */
  moments?: CentredMoments;
}

/** Patches of `act` under `conv`'s window at the sampled output pixels: rows × (C·kh·kw), feature c·K + k. */
export function gatherPatches(act: Batch, layout: Graph['layout'], conv: Conv2DNode, rows: Int32Array, outHW: [number, number]): Float32Array {
  const [, d1, d2, d3] = act.shape;
  const [inH, inW, C] = layout === 'NHWC' ? [d1, d2, d3] : [d2, d3, d1];
  const [, , kh, kw] = conv.kernel.shape;
  const K = kh * kw;
  const [pt, pl] = padBefore(conv, inH, inW);
  const [outH, outW] = outHW;
  const out = new Float32Array(rows.length * C * K);
  for (let r = 0; r < rows.length; r++) {
    const p = rows[r];
    const b = Math.floor(p / (outH * outW));
    const q = p - b * outH * outW;
    const oy = Math.floor(q / outW);
    const ox = q - oy * outW;
    for (let i = 0; i < kh; i++) {
      const iy = oy * conv.strides[0] - pt + i * conv.dilations[0];
      if (iy < 0 || iy >= inH) continue;
      for (let j = 0; j < kw; j++) {
        const ix = ox * conv.strides[1] - pl + j * conv.dilations[1];
        if (ix < 0 || ix >= inW) continue;
        const k = i * kw + j;
        for (let c = 0; c < C; c++) {
          const idx = layout === 'NHWC' ? ((b * inH + iy) * inW + ix) * C + c : ((b * C + c) * inH + iy) * inW + ix;
          out[(r * C + c) * K + k] = act.data[idx];
        }
      }
    }
  }
  return out;
}

/** Streams the layer's input patches (converted network) and original outputs into moments. */
export async function layerMoments(x: Pick<NdLayerRefitInput, 'engine' | 'graph' | 'conv' | 'inputs' | 'rows' | 'targets' | 'outHW'> & { feed: string }): Promise<CentredMoments> {
  const [N, C, kh, kw] = x.conv.kernel.shape;
  const acc = new MomentAccumulator({ channels: C, taps: kh * kw, outputs: N });
  const prefix = await x.engine.prepare(x.graph, [x.feed]);
  const feeder = await ortMomentFeeder(x.engine.threads ?? 2);
  try {
    for (const [bi, batch] of x.inputs.entries()) {
      const [act] = await prefix.run(batch);
      await feeder.add(acc, gatherPatches(act, x.graph.layout, x.conv, x.rows[bi], x.outHW), Float32Array.from(x.targets[bi]), x.rows[bi].length);
    }
  } finally {
    await prefix.dispose();
    await feeder.release();
  }
  return acc.centred();
}

/** E with a given bias b: E(optimal bias) + ‖b − b*‖² (the cross term vanishes at the optimum). */
function errorWithBias(w: Float64Array, bias: Float32Array | null, m: CentredMoments): number {
  const best = optimalBias(w, m);
  let shift = 0;
  for (let n = 0; n < best.length; n++) shift += ((bias?.[n] ?? 0) - best[n]) ** 2;
  return outputError(w, m) + shift;
}

/** Null when the statistics had to be kept per channel (the refit needs the whole covariance). */
export async function refitNdLayer(x: NdLayerRefitInput): Promise<NdLayerRefit | null> {
  const { layer, conv } = x;
  const [N, C, kh, kw] = conv.kernel.shape;
  const dims: NdDims = { N, C, K: kh * kw };
  // The layer's input in the converted graph: a replaced conv before it is now its replacement's output.
  const feed = x.graph.nodes.find((n) => n.name === layer.replacedBy[0])?.inputs[0] ?? conv.inputs[0];
  const m = x.moments ?? (await layerMoments({ ...x, feed }));
  if (m.form !== 'full') return null;
  const rel = (e: number) => (m.yEnergy > 0 ? Math.sqrt(e / m.yEnergy) : 0);
  const plain = toFactors64(decouple(conv.kernel, { order: layer.order, rank: layer.rank, name: layer.name }));
  const before = rel(errorWithBias(ndKernel64(plain, dims), conv.bias, m));
  const runs: { start: 'plain' | 'whitened'; fit: ReturnType<typeof refitNd> }[] = [{ start: 'plain', fit: refitNd(plain, m, dims, { rounds: x.rounds }) }];
  if (x.dataAware && layer.order === 'dw-pw') runs.push({ start: 'whitened' as const, fit: refitNd(whitenedDecouple(conv.kernel, m, layer.rank), m, dims, { rounds: x.rounds }) });
  const best = runs.reduce((a, b) => (b.fit.error < a.fit.error ? b : a));
  const after = rel(best.fit.error);
  const common = { before, rows: m.count, statistics: m.form, steps: best.fit.errors.map(rel) };
  if (!(after < before)) return { graph: x.graph, after: before, start: 'plain', ...common };
  const refit: Conv2DNode = { ...conv, inputs: [feed, ...conv.inputs.slice(1)], bias: Float32Array.from(best.fit.bias) };
  const nd = toNdFactors(best.fit.factors, conv.kernel.shape);
  const rep = layer.order === 'dw-pw' ? dwPwReplacement(refit, nd, layer.form, x.graph.layout) : pwDwReplacement(refit, nd, layer.form);
  const byName = new Map(rep.nodes.map((n) => [n.name, n]));
  if (rep.nodes.length !== layer.replacedBy.length || !layer.replacedBy.every((n) => byName.has(n))) {
    throw new Error(`netdecouple: layer "${layer.name}": the refit replacement does not match the spliced nodes; convert again without --calibrate`);
  }
  return { graph: { ...x.graph, nodes: x.graph.nodes.map((n) => byName.get(n.name) ?? n) }, after, start: best.start, ...common };
}
