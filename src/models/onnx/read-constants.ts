/**
 * The constants of an ONNX graph: initializers, Constant nodes and Identity nodes on a constant,
 * each validated (checkTensor) before anything is decoded. Everything else is a body node.
 */
import { Attrs, DataType, type IGraphProto, type INodeProto, type ITensorProto } from './proto.js';
import { isDefaultDomain, nodeLabel } from './read-state.js';
import { checkTensor, type TensorHeader } from './tensor.js';

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

export interface SplitGraph {
  /** Tensor name → validated constant. */
  consts: Map<string, TensorHeader>;
  /** The nodes that compute something, in file order. */
  bodyNodes: INodeProto[];
}

/** Splits the graph's constants from its body; refuses control flow, which the IR cannot hold. */
export function splitConstants(g: IGraphProto, baseDir: string | undefined): SplitGraph {
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
    const isDefault = isDefaultDomain(n);
    const t = isDefault && n.opType === 'Constant' ? constantTensor(n) : undefined;
    const src = n.input?.[0] ?? '';
    if (t && n.output?.[0]) consts.set(t.name!, checkTensor(t, `Constant node "${n.name || t.name}"`, baseDir));
    // Identity on a weight (exporters emit it for shared parameters) is that weight.
    else if (isDefault && n.opType === 'Identity' && consts.has(src) && n.output?.[0]) consts.set(n.output[0], consts.get(src)!);
    else bodyNodes.push(n);
  }
  return { consts, bodyNodes };
}
