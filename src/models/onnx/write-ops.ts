/**
 * One emitter per IR node kind, looked up in a table (`emitNode`). Known kinds are always written
 * from their IR fields, so rewritten weights are what gets written. Each emitter returns the ONNX
 * tensor holding the node's output; NHWC graphs keep rank-4 tensors NCHW inside (write.ts).
 */
import { emitActivation } from './activations.js';
import type {
  ActivationNode,
  BatchNormNode,
  Conv2DNode,
  DenseNode,
  GlobalPoolNode,
  InputNode,
  MergeNode,
  Node,
  PoolNode,
  ReshapeNode,
  UpsampleNode,
  ZeroPadNode,
} from '../ir.js';
import { attr } from './proto.js';
import { TO_NCHW, TO_NHWC, type WriteContext } from './write-context.js';
import { emitOpaque } from './write-opaque.js';
import { padAttrs } from './write-padding.js';

function emitConv(node: Conv2DNode, w: WriteContext): string {
  w.requireRank4(node, 'conv2d');
  const { em } = w;
  const [, , kh, kw] = node.kernel.shape;
  const x = w.tin(node, 0);
  const weight = em.floatInit(`${node.name}/W`, node.kernel.shape, node.kernel.data);
  const ins = [x, weight];
  if (node.bias) ins.push(em.floatInit(`${node.name}/B`, [node.bias.length], node.bias));
  const attrs = [
    attr.ints('kernel_shape', [kh, kw]),
    attr.ints('strides', [...node.strides]),
    attr.ints('dilations', [...node.dilations]),
    attr.int('group', node.groups),
    ...padAttrs(node.padding, { hw: w.spatial(node.inputs[0]), kernel: [kh, kw], strides: node.strides, dilations: node.dilations }),
  ];
  return w.withActivation(node, (out) => em.node('Conv', ins, [out], node.name, attrs));
}

function transposeOIHWtoIO(weight: { shape: number[]; data: Float32Array }): Float32Array {
  const [out, inn] = weight.shape;
  const t = new Float32Array(out * inn);
  for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) t[i * out + o] = weight.data[o * inn + i];
  return t;
}

/** Dense: Gemm on a matrix, 1×1 Conv on an NHWC image, MatMul (+ Add) on anything else. */
function emitDense(node: DenseNode, w: WriteContext): string {
  const { em } = w;
  const r0 = w.inputRank(node);
  const x = w.tin(node, 0);
  const [out, inn] = node.weight.shape;
  const bias = () => em.floatInit(`${node.name}/B`, [out], node.bias!);
  return w.withActivation(node, (o) => {
    if (r0 === 2) {
      const ins = [x, em.floatInit(`${node.name}/W`, [out, inn], node.weight.data)];
      if (node.bias) ins.push(bias());
      em.node('Gemm', ins, [o], node.name, [attr.int('transB', 1)]);
    } else if (w.nhwc && r0 === 4) {
      // Dense over the channel axis of an NHWC tensor = 1×1 conv on the NCHW tensor.
      const ins = [x, em.floatInit(`${node.name}/W`, [out, inn, 1, 1], node.weight.data)];
      if (node.bias) ins.push(bias());
      em.node('Conv', ins, [o], node.name, [attr.ints('kernel_shape', [1, 1])]);
    } else {
      const wt = em.floatInit(`${node.name}/W_t`, [inn, out], transposeOIHWtoIO(node.weight));
      if (!node.bias) {
        em.node('MatMul', [x, wt], [o], node.name);
      } else {
        const mm = em.fresh(`${node.name}/matmul`);
        em.node('MatMul', [x, wt], [mm], node.name);
        em.node('Add', [mm, bias()], [o], `${node.name}/bias`);
      }
    }
  });
}

function emitBatchNorm(node: BatchNormNode, w: WriteContext): string {
  const { em, nhwc } = w;
  const r = w.inputRank(node);
  const a = node.axis;
  // ONNX BatchNormalization normalises axis 1 of the stored tensor: the channel axis here.
  const ok = r === 2 ? a === 1 || a === -1 : r === 4 && nhwc ? a === 3 || a === -1 : !nhwc && (a === 1 || (r !== null && a === 1 - r));
  if (!ok) {
    throw new Error(`node "${node.name}": batchNorm on axis ${a} of a rank-${r ?? '?'} tensor has no ONNX BatchNormalization form (only the channel axis)`);
  }
  const c = node.mean.length;
  const gamma = node.gamma ?? new Float32Array(c).fill(1);
  const beta = node.beta ?? new Float32Array(c);
  const y = w.outName(node);
  const ins = [
    w.tin(node, 0),
    em.floatInit(`${node.name}/scale`, [c], gamma),
    em.floatInit(`${node.name}/B`, [c], beta),
    em.floatInit(`${node.name}/mean`, [c], node.mean),
    em.floatInit(`${node.name}/var`, [c], node.variance),
  ];
  em.node('BatchNormalization', ins, [y], node.name, [attr.float('epsilon', node.epsilon)]);
  return y;
}

function emitActivationNode(node: ActivationNode, w: WriteContext): string {
  const y = w.outName(node);
  emitActivation(w.em, { activation: node.activation, params: node.params }, {
    input: w.tin(node, 0),
    output: y,
    nodeName: node.name,
    channelAxis: w.storedChannelAxis(w.inputRank(node)),
    owner: node.name,
  });
  return y;
}

/** add / multiply of any number of inputs: Identity, the binary op, Sum, or a chain of Mul. */
function emitAddMultiply(node: MergeNode, w: WriteContext): string {
  const { em } = w;
  const xs = node.inputs.map((_, i) => w.tin(node, i));
  if (w.nhwc) {
    const ranks = node.inputs.map((i) => w.rankOf(i));
    if (ranks.includes(4) && ranks.some((r) => r !== 4)) {
      throw new Error(`node "${node.name}": ${node.op} mixes rank-4 and other-rank inputs in an NHWC graph; broadcasting would change meaning in NCHW`);
    }
  }
  const y = w.outName(node);
  const op = node.op === 'add' ? 'Add' : 'Mul';
  if (xs.length === 1) em.node('Identity', xs, [y], node.name);
  else if (xs.length === 2) em.node(op, xs, [y], node.name);
  else if (op === 'Add') em.node('Sum', xs, [y], node.name);
  else {
    // ONNX has no n-ary Mul.
    let acc = xs[0];
    for (let i = 1; i < xs.length; i++) {
      const next = i === xs.length - 1 ? y : em.fresh(`${node.name}/${i}`);
      em.node('Mul', [acc, xs[i]], [next], i === xs.length - 1 ? node.name : `${node.name}/${i}`);
      acc = next;
    }
  }
  return y;
}

/** Concat, its axis remapped to NCHW for rank-4 tensors of NHWC graphs. */
function emitConcat(node: MergeNode, w: WriteContext): string {
  const r0 = w.inputRank(node);
  const raw = node.axis ?? -1;
  let axis = raw;
  if (r0 === null) {
    if (w.nhwc) throw new Error(`node "${node.name}": concat of tensors of unknown rank cannot be remapped to NCHW`);
  } else {
    const a = raw < 0 ? raw + r0 : raw;
    if (a < 0 || a >= r0) throw new Error(`node "${node.name}": concat axis ${raw} is out of range for rank ${r0}`);
    axis = w.nhwc && r0 === 4 ? [0, 2, 3, 1][a] : a;
  }
  const y = w.outName(node);
  w.em.node('Concat', node.inputs.map((_, i) => w.tin(node, i)), [y], node.name, [attr.int('axis', axis)]);
  return y;
}

function emitPool(node: PoolNode, w: WriteContext): string {
  w.requireRank4(node, node.op);
  const y = w.outName(node);
  const attrs = [
    attr.ints('kernel_shape', [...node.poolSize]),
    attr.ints('strides', [...node.strides]),
    ...padAttrs(
      node.padding,
      { hw: w.spatial(node.inputs[0]), kernel: node.poolSize, strides: node.strides, dilations: [1, 1] },
      { afterZeroPad: w.byName.get(node.inputs[0])?.op === 'zeroPad' },
    ),
  ];
  // count_include_pad stays 0: TF averages over the real pixels only.
  w.em.node(node.op === 'maxPool' ? 'MaxPool' : 'AveragePool', [w.tin(node, 0)], [y], node.name, attrs);
  return y;
}

function emitGlobalPool(node: GlobalPoolNode, w: WriteContext): string {
  w.requireRank4(node, node.op);
  const { em } = w;
  const y = w.outName(node);
  const op = node.op === 'globalAvgPool' ? 'GlobalAveragePool' : 'GlobalMaxPool';
  if (node.keepDims) {
    em.node(op, [w.tin(node, 0)], [y], node.name);
  } else {
    const pooled = em.fresh(`${node.name}/pooled`);
    em.node(op, [w.tin(node, 0)], [pooled], node.name);
    em.node('Flatten', [pooled], [y], `${node.name}/flatten`, [attr.int('axis', 1)]);
  }
  return y;
}

function emitUpsample(node: UpsampleNode, w: WriteContext): string {
  w.requireRank4(node, 'upsample');
  const { em } = w;
  const y = w.outName(node);
  const scales = em.floatInit(`${node.name}/scales`, [4], new Float32Array([1, 1, node.size[0], node.size[1]]));
  // Before opset 13 Resize's roi input is required, even though these modes ignore it.
  const roi = w.opset >= 13 ? '' : em.floatInit(`${node.name}/roi`, [0], new Float32Array(0));
  // TF.js UpSampling2D: nearest picks floor(x / s); bilinear samples at x / s (no half-pixel).
  const attrs =
    node.interpolation === 'nearest'
      ? [attr.str('mode', 'nearest'), attr.str('coordinate_transformation_mode', 'asymmetric'), attr.str('nearest_mode', 'floor')]
      : [attr.str('mode', 'linear'), attr.str('coordinate_transformation_mode', 'asymmetric')];
  em.node('Resize', [w.tin(node, 0), roi, scales], [y], node.name, attrs);
  return y;
}

function emitZeroPad(node: ZeroPadNode, w: WriteContext): string {
  w.requireRank4(node, 'zeroPad');
  const y = w.outName(node);
  const [t, l, b, r] = node.pads;
  const pads = w.em.int64Init(`${node.name}/pads`, [8], [0, 0, t, l, 0, 0, b, r]);
  w.em.node('Pad', [w.tin(node, 0), pads], [y], node.name, [attr.str('mode', 'constant')]);
  return y;
}

/** Input 0 in the graph's own layout: flatten/reshape of an NHWC image must see NHWC order. */
function graphLayoutInput(node: ReshapeNode, w: WriteContext): string {
  const toNhwc = w.nhwc && w.inputRank(node) === 4;
  return toNhwc ? w.transpose(w.tin(node, 0), TO_NHWC, `${node.name}/nhwc`, w.shapes.get(node.inputs[0])) : w.tin(node, 0);
}

function emitFlatten(node: ReshapeNode, w: WriteContext): string {
  const y = w.outName(node);
  w.em.node('Flatten', [graphLayoutInput(node, w)], [y], node.name, [attr.int('axis', 1)]);
  return y;
}

/** Reshape keeping the batch dimension (0); a rank-4 result of an NHWC graph goes back to NCHW. */
function emitReshape(node: ReshapeNode, w: WriteContext): string {
  const { em } = w;
  const target = node.targetShape;
  if (!target) throw new Error(`node "${node.name}": reshape without targetShape`);
  const x = graphLayoutInput(node, w);
  const shape = em.int64Init(`${node.name}/shape`, [target.length + 1], [0, ...target]);
  const outRank4 = w.nhwc && target.length === 3;
  const y = outRank4 ? em.fresh(`${node.name}/nhwc_out`) : w.outName(node);
  em.node('Reshape', [x, shape], [y], node.name);
  if (!outRank4) return y;
  const fin = w.outName(node);
  em.node('Transpose', [y], [fin], `${node.name}/nchw`, [attr.ints('perm', TO_NCHW)]);
  return fin;
}

function emitIdentity(node: ReshapeNode, w: WriteContext): string {
  const y = w.outName(node);
  w.em.node('Identity', [w.tin(node, 0)], [y], node.name);
  return y;
}

type WrittenNode = Exclude<Node, InputNode>;
type Emit<K extends WrittenNode['op']> = (node: WrittenNode & { op: K }, w: WriteContext) => string;

const EMITTERS: { [K in WrittenNode['op']]: Emit<K> } = {
  conv2d: emitConv,
  dense: emitDense,
  batchNorm: emitBatchNorm,
  activation: emitActivationNode,
  add: emitAddMultiply,
  multiply: emitAddMultiply,
  concat: emitConcat,
  maxPool: emitPool,
  avgPool: emitPool,
  globalAvgPool: emitGlobalPool,
  globalMaxPool: emitGlobalPool,
  upsample: emitUpsample,
  zeroPad: emitZeroPad,
  flatten: emitFlatten,
  reshape: emitReshape,
  identity: emitIdentity,
  opaque: emitOpaque,
};

/** Emits `node` and returns the ONNX tensor holding its output. */
export function emitNode(node: WrittenNode, w: WriteContext): string {
  // The table is keyed by the node's own kind, so the cast only forgoes a check TS cannot correlate.
  return (EMITTERS[node.op] as (n: WrittenNode, w: WriteContext) => string)(node, w);
}
