/**
 * What the ONNX writer knows while it emits the graph: the emitter (names, nodes, initializers),
 * the static shapes, which ONNX tensor holds each IR node's output, and the layout rules for NHWC
 * graphs. The per-kind emitters (write-ops.ts) use it; write.ts creates it and drives the walk.
 */
import { activationKey, emitActivation, isLinear } from './activations.js';
import type { Graph, Node } from '../ir.js';
import { Emitter } from './emitter.js';
import { attr, DataType, type IValueInfoProto } from './proto.js';
import { staticShapes, type MaybeShape } from './static-shapes.js';

export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];

type Dim = { dimValue?: number; dimParam?: string };

export class WriteContext {
  readonly em: Emitter;
  /** NHWC graphs (TF.js) are written with NCHW internals (write.ts explains the rules). */
  readonly nhwc: boolean;
  readonly byName: Map<string, Node>;
  readonly shapes: Map<string, MaybeShape>;
  /** IR node → ONNX tensor (NCHW for rank-4 in NHWC graphs). */
  readonly tensorOf = new Map<string, string>();
  /** IR node → name its output tensor must get (a graph output's name). */
  readonly finalName = new Map<string, string>();
  /**
   * Shapes of the layout transposes this writer adds. Without them a reader (ours included) sees a
   * Transpose of unknown output shape, and everything after it has unknown sizes and costs.
   */
  readonly valueInfos: IValueInfoProto[] = [];
  /** The batch dimension every written shape starts with: the first graph input's, once read. */
  batchDim: Dim = { dimParam: 'N' };

  constructor(
    graph: Graph,
    readonly opset: number,
  ) {
    this.nhwc = graph.layout === 'NHWC';
    this.byName = new Map(graph.nodes.map((n) => [n.name, n]));
    this.shapes = staticShapes(graph);
    this.em = new Emitter(opset);
  }

  /** Rank of a node's output counting the batch dimension, null when unknown. */
  rankOf(name: string): number | null {
    const s: MaybeShape | undefined = this.shapes.get(name);
    return s ? s.length + 1 : null;
  }

  /** Rank of a node's first input, null when unknown or when it has none. */
  inputRank(node: Node): number | null {
    return node.inputs.length > 0 ? this.rankOf(node.inputs[0]) : null;
  }

  /** Ops that ONNX defines on NCHW images only. */
  requireRank4(node: Node, what: string): void {
    const r0 = this.inputRank(node);
    if (r0 !== null && r0 !== 4) throw new Error(`node "${node.name}": ${what} needs a rank-4 input, got rank ${r0}`);
  }

  /** The ONNX tensor holding input `i` of `node`. */
  tin(node: Node, i: number): string {
    const t = this.tensorOf.get(node.inputs[i]);
    if (t === undefined) throw new Error(`node "${node.name}": input "${node.inputs[i]}" is not an earlier node of the graph`);
    return t;
  }

  /** Emits a layout Transpose of `x`, recording its output shape when known. */
  transpose(x: string, perm: number[], base: string, shape: MaybeShape | undefined): string {
    const y = this.em.fresh(base);
    this.em.node('Transpose', [x], [y], base, [attr.ints('perm', perm)]);
    if (shape) {
      const dim = [this.batchDim, ...shape.map((d) => (d === null ? {} : { dimValue: d }))];
      this.valueInfos.push({ name: y, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } });
    }
    return y;
  }

  /** Tensor name for a node's output: the reserved output name, or a fresh one from the node name. */
  outName(node: Node): string {
    return this.finalName.get(node.name) ?? this.em.fresh(node.name);
  }

  /** [H, W] of a node's output, null where unknown. */
  spatial(name: string): [number | null, number | null] {
    const s = this.shapes.get(name);
    if (!s || s.length !== 3) return [null, null];
    return this.nhwc ? [s[0], s[1]] : [s[1], s[2]];
  }

  /** Channel axis of a tensor as stored: rank-4 tensors are NCHW inside, others keep the graph's layout. */
  storedChannelAxis(rank: number | null): number {
    // Rank 2 ([N, C], a dense output): axis 1 is the last axis in either layout, and older opsets' Softmax accepts it.
    return this.nhwc && rank !== 4 && rank !== 2 ? -1 : 1;
  }

  /** Runs `emitOp` into a pre-activation tensor when an activation follows, then the activation. */
  withActivation(node: Node & { activation: string; params?: Record<string, number> }, emitOp: (y: string) => void): string {
    const y = this.outName(node);
    if (isLinear(node.activation)) {
      emitOp(y);
    } else {
      const pre = this.em.fresh(`${node.name}/preact`);
      emitOp(pre);
      emitActivation(this.em, { activation: node.activation, params: node.params }, {
        input: pre,
        output: y,
        nodeName: `${node.name}/${activationKey(node.activation)}`,
        channelAxis: this.storedChannelAxis(this.rankOf(node.name)),
        owner: node.name,
      });
    }
    return y;
  }
}
