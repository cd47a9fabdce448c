/**
 * Opaque nodes read from ONNX are written back from their NodeProto: only their inputs are renamed
 * (to the tensors now feeding them) and their float weights are written from the IR, so a
 * rewrite that touched them is kept. Nodes of other formats that the IR does not model cannot be.
 */
import type { Graph, OpaqueNode } from '../ir.js';
import type { INodeProto } from './proto.js';
import type { OnnxMeta } from './read.js';
import { onnxSource } from './source.js';
import type { WriteContext } from './write-context.js';

/**
 * Refuses opaque nodes that cannot be written, and reserves the output names of the rest (they are
 * written as they were read). Opaque nodes must be legal at the opset they were read with;
 * the writer refuses to silently re-version them.
 */
export function checkOpaqueNodes(graph: Graph, w: WriteContext, meta: OnnxMeta | undefined): void {
  for (const n of graph.nodes) {
    if (n.op !== 'opaque') continue;
    const src = onnxSource(n);
    if (!src) {
      const cls = n.source?.format === 'tfjs' ? ` (TF.js class ${n.source.className})` : '';
      throw new Error(`node "${n.name}"${cls} is opaque and has no ONNX form; only opaque nodes read from ONNX can be written to ONNX`);
    }
    if (w.nhwc) throw new Error(`node "${n.name}": opaque ONNX nodes cannot be written in an NHWC graph`);
    if (meta && w.opset !== meta.opset) {
      throw new Error(`node "${n.name}" (${(src.node as INodeProto).opType}) was read at opset ${meta.opset} and is kept as is; write with { opset: ${meta.opset} }`);
    }
    if (src.outputIndex === undefined) for (const o of (src.node as INodeProto).output ?? []) if (o) w.em.reserve(o);
  }
}

/** ONNX tensor name → IR node standing for it, for every output of an opaque node. */
export function opaqueOutputOwners(graph: Graph): Map<string, string> {
  const owner = new Map<string, string>();
  for (const n of graph.nodes) {
    const src = n.op === 'opaque' ? onnxSource(n) : undefined;
    if (src && src.outputIndex === undefined) owner.set((src.node as INodeProto).output?.[0] ?? '', n.name);
    if (src && src.outputIndex !== undefined) owner.set((src.node as INodeProto).output?.[src.outputIndex] ?? '', n.name);
  }
  return owner;
}

/** Writes the NodeProto back (or, for an output selector, only names its tensor). */
export function emitOpaque(node: OpaqueNode, w: WriteContext): string {
  const src = onnxSource(node)!;
  const proto = src.node as INodeProto;
  if (src.outputIndex !== undefined) {
    const main = w.byName.get(node.inputs[0]);
    const mainSrc = main ? onnxSource(main) : undefined;
    if (!mainSrc || mainSrc.node !== src.node) {
      throw new Error(`node "${node.name}": output ${src.outputIndex} of an opaque node whose producer "${node.inputs[0]}" is gone`);
    }
    return proto.output![src.outputIndex];
  }
  const inputs = (src.slots ?? []).map((slot) => {
    switch (slot.kind) {
      case 'empty':
        return '';
      case 'node':
        return w.tin(node, slot.index);
      case 'weight': {
        const weight = node.weights[slot.index];
        return w.em.floatInit(slot.name, weight.shape, weight.data);
      }
      case 'const':
        return w.em.rawInit(slot.tensor);
    }
  });
  w.em.rawNode({ ...proto, input: inputs });
  return proto.output?.[0] ?? '';
}
