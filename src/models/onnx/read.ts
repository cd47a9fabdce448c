/**
 * ONNX → IR (layout 'NCHW'). Ops the IR models become IR nodes (conv kernels stay OIHW, Gemm/MatMul
 * weights become dense [out, in]); anything else, or a known op with attributes the IR cannot say,
 * becomes an `opaque` node that keeps its NodeProto so the writer can put it back unchanged.
 * Every node keeps `source: { format: 'onnx', node }`.
 */
import { ModelFormatError, asModelFormatError } from '../errors.js';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Graph, InputNode, Node, OpaqueNode, Padding, Tensor } from '../ir.js';
import { activationFromOnnx, type ActivationSpec } from './activations.js';
import {
  Attrs,
  DataType,
  dataTypeName,
  defaultOpset,
  toNum,
  type INodeProto,
  type ITensorProto,
  type IValueInfoProto,
  type Int64,
} from './proto.js';
import type { InputSlot, OnnxSource } from './source.js';
import { checkTensor, decodeFloat, decodeFloatsLoose, decodeInts, inlineTensor, type TensorHeader } from './tensor.js';
import { MAX_MODEL_BYTES, decodeModel } from './validate.js';

export interface OnnxReadOptions {
  /** Folder that external-data locations are relative to (readOnnx sets it to the model's folder). */
  baseDir?: string;
  /** Graph name when the model does not carry one. */
  name?: string;
}

/** What `graph.meta` holds for a graph read from ONNX (the writer uses `onnx` to write it back). */
export interface OnnxMeta {
  sourceFormat: 'onnx';
  opset: number;
  irVersion: number;
  producerName: string;
  producerVersion: string;
  onnx: {
    /** All opset imports, custom domains included. */
    opsetImports: { domain: string; version: number }[];
    /** Graph output tensor names, positionally matching `graph.outputs`. */
    outputNames: string[];
    modelVersion: number;
    domain: string;
    docString: string;
    metadataProps: { key: string; value: string }[];
    /** Model-local functions, kept for opaque nodes that call them. */
    functions: unknown[];
  };
}

export async function readOnnx(file: string): Promise<Graph> {
  const stat = await fsp.stat(file);
  if (stat.size > MAX_MODEL_BYTES) {
    throw new ModelFormatError(`${file}: ${stat.size} bytes exceeds the 2 GiB protobuf limit; store weights as external data`);
  }
  const bytes = await fsp.readFile(file);
  try {
    return onnxToGraph(bytes, { baseDir: path.dirname(path.resolve(file)), name: path.basename(file, path.extname(file)) });
  } catch (err) {
    throw asModelFormatError(err, `${file}: `);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type Mapped = {
  node: DistributiveOmit<Exclude<Node, InputNode | OpaqueNode>, 'name' | 'inputs' | 'source'>;
  /** Tensor names of the IR edges, in IR argument order. */
  dataInputs: string[];
  /** Rank of the output (counting batch), null when unknown. */
  rank: number | null;
  fused?: INodeProto;
};

function valueInfoDims(vi: IValueInfoProto): (number | null)[] | undefined {
  const tt = vi.type?.tensorType;
  if (!tt || !tt.shape) return undefined;
  return (tt.shape.dim ?? []).map((d) => {
    const v = toNum(d.dimValue as Int64);
    return d.dimValue !== undefined && d.dimValue !== null && v > 0 ? v : null;
  });
}

/** Constant node → TensorProto (value, value_float(s), value_int(s)); undefined for others. */
function constantTensor(node: INodeProto): ITensorProto | undefined {
  const a = new Attrs(node);
  const name = node.output?.[0] ?? '';
  const t = a.tensor('value');
  if (t) return { ...t, name };
  if (a.has('value_float')) return { name, dims: [], dataType: DataType.FLOAT, floatData: [a.float('value_float', 0)] };
  if (a.has('value_floats')) {
    const v = a.floats('value_floats')!;
    return { name, dims: [v.length], dataType: DataType.FLOAT, floatData: v };
  }
  if (a.has('value_int')) return { name, dims: [], dataType: DataType.INT64, int64Data: [a.int('value_int', 0)] };
  if (a.has('value_ints')) {
    const v = a.ints('value_ints')!;
    return { name, dims: [v.length], dataType: DataType.INT64, int64Data: v };
  }
  return undefined;
}

/**
 * Ops whose outputs have the rank of their highest-rank input (elementwise with broadcasting,
 * slicing, padding…). Knowing ranks past opaque nodes lets later Softmax/ReduceMean/MatMul map.
 */
const RANK_PRESERVING = new Set([
  'Abs', 'Add', 'And', 'AveragePool', 'BatchNormalization', 'Cast', 'Ceil', 'Clip', 'Conv', 'ConvTranspose', 'Cos',
  'DepthToSpace', 'Div', 'Dropout', 'Elu', 'Equal', 'Erf', 'Exp', 'Expand', 'Floor', 'Greater', 'HardSigmoid', 'HardSwish',
  'Identity', 'InstanceNormalization', 'LayerNormalization', 'LeakyRelu', 'Less', 'Log', 'LRN', 'Max', 'MaxPool', 'Min',
  'Mish', 'Mod', 'Mul', 'Neg', 'Not', 'Or', 'Pad', 'Pow', 'PRelu', 'Reciprocal', 'Relu', 'Resize', 'Round', 'Selu', 'Sigmoid',
  'Sign', 'Sin', 'Slice', 'Softmax', 'Softplus', 'Softsign', 'SpaceToDepth', 'Split', 'Sqrt', 'Sub', 'Sum', 'Tanh', 'Tile',
  'Transpose', 'Where',
]);

function nodeLabel(node: INodeProto): string {
  return `${node.opType} node "${node.name || node.output?.[0] || '?'}"`;
}

/** Nodes in dependency order (ONNX requires it, but some exporters get it wrong). */
function topoSort(nodes: INodeProto[], available: Set<string>): INodeProto[] {
  const have = new Set(available);
  const pending = [...nodes];
  const out: INodeProto[] = [];
  while (pending.length > 0) {
    const rest: INodeProto[] = [];
    for (const n of pending) {
      if ((n.input ?? []).every((i) => i === '' || have.has(i))) {
        out.push(n);
        for (const o of n.output ?? []) if (o) have.add(o);
      } else {
        rest.push(n);
      }
    }
    if (rest.length === pending.length) {
      const n = rest[0];
      const missing = (n.input ?? []).find((i) => i !== '' && !have.has(i));
      const producedSomewhere = nodes.some((m) => (m.output ?? []).includes(missing ?? ''));
      if (n.opType === 'Conv' && missing === n.input?.[1]) {
        throw new Error(
          `${nodeLabel(n)}: weight "${missing}" is not an initializer in the model; dynamic conv weights are unsupported ` +
            '(the weight must be a constant initializer)',
        );
      }
      throw new Error(
        producedSomewhere
          ? `${nodeLabel(n)}: input "${missing}" is part of a cycle; the ONNX graph must be acyclic`
          : `${nodeLabel(n)}: input "${missing}" is not produced by any node, graph input or initializer`,
      );
    }
    pending.splice(0, pending.length, ...rest);
  }
  return out;
}

function padsFromAttrs(a: Attrs, kernel: [number, number], strides: number[], dilations: number[]): Padding | null {
  const autoPad = a.str('auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return 'valid';
  if (autoPad === 'SAME_UPPER') return 'same';
  if (autoPad === 'SAME_LOWER') {
    // Without the input size the split of an odd total pad is unknown; when the total is always
    // even (stride 1, even (k−1)·d) SAME_LOWER and SAME_UPPER agree.
    const symmetric = [0, 1].every((i) => strides[i] === 1 && ((kernel[i] - 1) * dilations[i]) % 2 === 0);
    return symmetric ? 'same' : null;
  }
  if (autoPad !== 'NOTSET') return null;
  const pads = a.ints('pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4 || pads.some((p) => p < 0)) return null;
  if (pads.every((p) => p === 0)) return 'valid';
  return { pads: [pads[0], pads[1], pads[2], pads[3]] };
}

function pair(v: number[] | undefined, what: string, label: string): [number, number] | null {
  if (v === undefined) return [1, 1];
  if (v.length !== 2) return null;
  if (v.some((x) => !Number.isSafeInteger(x) || x < 1)) throw new Error(`${label}: invalid ${what} [${v}]`);
  return [v[0], v[1]];
}

/**
 * Parses an ONNX model. `bytes` is the .onnx file; external data is looked up in `baseDir`.
 * Throws one-line errors for files that are not ONNX, truncated, too old (opset < 11), or carry
 * invalid weights (see validate.ts).
 */
export function onnxToGraph(bytes: Uint8Array, options: OnnxReadOptions = {}): Graph {
  try {
    return parseOnnx(bytes, options);
  } catch (err) {
    // The reader's checks throw plain Errors: one error type for every model reader (../errors.ts).
    throw asModelFormatError(err);
  }
}

function parseOnnx(bytes: Uint8Array, options: OnnxReadOptions): Graph {
  const model = decodeModel(bytes);
  const g = model.graph!;
  const opset = defaultOpset(model)!;
  const baseDir = options.baseDir;

  // --- constants: initializers and Constant nodes, validated before anything is decoded ---
  const consts = new Map<string, TensorHeader>();
  for (const t of g.initializer ?? []) {
    if (!t.name) throw new Error('an initializer has no name; the model is malformed');
    consts.set(t.name, checkTensor(t, `initializer "${t.name}"`, baseDir));
  }
  const bodyNodes: INodeProto[] = [];
  for (const n of g.node ?? []) {
    if (new Attrs(n).hasSubgraph()) {
      throw new Error(`${nodeLabel(n)} has subgraphs; control flow (If/Loop/Scan) is unsupported`);
    }
    const isDefault = !n.domain || n.domain === 'ai.onnx';
    const t = isDefault && n.opType === 'Constant' ? constantTensor(n) : undefined;
    const src = n.input?.[0] ?? '';
    if (t && n.output?.[0]) consts.set(t.name!, checkTensor(t, `Constant node "${n.name || t.name}"`, baseDir));
    // Identity on a weight (exporters emit it for shared parameters) is that weight.
    else if (isDefault && n.opType === 'Identity' && consts.has(src) && n.output?.[0]) consts.set(n.output[0], consts.get(src)!);
    else bodyNodes.push(n);
  }

  // --- graph inputs (those that are initializers are defaults, not inputs) ---
  const irNodes: Node[] = [];
  const usedNames = new Set<string>();
  const uniqueName = (base: string) => {
    let name = base;
    for (let i = 1; usedNames.has(name); i++) name = `${base}_${i}`;
    usedNames.add(name);
    return name;
  };
  const producer = new Map<string, string>(); // tensor name → IR node name
  const rankOf = new Map<string, number | null>();
  const infoOf = new Map<string, IValueInfoProto>();
  for (const vi of [...(g.valueInfo ?? []), ...(g.output ?? []), ...(g.input ?? [])]) {
    if (vi.name) infoOf.set(vi.name, vi);
    const dims = valueInfoDims(vi);
    if (vi.name && dims) rankOf.set(vi.name, dims.length);
  }
  const inputNames: string[] = [];
  for (const vi of g.input ?? []) {
    const name = vi.name ?? '';
    if (consts.has(name)) continue;
    const elem = vi.type?.tensorType?.elemType ?? 0;
    if (elem !== DataType.FLOAT && elem !== DataType.INT32) {
      throw new Error(`graph input "${name}" has element type ${dataTypeName(elem)}; netdecouple reads float32 (or int32) inputs`);
    }
    const dims = valueInfoDims(vi);
    if (!dims) throw new Error(`graph input "${name}" declares no shape; give the model input a shape (at least its rank)`);
    const irName = uniqueName(name);
    const input: InputNode = {
      op: 'input',
      name: irName,
      inputs: [],
      shape: dims.slice(1),
      dtype: elem === DataType.FLOAT ? 'float32' : 'int32',
      source: { format: 'onnx', node: vi },
    };
    irNodes.push(input);
    inputNames.push(irName);
    producer.set(name, irName);
  }

  const order = topoSort(bodyNodes, new Set([...consts.keys(), ...producer.keys()]));

  // Who reads each tensor: decides MatMul+Add fusion and whether extra outputs matter.
  const readers = new Map<string, INodeProto[]>();
  for (const n of order) for (const i of n.input ?? []) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
  const isUsed = (t: string) => (readers.get(t)?.length ?? 0) > 0 || graphOutputs.has(t);

  const skip = new Set<INodeProto>();
  const decoded = new Map<string, Float32Array>();
  const produced = (t: string) => producer.has(t);

  const mapKnown = (n: INodeProto): Mapped | null => {
    const a = new Attrs(n);
    const inp = n.input ?? [];
    const label = nodeLabel(n);
    const x = inp[0] ?? '';
    const rx = rankOf.get(x) ?? null;
    const floatConst = (t: string, what: string): Float32Array => {
      // One array per initializer: convs sharing a weight keep sharing it (the writer dedupes by identity).
      const cached = decoded.get(t);
      if (cached) return cached;
      const data = decodeFloat(consts.get(t)!, `${label}: ${what} "${t}"`);
      decoded.set(t, data);
      return data;
    };
    const act = (spec: ActivationSpec): Mapped => ({
      node: { op: 'activation', activation: spec.activation, ...(spec.params ? { params: spec.params } : {}) },
      dataInputs: [x],
      rank: rx,
    });
    if (!produced(x) && n.opType !== 'Sum') return null;

    switch (n.opType) {
      case 'Conv': {
        const w = inp[1] ?? '';
        const wh = consts.get(w);
        if (!wh) {
          throw new Error(
            `${label}: weight "${w}" is ${produced(w) ? 'computed by another node' : 'not an initializer'}; ` +
              'dynamic conv weights are unsupported (the weight must be a constant initializer)',
          );
        }
        if (wh.dims.length !== 4) return null; // Conv1d / Conv3d stay opaque
        const [m, cg, kh, kw] = wh.dims;
        const groups = a.int('group', 1);
        if (groups < 1 || m % groups !== 0) throw new Error(`${label}: group ${groups} does not divide ${m} output channels`);
        const ks = a.ints('kernel_shape');
        if (ks && (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw)) {
          throw new Error(`${label}: kernel_shape [${ks}] does not match weight "${w}" of shape [${wh.dims}]`);
        }
        const strides = pair(a.ints('strides'), 'strides', label);
        const dilations = pair(a.ints('dilations'), 'dilations', label);
        if (!strides || !dilations) return null;
        const padding = padsFromAttrs(a, [kh, kw], strides, dilations);
        if (!padding) return null;
        let bias: Float32Array | null = null;
        const b = inp[2] ?? '';
        if (b) {
          if (!consts.has(b)) throw new Error(`${label}: bias "${b}" is not an initializer; dynamic conv biases are unsupported`);
          bias = floatConst(b, 'bias');
          if (bias.length !== m) throw new Error(`${label}: bias "${b}" has ${bias.length} values, expected ${m}`);
        }
        const kernel: Tensor = { shape: [m, cg, kh, kw], data: floatConst(w, 'weight') };
        return {
          node: { op: 'conv2d', kernel, bias, strides, dilations, padding, groups, activation: 'linear' },
          dataInputs: [x],
          rank: 4,
        };
      }
      case 'BatchNormalization': {
        if (a.int('training_mode', 0) !== 0) return null;
        const params = inp.slice(1, 5);
        if (params.length !== 4 || params.some((p) => !consts.has(p))) return null;
        const [gamma, beta, mean, variance] = params.map((p, i) =>
          floatConst(p, ['scale', 'bias', 'mean', 'variance'][i]),
        );
        if (new Set([gamma.length, beta.length, mean.length, variance.length]).size !== 1) {
          throw new Error(`${label}: scale/bias/mean/variance lengths differ (${gamma.length}, ${beta.length}, ${mean.length}, ${variance.length})`);
        }
        return {
          node: { op: 'batchNorm', axis: 1, epsilon: a.float('epsilon', 1e-5), gamma, beta, mean, variance },
          dataInputs: [x],
          rank: rx,
        };
      }
      case 'Clip': {
        const bound = (t: string | undefined, dflt: number): number | null => {
          if (!t) return dflt;
          const h = consts.get(t);
          if (!h || h.numel !== 1) return null;
          return decodeFloatsLoose(h, `${label}: bound "${t}"`)[0];
        };
        const lo = bound(inp[1], -Infinity);
        const hi = bound(inp[2], Infinity);
        if (lo !== 0 || hi === null) return null;
        if (hi === 6) return act({ activation: 'relu6' });
        if (hi === Infinity) return act({ activation: 'relu' });
        return act({ activation: 'relu', params: { maxValue: hi } });
      }
      case 'Softmax':
      case 'LogSoftmax': {
        const axis = a.int('axis', opset >= 13 ? -1 : 1);
        if (rx === null) return null;
        const norm = axis < 0 ? axis + rx : axis;
        // Before opset 13 Softmax flattens [axis…] into one dimension: channel-only just for rank 2.
        const ok = norm === 1 && (opset >= 13 || rx === 2);
        if (!ok) return null;
        return act({ activation: n.opType === 'Softmax' ? 'softmax' : 'log_softmax' });
      }
      case 'Add':
      case 'Mul':
      case 'Sum': {
        if (n.opType !== 'Sum' && inp.length !== 2) return null;
        if (inp.length < 1 || !inp.every(produced)) return null;
        const ranks = inp.map((t) => rankOf.get(t) ?? null);
        const rank = ranks.some((r) => r === null) ? null : Math.max(...(ranks as number[]));
        if (inp.length === 1) return { node: { op: 'identity' }, dataInputs: inp, rank };
        return { node: { op: n.opType === 'Mul' ? 'multiply' : 'add' }, dataInputs: inp, rank };
      }
      case 'Concat': {
        if (!inp.every(produced) || !a.has('axis')) return null;
        const axis = a.int('axis', 1);
        // Positive when the rank is known, so "is this the channel axis (1)?" is a plain compare.
        return { node: { op: 'concat', axis: axis < 0 && rx !== null ? axis + rx : axis }, dataInputs: inp, rank: rx };
      }
      case 'MaxPool':
      case 'AveragePool': {
        const ks = a.ints('kernel_shape');
        if (!ks || ks.length !== 2 || a.int('ceil_mode', 0) !== 0) return null;
        const strides = pair(a.ints('strides'), 'strides', label);
        const dil = pair(a.ints('dilations'), 'dilations', label);
        if (!strides || !dil || dil[0] !== 1 || dil[1] !== 1) return null;
        const padding = padsFromAttrs(a, [ks[0], ks[1]], strides, [1, 1]);
        if (!padding) return null;
        // The IR's avgPool divides by the number of real pixels (TF); ONNX's count_include_pad=1 does not.
        if (n.opType === 'AveragePool' && a.int('count_include_pad', 0) !== 0 && padding !== 'valid') return null;
        return {
          node: { op: n.opType === 'MaxPool' ? 'maxPool' : 'avgPool', poolSize: [ks[0], ks[1]], strides, padding },
          dataInputs: [x],
          rank: 4,
        };
      }
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
        if (rx !== null && rx !== 4) return null;
        return { node: { op: n.opType === 'GlobalAveragePool' ? 'globalAvgPool' : 'globalMaxPool', keepDims: true }, dataInputs: [x], rank: 4 };
      case 'ReduceMean':
      case 'ReduceMax': {
        if (rx !== 4) return null;
        let axes = a.ints('axes');
        if (!axes && inp[1]) {
          const h = consts.get(inp[1]);
          if (!h) return null;
          axes = decodeInts(h, `${label}: axes`);
        }
        if (!axes) return null;
        const norm = axes.map((v) => (v < 0 ? v + 4 : v)).sort();
        if (norm.length !== 2 || norm[0] !== 2 || norm[1] !== 3) return null;
        const keepDims = a.int('keepdims', 1) !== 0;
        return {
          node: { op: n.opType === 'ReduceMean' ? 'globalAvgPool' : 'globalMaxPool', keepDims },
          dataInputs: [x],
          rank: keepDims ? 4 : 2,
        };
      }
      case 'Flatten':
        if (a.int('axis', 1) !== 1) return null;
        return { node: { op: 'flatten' }, dataInputs: [x], rank: 2 };
      case 'Gemm': {
        const bName = inp[1] ?? '';
        const bh = consts.get(bName);
        if (!bh || bh.dims.length !== 2 || a.int('transA', 0) !== 0) return null;
        const transB = a.int('transB', 0) !== 0;
        const alpha = a.float('alpha', 1);
        const beta = a.float('beta', 1);
        const raw = floatConst(bName, 'weight');
        const [r0, r1] = bh.dims;
        const [out, inn] = transB ? [r0, r1] : [r1, r0];
        const weight = new Float32Array(out * inn);
        for (let o = 0; o < out; o++) {
          for (let i = 0; i < inn; i++) weight[o * inn + i] = alpha * (transB ? raw[o * inn + i] : raw[i * out + o]);
        }
        let bias: Float32Array | null = null;
        const c = inp[2] ?? '';
        if (c) {
          const ch = consts.get(c);
          // Only a per-output bias ([out] or [1, out]) is a dense bias; other broadcasts stay opaque.
          if (!ch || ch.numel !== out || ch.dims.length < 1 || ch.dims.length > 2 || ch.dims[ch.dims.length - 1] !== out) return null;
          bias = floatConst(c, 'bias').map((v) => v * beta);
        }
        return { node: { op: 'dense', weight: { shape: [out, inn], data: weight }, bias, activation: 'linear' }, dataInputs: [x], rank: 2 };
      }
      case 'MatMul': {
        const bName = inp[1] ?? '';
        const bh = consts.get(bName);
        if (!bh || bh.dims.length !== 2 || (rx !== null && rx < 2)) return null;
        const [inn, out] = bh.dims;
        const raw = floatConst(bName, 'weight');
        const weight = new Float32Array(out * inn);
        for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) weight[o * inn + i] = raw[i * out + o];
        // Fold a following `Add(matmul, bias)` into the dense bias when the MatMul feeds only it.
        let bias: Float32Array | null = null;
        let fused: INodeProto | undefined;
        const y = n.output?.[0] ?? '';
        const next = readers.get(y) ?? [];
        if (next.length === 1 && !graphOutputs.has(y) && next[0].opType === 'Add' && (!next[0].domain || next[0].domain === 'ai.onnx')) {
          const add = next[0];
          const other = add.input?.[0] === y ? add.input?.[1] : add.input?.[0];
          const ch = other ? consts.get(other) : undefined;
          if (ch && ch.dataType === DataType.FLOAT && ch.numel === out && ch.dims.length === 1 && add.input?.length === 2) {
            bias = floatConst(other!, 'bias');
            fused = add;
          }
        }
        return { node: { op: 'dense', weight: { shape: [out, inn], data: weight }, bias, activation: 'linear' }, dataInputs: [x], rank: rx, fused };
      }
      case 'Reshape': {
        const sh = consts.get(inp[1] ?? '');
        if (!sh) return null;
        const s = decodeInts(sh, `${label}: shape`);
        if (s.length === 0 || (a.int('allowzero', 0) !== 0 && s.includes(0))) return null;
        const rest = s.slice(1);
        if (rest.some((d) => d === 0 || d < -1)) return null;
        const restNeg = rest.filter((d) => d === -1).length;
        if (s[0] === 0 ? restNeg > 1 : s[0] === -1 ? restNeg > 0 : true) return null;
        return { node: { op: 'reshape', targetShape: rest }, dataInputs: [x], rank: s.length };
      }
      case 'Identity':
      case 'Dropout':
        return { node: { op: 'identity' }, dataInputs: [x], rank: rx };
      case 'Resize': {
        if (inp[3] || !inp[2] || a.has('axes') || a.int('antialias', 0) !== 0) return null;
        const sh = consts.get(inp[2]);
        if (!sh || sh.numel !== 4) return null;
        const sc = decodeFloatsLoose(sh, `${label}: scales`);
        if (sc[0] !== 1 || sc[1] !== 1 || sc.slice(2).some((v) => !Number.isInteger(v) || v < 1)) return null;
        const mode = a.str('mode', 'nearest');
        const coord = a.str('coordinate_transformation_mode', 'half_pixel');
        const nearestMode = a.str('nearest_mode', 'round_prefer_floor');
        let interpolation: 'nearest' | 'bilinear';
        if (mode === 'nearest') {
          // For an integer scale s these all pick source pixel floor(x / s), as UpSampling2D does.
          const floorLike =
            (coord === 'asymmetric' && nearestMode === 'floor') ||
            ((coord === 'half_pixel' || coord === 'pytorch_half_pixel') && nearestMode.startsWith('round_prefer'));
          if (!floorLike) return null;
          interpolation = 'nearest';
        } else if (mode === 'linear' && coord === 'asymmetric') {
          // TF.js resizeBilinear (halfPixelCenters false) samples at x / s: ONNX 'asymmetric'.
          interpolation = 'bilinear';
        } else {
          return null;
        }
        return { node: { op: 'upsample', size: [sc[2], sc[3]], interpolation }, dataInputs: [x], rank: 4 };
      }
      case 'Pad': {
        if (a.str('mode', 'constant') !== 'constant' || inp[3]) return null;
        const ph = consts.get(inp[1] ?? '');
        if (!ph || ph.numel !== 8) return null;
        const p = decodeInts(ph, `${label}: pads`);
        if (p[0] || p[1] || p[4] || p[5] || p.some((v) => v < 0)) return null;
        if (inp[2]) {
          const vh = consts.get(inp[2]);
          if (!vh || vh.numel > 1 || (vh.numel === 1 && decodeFloatsLoose(vh, `${label}: value`)[0] !== 0)) return null;
        }
        return { node: { op: 'zeroPad', pads: [p[2], p[3], p[6], p[7]] }, dataInputs: [x], rank: 4 };
      }
      default: {
        const spec = activationFromOnnx(n.opType ?? '', a);
        return spec ? act(spec) : null;
      }
    }
  };

  const addOpaque = (n: INodeProto) => {
    const inp = n.input ?? [];
    const slots: InputSlot[] = [];
    const inputs: string[] = [];
    const weights: Tensor[] = [];
    const weightNames: string[] = [];
    for (const t of inp) {
      if (t === '') {
        slots.push({ kind: 'empty' });
      } else if (consts.has(t)) {
        const h = consts.get(t)!;
        let data: Float32Array | undefined;
        if (h.dataType === DataType.FLOAT) {
          try {
            data = decodeFloat(h, `${nodeLabel(n)}: constant "${t}"`);
          } catch {
            data = undefined; // non-finite: the op's own business (masks, -inf fills), kept verbatim
          }
        }
        if (data) {
          slots.push({ kind: 'weight', index: weights.length, name: t });
          weights.push({ shape: h.dims, data });
          weightNames.push(t);
        } else {
          slots.push({ kind: 'const', tensor: inlineTensor(h) });
        }
      } else {
        slots.push({ kind: 'node', index: inputs.length });
        inputs.push(producer.get(t)!);
      }
    }
    const outs = n.output ?? [];
    const shapeOf = (t: string) => {
      const vi = infoOf.get(t);
      const dims = vi ? valueInfoDims(vi) : undefined;
      return dims && dims.length > 0 ? dims.slice(1) : undefined;
    };
    const mainName = uniqueName(n.name || outs[0] || `${n.opType}_${irNodes.length}`);
    const source: OnnxSource = { format: 'onnx', node: n, slots };
    const main: OpaqueNode = { op: 'opaque', name: mainName, inputs, weights, weightNames, source };
    const shape0 = shapeOf(outs[0] ?? '');
    if (shape0) main.outputShape = shape0;
    irNodes.push(main);
    let rank: number | null = null;
    if (RANK_PRESERVING.has(n.opType ?? '') && (!n.domain || n.domain === 'ai.onnx')) {
      const ranks = inp.filter((t) => t !== '').map((t) => (consts.has(t) ? consts.get(t)!.dims.length : rankOf.get(t) ?? null));
      rank = ranks.length > 0 && ranks.every((r) => r !== null) ? Math.max(...(ranks as number[])) : null;
    }
    outs.forEach((o, k) => {
      if (!o) return;
      rankOf.set(o, rankOf.get(o) ?? rank);
      if (k === 0) {
        producer.set(o, mainName);
        return;
      }
      if (!isUsed(o)) return;
      const selSource: OnnxSource = { format: 'onnx', node: n, outputIndex: k };
      const sel: OpaqueNode = { op: 'opaque', name: uniqueName(o), inputs: [mainName], weights: [], weightNames: [], source: selSource };
      const shape = shapeOf(o);
      if (shape) sel.outputShape = shape;
      irNodes.push(sel);
      producer.set(o, sel.name);
    });
  };

  for (const n of order) {
    if (skip.has(n)) continue;
    const isDefault = !n.domain || n.domain === 'ai.onnx';
    const extraUsed = (n.output ?? []).slice(1).some((o) => o && isUsed(o));
    const mapped = isDefault && !extraUsed ? mapKnown(n) : null;
    if (!mapped) {
      addOpaque(n);
      continue;
    }
    const name = uniqueName(n.name || n.output?.[0] || `${n.opType}_${irNodes.length}`);
    const source: OnnxSource = { format: 'onnx', node: n, ...(mapped.fused ? { fused: [mapped.fused] } : {}) };
    irNodes.push({ ...mapped.node, name, inputs: mapped.dataInputs.map((t) => producer.get(t)!), source } as Node);
    const out = mapped.fused ? mapped.fused.output?.[0] ?? '' : n.output?.[0] ?? '';
    if (mapped.fused) skip.add(mapped.fused);
    producer.set(out, name);
    rankOf.set(out, rankOf.get(out) ?? mapped.rank);
  }

  const outputNames: string[] = [];
  const outputs = (g.output ?? []).map((o) => {
    const t = o.name ?? '';
    if (consts.has(t)) throw new Error(`graph output "${t}" is a constant; constant outputs are unsupported`);
    const p = producer.get(t);
    if (!p) throw new Error(`graph output "${t}" is not produced by any node or input`);
    outputNames.push(t);
    return p;
  });
  if (outputs.length === 0) throw new Error('the ONNX graph declares no outputs');

  const meta: OnnxMeta = {
    sourceFormat: 'onnx',
    opset,
    irVersion: toNum(model.irVersion as Int64),
    producerName: model.producerName ?? '',
    producerVersion: model.producerVersion ?? '',
    onnx: {
      opsetImports: (model.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: toNum(o.version as Int64) })),
      outputNames,
      modelVersion: toNum(model.modelVersion as Int64),
      domain: model.domain ?? '',
      docString: model.docString ?? '',
      metadataProps: (model.metadataProps ?? []).map((p) => ({ key: p.key ?? '', value: p.value ?? '' })),
      functions: model.functions ?? [],
    },
  };
  return {
    name: g.name || options.name || 'onnx_model',
    layout: 'NCHW',
    nodes: irNodes,
    inputs: inputNames,
    outputs,
    meta: meta as unknown as Record<string, unknown>,
  };
}

/** Re-exported for callers that only need to sniff a buffer. */
export function isOnnxBytes(bytes: Uint8Array): boolean {
  try {
    decodeModel(bytes);
    return true;
  } catch {
    return false;
  }
}
