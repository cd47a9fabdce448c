/**
 * Nodes the IR does not model become `opaque` IR nodes that keep their NodeProto, so the writer can
 * put them back unchanged. Their float constants become the node's weights (so conversions and
 * cost counts see them); each extra output that something reads gets its own selector node.
 */
import type { OpaqueNode, Tensor } from '../ir.js';
import { DataType, type INodeProto } from './proto.js';
import { isDefaultDomain, nodeLabel, valueInfoDims, type ReadState } from './read-state.js';
import type { InputSlot, OnnxSource } from './source.js';
import { decodeFloat, inlineTensor } from './tensor.js';

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

interface OpaqueInputs {
  slots: InputSlot[];
  inputs: string[];
  weights: Tensor[];
  weightNames: string[];
}

/** How each NodeProto input maps to the IR: an edge, a float weight, a verbatim constant, or empty. */
function opaqueInputs(n: INodeProto, state: ReadState): OpaqueInputs {
  const r: OpaqueInputs = { slots: [], inputs: [], weights: [], weightNames: [] };
  for (const t of n.input ?? []) {
    if (t === '') {
      r.slots.push({ kind: 'empty' });
    } else if (state.consts.has(t)) {
      const h = state.consts.get(t)!;
      let data: Float32Array | undefined;
      if (h.dataType === DataType.FLOAT) {
        try {
          data = decodeFloat(h, `${nodeLabel(n)}: constant "${t}"`);
        } catch {
          data = undefined; // non-finite: the op's own business (masks, -inf fills), kept verbatim
        }
      }
      if (data) {
        r.slots.push({ kind: 'weight', index: r.weights.length, name: t });
        r.weights.push({ shape: h.dims, data });
        r.weightNames.push(t);
      } else {
        r.slots.push({ kind: 'const', tensor: inlineTensor(h) });
      }
    } else {
      r.slots.push({ kind: 'node', index: r.inputs.length });
      r.inputs.push(state.producer.get(t)!);
    }
  }
  return r;
}

/** Declared shape of tensor `t` without the batch dimension, when the model states one. */
function declaredShape(state: ReadState, t: string): (number | null)[] | undefined {
  const vi = state.infoOf.get(t);
  const dims = vi ? valueInfoDims(vi) : undefined;
  return dims && dims.length > 0 ? dims.slice(1) : undefined;
}

/** The output rank of a rank-preserving default-domain op whose input ranks are all known; else null. */
function opaqueRank(n: INodeProto, state: ReadState): number | null {
  if (!RANK_PRESERVING.has(n.opType ?? '') || !isDefaultDomain(n)) return null;
  const ranks = (n.input ?? [])
    .filter((t) => t !== '')
    .map((t) => (state.consts.has(t) ? state.consts.get(t)!.dims.length : state.rankOf.get(t) ?? null));
  return ranks.length > 0 && ranks.every((r) => r !== null) ? Math.max(...(ranks as number[])) : null;
}

/** Adds `n` to the IR as an opaque node (plus one selector per extra output that is used). */
export function addOpaque(n: INodeProto, state: ReadState): void {
  const { slots, inputs, weights, weightNames } = opaqueInputs(n, state);
  const outs = n.output ?? [];
  const mainName = state.uniqueName(n.name || outs[0] || `${n.opType}_${state.irNodes.length}`);
  const source: OnnxSource = { format: 'onnx', node: n, slots };
  const main: OpaqueNode = { op: 'opaque', name: mainName, inputs, weights, weightNames, source };
  const shape0 = declaredShape(state, outs[0] ?? '');
  if (shape0) main.outputShape = shape0;
  state.irNodes.push(main);
  const rank = opaqueRank(n, state);
  outs.forEach((o, k) => {
    if (!o) return;
    state.rankOf.set(o, state.rankOf.get(o) ?? rank);
    if (k === 0) {
      state.producer.set(o, mainName);
      return;
    }
    if (!state.isUsed(o)) return;
    const selSource: OnnxSource = { format: 'onnx', node: n, outputIndex: k };
    const sel: OpaqueNode = { op: 'opaque', name: state.uniqueName(o), inputs: [mainName], weights: [], weightNames: [], source: selSource };
    const shape = declaredShape(state, o);
    if (shape) sel.outputShape = shape;
    state.irNodes.push(sel);
    state.producer.set(o, sel.name);
  });
}
