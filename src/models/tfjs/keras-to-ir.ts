/**
 * Keras topology (as the TF.js converter writes it) → IR graph. Sequential and functional models;
 * kernels are transposed from HWIO to the IR's OIHW here and nowhere else.
 */
import type { ActivationName, Graph, Node, Padding, Tensor } from '../ir.js';
import { ModelFormatError } from './files.js';
import type { NamedWeight } from './weights.js';
import { customLayer } from './custom-layers.js';
import { registerOutputShape } from '../custom-shapes.js';
import { inferShapes } from '../shapes.js';

type Json = Record<string, unknown>;

interface KerasLayer {
  class_name: string;
  config: Json;
  name: string;
  inbound_nodes: unknown[];
}

/** HWIO [kh, kw, C, N] → OIHW [N, C, kh, kw]. */
export function hwioToOihw(w: NamedWeight): Tensor {
  const [kh, kw, c, n] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let ci = 0; ci < c; ci++)
        for (let ni = 0; ni < n; ni++) out[((ni * c + ci) * kh + i) * kw + j] = w.data[((i * kw + j) * c + ci) * n + ni];
  return { shape: [n, c, kh, kw], data: out };
}

/** Depthwise HWCM [kh, kw, C, m] → OIHW [C·m, 1, kh, kw] (output channel c·m + j, as Keras orders them). */
export function depthwiseToOihw(w: NamedWeight): Tensor {
  const [kh, kw, c, m] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let ci = 0; ci < c; ci++)
        for (let mi = 0; mi < m; mi++) out[((ci * m + mi) * kh + i) * kw + j] = w.data[((i * kw + j) * c + ci) * m + mi];
  return { shape: [c * m, 1, kh, kw], data: out };
}

/** Dense [in, out] → [out, in]. */
export function denseToOutIn(w: NamedWeight): Tensor {
  const [inF, outF] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) out[o * inF + i] = w.data[i * outF + o];
  return { shape: [outF, inF], data: out };
}

function pair(v: unknown, what: string): [number, number] {
  const a = Array.isArray(v) ? v : [v, v];
  if (a.length !== 2 || a.some((x) => !Number.isInteger(x) || (x as number) < 1 || (x as number) > 4096)) {
    throw new ModelFormatError(`${what}: expected a positive integer or a pair, got ${JSON.stringify(v)}`);
  }
  return [a[0] as number, a[1] as number];
}

function padding(v: unknown, what: string): Padding {
  if (v === 'same' || v === 'valid') return v;
  throw new ModelFormatError(`${what}: padding "${String(v)}" is not supported (same, valid)`);
}

function channelsLast(cfg: Json, what: string): void {
  if (cfg.data_format !== undefined && cfg.data_format !== null && cfg.data_format !== 'channels_last') {
    throw new ModelFormatError(`${what}: data_format "${String(cfg.data_format)}" is not supported; TF.js runs channels_last only`);
  }
}

function activationOf(v: unknown): ActivationName {
  if (v === undefined || v === null) return 'linear';
  if (typeof v === 'string') return v;
  // Keras 3 serialises activations as objects.
  if (typeof v === 'object' && typeof (v as Json).config === 'object') return String(((v as Json).config as Json).name ?? 'linear');
  return String(v);
}

/** Weights of one layer by role ("kernel", "bias", "gamma"…). */
function layerWeights(all: Map<string, NamedWeight>, layer: string): Map<string, NamedWeight> {
  const out = new Map<string, NamedWeight>();
  for (const w of all.values()) {
    const clean = w.name.replace(/:\d+$/, '');
    const cut = clean.lastIndexOf('/');
    const owner = clean.slice(0, cut);
    if (owner === layer || owner.endsWith(`/${layer}`)) out.set(clean.slice(cut + 1), w);
  }
  return out;
}

function need(ws: Map<string, NamedWeight>, role: string, layer: string, shape?: number[]): NamedWeight {
  const w = ws.get(role);
  if (!w) throw new ModelFormatError(`layer "${layer}": weight "${role}" missing from the weights manifest`);
  if (shape && (w.shape.length !== shape.length || w.shape.some((d, i) => shape[i] >= 0 && d !== shape[i]))) {
    throw new ModelFormatError(`layer "${layer}": weight "${role}" has shape [${w.shape}], expected [${shape.map((d) => (d < 0 ? '?' : d))}]`);
  }
  return w;
}

/** Inbound layer names of a Keras-2 functional layer; shared layers (called twice) are refused. */
function inboundNames(layer: KerasLayer): string[] {
  const nodes = layer.inbound_nodes ?? [];
  if (!Array.isArray(nodes)) throw new ModelFormatError(`layer "${layer.name}": inbound_nodes must be a list`);
  if (nodes.length > 1) throw new ModelFormatError(`layer "${layer.name}" is shared (called ${nodes.length} times); shared layers are not supported`);
  if (nodes.length === 0) return [];
  const call = nodes[0];
  if (Array.isArray(call)) {
    return call.map((ref) => {
      if (!Array.isArray(ref) || typeof ref[0] !== 'string') throw new ModelFormatError(`layer "${layer.name}": unreadable inbound node ${JSON.stringify(ref)}`);
      if (ref[2] !== 0 && ref[2] !== undefined) throw new ModelFormatError(`layer "${layer.name}": multi-output inbound layers are not supported`);
      return ref[0];
    });
  }
  throw new ModelFormatError(`layer "${layer.name}": inbound nodes in Keras 3 format are not supported; convert with the TF.js converter from Keras 2 / tf.keras`);
}

const IDENTITY = new Set(['Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization']);

/** Classes kept as opaque pass-through nodes whose output shape equals their input shape. */
const ELEMENTWISE_OPAQUE = new Set(['PReLU', 'ThresholdedReLU', 'LayerNormalization', 'Subtract', 'Average', 'Maximum', 'Minimum']);
for (const cls of ELEMENTWISE_OPAQUE) registerOutputShape(cls, (ins) => [...ins[0]]);

function layerToNode(layer: KerasLayer, inputs: string[], weights: Map<string, NamedWeight>): Node[] {
  const { class_name: cls, config: cfg, name } = layer;
  const what = `layer "${name}" (${cls})`;
  const source = { format: 'tfjs' as const, className: cls, config: cfg };
  const ws = layerWeights(weights, name);
  switch (cls) {
    case 'InputLayer': {
      const shape = (cfg.batch_input_shape ?? cfg.batch_shape) as (number | null)[] | undefined;
      if (!Array.isArray(shape)) throw new ModelFormatError(`${what}: batch_input_shape missing`);
      return [{ op: 'input', name, inputs: [], shape: shape.slice(1), dtype: cfg.dtype === 'int32' ? 'int32' : 'float32', source }];
    }
    case 'Conv2D': {
      channelsLast(cfg, what);
      if (cfg.groups !== undefined && cfg.groups !== 1) throw new ModelFormatError(`${what}: groups = ${String(cfg.groups)} is not supported`);
      const k = pair(cfg.kernel_size, what);
      const kernel = need(ws, 'kernel', name, [k[0], k[1], -1, Number(cfg.filters)]);
      const bias = cfg.use_bias === false ? null : need(ws, 'bias', name, [Number(cfg.filters)]).data;
      return [{ op: 'conv2d', name, inputs, source, kernel: hwioToOihw(kernel), bias, strides: pair(cfg.strides ?? 1, what), dilations: pair(cfg.dilation_rate ?? 1, what), padding: padding(cfg.padding, what), groups: 1, activation: activationOf(cfg.activation) }];
    }
    case 'DepthwiseConv2D': {
      channelsLast(cfg, what);
      const k = pair(cfg.kernel_size, what);
      const kernel = need(ws, 'depthwise_kernel', name, [k[0], k[1], -1, Number(cfg.depth_multiplier ?? 1)]);
      const bias = cfg.use_bias === false ? null : need(ws, 'bias', name).data;
      return [{ op: 'conv2d', name, inputs, source, kernel: depthwiseToOihw(kernel), bias, strides: pair(cfg.strides ?? 1, what), dilations: pair(cfg.dilation_rate ?? 1, what), padding: padding(cfg.padding, what), groups: kernel.shape[2], activation: activationOf(cfg.activation) }];
    }
    case 'SeparableConv2D': {
      // Already separable: represented as its two convs (written back as DepthwiseConv2D + Conv2D).
      channelsLast(cfg, what);
      const dw = need(ws, 'depthwise_kernel', name);
      const pw = need(ws, 'pointwise_kernel', name);
      const bias = cfg.use_bias === false ? null : need(ws, 'bias', name).data;
      const dwName = `${name}/dw`;
      return [
        { op: 'conv2d', name: dwName, inputs, kernel: depthwiseToOihw(dw), bias: null, strides: pair(cfg.strides ?? 1, what), dilations: pair(cfg.dilation_rate ?? 1, what), padding: padding(cfg.padding, what), groups: dw.shape[2], activation: 'linear' },
        { op: 'conv2d', name, inputs: [dwName], kernel: hwioToOihw(pw), bias, strides: [1, 1], dilations: [1, 1], padding: 'valid', groups: 1, activation: activationOf(cfg.activation) },
      ];
    }
    case 'Dense': {
      const kernel = need(ws, 'kernel', name, [-1, Number(cfg.units)]);
      const bias = cfg.use_bias === false ? null : need(ws, 'bias', name).data;
      return [{ op: 'dense', name, inputs, source, weight: denseToOutIn(kernel), bias, activation: activationOf(cfg.activation) }];
    }
    case 'BatchNormalization': {
      const axis = Array.isArray(cfg.axis) ? (cfg.axis as number[]) : [Number(cfg.axis ?? -1)];
      if (axis.length !== 1) throw new ModelFormatError(`${what}: normalising over several axes is not supported`);
      return [{
        op: 'batchNorm', name, inputs, source, axis: axis[0], epsilon: Number(cfg.epsilon ?? 1e-3),
        gamma: cfg.scale === false ? null : need(ws, 'gamma', name).data,
        beta: cfg.center === false ? null : need(ws, 'beta', name).data,
        mean: need(ws, 'moving_mean', name).data,
        variance: need(ws, 'moving_variance', name).data,
      }];
    }
    case 'Activation':
      return [{ op: 'activation', name, inputs, source, activation: activationOf(cfg.activation) }];
    case 'ReLU': {
      const max = cfg.max_value === null || cfg.max_value === undefined ? null : Number(cfg.max_value);
      const slope = Number(cfg.negative_slope ?? 0);
      const threshold = Number(cfg.threshold ?? 0);
      if (slope === 0 && threshold === 0 && (max === null || max === 6)) {
        return [{ op: 'activation', name, inputs, source, activation: max === 6 ? 'relu6' : 'relu' }];
      }
      return [{ op: 'activation', name, inputs, source, activation: 'relu', params: { ...(max === null ? {} : { maxValue: max }), negativeSlope: slope, threshold } }];
    }
    case 'LeakyReLU':
      return [{ op: 'activation', name, inputs, source, activation: 'leakyRelu', params: { alpha: Number(cfg.alpha ?? cfg.negative_slope ?? 0.3) } }];
    case 'ELU':
      return [{ op: 'activation', name, inputs, source, activation: 'elu', params: { alpha: Number(cfg.alpha ?? 1) } }];
    case 'Softmax':
      return [{ op: 'activation', name, inputs, source, activation: 'softmax' }];
    case 'Add':
      return [{ op: 'add', name, inputs, source }];
    case 'Multiply':
      return [{ op: 'multiply', name, inputs, source }];
    case 'Concatenate':
      return [{ op: 'concat', name, inputs, source, axis: Number(cfg.axis ?? -1) }];
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      channelsLast(cfg, what);
      const pool = pair(cfg.pool_size ?? 2, what);
      return [{ op: cls === 'MaxPooling2D' ? 'maxPool' : 'avgPool', name, inputs, source, poolSize: pool, strides: cfg.strides ? pair(cfg.strides, what) : pool, padding: padding(cfg.padding ?? 'valid', what) }];
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      channelsLast(cfg, what);
      return [{ op: cls === 'GlobalAveragePooling2D' ? 'globalAvgPool' : 'globalMaxPool', name, inputs, source, keepDims: cfg.keepdims === true }];
    case 'UpSampling2D': {
      channelsLast(cfg, what);
      const interp = cfg.interpolation ?? 'nearest';
      if (interp !== 'nearest' && interp !== 'bilinear') throw new ModelFormatError(`${what}: interpolation "${String(interp)}" is not supported`);
      return [{ op: 'upsample', name, inputs, source, size: pair(cfg.size ?? 2, what), interpolation: interp }];
    }
    case 'ZeroPadding2D': {
      channelsLast(cfg, what);
      const p = cfg.padding;
      let pads: [number, number, number, number];
      if (typeof p === 'number') pads = [p, p, p, p];
      else if (Array.isArray(p) && p.every((x) => typeof x === 'number')) pads = [p[0], p[1], p[0], p[1]] as [number, number, number, number];
      else if (Array.isArray(p) && p.every((x) => Array.isArray(x))) pads = [p[0][0], p[1][0], p[0][1], p[1][1]];
      else throw new ModelFormatError(`${what}: unreadable padding ${JSON.stringify(p)}`);
      return [{ op: 'zeroPad', name, inputs, source, pads }];
    }
    case 'Flatten':
      return [{ op: 'flatten', name, inputs, source }];
    case 'Reshape':
      return [{ op: 'reshape', name, inputs, source, targetShape: (cfg.target_shape as number[]).map(Number) }];
    default:
      break;
  }
  if (IDENTITY.has(cls)) return [{ op: 'identity', name, inputs, source }];
  const custom = customLayer(cls);
  if (custom || ELEMENTWISE_OPAQUE.has(cls)) {
    const own = [...ws.values()];
    return [{ op: 'opaque', name, inputs, source, weights: own.map((w) => ({ shape: w.shape, data: w.data })), weightNames: own.map((w) => w.name) }];
  }
  if (cls === 'Functional' || cls === 'Model' || cls === 'Sequential') {
    throw new ModelFormatError(`${what}: nested models are not supported; flatten the model before converting`);
  }
  throw new ModelFormatError(`unknown layer class "${cls}" (layer "${name}"): netdecouple cannot interpret it; register it with registerCustomLayer() (see README, "Custom layers")`);
}

/** Normalises Sequential configs (list or {layers}) to functional layers chained in order. */
function sequentialToFunctional(cfg: unknown): { layers: KerasLayer[]; inputs: string[]; outputs: string[]; name: string } {
  const list = (Array.isArray(cfg) ? cfg : (cfg as Json).layers) as Json[];
  if (!Array.isArray(list) || list.length === 0) throw new ModelFormatError('Sequential model has no layers');
  const layers: KerasLayer[] = [];
  let prev: string | null = null;
  for (const l of list) {
    const config = (l.config ?? {}) as Json;
    const name = String(config.name ?? l.name);
    if (prev === null && l.class_name !== 'InputLayer') {
      const shape = config.batch_input_shape ?? (config.input_shape ? [null, ...(config.input_shape as number[])] : undefined);
      if (!shape) throw new ModelFormatError(`Sequential model: first layer "${name}" declares no input shape`);
      layers.push({ class_name: 'InputLayer', name: `${name}_input`, config: { batch_input_shape: shape, dtype: 'float32', name: `${name}_input` }, inbound_nodes: [] });
      prev = `${name}_input`;
    }
    layers.push({ class_name: String(l.class_name), name, config, inbound_nodes: prev === null ? [] : [[[prev, 0, 0, {}]]] });
    prev = name;
  }
  return { layers, inputs: [layers[0].name], outputs: [prev as string], name: String((cfg as Json)?.name ?? 'sequential') };
}

export function kerasToGraph(modelTopology: Json, weights: Map<string, NamedWeight>): Graph {
  const modelConfig = (modelTopology.model_config ?? modelTopology) as Json;
  const cls = modelConfig.class_name;
  let layers: KerasLayer[];
  let inputs: string[];
  let outputs: string[];
  let name: string;
  if (cls === 'Sequential') {
    ({ layers, inputs, outputs, name } = sequentialToFunctional(modelConfig.config));
  } else if (cls === 'Functional' || cls === 'Model') {
    const cfg = modelConfig.config as Json;
    if (!cfg || !Array.isArray(cfg.layers)) throw new ModelFormatError('functional model config has no "layers" list');
    layers = (cfg.layers as Json[]).map((l) => ({ class_name: String(l.class_name), config: (l.config ?? {}) as Json, name: String(l.name ?? (l.config as Json)?.name), inbound_nodes: (l.inbound_nodes ?? []) as unknown[] }));
    const refs = (x: unknown) => (Array.isArray(x) ? (x as unknown[][]).map((r) => String(r[0])) : []);
    inputs = refs(cfg.input_layers);
    outputs = refs(cfg.output_layers);
    name = String(cfg.name ?? 'model');
  } else {
    throw new ModelFormatError(`model class "${String(cls)}" is not supported (Sequential, Functional)`);
  }
  const nodes: Node[] = [];
  const defined = new Set<string>();
  for (const layer of layers) {
    const ins = layer.class_name === 'InputLayer' ? [] : cls === 'Sequential' ? inboundNames(layer) : inboundNames(layer);
    for (const i of ins) if (!defined.has(i)) throw new ModelFormatError(`layer "${layer.name}": input "${i}" is not defined before it`);
    for (const n of layerToNode(layer, ins, weights)) {
      if (defined.has(n.name)) throw new ModelFormatError(`layer name "${n.name}" is used twice`);
      defined.add(n.name);
      nodes.push(n);
    }
  }
  for (const o of [...inputs, ...outputs]) if (!defined.has(o)) throw new ModelFormatError(`model input/output "${o}" is not a layer of the model`);
  const graph: Graph = { name, layout: 'NHWC', nodes, inputs, outputs, meta: { kerasVersion: modelTopology.keras_version, backend: modelTopology.backend } };
  attachCustomShapes(graph);
  return graph;
}

/** Opaque nodes get their output shape from the registered hook (or the input's, for elementwise classes). */
function attachCustomShapes(graph: Graph): void {
  if (!graph.nodes.some((n) => n.op === 'opaque')) return;
  const shapes = new Map<string, (number | null)[]>();
  // Infer progressively: each opaque node needs the shapes of its inputs first.
  for (const node of graph.nodes) {
    if (node.op === 'opaque' && node.source?.format === 'tfjs') {
      const ins = node.inputs.map((i) => shapes.get(i) as (number | null)[]);
      const custom = customLayer(node.source.className);
      node.outputShape = custom ? custom.outputShape(ins, node.source.config, graph.layout) : [...ins[0]];
    }
    const partial: Graph = { ...graph, nodes: [node], inputs: [] };
    const seeded = inferShapesFrom(partial, shapes);
    shapes.set(node.name, seeded);
  }
}

function inferShapesFrom(single: Graph, known: Map<string, (number | null)[]>): (number | null)[] {
  const node = single.nodes[0];
  const feeders: Node[] = node.inputs.map((i) => ({ op: 'input', name: i, inputs: [], shape: known.get(i) ?? [], dtype: 'float32' }) as Node);
  return inferShapes({ ...single, nodes: [...feeders, node] }).get(node.name) as (number | null)[];
}
