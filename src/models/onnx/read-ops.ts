/**
 * One reader per ONNX op type the IR models, looked up in a table (`mapKnown`). A reader returns the
 * IR node, or null when the node's attributes or constants say something the IR cannot: the caller
 * then keeps the node opaque (read-opaque.ts), so returning null is always safe. Readers throw only
 * for nodes no fallback could carry: invalid ONNX (a bias of the wrong length, a group that does not
 * divide), dynamic conv weights, weights that fail validation (tensor.ts).
 */
import type { InputNode, Node, OpaqueNode, Tensor } from '../ir.js';
import { activationFromOnnx, type ActivationSpec } from './activations.js';
import { Attrs, DataType, type INodeProto } from './proto.js';
import { isDefaultDomain, nodeLabel, type ReadState } from './read-state.js';
import { padsFromAttrs, pair } from './read-window.js';
import { decodeFloatsLoose, decodeInts } from './tensor.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type Mapped = {
  node: DistributiveOmit<Exclude<Node, InputNode | OpaqueNode>, 'name' | 'inputs' | 'source'>;
  /** Tensor names of the IR edges, in IR argument order. */
  dataInputs: string[];
  /** Rank of the output (counting batch), null when unknown. */
  rank: number | null;
  /** A following node folded into this one (MatMul's bias Add); the reader skips it. */
  fused?: INodeProto;
};

/** One ONNX node as its reader sees it. */
interface OpView {
  node: INodeProto;
  attrs: Attrs;
  inputs: string[];
  label: string;
  /** The data input (input 0) and its rank, null when unknown. */
  x: string;
  rankX: number | null;
  state: ReadState;
}

type OpReader = (op: OpView) => Mapped | null;

function activation(op: OpView, spec: ActivationSpec): Mapped {
  return {
    node: { op: 'activation', activation: spec.activation, ...(spec.params ? { params: spec.params } : {}) },
    dataInputs: [op.x],
    rank: op.rankX,
  };
}

function readConv({ node, attrs: a, inputs: inp, label, x, state }: OpView): Mapped | null {
  const w = inp[1] ?? '';
  const wh = state.consts.get(w);
  if (!wh) {
    throw new Error(
      `${label}: weight "${w}" is ${state.produced(w) ? 'computed by another node' : 'not an initializer'}; ` +
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
  const bias = convBias(node, state, m);
  const kernel: Tensor = { shape: [m, cg, kh, kw], data: state.floatConst(w, label, 'weight') };
  return {
    node: { op: 'conv2d', kernel, bias, strides, dilations, padding, groups, activation: 'linear' },
    dataInputs: [x],
    rank: 4,
  };
}

/** Conv input 2: a constant of one value per output channel, or none. */
function convBias(node: INodeProto, state: ReadState, channels: number): Float32Array | null {
  const label = nodeLabel(node);
  const b = node.input?.[2] ?? '';
  if (!b) return null;
  if (!state.consts.has(b)) throw new Error(`${label}: bias "${b}" is not an initializer; dynamic conv biases are unsupported`);
  const bias = state.floatConst(b, label, 'bias');
  if (bias.length !== channels) throw new Error(`${label}: bias "${b}" has ${bias.length} values, expected ${channels}`);
  return bias;
}

function readBatchNorm({ attrs: a, inputs: inp, label, x, rankX, state }: OpView): Mapped | null {
  if (a.int('training_mode', 0) !== 0) return null;
  const params = inp.slice(1, 5);
  if (params.length !== 4 || params.some((p) => !state.consts.has(p))) return null;
  const [gamma, beta, mean, variance] = params.map((p, i) => state.floatConst(p, label, ['scale', 'bias', 'mean', 'variance'][i]));
  if (new Set([gamma.length, beta.length, mean.length, variance.length]).size !== 1) {
    throw new Error(`${label}: scale/bias/mean/variance lengths differ (${gamma.length}, ${beta.length}, ${mean.length}, ${variance.length})`);
  }
  return {
    node: { op: 'batchNorm', axis: 1, epsilon: a.float('epsilon', 1e-5), gamma, beta, mean, variance },
    dataInputs: [x],
    rank: rankX,
  };
}

/** Clip(0, max) is a ReLU (capped); other bounds have no IR activation. */
function readClip(op: OpView): Mapped | null {
  const bound = (t: string | undefined, dflt: number): number | null => {
    if (!t) return dflt;
    const h = op.state.consts.get(t);
    if (!h || h.numel !== 1) return null;
    return decodeFloatsLoose(h, `${op.label}: bound "${t}"`)[0];
  };
  const lo = bound(op.inputs[1], -Infinity);
  const hi = bound(op.inputs[2], Infinity);
  if (lo !== 0 || hi === null) return null;
  if (hi === 6) return activation(op, { activation: 'relu6' });
  if (hi === Infinity) return activation(op, { activation: 'relu' });
  return activation(op, { activation: 'relu', params: { maxValue: hi } });
}

/** Softmax / LogSoftmax over the channel axis only: the IR activation's axis. */
function readSoftmax(op: OpView): Mapped | null {
  const opset = op.state.opset;
  const axis = op.attrs.int('axis', opset >= 13 ? -1 : 1);
  const rx = op.rankX;
  if (rx === null) return null;
  const norm = axis < 0 ? axis + rx : axis;
  // Before opset 13 Softmax flattens [axis…] into one dimension: channel-only just for rank 2.
  const ok = norm === 1 && (opset >= 13 || rx === 2);
  if (!ok) return null;
  return activation(op, { activation: op.node.opType === 'Softmax' ? 'softmax' : 'log_softmax' });
}

/** Add / Mul of two computed tensors, Sum of any number (one is an identity). */
function readMerge({ node, inputs: inp, state }: OpView): Mapped | null {
  if (node.opType !== 'Sum' && inp.length !== 2) return null;
  if (inp.length < 1 || !inp.every((t) => state.produced(t))) return null;
  const ranks = inp.map((t) => state.rankOf.get(t) ?? null);
  const rank = ranks.some((r) => r === null) ? null : Math.max(...(ranks as number[]));
  if (inp.length === 1) return { node: { op: 'identity' }, dataInputs: inp, rank };
  return { node: { op: node.opType === 'Mul' ? 'multiply' : 'add' }, dataInputs: inp, rank };
}

function readConcat({ attrs: a, inputs: inp, rankX: rx, state }: OpView): Mapped | null {
  if (!inp.every((t) => state.produced(t)) || !a.has('axis')) return null;
  const axis = a.int('axis', 1);
  // Positive when the rank is known, so "is this the channel axis (1)?" is a plain compare.
  return { node: { op: 'concat', axis: axis < 0 && rx !== null ? axis + rx : axis }, dataInputs: inp, rank: rx };
}

function readPool({ node, attrs: a, label, x }: OpView): Mapped | null {
  const ks = a.ints('kernel_shape');
  if (!ks || ks.length !== 2 || a.int('ceil_mode', 0) !== 0) return null;
  const strides = pair(a.ints('strides'), 'strides', label);
  const dil = pair(a.ints('dilations'), 'dilations', label);
  if (!strides || !dil || dil[0] !== 1 || dil[1] !== 1) return null;
  const padding = padsFromAttrs(a, [ks[0], ks[1]], strides, [1, 1]);
  if (!padding) return null;
  // The IR's avgPool divides by the number of real pixels (TF); ONNX's count_include_pad=1 does not.
  if (node.opType === 'AveragePool' && a.int('count_include_pad', 0) !== 0 && padding !== 'valid') return null;
  return {
    node: { op: node.opType === 'MaxPool' ? 'maxPool' : 'avgPool', poolSize: [ks[0], ks[1]], strides, padding },
    dataInputs: [x],
    rank: 4,
  };
}

function readGlobalPool({ node, x, rankX }: OpView): Mapped | null {
  if (rankX !== null && rankX !== 4) return null;
  return { node: { op: node.opType === 'GlobalAveragePool' ? 'globalAvgPool' : 'globalMaxPool', keepDims: true }, dataInputs: [x], rank: 4 };
}

/** ReduceMean / ReduceMax over exactly H and W of a rank-4 tensor is a global pool. */
function readSpatialReduce({ node, attrs: a, inputs: inp, label, x, rankX, state }: OpView): Mapped | null {
  if (rankX !== 4) return null;
  let axes = a.ints('axes');
  // From opset 18 the axes are an input, not an attribute.
  if (!axes && inp[1]) {
    const h = state.consts.get(inp[1]);
    if (!h) return null;
    axes = decodeInts(h, `${label}: axes`);
  }
  if (!axes) return null;
  const norm = axes.map((v) => (v < 0 ? v + 4 : v)).sort();
  if (norm.length !== 2 || norm[0] !== 2 || norm[1] !== 3) return null;
  const keepDims = a.int('keepdims', 1) !== 0;
  return {
    node: { op: node.opType === 'ReduceMean' ? 'globalAvgPool' : 'globalMaxPool', keepDims },
    dataInputs: [x],
    rank: keepDims ? 4 : 2,
  };
}

function readFlatten({ attrs: a, x }: OpView): Mapped | null {
  if (a.int('axis', 1) !== 1) return null;
  return { node: { op: 'flatten' }, dataInputs: [x], rank: 2 };
}

/** Gemm with a constant B: a dense layer whose weight absorbs alpha and whose bias absorbs beta. */
function readGemm({ attrs: a, inputs: inp, label, x, state }: OpView): Mapped | null {
  const bName = inp[1] ?? '';
  const bh = state.consts.get(bName);
  if (!bh || bh.dims.length !== 2 || a.int('transA', 0) !== 0) return null;
  const transB = a.int('transB', 0) !== 0;
  const alpha = a.float('alpha', 1);
  const beta = a.float('beta', 1);
  const raw = state.floatConst(bName, label, 'weight');
  const [r0, r1] = bh.dims;
  const [out, inn] = transB ? [r0, r1] : [r1, r0];
  const weight = new Float32Array(out * inn);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inn; i++) weight[o * inn + i] = alpha * (transB ? raw[o * inn + i] : raw[i * out + o]);
  }
  let bias: Float32Array | null = null;
  const c = inp[2] ?? '';
  if (c) {
    const ch = state.consts.get(c);
    // Only a per-output bias ([out] or [1, out]) is a dense bias; other broadcasts stay opaque.
    if (!ch || ch.numel !== out || ch.dims.length < 1 || ch.dims.length > 2 || ch.dims[ch.dims.length - 1] !== out) return null;
    bias = state.floatConst(c, label, 'bias').map((v) => v * beta);
  }
  return { node: { op: 'dense', weight: { shape: [out, inn], data: weight }, bias, activation: 'linear' }, dataInputs: [x], rank: 2 };
}

/** MatMul by a constant [in, out] matrix: a dense layer, with the bias of an Add that follows. */
function readMatMul({ node, inputs: inp, label, x, rankX: rx, state }: OpView): Mapped | null {
  const bName = inp[1] ?? '';
  const bh = state.consts.get(bName);
  if (!bh || bh.dims.length !== 2 || (rx !== null && rx < 2)) return null;
  const [inn, out] = bh.dims;
  const raw = state.floatConst(bName, label, 'weight');
  const weight = new Float32Array(out * inn);
  for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) weight[o * inn + i] = raw[i * out + o];
  const add = biasAddAfter(node, state, out);
  const bias = add ? state.floatConst(add.bias, label, 'bias') : null;
  const dense: Mapped['node'] = { op: 'dense', weight: { shape: [out, inn], data: weight }, bias, activation: 'linear' };
  return { node: dense, dataInputs: [x], rank: rx, fused: add?.node };
}

/**
 * The `Add(matmul, bias)` that may fold into the dense bias: the MatMul must feed only it (and not
 * be a graph output), and the other operand must be a float constant of one value per output.
 */
function biasAddAfter(matmul: INodeProto, state: ReadState, out: number): { node: INodeProto; bias: string } | undefined {
  const y = matmul.output?.[0] ?? '';
  const next = state.readers.get(y) ?? [];
  if (next.length !== 1 || state.graphOutputs.has(y) || next[0].opType !== 'Add' || !isDefaultDomain(next[0])) return undefined;
  const add = next[0];
  const other = add.input?.[0] === y ? add.input?.[1] : add.input?.[0];
  const ch = other ? state.consts.get(other) : undefined;
  if (ch && ch.dataType === DataType.FLOAT && ch.numel === out && ch.dims.length === 1 && add.input?.length === 2) {
    return { node: add, bias: other! };
  }
  return undefined;
}

/** Reshape to a constant shape that keeps the batch dimension (0 or -1 first). */
function readReshape({ attrs: a, inputs: inp, label, x, state }: OpView): Mapped | null {
  const sh = state.consts.get(inp[1] ?? '');
  if (!sh) return null;
  const s = decodeInts(sh, `${label}: shape`);
  if (s.length === 0 || (a.int('allowzero', 0) !== 0 && s.includes(0))) return null;
  const rest = s.slice(1);
  if (rest.some((d) => d === 0 || d < -1)) return null;
  const restNeg = rest.filter((d) => d === -1).length;
  if (s[0] === 0 ? restNeg > 1 : s[0] === -1 ? restNeg > 0 : true) return null;
  return { node: { op: 'reshape', targetShape: rest }, dataInputs: [x], rank: s.length };
}

function readIdentity({ x, rankX }: OpView): Mapped | null {
  return { node: { op: 'identity' }, dataInputs: [x], rank: rankX };
}

/** Resize by constant integer spatial scales, in the two samplings TF.js UpSampling2D has. */
function readResize({ attrs: a, inputs: inp, label, x, state }: OpView): Mapped | null {
  if (inp[3] || !inp[2] || a.has('axes') || a.int('antialias', 0) !== 0) return null;
  const sh = state.consts.get(inp[2]);
  if (!sh || sh.numel !== 4) return null;
  const sc = decodeFloatsLoose(sh, `${label}: scales`);
  if (sc[0] !== 1 || sc[1] !== 1 || sc.slice(2).some((v) => !Number.isInteger(v) || v < 1)) return null;
  const interpolation = upsampleInterpolation(a);
  if (!interpolation) return null;
  return { node: { op: 'upsample', size: [sc[2], sc[3]], interpolation }, dataInputs: [x], rank: 4 };
}

function upsampleInterpolation(a: Attrs): 'nearest' | 'bilinear' | null {
  const mode = a.str('mode', 'nearest');
  const coord = a.str('coordinate_transformation_mode', 'half_pixel');
  const nearestMode = a.str('nearest_mode', 'round_prefer_floor');
  if (mode === 'nearest') {
    // For an integer scale s these all pick source pixel floor(x / s), as UpSampling2D does.
    const floorLike =
      (coord === 'asymmetric' && nearestMode === 'floor') ||
      ((coord === 'half_pixel' || coord === 'pytorch_half_pixel') && nearestMode.startsWith('round_prefer'));
    return floorLike ? 'nearest' : null;
  }
  // TF.js resizeBilinear (halfPixelCenters false) samples at x / s: ONNX 'asymmetric'.
  if (mode === 'linear' && coord === 'asymmetric') return 'bilinear';
  return null;
}

/** Constant zero padding of H and W only (NCHW pads [0, 0, t, l, 0, 0, b, r]). */
function readPad({ attrs: a, inputs: inp, label, x, state }: OpView): Mapped | null {
  if (a.str('mode', 'constant') !== 'constant' || inp[3]) return null;
  const ph = state.consts.get(inp[1] ?? '');
  if (!ph || ph.numel !== 8) return null;
  const p = decodeInts(ph, `${label}: pads`);
  if (p[0] || p[1] || p[4] || p[5] || p.some((v) => v < 0)) return null;
  if (inp[2]) {
    const vh = state.consts.get(inp[2]);
    if (!vh || vh.numel > 1 || (vh.numel === 1 && decodeFloatsLoose(vh, `${label}: value`)[0] !== 0)) return null;
  }
  return { node: { op: 'zeroPad', pads: [p[2], p[3], p[6], p[7]] }, dataInputs: [x], rank: 4 };
}

/** Elementwise activations (activations.ts); the fallback for op types not in the table. */
function readActivation(op: OpView): Mapped | null {
  const spec = activationFromOnnx(op.node.opType ?? '', op.attrs);
  return spec ? activation(op, spec) : null;
}

// A Map, not an object literal: op types come from the file and must not reach Object.prototype.
const OP_READERS = new Map<string, OpReader>([
  ['Conv', readConv],
  ['BatchNormalization', readBatchNorm],
  ['Clip', readClip],
  ['Softmax', readSoftmax],
  ['LogSoftmax', readSoftmax],
  ['Add', readMerge],
  ['Mul', readMerge],
  ['Sum', readMerge],
  ['Concat', readConcat],
  ['MaxPool', readPool],
  ['AveragePool', readPool],
  ['GlobalAveragePool', readGlobalPool],
  ['GlobalMaxPool', readGlobalPool],
  ['ReduceMean', readSpatialReduce],
  ['ReduceMax', readSpatialReduce],
  ['Flatten', readFlatten],
  ['Gemm', readGemm],
  ['MatMul', readMatMul],
  ['Reshape', readReshape],
  ['Identity', readIdentity],
  ['Dropout', readIdentity],
  ['Resize', readResize],
  ['Pad', readPad],
]);

/** The IR form of a default-domain node, or null to keep it opaque. */
export function mapKnown(node: INodeProto, state: ReadState): Mapped | null {
  const attrs = new Attrs(node);
  const inputs = node.input ?? [];
  const x = inputs[0] ?? '';
  const op: OpView = { node, attrs, inputs, label: nodeLabel(node), x, rankX: state.rankOf.get(x) ?? null, state };
  // A node whose data input is a constant is not a layer (Sum checks all its inputs itself).
  if (!state.produced(x) && node.opType !== 'Sum') return null;
  return (OP_READERS.get(node.opType ?? '') ?? readActivation)(op);
}
