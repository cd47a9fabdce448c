/**
 * Data-driven, still training-free: refit each replaced layer's last linear factor by ridge least
 * squares so that, given the *converted* network's input to that layer, it reproduces the
 * *original* layer's pre-activation output (Zhang et al. 2016, asymmetric reconstruction).
 * Layers are processed in order, so later layers correct the error earlier ones leave.
 * Memory stays bounded: only `rowsPerLayer` sampled pixel rows per layer are ever kept.
 */
import { type Conv2DNode, type Graph, type Node } from '../models/ir.js';
import { RidgeAccumulator } from '../decompose/least-squares.js';
import { mulberry32 } from '../decompose/random.js';
import type { Conversion } from '../convert/convert.js';
import type { Engine } from './engine.js';
import { accumulateDepthwise, applyTaps, currentTaps, depthwiseTail, gatherRows, type DepthwiseTail } from './calibrate-depthwise.js';
import { refitNdLayer } from './calibrate-nd.js';
import { isFactorMethod, refitFactorLayer } from './calibrate-factors.js';
import type { Batch } from './tfjs-run.js';
import { refitGhost } from './calibrate-ghost.js';

export type CalibrationMode = 'joint' | 'lsq' | 'bias';
export const CALIBRATION_MODES: CalibrationMode[] = ['joint', 'lsq', 'bias'];

export interface CalibrationOptions {
  /**
   * 'joint' (default) refits every factor of network-decoupled, Tucker-2, spatial and CP layers against
   * the layer's output (calibrate-nd.ts, calibrate-factors.ts) and the last linear factor of the others; 'lsq' refits only the last linear
   * factor; 'bias' only shifts the bias (cheaper, weaker).
   */
  mode?: CalibrationMode;
  /** 'joint': also start from the activation-whitened decomposition, keep the better (default true). */
  dataAware?: boolean;
  /** 'joint': block-coordinate rounds per layer (default 8 for ND, 6 for the multilinear methods: calibrate-factors.ts). */
  rounds?: number;
  /** Most sampled output pixels per layer (default 8192; at most 24 per refit weight of an output). */
  rowsPerLayer?: number;
  /** Ridge strength relative to the mean feature energy (default 1e-3). */
  lambda?: number;
  seed?: number;
  onLayer?: (name: string, index: number, total: number) => void;
}

export interface LayerCalibration {
  name: string;
  /** The node whose weights were refit. */
  refit: string | null;
  rows: number;
  /** Relative L2 error of the pre-activation output on the sampled rows, before and after the refit (after > before: the refit was discarded, see `skipped`). */
  relErrorBefore: number | null;
  relErrorAfter: number | null;
  skipped?: string;
  /** 'joint' on ND, Tucker-2, spatial and CP layers: which decomposition the kept refit started from. */
  start?: 'plain' | 'whitened';
  /** 'joint': input statistics kept whole ('full') or per channel ('blocks'). */
  statistics?: 'full' | 'blocks';
  /** 'joint': relative error after each block step of the kept run. */
  steps?: number[];
}

/**
 * 'joint': the network's output error on the calibration data after the joint refit and after the
 * last-factor refit ('lsq'); the lower one's weights are kept.
 */
export interface OutputCheck {
  joint: number;
  lastFactor: number;
  kept: 'joint' | 'lsq';
}

export interface Calibration {
  graph: Graph;
  /** The conversion's layers after calibration (a Ghost data fit may rebuild a layer). */
  conversionLayers: Conversion['layers'];
  layers: LayerCalibration[];
  mode: CalibrationMode;
  images: number;
  outputCheck?: OutputCheck;
}

/** ‖f(x) − g(x)‖ / ‖f(x)‖ of each candidate's first output against the reference's, over all batches. */
async function outputRelErrors(engine: Engine, reference: Graph, candidates: Graph[], inputs: Batch[]): Promise<number[]> {
  const models = [await engine.prepare(reference), ...(await Promise.all(candidates.map((g) => engine.prepare(g))))];
  const se = candidates.map(() => 0);
  let yy = 0;
  try {
    for (const batch of inputs) {
      const [[y], ...outs] = await Promise.all(models.map((m) => m.run(batch)));
      for (let i = 0; i < y.data.length; i++) yy += y.data[i] ** 2;
      outs.forEach(([z], ci) => {
        for (let i = 0; i < y.data.length; i++) se[ci] += (y.data[i] - z.data[i]) ** 2;
      });
    }
  } finally {
    await Promise.all(models.map((m) => m.dispose()));
  }
  return se.map((e) => (yy === 0 ? 0 : Math.sqrt(e / yy)));
}

/**
 * Layer-wise gains need not add up at the network's output (each layer is fit to its
 * pre-activation output, not to what the rest of the network makes of it), so 'joint' also runs
 * the last-factor refit and keeps whichever leaves the lower output error on the calibration data:
 * never worse than plain decomposition + refit there, by construction.
 */
export async function calibrate(engine: Engine, conv: Conversion, inputs: Batch[], opts: CalibrationOptions = {}): Promise<Calibration> {
  const joint = await calibrateLayers(engine, conv, inputs, opts);
  if (joint.mode !== 'joint' || !joint.layers.some((l) => l.start !== undefined)) return joint;
  const lsq = await calibrateLayers(engine, conv, inputs, { ...opts, mode: 'lsq', onLayer: undefined });
  const [ej, el] = await outputRelErrors(engine, conv.reference, [joint.graph, lsq.graph], inputs);
  const outputCheck: OutputCheck = { joint: ej, lastFactor: el, kept: ej <= el ? 'joint' : 'lsq' };
  return ej <= el ? { ...joint, outputCheck } : { ...lsq, mode: 'joint', outputCheck };
}

/** Positions (batch, y, x) sampled once per layer and batch, so Y and Z rows line up. */
interface Sample {
  rows: Int32Array; // flat pixel indices b·H·W + y·W + x
}

/** The reference graph with the named convs' activations split out, so pre-activation outputs are nodes. */
export function preActivationGraph(ref: Graph, names: Set<string>): Graph {
  const nodes: Node[] = [];
  const rename = new Map<string, string>();
  for (const n of ref.nodes) {
    const inputs = n.inputs.map((i) => rename.get(i) ?? i);
    if (n.op === 'conv2d' && names.has(n.name) && n.activation !== 'linear') {
      nodes.push({ ...n, inputs, activation: 'linear' });
      nodes.push({ op: 'activation', name: `${n.name}/act-ref`, inputs: [n.name], activation: n.activation });
      rename.set(n.name, `${n.name}/act-ref`);
    } else {
      nodes.push({ ...n, inputs } as Node);
    }
  }
  return { ...ref, nodes, outputs: ref.outputs.map((o) => rename.get(o) ?? o) };
}

/** The 1×1 conv whose weights are refit, when the replacement ends in one. */
function refitTarget(graph: Graph, output: string): Conv2DNode | null {
  const node = graph.nodes.find((n) => n.name === output);
  if (!node || node.op !== 'conv2d') return null;
  const [, , kh, kw] = node.kernel.shape;
  if (node.groups !== 1 || kh !== 1 || kw !== 1 || node.strides[0] !== 1 || node.strides[1] !== 1) return null;
  return node;
}

async function calibrateLayers(engine: Engine, conv: Conversion, inputs: Batch[], opts: CalibrationOptions): Promise<Calibration> {
  if (inputs.length === 0) throw new Error('calibration needs at least one input batch');
  if (conv.layers.length === 0) return { graph: conv.graph, conversionLayers: conv.layers, layers: [], mode: opts.mode ?? 'joint', images: inputs.reduce((a, b) => a + b.shape[0], 0) };
  const mode = opts.mode ?? 'joint';
  const maxRows = opts.rowsPerLayer ?? 8192;
  const rand = mulberry32(opts.seed ?? 1);
  const layout = conv.graph.layout;
  const names = conv.layers.map((l) => l.name);
  const pre = preActivationGraph(conv.reference, new Set(names));
  // A least-squares fit needs a few times more rows than unknowns; more only costs time (F² per row).
  const unknowns = (l: Conversion['layers'][number]) => {
    if (l.method === 'ghost') return l.kernel[0] * l.kernel[1] * l.kernel[2] + 1;
    const pw = refitTarget(conv.graph, l.output);
    if (pw) return pw.kernel.shape[1] + 1;
    const tail = depthwiseTail(conv.graph, l.replacedBy, l.output);
    return tail ? tail.parts.length * tail.parts[0].node.kernel.shape[2] * tail.parts[0].node.kernel.shape[3] + 1 : 1;
  };
  const refConv = new Map(conv.reference.nodes.filter((n): n is Conv2DNode => n.op === 'conv2d').map((n) => [n.name, n]));
  const jointNd = (l: Conversion['layers'][number]) => mode === 'joint' && (l.method === 'nd' || isFactorMethod(l.method)) && refConv.has(l.name);
  // The joint refit reads the C·K patch covariance: ~16 rows per patch feature condition it, and
  // its Gram costs rows·F², and 4× more sampled pixels changed nothing measurable on fmnist-vgg.
  const patchFeatures = (l: Conversion['layers'][number]) => l.kernel[0] * l.kernel[1] * l.kernel[2] + 1;
  const rowsFor = new Map(conv.layers.map((l) => [l.name, jointNd(l) ? Math.min(65536, Math.max(maxRows, 16 * patchFeatures(l))) : Math.min(maxRows, Math.max(256, 24 * unknowns(l)))]));
  const outHW = new Map<string, [number, number]>();

  // 1. Targets: the original layers' pre-activation outputs, sampled once (small: rows × N per layer).
  const samples = new Map<string, Sample[]>();
  const targets = new Map<string, Float64Array[]>();
  const preModel = await engine.prepare(pre, names);
  for (const batch of inputs) {
    const acts = await preModel.run(batch);
    names.forEach((name, li) => {
      const a = acts[li];
      const pixels = a.data.length / (layout === 'NHWC' ? a.shape[3] : a.shape[1]);
      outHW.set(name, layout === 'NHWC' ? [a.shape[1], a.shape[2]] : [a.shape[2], a.shape[3]]);
      const want = Math.min(pixels, Math.ceil((rowsFor.get(name) as number) / inputs.length));
      const rows = new Int32Array(want);
      for (let r = 0; r < want; r++) rows[r] = want === pixels ? r : Math.floor(rand() * pixels);
      samples.set(name, [...(samples.get(name) ?? []), { rows }]);
      targets.set(name, [...(targets.get(name) ?? []), gatherRows(a, layout, rows)]);
    });
  }
  await preModel.dispose();

  // 2. Layer by layer, on the network converted (and calibrated) so far.
  let graph = conv.graph;
  const report: LayerCalibration[] = [];
  const layersOut = [...conv.layers];
  for (const [li, layer] of conv.layers.entries()) {
    opts.onLayer?.(layer.name, li, conv.layers.length);
    if (layer.method === 'ghost') {
      if (layer.ghost?.fit !== 'data' || mode === 'bias') {
        report.push({ name: layer.name, refit: null, rows: 0, relErrorBefore: null, relErrorAfter: null, skipped: mode === 'bias' ? 'Ghost layers are not refit in bias mode' : 'Ghost with the weight-space fit (--ghost-fit weights): left as fitted' });
        continue;
      }
      const reference = conv.reference.nodes.find((n) => n.name === layer.name) as Conv2DNode;
      const res = await refitGhost(engine, graph, layer, reference, { inputs, rows: (samples.get(layer.name) as Sample[]).map((x) => x.rows), targets: targets.get(layer.name) as Float64Array[] }, { lambda: opts.lambda ?? 1e-3, minR2: layer.ghost.minR2 });
      graph = res.graph;
      layersOut[li] = res.layer;
      report.push({ name: layer.name, refit: res.accepted ? res.layer.replacedBy.join(', ') : null, rows: res.rows, relErrorBefore: res.before, relErrorAfter: res.after, ...(res.accepted ? {} : { skipped: 'the data fit did not lower the error; kept the weight-space fit' }) });
      continue;
    }
    if (jointNd(layer)) {
      const input = {
        engine, graph, layer, conv: refConv.get(layer.name) as Conv2DNode, inputs,
        rows: (samples.get(layer.name) as Sample[]).map((x) => x.rows), targets: targets.get(layer.name) as Float64Array[],
        outHW: outHW.get(layer.name) as [number, number], dataAware: opts.dataAware ?? true, rounds: opts.rounds,
      };
      const res = isFactorMethod(layer.method) ? await refitFactorLayer({ ...input, method: layer.method }) : await refitNdLayer(input);
      if (res) {
        graph = res.graph;
        report.push({
          name: layer.name, refit: layer.replacedBy.join(', '), rows: res.rows, relErrorBefore: res.before, relErrorAfter: res.after,
          start: res.start, statistics: res.statistics, steps: res.steps, ...(res.after < res.before ? {} : { skipped: 'the refit did not lower the error; kept the decomposition' }),
        });
        continue;
      }
    }
    const target = refitTarget(graph, layer.output);
    if (!target) {
      const tail = depthwiseTail(graph, layer.replacedBy, layer.output);
      if (!tail) {
        report.push({ name: layer.name, refit: null, rows: 0, relErrorBefore: null, relErrorAfter: null, skipped: 'the replacement ends in neither a 1×1 conv nor depthwise convs; left as decomposed' });
        continue;
      }
      const res = await refitDepthwise(engine, graph, tail, inputs, (samples.get(layer.name) as Sample[]).map((x) => x.rows), targets.get(layer.name) as Float64Array[], mode, opts.lambda ?? 1e-3);
      if (res.after < res.before) graph = res.graph;
      report.push({ name: layer.name, refit: tail.parts.map((p) => p.node.name).filter((v, i, a) => a.indexOf(v) === i).join(', '), rows: res.rows, relErrorBefore: res.before, relErrorAfter: res.after, ...(res.after < res.before ? {} : { skipped: 'the refit did not lower the error; kept the decomposition' }) });
      continue;
    }
    const [N, F] = target.kernel.shape;
    const acc = new RidgeAccumulator(F, N);
    const prefix = await engine.prepare(graph, [target.inputs[0]]);
    for (const [bi, batch] of inputs.entries()) {
      const [z] = await prefix.run(batch);
      const { rows } = (samples.get(layer.name) as Sample[])[bi];
      acc.add(gatherRows(z, layout, rows), (targets.get(layer.name) as Float64Array[])[bi], rows.length);
    }
    await prefix.dispose();
    // Current weights as F×N (the accumulator's layout) from OIHW [N, F, 1, 1].
    const w0 = new Float64Array(F * N);
    for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) w0[f * N + n] = target.kernel.data[n * F + f];
    const b0 = Float64Array.from(target.bias ?? new Float32Array(N));
    const before = acc.relError(w0, b0);
    const fit = mode !== 'bias' ? acc.solve(w0, b0, opts.lambda ?? 1e-3) : acc.solveBias(w0, b0);
    const after = acc.relError(fit.weight, fit.bias);
    if (!(after < before)) {
      report.push({ name: layer.name, refit: target.name, rows: acc.rows, relErrorBefore: before, relErrorAfter: after, skipped: 'the refit did not lower the error; kept the decomposition' });
      continue;
    }
    const kernel = new Float32Array(N * F);
    for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) kernel[n * F + f] = fit.weight[f * N + n];
    const refit: Conv2DNode = { ...target, kernel: { shape: target.kernel.shape, data: kernel }, bias: Float32Array.from(fit.bias) };
    graph = { ...graph, nodes: graph.nodes.map((n) => (n.name === target.name ? refit : n)) };
    report.push({ name: layer.name, refit: target.name, rows: acc.rows, relErrorBefore: before, relErrorAfter: after });
  }
  return { graph, conversionLayers: layersOut, layers: report, mode, images: inputs.reduce((a, b) => a + b.shape[0], 0) };
}

async function refitDepthwise(
  engine: Engine, graph: Graph, tail: DepthwiseTail, inputs: Batch[], rows: Int32Array[], targets: Float64Array[], mode: CalibrationMode, lambda: number,
): Promise<{ graph: Graph; before: number; after: number; rows: number }> {
  const N = tail.outputs;
  const K = tail.parts[0].node.kernel.shape[2] * tail.parts[0].node.kernel.shape[3];
  const accs = Array.from({ length: N }, () => new RidgeAccumulator(tail.parts.length * K, 1));
  const feeds = tail.parts.map((p) => p.node.inputs[0]);
  const unique = [...new Set(feeds)];
  const prefix = await engine.prepare(graph, [...unique, tail.parts[0].node.name]);
  for (const [bi, batch] of inputs.entries()) {
    const acts = await prefix.run(batch);
    const out = acts[unique.length];
    const outHW: [number, number] = graph.layout === 'NHWC' ? [out.shape[1], out.shape[2]] : [out.shape[2], out.shape[3]];
    accumulateDepthwise(accs, tail, feeds.map((f) => acts[unique.indexOf(f)]), graph.layout, rows[bi], outHW, targets[bi]);
  }
  await prefix.dispose();
  let se0 = 0;
  let se1 = 0;
  let yy = 0;
  const fits = accs.map((acc, n) => {
    const { w, b } = currentTaps(tail, n);
    const fit = mode !== 'bias' ? acc.solve(w, b, lambda) : acc.solveBias(w, b);
    // relError is relative to this channel's ‖y‖; recombine into the layer's relative error.
    const y2 = acc.outputEnergy();
    se0 += acc.relError(w, b) ** 2 * y2;
    se1 += acc.relError(fit.weight, fit.bias) ** 2 * y2;
    yy += y2;
    return fit;
  });
  const before = yy === 0 ? 0 : Math.sqrt(se0 / yy);
  const after = yy === 0 ? 0 : Math.sqrt(se1 / yy);
  return { graph: applyTaps(graph, tail, fits), before, after, rows: accs[0]?.rows ?? 0 };
}
