/**
 * IR graph → TF.js LayersModel artifacts (Keras functional topology + one weight buffer).
 * Layers read from a file keep their original config (pass-through); fields the IR owns
 * (kernel size, filters, activation…) are written from the IR so rewrites are reflected.
 * Only stock Keras layer classes are emitted: the result loads with plain tf.loadLayersModel.
 */
import type { Conv2DNode, Graph, Node, Tensor } from '../ir.js';
import { isDepthwise } from '../ir.js';
import type { WeightSpec } from './files.js';
import { inferShapes } from '../shapes.js';

type Json = Record<string, unknown>;

export interface LayersArtifacts {
  modelTopology: Json;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
}

/**
 * Keras layer names may not contain '/', which the IR uses for rewritten parts (`conv3/dw`), and
 * tfjs refuses weight names that don't start with a letter or digit or hold other characters than
 * [-._A-Za-z0-9] — which PyTorch-exported ONNX names (`/features/features.0/Conv`) do.
 */
export function kerasLayerName(irName: string): string {
  const name = irName.replace(/^\/+/, '').replace(/\//g, '__').replace(/[^-._A-Za-z0-9]/g, '_');
  return /^[A-Za-z0-9]/.test(name) ? name : `layer${name}`;
}

function oihwToHwio(t: Tensor): { shape: number[]; data: Float32Array } {
  const [n, c, kh, kw] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let ni = 0; ni < n; ni++)
    for (let ci = 0; ci < c; ci++)
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) out[((i * kw + j) * c + ci) * n + ni] = t.data[((ni * c + ci) * kh + i) * kw + j];
  return { shape: [kh, kw, c, n], data: out };
}

/** OIHW [C·m, 1, kh, kw] → depthwise HWCM [kh, kw, C, m]. */
function oihwToDepthwise(t: Tensor, channels: number): { shape: number[]; data: Float32Array } {
  const [cm, , kh, kw] = t.shape;
  const m = cm / channels;
  const out = new Float32Array(t.data.length);
  for (let c = 0; c < channels; c++)
    for (let mi = 0; mi < m; mi++)
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) out[((i * kw + j) * channels + c) * m + mi] = t.data[((c * m + mi) * kh + i) * kw + j];
  return { shape: [kh, kw, channels, m], data: out };
}

/** Grouped (non-depthwise) conv has no stock Keras layer in tfjs: lower it to a block-diagonal dense conv. */
function blockDiagonal(node: Conv2DNode): Tensor {
  const [n, cg, kh, kw] = node.kernel.shape;
  const c = cg * node.groups;
  const ng = n / node.groups;
  const out = new Float32Array(n * c * kh * kw);
  for (let o = 0; o < n; o++) {
    const g = Math.floor(o / ng);
    for (let ci = 0; ci < cg; ci++)
      for (let k = 0; k < kh * kw; k++) out[(o * c + g * cg + ci) * kh * kw + k] = node.kernel.data[(o * cg + ci) * kh * kw + k];
  }
  return { shape: [n, c, kh, kw], data: out };
}

function base(node: Node, cls: string): { className: string; config: Json } {
  const src = node.source?.format === 'tfjs' && node.source.className === cls ? node.source.config : {};
  return { className: cls, config: { trainable: true, dtype: 'float32', ...src, name: kerasLayerName(node.name) } };
}

const KERNEL_DEFAULTS = {
  kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
  bias_initializer: { class_name: 'Zeros', config: {} },
  kernel_regularizer: null,
  bias_regularizer: null,
  activity_regularizer: null,
  kernel_constraint: null,
  bias_constraint: null,
};

interface Emitted {
  className: string;
  config: Json;
  name: string;
  inputs: string[];
  weights: { role: string; shape: number[]; data: Float32Array }[];
}

/**
 * tfjs-layers' DepthwiseConv2D ignores dilation_rate (tfjs 4.22: "TODO(cais): Add support for
 * dilation"), so a dilated depthwise kernel is written as the equivalent undilated one with zeros
 * between the taps: exact in every runtime, at the cost of a larger kernel in TF.js.
 */
export function undilate(node: Conv2DNode): Conv2DNode {
  const [dh, dw] = node.dilations;
  if (dh === 1 && dw === 1) return node;
  const [n, cg, kh, kw] = node.kernel.shape;
  const eh = (kh - 1) * dh + 1;
  const ew = (kw - 1) * dw + 1;
  const data = new Float32Array(n * cg * eh * ew);
  for (let o = 0; o < n * cg; o++)
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) data[(o * eh + i * dh) * ew + j * dw] = node.kernel.data[(o * kh + i) * kw + j];
  return { ...node, kernel: { shape: [n, cg, eh, ew], data }, dilations: [1, 1] };
}

function emitConv(original: Conv2DNode, inputs: string[]): Emitted[] {
  const node = isDepthwise(original) ? undilate(original) : original;
  const out: Emitted[] = [];
  let padding: 'same' | 'valid';
  let ins = inputs;
  if (typeof node.padding === 'object') {
    const [t, l, b, r] = node.padding.pads;
    const padName = kerasLayerName(`${node.name}/pad`);
    out.push({ className: 'ZeroPadding2D', name: padName, inputs, weights: [], config: { name: padName, trainable: true, dtype: 'float32', padding: [[t, b], [l, r]], data_format: 'channels_last' } });
    ins = [padName];
    padding = 'valid';
  } else {
    padding = node.padding;
  }
  const [n, cg, kh, kw] = node.kernel.shape;
  const common = { kernel_size: [kh, kw], strides: node.strides, padding, data_format: 'channels_last', dilation_rate: node.dilations, activation: node.activation, use_bias: node.bias !== null };
  const biasW = node.bias ? [{ role: 'bias', shape: [n], data: node.bias }] : [];
  if (isDepthwise(node)) {
    const b = base(node, 'DepthwiseConv2D');
    const dw = oihwToDepthwise(node.kernel, node.groups);
    out.push({
      ...b, name: b.config.name as string, inputs: ins,
      config: { ...b.config, ...KERNEL_DEFAULTS, depthwise_initializer: KERNEL_DEFAULTS.kernel_initializer, depthwise_regularizer: null, depthwise_constraint: null, ...common, depth_multiplier: n / node.groups },
      weights: [{ role: 'depthwise_kernel', ...dw }, ...biasW],
    });
  } else {
    const kernel = node.groups === 1 ? node.kernel : blockDiagonal(node);
    const b = base(node, 'Conv2D');
    const cfg: Json = { ...b.config, ...KERNEL_DEFAULTS, ...common, filters: n };
    delete cfg.groups;
    void cg;
    out.push({ ...b, name: b.config.name as string, inputs: ins, config: cfg, weights: [{ role: 'kernel', ...oihwToHwio(kernel) }, ...biasW] });
  }
  return out;
}

function emitActivation(node: Extract<Node, { op: 'activation' }>, inputs: string[]): Emitted {
  const name = kerasLayerName(node.name);
  if (node.source?.format === 'tfjs' && ['ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'Activation'].includes(node.source.className)) {
    return { className: node.source.className, config: { ...node.source.config, name }, name, inputs, weights: [] };
  }
  const p = node.params ?? {};
  if (node.activation === 'leakyRelu') return { className: 'LeakyReLU', name, inputs, weights: [], config: { name, trainable: true, dtype: 'float32', alpha: p.alpha ?? 0.3 } };
  if (node.activation === 'relu' && node.params) {
    return { className: 'ReLU', name, inputs, weights: [], config: { name, trainable: true, dtype: 'float32', max_value: p.maxValue ?? null, negative_slope: p.negativeSlope ?? 0, threshold: p.threshold ?? 0 } };
  }
  if (node.activation === 'elu' && p.alpha !== undefined && p.alpha !== 1) return { className: 'ELU', name, inputs, weights: [], config: { name, trainable: true, dtype: 'float32', alpha: p.alpha } };
  return { className: 'Activation', name, inputs, weights: [], config: { name, trainable: true, dtype: 'float32', activation: node.activation } };
}

function emitNode(node: Node, inputs: string[], shapeOf: (name: string) => (number | null)[] | undefined): Emitted[] {
  const simple = (cls: string, extra: Json = {}, weights: Emitted['weights'] = []): Emitted[] => {
    const b = base(node, cls);
    return [{ className: cls, name: b.config.name as string, inputs, config: { ...b.config, ...extra }, weights }];
  };
  switch (node.op) {
    case 'input': {
      const b = base(node, 'InputLayer');
      return [{ className: 'InputLayer', name: b.config.name as string, inputs: [], weights: [], config: { sparse: false, ...b.config, batch_input_shape: [null, ...node.shape], dtype: node.dtype } }];
    }
    case 'conv2d':
      return emitConv(node, inputs);
    case 'dense': {
      const [o, i] = node.weight.shape;
      const k = new Float32Array(node.weight.data.length);
      for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) k[b * o + a] = node.weight.data[a * i + b];
      return simple('Dense', { ...KERNEL_DEFAULTS, units: o, activation: node.activation, use_bias: node.bias !== null }, [
        { role: 'kernel', shape: [i, o], data: k },
        ...(node.bias ? [{ role: 'bias', shape: [o], data: node.bias }] : []),
      ]);
    }
    case 'batchNorm': {
      const c = node.mean.length;
      const w: Emitted['weights'] = [];
      if (node.gamma) w.push({ role: 'gamma', shape: [c], data: node.gamma });
      if (node.beta) w.push({ role: 'beta', shape: [c], data: node.beta });
      w.push({ role: 'moving_mean', shape: [c], data: node.mean }, { role: 'moving_variance', shape: [c], data: node.variance });
      return simple('BatchNormalization', { axis: node.axis, epsilon: node.epsilon, center: node.beta !== null, scale: node.gamma !== null, momentum: 0.99 }, w);
    }
    case 'activation':
      return [emitActivation(node, inputs)];
    case 'add':
      return simple('Add');
    case 'multiply':
      return simple('Multiply');
    case 'concat':
      return simple('Concatenate', { axis: node.axis ?? -1 });
    case 'maxPool':
    case 'avgPool': {
      if (typeof node.padding === 'object') throw new Error(`layer "${node.name}": explicit pool padding cannot be written as a Keras layer`);
      return simple(node.op === 'maxPool' ? 'MaxPooling2D' : 'AveragePooling2D', { pool_size: node.poolSize, strides: node.strides, padding: node.padding, data_format: 'channels_last' });
    }
    case 'globalAvgPool':
    case 'globalMaxPool': {
      const cls = node.op === 'globalAvgPool' ? 'GlobalAveragePooling2D' : 'GlobalMaxPooling2D';
      if (node.source?.format === 'tfjs' || !node.keepDims) return simple(cls, { data_format: 'channels_last', ...(node.keepDims ? { keepdims: true } : {}) });
      // tfjs-layers 4.22 ignores `keepdims`, so an ONNX GlobalAveragePool's [N, 1, 1, C] becomes a pool and a Reshape.
      const pool = kerasLayerName(`${node.name}/pool`);
      const name = kerasLayerName(node.name);
      return [
        { className: cls, name: pool, inputs, weights: [], config: { name: pool, trainable: true, dtype: 'float32', data_format: 'channels_last' } },
        { className: 'Reshape', name, inputs: [pool], weights: [], config: { name, trainable: true, dtype: 'float32', target_shape: shapeOf(node.name) } },
      ];
    }
    case 'upsample':
      return simple('UpSampling2D', { size: node.size, data_format: 'channels_last', interpolation: node.interpolation });
    case 'zeroPad': {
      const [t, l, b, r] = node.pads;
      return simple('ZeroPadding2D', { padding: [[t, b], [l, r]], data_format: 'channels_last' });
    }
    case 'flatten':
      return simple('Flatten', { data_format: 'channels_last' });
    case 'reshape':
      return simple('Reshape', { target_shape: node.targetShape });
    case 'identity':
      if (node.source?.format === 'tfjs') return simple(node.source.className);
      return simple('Activation', { activation: 'linear' });
    case 'opaque': {
      if (node.source?.format !== 'tfjs') throw new Error(`layer "${node.name}": an opaque ${node.source?.format ?? 'unknown'} node cannot be written as a Keras layer`);
      const b = base(node, node.source.className);
      const weights = node.weights.map((w, i) => ({ role: node.weightNames[i].replace(/:\d+$/, '').split('/').pop() as string, shape: w.shape, data: w.data }));
      return [{ className: node.source.className, name: b.config.name as string, inputs, config: b.config, weights }];
    }
  }
}

export function graphToLayersArtifacts(graph: Graph): LayersArtifacts {
  if (graph.layout !== 'NHWC') throw new Error(`graph "${graph.name}" is ${graph.layout}; TF.js models must be NHWC (export it to ONNX instead)`);
  const layers: Json[] = [];
  const specs: WeightSpec[] = [];
  const chunks: Float32Array[] = [];
  const seen = new Set<string>();
  // Shapes only for the few emitters that need them (inferring fails on some custom layers).
  let shapes: Map<string, (number | null)[]> | undefined;
  const shapeOf = (name: string) => (shapes ??= inferShapes(graph)).get(name);
  for (const node of graph.nodes) {
    const inputs = node.inputs.map(kerasLayerName);
    for (const e of emitNode(node, inputs, shapeOf)) {
      if (seen.has(e.name)) throw new Error(`two layers would be named "${e.name}" in the TF.js model; rename one`);
      seen.add(e.name);
      layers.push({ class_name: e.className, config: e.config, name: e.name, inbound_nodes: e.inputs.length ? [e.inputs.map((i) => [i, 0, 0, {}])] : [] });
      for (const w of e.weights) {
        specs.push({ name: `${e.name}/${w.role}`, shape: w.shape, dtype: 'float32' });
        chunks.push(w.data);
      }
    }
  }
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const data = new Float32Array(total);
  let off = 0;
  for (const c of chunks) {
    data.set(c, off);
    off += c.length;
  }
  const ref = (n: string) => [kerasLayerName(n), 0, 0];
  const meta = graph.meta ?? {};
  return {
    modelTopology: {
      class_name: 'Functional',
      config: { name: graph.name, layers, input_layers: graph.inputs.map(ref), output_layers: graph.outputs.map(ref) },
      keras_version: (meta.kerasVersion as string) ?? '2.10.0',
      backend: (meta.backend as string) ?? 'tensorflow',
    },
    weightSpecs: specs,
    weightData: data.buffer,
  };
}
