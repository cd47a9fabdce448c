/**
 * The written model's interface: graph inputs keep their names and, when unchanged, their
 * ValueInfo as read; graph outputs get their original ONNX names when read from ONNX (else the IR
 * node names); NHWC graphs take and give rank-4 tensors in NHWC, transposed once at each end.
 */
import type { Graph, InputNode } from '../ir.js';
import type { OnnxMeta } from './read.js';
import { attr, DataType, toNum, type Int64, type IValueInfoProto } from './proto.js';
import { onnxSource } from './source.js';
import { TO_NCHW, TO_NHWC, type WriteContext } from './write-context.js';
import { opaqueOutputOwners } from './write-opaque.js';

/** The graph's input nodes, their names reserved: they are the model's interface. */
export function reserveInputs(graph: Graph, w: WriteContext): InputNode[] {
  return graph.inputs.map((name) => {
    const n = w.byName.get(name);
    if (!n || n.op !== 'input') throw new Error(`graph input "${name}" is not an input node`);
    w.em.reserve(name);
    return n;
  });
}

/**
 * Names of the graph outputs. A node whose output can carry the name directly gets it through
 * `w.finalName`; otherwise write.ts adds an Identity (or the NHWC Transpose) into the name.
 */
export function nameOutputs(graph: Graph, w: WriteContext, meta: OnnxMeta | undefined): string[] {
  const { em } = w;
  const wanted = meta && meta.onnx.outputNames.length === graph.outputs.length ? meta.onnx.outputNames : graph.outputs;
  const opaqueOwner = opaqueOutputOwners(graph);
  return graph.outputs.map((o, i) => {
    const want = wanted[i];
    const needsTranspose = w.nhwc && w.rankOf(o) === 4;
    const node = w.byName.get(o);
    if (!node) throw new Error(`graph output "${o}" is not a node of the graph`);
    const owner = opaqueOwner.get(want);
    if (owner !== undefined) return owner === o && !needsTranspose ? want : em.fresh(want);
    if (em.isTaken(want)) return em.fresh(want);
    em.reserve(want);
    if (!needsTranspose && node.op !== 'input' && node.op !== 'opaque' && !w.finalName.has(o)) w.finalName.set(o, want);
    return want;
  });
}

/**
 * ValueInfos of the graph inputs (the one read, when the IR shape still matches it), and the
 * tensor each input node stands for inside (NCHW for NHWC images). Sets the batch dimension from
 * the first input read from ONNX.
 */
export function writeInputs(inputNodes: InputNode[], w: WriteContext): IValueInfoProto[] {
  const inputInfos: IValueInfoProto[] = [];
  for (const n of inputNodes) {
    const vi = onnxSource(n)?.node as IValueInfoProto | undefined;
    const srcDims = vi?.type?.tensorType?.shape?.dim ?? [];
    const sameShape =
      vi !== undefined &&
      srcDims.length === n.shape.length + 1 &&
      n.shape.every((d, i) => (d === null ? !(toNum(srcDims[i + 1].dimValue as Int64) > 0) : toNum(srcDims[i + 1].dimValue as Int64) === d));
    if (sameShape) {
      inputInfos.push({ ...vi, name: n.name });
      const b = srcDims[0];
      const bv = toNum(b?.dimValue as Int64);
      if (inputInfos.length === 1 && b) w.batchDim = bv > 0 ? { dimValue: bv } : { dimParam: b.dimParam || 'N' };
    } else {
      inputInfos.push({
        name: n.name,
        type: {
          tensorType: {
            elemType: n.dtype === 'int32' ? DataType.INT32 : DataType.FLOAT,
            shape: { dim: [w.batchDim, ...n.shape.map((d) => (d === null ? {} : { dimValue: d }))] },
          },
        },
      });
    }
    const toNchw = w.nhwc && n.shape.length === 3;
    w.tensorOf.set(n.name, toNchw ? w.transpose(n.name, TO_NCHW, `${n.name}/nchw`, [n.shape[2], n.shape[0], n.shape[1]]) : n.name);
  }
  return inputInfos;
}

/** Routes each output tensor into its output name and declares its type and (static) shape. */
export function writeOutputs(graph: Graph, w: WriteContext, outputNames: string[]): IValueInfoProto[] {
  return graph.outputs.map((o, i) => {
    const name = outputNames[i];
    const t = w.tensorOf.get(o)!;
    if (w.nhwc && w.rankOf(o) === 4) w.em.node('Transpose', [t], [name], `${o}/nhwc`, [attr.ints('perm', TO_NHWC)]);
    else if (t !== name) w.em.node('Identity', [t], [name], `${o}/output`);
    const node = w.byName.get(o)!;
    const elemType = node.op === 'input' && node.dtype === 'int32' ? DataType.INT32 : DataType.FLOAT;
    const s = w.shapes.get(o);
    return {
      name,
      type: { tensorType: { elemType, ...(s ? { shape: { dim: [w.batchDim, ...s.map((d) => (d === null ? {} : { dimValue: d }))] } } : {}) } },
    };
  });
}
