/**
 * What an ONNX-read node keeps in `Node.source` (ir.ts: `{ format: 'onnx', node }`), plus the
 * bookkeeping the writer needs to put an opaque node back exactly: which of its NodeProto inputs
 * are IR edges, which are float weights (now in `OpaqueNode.weights`), which are other constants.
 */
import type { Node } from '../ir.js';
import type { INodeProto, ITensorProto, IValueInfoProto } from './proto.js';

export type InputSlot =
  /** The IR edge `inputs[index]`. */
  | { kind: 'node'; index: number }
  /** `OpaqueNode.weights[index]`, written as a float32 initializer named after `name`. */
  | { kind: 'weight'; index: number; name: string }
  /** A non-float (or non-finite) constant, kept as it was read. */
  | { kind: 'const'; tensor: ITensorProto }
  /** An omitted optional input (''). */
  | { kind: 'empty' };

export interface OnnxSource {
  format: 'onnx';
  /** The NodeProto as read (ValueInfoProto for graph inputs). */
  node: INodeProto | IValueInfoProto;
  /** Opaque nodes: how each NodeProto input maps back. */
  slots?: InputSlot[];
  /**
   * Output selectors: an IR node standing for output `outputIndex` (≥ 1) of a multi-output opaque
   * node, which is this node's only input. Writes nothing; only names the tensor.
   */
  outputIndex?: number;
  /** NodeProtos folded into this IR node (the Add after a MatMul that became a dense bias). */
  fused?: INodeProto[];
}

export function onnxSource(node: Node): OnnxSource | undefined {
  return node.source?.format === 'onnx' ? (node.source as OnnxSource) : undefined;
}
