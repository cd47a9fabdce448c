/**
 * The Ghost method's data fit (docs/ghost.md §3), run by calibrate() in network order on the
 * network converted so far:
 *   1. refit the whole conv on the converted network's input by ridge least squares against the
 *      original layer's pre-activation output (asymmetric reconstruction): the primaries' filters;
 *   2. run that refit conv, and from the d×d patches of every channel's output at the sampled
 *      pixels against the targets, choose primaries, assign ghosts and fit each ghost's filter and
 *      bias (src/decompose/ghost.ts);
 *   3. rebuild the layer from the new choice; kept only if its error on the sampled pixels is lower.
 */
import { type Conv2DNode, type Graph, type Node } from '../models/ir.js';
import { RidgeAccumulator } from '../decompose/least-squares.js';
import { GhostDataStats, ghostFromStats, ghostPatches, type GhostResult } from '../decompose/ghost.js';
import type { LayerConversion } from '../convert/convert.js';
import { ghostReplacement } from '../convert/ghost-rewrite.js';
import { gatherRows } from './calibrate-depthwise.js';
import { gatherPatches } from './calibrate-nd.js';
import type { Engine } from './engine.js';
import type { Batch } from './tfjs-run.js';
import { singleLayerGraph } from './layer-alone.js';

export interface GhostRefit {
  graph: Graph;
  layer: LayerConversion;
  before: number;
  after: number;
  rows: number;
  accepted: boolean;
}

/** Replaces a layer's nodes (contiguous, as splice() laid them out) by new ones, rewiring its output. */
function swapLayer(graph: Graph, old: { names: string[]; output: string }, nodes: Node[], output: string): Graph {
  const gone = new Set(old.names);
  const at = graph.nodes.findIndex((n) => gone.has(n.name));
  const rename = (i: string) => (i === old.output ? output : i);
  const rest = graph.nodes.filter((n) => !gone.has(n.name)).map((n) => (n.inputs.includes(old.output) ? ({ ...n, inputs: n.inputs.map(rename) } as Node) : n));
  return { ...graph, nodes: [...rest.slice(0, at), ...nodes, ...rest.slice(at)], outputs: graph.outputs.map(rename) };
}

export async function refitGhost(
  engine: Engine,
  graph: Graph,
  layer: LayerConversion,
  reference: Conv2DNode,
  data: { inputs: Batch[]; rows: Int32Array[]; targets: Float64Array[] },
  opts: { lambda: number; minR2?: number },
): Promise<GhostRefit> {
  const g = layer.ghost as NonNullable<LayerConversion['ghost']>;
  const layout = graph.layout;
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const first = (byName.get(`${layer.name}/primary`) ?? byName.get(`${layer.name}/solo`)) as Conv2DNode | undefined;
  if (!first) throw new Error(`layer "${layer.name}": its Ghost replacement has no primary conv`);
  const feed = first.inputs[0];
  // Errors are pre-activation: before the layer's activation node, or with a fused one switched off.
  const outNode = byName.get(layer.output);
  const pre = outNode?.op === 'activation' ? outNode.inputs[0] : layer.output;
  const probe = outNode?.op === 'conv2d' ? { ...graph, nodes: graph.nodes.map((n) => (n === outNode ? { ...outNode, activation: 'linear' as const } : n)) } : graph;
  const conv: Conv2DNode = { ...reference, inputs: [feed], activation: 'linear' };
  const [N, C, kh, kw] = conv.kernel.shape;
  const F = C * kh * kw;

  // 1. Primaries: the whole conv refit on the converted network's input; the current error on the way.
  const acc = new RidgeAccumulator(F, N);
  const prefix = await engine.prepare(probe, [feed, pre]);
  let se0 = 0;
  let yy = 0;
  let outHW: [number, number] = [0, 0];
  for (const [bi, batch] of data.inputs.entries()) {
    const [x, y] = await prefix.run(batch);
    outHW = layout === 'NHWC' ? [y.shape[1], y.shape[2]] : [y.shape[2], y.shape[3]];
    acc.add(Float64Array.from(gatherPatches(x, layout, conv, data.rows[bi], outHW)), data.targets[bi], data.rows[bi].length);
    const yh = gatherRows(y, layout, data.rows[bi]);
    const t = data.targets[bi];
    for (let i = 0; i < t.length; i++) {
      se0 += (yh[i] - t[i]) ** 2;
      yy += t[i] ** 2;
    }
  }
  const w0 = new Float64Array(F * N);
  for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) w0[f * N + n] = conv.kernel.data[n * F + f];
  const fit = acc.solve(w0, Float64Array.from(conv.bias ?? new Float32Array(N)), opts.lambda);
  const kernel = new Float32Array(N * F);
  for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) kernel[n * F + f] = fit.weight[f * N + n];
  const refit: Conv2DNode = { ...conv, name: `${layer.name}/refit`, kernel: { shape: conv.kernel.shape, data: kernel }, bias: Float32Array.from(fit.bias) };

  // 2. Ghost statistics on the refit conv's outputs.
  const stats = new GhostDataStats(N, g.kernelSize);
  const primarySe = new Float64Array(N);
  let mini: Awaited<ReturnType<Engine['prepare']>> | null = null;
  for (const [bi, batch] of data.inputs.entries()) {
    const [x] = await prefix.run(batch);
    if (!mini) {
      mini = await engine.prepare(singleLayerGraph({ name: `${layer.name}_ghost_fit`, layout, nodes: [refit], input: feed, output: refit.name }, x.shape.slice(1)));
    }
    const [p] = await mini.run(x);
    const [B, e1, e2, e3] = p.shape;
    const maps = layout === 'NHWC' ? { height: e1, width: e2, channelsLast: true } : { height: e2, width: e3, channelsLast: false };
    const rows = data.rows[bi];
    stats.add(ghostPatches({ data: p.data, batch: B, channels: N, ...maps }, rows, g.kernelSize), data.targets[bi], rows.length);
    const ph = gatherRows(p, layout, rows);
    for (let i = 0; i < ph.length; i++) primarySe[i % N] += (ph[i] - data.targets[bi][i]) ** 2;
  }
  await prefix.dispose();
  await mini?.dispose();
  const r: GhostResult = ghostFromStats(stats.stats(), { ratio: g.ratio, kernelSize: g.kernelSize, minR2: opts.minR2, name: layer.name });

  // 3. Error of the new layer on the sampled pixels: primaries' refit residual + the ghosts' fit residual.
  let seAfter = r.relError ** 2 * yy;
  for (const p of [...r.primaries, ...r.solo]) seAfter += primarySe[p];
  const before = yy > 0 ? Math.sqrt(se0 / yy) : 0;
  const after = yy > 0 ? Math.sqrt(seAfter / yy) : 0;
  const rowsUsed = acc.rows;
  if (!(after < before)) return { graph, layer, before, after, rows: rowsUsed, accepted: false };
  // The rebuilt layer ends in the original conv's activation, as the one it replaces did.
  const rep = ghostReplacement({ ...conv, activation: reference.activation }, r, { form: layer.form, layout, weights: { kernel: refit.kernel, bias: refit.bias } });
  const next = swapLayer(graph, { names: layer.replacedBy, output: layer.output }, rep.nodes, rep.output);
  const ghostR2 = Array.from(r.ghosts).filter((c) => c >= 0).map((c) => r.r2[c]);
  const updated: LayerConversion = {
    ...layer, replacedBy: rep.nodes.map((n) => n.name), output: rep.output,
    ghost: { ...g, fit: 'data', primaries: r.primaries.length + r.solo.length, promoted: r.promoted, meanR2: ghostR2.length ? ghostR2.reduce((a, b) => a + b, 0) / ghostR2.length : 1 },
  };
  return { graph: next, layer: updated, before, after, rows: rowsUsed, accepted: true };
}
