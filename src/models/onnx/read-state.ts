/**
 * What the ONNX reader knows while it walks the graph: the constants, which IR node produces each
 * tensor, the rank of each tensor (when known) and who reads it. The per-op readers (read-ops.ts)
 * and the opaque fallback (read-opaque.ts) consult it; only the main loop (read.ts) advances it.
 */
import type { Node } from '../ir.js';
import { toNum, type IGraphProto, type INodeProto, type Int64, type IValueInfoProto } from './proto.js';
import { decodeFloat, type TensorHeader } from './tensor.js';

/** `Conv node "conv1"`: how every reader error names its node. */
export function nodeLabel(node: INodeProto): string {
  return `${node.opType} node "${node.name || node.output?.[0] || '?'}"`;
}

/** Nodes of the default ONNX domain: the only ones whose op type the reader may interpret. */
export function isDefaultDomain(node: INodeProto): boolean {
  return !node.domain || node.domain === 'ai.onnx';
}

/** Declared dims of a value (null where unknown or symbolic); undefined when no shape is declared. */
export function valueInfoDims(vi: IValueInfoProto): (number | null)[] | undefined {
  const tt = vi.type?.tensorType;
  if (!tt || !tt.shape) return undefined;
  return (tt.shape.dim ?? []).map((d) => {
    const v = toNum(d.dimValue as Int64);
    return d.dimValue !== undefined && d.dimValue !== null && v > 0 ? v : null;
  });
}

export class ReadState {
  readonly irNodes: Node[] = [];
  /** Tensor name → IR node name. */
  readonly producer = new Map<string, string>();
  readonly rankOf = new Map<string, number | null>();
  readonly infoOf = new Map<string, IValueInfoProto>();
  /** Who reads each tensor: decides MatMul+Add fusion and whether extra outputs matter. */
  readonly readers = new Map<string, INodeProto[]>();
  readonly graphOutputs: Set<string>;
  private readonly usedNames = new Set<string>();
  private readonly decoded = new Map<string, Float32Array>();

  constructor(
    readonly consts: Map<string, TensorHeader>,
    g: IGraphProto,
    readonly opset: number,
  ) {
    for (const vi of [...(g.valueInfo ?? []), ...(g.output ?? []), ...(g.input ?? [])]) {
      if (vi.name) this.infoOf.set(vi.name, vi);
      const dims = valueInfoDims(vi);
      if (vi.name && dims) this.rankOf.set(vi.name, dims.length);
    }
    this.graphOutputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
  }

  /** Records the readers of every tensor once the nodes are in dependency order. */
  noteReaders(order: INodeProto[]): void {
    for (const n of order) for (const i of n.input ?? []) if (i) this.readers.set(i, [...(this.readers.get(i) ?? []), n]);
  }

  /** An IR node name based on `base`, suffixed `_1`, `_2`… when taken. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  isUsed(t: string): boolean {
    return (this.readers.get(t)?.length ?? 0) > 0 || this.graphOutputs.has(t);
  }

  /** Whether an IR node (not a constant) produces tensor `t`. */
  produced(t: string): boolean {
    return this.producer.has(t);
  }

  /**
   * The float data of constant `t`. One array per initializer: convs sharing a weight keep sharing
   * it (the writer dedupes by identity).
   */
  floatConst(t: string, label: string, what: string): Float32Array {
    const cached = this.decoded.get(t);
    if (cached) return cached;
    const data = decodeFloat(this.consts.get(t)!, `${label}: ${what} "${t}"`);
    this.decoded.set(t, data);
    return data;
  }
}
