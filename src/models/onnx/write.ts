/**
 * IR → ONNX. Known ops are always emitted from their IR fields (so rewritten weights are what gets
 * written); opaque nodes read from ONNX are put back from their NodeProto.
 *
 * NHWC graphs (TF.js) are exported with NCHW internals, which is what ONNX operators assume: the
 * model input stays NHWC as the user feeds it and is transposed once; every rank-4 tensor inside is
 * NCHW (concat/batchNorm axes remapped); Flatten/Reshape of a rank-4 tensor transposes back to NHWC
 * first so dense weights trained on NHWC order stay valid; rank-4 outputs are transposed back.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { isLinear, activationKey, emitActivation } from './activations.js';
import type { Graph, Node, Padding } from '../ir.js';
import { Emitter } from './emitter.js';
import { attr, DataType, irVersionForOpset, onnx, toNum, type IAttributeProto, type INodeProto, type Int64, type IValueInfoProto } from './proto.js';
import type { OnnxMeta } from './read.js';
import { onnxSource } from './source.js';
import { staticShapes, type MaybeShape } from './static-shapes.js';

export interface OnnxWriteOptions {
  /** ai.onnx opset; default: the opset the graph was read with, else 17. */
  opset?: number;
  /** producer_name written into the model. */
  producerName?: string;
}

export const DEFAULT_OPSET = 17;
/** Range the writer's own op lowering is written for (Clip/Pad/Resize inputs from 11; ORT 1.30 reads ≤ 21). */
export const MIN_WRITE_OPSET = 11;
export const MAX_WRITE_OPSET = 21;

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

function onnxMeta(graph: Graph): OnnxMeta | undefined {
  const m = graph.meta as Partial<OnnxMeta> | undefined;
  return m?.sourceFormat === 'onnx' && m.onnx ? (m as OnnxMeta) : undefined;
}

/**
 * Explicit [top, left, bottom, right] pads for TF 'same' when they do not depend on the input size
 * (stride 1) or the size is known; undefined → write auto_pad SAME_UPPER (the same rule at run time).
 */
interface Window {
  /** Input [H, W], null when unknown. */
  hw: [number | null, number | null];
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
}

function samePads({ hw, kernel: k, strides: s, dilations: d }: Window): number[] | undefined {
  const total: number[] = [];
  for (let i = 0; i < 2; i++) {
    const span = (k[i] - 1) * d[i] + 1;
    if (s[i] === 1) {
      total.push(span - 1);
    } else {
      const size = hw[i];
      if (size === null) return undefined;
      const out = Math.ceil(size / s[i]);
      total.push(Math.max((out - 1) * s[i] + span - size, 0));
    }
  }
  const before = total.map((t) => Math.floor(t / 2));
  return [before[0], before[1], total[0] - before[0], total[1] - before[1]];
}

/**
 * Pad attributes. A pool right after a zeroPad writes its padding as auto_pad (VALID/SAME_UPPER):
 * onnxruntime's PadFusion (level ≥ 'basic') folds Pad(0) into a following MaxPool/AveragePool
 * whose auto_pad is NOTSET, turning zero padding into padding the pool ignores — wrong values for
 * MaxPool on negative inputs and for AveragePool, or a load failure once the summed pads reach the
 * kernel size. Measured on ORT 1.30; auto_pad ≠ NOTSET is the fusion's documented opt-out.
 */
function padAttrs(padding: Padding, win: Window, opts: { afterZeroPad?: boolean } = {}): IAttributeProto[] {
  if (padding === 'valid') return opts.afterZeroPad ? [attr.str('auto_pad', 'VALID')] : [];
  if (padding === 'same') {
    const pads = opts.afterZeroPad ? undefined : samePads(win);
    return pads ? [attr.ints('pads', pads)] : [attr.str('auto_pad', 'SAME_UPPER')];
  }
  return [attr.ints('pads', [...padding.pads])];
}

function transposeOIHWtoIO(weight: { shape: number[]; data: Float32Array }): Float32Array {
  const [out, inn] = weight.shape;
  const t = new Float32Array(out * inn);
  for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) t[i * out + o] = weight.data[o * inn + i];
  return t;
}

/** Serialises an IR graph to ONNX model bytes. Throws a one-line error naming any node it cannot export. */
export function graphToOnnx(graph: Graph, options: OnnxWriteOptions = {}): Uint8Array {
  const meta = onnxMeta(graph);
  const opset = options.opset ?? meta?.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_WRITE_OPSET || opset > MAX_WRITE_OPSET) {
    throw new Error(`cannot write ONNX opset ${opset}: supported opsets are ${MIN_WRITE_OPSET}–${MAX_WRITE_OPSET}`);
  }
  const nhwc = graph.layout === 'NHWC';
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const shapes = staticShapes(graph);
  const rankOf = (name: string): number | null => {
    const s: MaybeShape | undefined = shapes.get(name);
    return s ? s.length + 1 : null;
  };
  const em = new Emitter(opset);

  // Opaque nodes must be legal at the opset they were read with; refuse to silently re-version them.
  for (const n of graph.nodes) {
    if (n.op !== 'opaque') continue;
    const src = onnxSource(n);
    if (!src) {
      const cls = n.source?.format === 'tfjs' ? ` (TF.js class ${n.source.className})` : '';
      throw new Error(`node "${n.name}"${cls} is opaque and has no ONNX form; only opaque nodes read from ONNX can be written to ONNX`);
    }
    if (nhwc) throw new Error(`node "${n.name}": opaque ONNX nodes cannot be written in an NHWC graph`);
    if (meta && opset !== meta.opset) {
      throw new Error(`node "${n.name}" (${(src.node as INodeProto).opType}) was read at opset ${meta.opset} and is kept as is; write with { opset: ${meta.opset} }`);
    }
    if (src.outputIndex === undefined) for (const o of (src.node as INodeProto).output ?? []) if (o) em.reserve(o);
  }

  // Graph inputs keep their names: they are the model's interface.
  const inputNodes = graph.inputs.map((name) => {
    const n = byName.get(name);
    if (!n || n.op !== 'input') throw new Error(`graph input "${name}" is not an input node`);
    em.reserve(name);
    return n;
  });

  // Output names: the original ONNX names when read from ONNX, else the IR node names.
  const wanted = meta && meta.onnx.outputNames.length === graph.outputs.length ? meta.onnx.outputNames : graph.outputs;
  const opaqueOwner = new Map<string, string>();
  for (const n of graph.nodes) {
    const src = n.op === 'opaque' ? onnxSource(n) : undefined;
    if (src && src.outputIndex === undefined) opaqueOwner.set((src.node as INodeProto).output?.[0] ?? '', n.name);
    if (src && src.outputIndex !== undefined) opaqueOwner.set((src.node as INodeProto).output?.[src.outputIndex] ?? '', n.name);
  }
  const finalName = new Map<string, string>(); // IR node → name its output tensor must get
  const outputNames = graph.outputs.map((o, i) => {
    const want = wanted[i];
    const needsTranspose = nhwc && rankOf(o) === 4;
    const node = byName.get(o);
    if (!node) throw new Error(`graph output "${o}" is not a node of the graph`);
    const owner = opaqueOwner.get(want);
    if (owner !== undefined) return owner === o && !needsTranspose ? want : em.fresh(want);
    if (em.isTaken(want)) return em.fresh(want);
    em.reserve(want);
    if (!needsTranspose && node.op !== 'input' && node.op !== 'opaque' && !finalName.has(o)) finalName.set(o, want);
    return want;
  });

  const tensorOf = new Map<string, string>(); // IR node → ONNX tensor (NCHW for rank-4 in NHWC graphs)
  const tin = (node: Node, i: number): string => {
    const t = tensorOf.get(node.inputs[i]);
    if (t === undefined) throw new Error(`node "${node.name}": input "${node.inputs[i]}" is not an earlier node of the graph`);
    return t;
  };
  // Shapes of the layout transposes this writer adds. Without them a reader (ours included) sees a
  // Transpose of unknown output shape, and everything after it has unknown sizes and costs.
  const valueInfos: IValueInfoProto[] = [];
  const transpose = (x: string, perm: number[], base: string, shape: MaybeShape | undefined): string => {
    const y = em.fresh(base);
    em.node('Transpose', [x], [y], base, [attr.ints('perm', perm)]);
    if (shape) {
      const dim = [batchDim, ...shape.map((d) => (d === null ? {} : { dimValue: d }))];
      valueInfos.push({ name: y, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } });
    }
    return y;
  };
  /** Tensor name for a node's output: the reserved output name, or a fresh one from the node name. */
  const outName = (node: Node) => finalName.get(node.name) ?? em.fresh(node.name);
  const spatial = (name: string): [number | null, number | null] => {
    const s = shapes.get(name);
    if (!s || s.length !== 3) return [null, null];
    return nhwc ? [s[0], s[1]] : [s[1], s[2]];
  };
  const storedChannelAxis = (rank: number | null): number => (nhwc && rank !== 4 ? -1 : 1);

  /** Runs `op` into a pre-activation tensor when an activation follows, then the activation. */
  const withActivation = (node: Node & { activation: string; params?: Record<string, number> }, emitOp: (y: string) => void) => {
    const y = outName(node);
    if (isLinear(node.activation)) {
      emitOp(y);
    } else {
      const pre = em.fresh(`${node.name}/preact`);
      emitOp(pre);
      emitActivation(em, { activation: node.activation, params: node.params }, {
        input: pre,
        output: y,
        nodeName: `${node.name}/${activationKey(node.activation)}`,
        channelAxis: storedChannelAxis(rankOf(node.name)),
        owner: node.name,
      });
    }
    return y;
  };

  const inputInfos: IValueInfoProto[] = [];
  let batchDim: { dimValue?: number; dimParam?: string } = { dimParam: 'N' };
  for (const n of inputNodes) {
    if (n.op !== 'input') continue;
    const src = onnxSource(n);
    const vi = src?.node as IValueInfoProto | undefined;
    const srcDims = vi?.type?.tensorType?.shape?.dim ?? [];
    const sameShape =
      vi !== undefined &&
      srcDims.length === n.shape.length + 1 &&
      n.shape.every((d, i) => (d === null ? !(toNum(srcDims[i + 1].dimValue as Int64) > 0) : toNum(srcDims[i + 1].dimValue as Int64) === d));
    if (sameShape) {
      inputInfos.push({ ...vi, name: n.name });
      const b = srcDims[0];
      const bv = toNum(b?.dimValue as Int64);
      if (inputInfos.length === 1 && b) batchDim = bv > 0 ? { dimValue: bv } : { dimParam: b.dimParam || 'N' };
    } else {
      inputInfos.push({
        name: n.name,
        type: {
          tensorType: {
            elemType: n.dtype === 'int32' ? DataType.INT32 : DataType.FLOAT,
            shape: { dim: [batchDim, ...n.shape.map((d) => (d === null ? {} : { dimValue: d }))] },
          },
        },
      });
    }
    tensorOf.set(n.name, nhwc && n.shape.length === 3 ? transpose(n.name, TO_NCHW, `${n.name}/nchw`, [n.shape[2], n.shape[0], n.shape[1]]) : n.name);
  }

  for (const node of graph.nodes) {
    if (node.op === 'input') {
      if (!tensorOf.has(node.name)) throw new Error(`input node "${node.name}" is not listed in graph.inputs`);
      continue;
    }
    const r0 = node.inputs.length > 0 ? rankOf(node.inputs[0]) : null;
    const need4 = (what: string) => {
      if (r0 !== null && r0 !== 4) throw new Error(`node "${node.name}": ${what} needs a rank-4 input, got rank ${r0}`);
    };
    let y: string;
    switch (node.op) {
      case 'conv2d': {
        need4('conv2d');
        const [, , kh, kw] = node.kernel.shape;
        const x = tin(node, 0);
        const w = em.floatInit(`${node.name}/W`, node.kernel.shape, node.kernel.data);
        const ins = [x, w];
        if (node.bias) ins.push(em.floatInit(`${node.name}/B`, [node.bias.length], node.bias));
        const attrs = [
          attr.ints('kernel_shape', [kh, kw]),
          attr.ints('strides', [...node.strides]),
          attr.ints('dilations', [...node.dilations]),
          attr.int('group', node.groups),
          ...padAttrs(node.padding, { hw: spatial(node.inputs[0]), kernel: [kh, kw], strides: node.strides, dilations: node.dilations }),
        ];
        y = withActivation(node, (out) => em.node('Conv', ins, [out], node.name, attrs));
        break;
      }
      case 'dense': {
        const x = tin(node, 0);
        const [out, inn] = node.weight.shape;
        y = withActivation(node, (o) => {
          if (r0 === 2) {
            const w = em.floatInit(`${node.name}/W`, [out, inn], node.weight.data);
            const ins = [x, w];
            if (node.bias) ins.push(em.floatInit(`${node.name}/B`, [out], node.bias));
            em.node('Gemm', ins, [o], node.name, [attr.int('transB', 1)]);
          } else if (nhwc && r0 === 4) {
            // Dense over the channel axis of an NHWC tensor = 1×1 conv on the NCHW tensor.
            const w = em.floatInit(`${node.name}/W`, [out, inn, 1, 1], node.weight.data);
            const ins = [x, w];
            if (node.bias) ins.push(em.floatInit(`${node.name}/B`, [out], node.bias));
            em.node('Conv', ins, [o], node.name, [attr.ints('kernel_shape', [1, 1])]);
          } else {
            const w = em.floatInit(`${node.name}/W_t`, [inn, out], transposeOIHWtoIO(node.weight));
            if (!node.bias) {
              em.node('MatMul', [x, w], [o], node.name);
            } else {
              const mm = em.fresh(`${node.name}/matmul`);
              em.node('MatMul', [x, w], [mm], node.name);
              em.node('Add', [mm, em.floatInit(`${node.name}/B`, [out], node.bias)], [o], `${node.name}/bias`);
            }
          }
        });
        break;
      }
      case 'batchNorm': {
        const r = r0;
        const a = node.axis;
        // ONNX BatchNormalization normalises axis 1 of the stored tensor: the channel axis here.
        const ok =
          r === 2 ? a === 1 || a === -1 : r === 4 && nhwc ? a === 3 || a === -1 : !nhwc && (a === 1 || (r !== null && a === 1 - r));
        if (!ok) {
          throw new Error(`node "${node.name}": batchNorm on axis ${a} of a rank-${r ?? '?'} tensor has no ONNX BatchNormalization form (only the channel axis)`);
        }
        const c = node.mean.length;
        const gamma = node.gamma ?? new Float32Array(c).fill(1);
        const beta = node.beta ?? new Float32Array(c);
        y = outName(node);
        em.node(
          'BatchNormalization',
          [
            tin(node, 0),
            em.floatInit(`${node.name}/scale`, [c], gamma),
            em.floatInit(`${node.name}/B`, [c], beta),
            em.floatInit(`${node.name}/mean`, [c], node.mean),
            em.floatInit(`${node.name}/var`, [c], node.variance),
          ],
          [y],
          node.name,
          [attr.float('epsilon', node.epsilon)],
        );
        break;
      }
      case 'activation': {
        y = outName(node);
        emitActivation(em, { activation: node.activation, params: node.params }, {
          input: tin(node, 0),
          output: y,
          nodeName: node.name,
          channelAxis: storedChannelAxis(r0),
          owner: node.name,
        });
        break;
      }
      case 'add':
      case 'multiply': {
        const xs = node.inputs.map((_, i) => tin(node, i));
        if (nhwc) {
          const ranks = node.inputs.map(rankOf);
          if (ranks.includes(4) && ranks.some((r) => r !== 4)) {
            throw new Error(`node "${node.name}": ${node.op} mixes rank-4 and other-rank inputs in an NHWC graph; broadcasting would change meaning in NCHW`);
          }
        }
        y = outName(node);
        const op = node.op === 'add' ? 'Add' : 'Mul';
        if (xs.length === 1) em.node('Identity', xs, [y], node.name);
        else if (xs.length === 2) em.node(op, xs, [y], node.name);
        else if (op === 'Add') em.node('Sum', xs, [y], node.name);
        else {
          let acc = xs[0];
          for (let i = 1; i < xs.length; i++) {
            const next = i === xs.length - 1 ? y : em.fresh(`${node.name}/${i}`);
            em.node('Mul', [acc, xs[i]], [next], i === xs.length - 1 ? node.name : `${node.name}/${i}`);
            acc = next;
          }
        }
        break;
      }
      case 'concat': {
        const raw = node.axis ?? -1;
        let axis = raw;
        if (r0 === null) {
          if (nhwc) throw new Error(`node "${node.name}": concat of tensors of unknown rank cannot be remapped to NCHW`);
        } else {
          const a = raw < 0 ? raw + r0 : raw;
          if (a < 0 || a >= r0) throw new Error(`node "${node.name}": concat axis ${raw} is out of range for rank ${r0}`);
          axis = nhwc && r0 === 4 ? [0, 2, 3, 1][a] : a;
        }
        y = outName(node);
        em.node('Concat', node.inputs.map((_, i) => tin(node, i)), [y], node.name, [attr.int('axis', axis)]);
        break;
      }
      case 'maxPool':
      case 'avgPool': {
        need4(node.op);
        y = outName(node);
        const attrs = [
          attr.ints('kernel_shape', [...node.poolSize]),
          attr.ints('strides', [...node.strides]),
          ...padAttrs(
            node.padding,
            { hw: spatial(node.inputs[0]), kernel: node.poolSize, strides: node.strides, dilations: [1, 1] },
            { afterZeroPad: byName.get(node.inputs[0])?.op === 'zeroPad' },
          ),
        ];
        // count_include_pad stays 0: TF averages over the real pixels only.
        em.node(node.op === 'maxPool' ? 'MaxPool' : 'AveragePool', [tin(node, 0)], [y], node.name, attrs);
        break;
      }
      case 'globalAvgPool':
      case 'globalMaxPool': {
        need4(node.op);
        y = outName(node);
        const op = node.op === 'globalAvgPool' ? 'GlobalAveragePool' : 'GlobalMaxPool';
        if (node.keepDims) {
          em.node(op, [tin(node, 0)], [y], node.name);
        } else {
          const pooled = em.fresh(`${node.name}/pooled`);
          em.node(op, [tin(node, 0)], [pooled], node.name);
          em.node('Flatten', [pooled], [y], `${node.name}/flatten`, [attr.int('axis', 1)]);
        }
        break;
      }
      case 'upsample': {
        need4('upsample');
        y = outName(node);
        const scales = em.floatInit(`${node.name}/scales`, [4], new Float32Array([1, 1, node.size[0], node.size[1]]));
        const roi = opset >= 13 ? '' : em.floatInit(`${node.name}/roi`, [0], new Float32Array(0));
        // TF.js UpSampling2D: nearest picks floor(x / s); bilinear samples at x / s (no half-pixel).
        const attrs =
          node.interpolation === 'nearest'
            ? [attr.str('mode', 'nearest'), attr.str('coordinate_transformation_mode', 'asymmetric'), attr.str('nearest_mode', 'floor')]
            : [attr.str('mode', 'linear'), attr.str('coordinate_transformation_mode', 'asymmetric')];
        em.node('Resize', [tin(node, 0), roi, scales], [y], node.name, attrs);
        break;
      }
      case 'zeroPad': {
        need4('zeroPad');
        y = outName(node);
        const [t, l, b, r] = node.pads;
        const pads = em.int64Init(`${node.name}/pads`, [8], [0, 0, t, l, 0, 0, b, r]);
        em.node('Pad', [tin(node, 0), pads], [y], node.name, [attr.str('mode', 'constant')]);
        break;
      }
      case 'flatten': {
        y = outName(node);
        const x = nhwc && r0 === 4 ? transpose(tin(node, 0), TO_NHWC, `${node.name}/nhwc`, shapes.get(node.inputs[0])) : tin(node, 0);
        em.node('Flatten', [x], [y], node.name, [attr.int('axis', 1)]);
        break;
      }
      case 'reshape': {
        const target = node.targetShape;
        if (!target) throw new Error(`node "${node.name}": reshape without targetShape`);
        const x = nhwc && r0 === 4 ? transpose(tin(node, 0), TO_NHWC, `${node.name}/nhwc`, shapes.get(node.inputs[0])) : tin(node, 0);
        const shape = em.int64Init(`${node.name}/shape`, [target.length + 1], [0, ...target]);
        const outRank4 = nhwc && target.length === 3;
        y = outRank4 ? em.fresh(`${node.name}/nhwc_out`) : outName(node);
        em.node('Reshape', [x, shape], [y], node.name);
        if (outRank4) {
          const fin = outName(node);
          em.node('Transpose', [y], [fin], `${node.name}/nchw`, [attr.ints('perm', TO_NCHW)]);
          y = fin;
        }
        break;
      }
      case 'identity': {
        y = outName(node);
        em.node('Identity', [tin(node, 0)], [y], node.name);
        break;
      }
      case 'opaque': {
        const src = onnxSource(node)!;
        const proto = src.node as INodeProto;
        if (src.outputIndex !== undefined) {
          const main = byName.get(node.inputs[0]);
          const mainSrc = main ? onnxSource(main) : undefined;
          if (!mainSrc || mainSrc.node !== src.node) {
            throw new Error(`node "${node.name}": output ${src.outputIndex} of an opaque node whose producer "${node.inputs[0]}" is gone`);
          }
          y = proto.output![src.outputIndex];
          break;
        }
        const inputs = (src.slots ?? []).map((slot) => {
          switch (slot.kind) {
            case 'empty':
              return '';
            case 'node':
              return tin(node, slot.index);
            case 'weight': {
              const w = node.weights[slot.index];
              return em.floatInit(slot.name, w.shape, w.data);
            }
            case 'const':
              return em.rawInit(slot.tensor);
          }
        });
        em.rawNode({ ...proto, input: inputs });
        y = proto.output?.[0] ?? '';
        break;
      }
    }
    tensorOf.set(node.name, y);
  }

  const outputInfos: IValueInfoProto[] = graph.outputs.map((o, i) => {
    const name = outputNames[i];
    const t = tensorOf.get(o)!;
    if (nhwc && rankOf(o) === 4) em.node('Transpose', [t], [name], `${o}/nhwc`, [attr.ints('perm', TO_NHWC)]);
    else if (t !== name) em.node('Identity', [t], [name], `${o}/output`);
    const node = byName.get(o)!;
    const elemType = node.op === 'input' && node.dtype === 'int32' ? DataType.INT32 : DataType.FLOAT;
    const s = shapes.get(o);
    return {
      name,
      type: { tensorType: { elemType, ...(s ? { shape: { dim: [batchDim, ...s.map((d) => (d === null ? {} : { dimValue: d }))] } } : {}) } },
    };
  });

  const customImports = (meta?.onnx.opsetImports ?? []).filter((o) => o.domain !== '' && o.domain !== 'ai.onnx');
  const irVersion = Math.max(irVersionForOpset(opset), meta && meta.opset === opset ? meta.irVersion : 0);
  const model = onnx.ModelProto.create({
    irVersion,
    producerName: options.producerName ?? 'netdecouple',
    producerVersion: '',
    domain: meta?.onnx.domain ?? '',
    modelVersion: meta?.onnx.modelVersion ?? 0,
    docString: meta?.onnx.docString ?? '',
    opsetImport: [{ domain: '', version: opset }, ...customImports],
    metadataProps: meta?.onnx.metadataProps ?? [],
    functions: (meta?.onnx.functions ?? []) as never[],
    graph: {
      name: graph.name,
      node: em.nodes,
      initializer: em.initializers,
      input: inputInfos,
      output: outputInfos,
      valueInfo: valueInfos,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Writes the model atomically: a temp file in the same folder, then one rename. */
export async function writeOnnx(graph: Graph, file: string, options: OnnxWriteOptions = {}): Promise<void> {
  const bytes = graphToOnnx(graph, options);
  const target = path.resolve(file);
  const dir = path.dirname(target);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`);
  try {
    await fsp.writeFile(tmp, bytes);
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
