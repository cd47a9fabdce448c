/**
 * Accumulates an ONNX graph under construction: nodes, initializers and a single namespace of
 * tensor names, so every generated name is unique and stays readable (`conv3/dw`, `conv3/dw/relu`).
 */
import { floatTensorProto, int64TensorProto } from './tensor.js';
import type { IAttributeProto, INodeProto, ITensorProto } from './proto.js';

export class Emitter {
  readonly nodes: INodeProto[] = [];
  readonly initializers: ITensorProto[] = [];
  private readonly tensorNames = new Set<string>();
  private readonly nodeNames = new Set<string>();
  /** Initializers already written for a given weight array, so shared weights stay shared. */
  private readonly byData = new Map<object, { name: string; dims: string }>();

  constructor(readonly opset: number) {}

  /** Marks names that are fixed by the model (graph inputs, opaque nodes' outputs). */
  reserve(name: string): void {
    this.tensorNames.add(name);
  }

  isTaken(name: string): boolean {
    return this.tensorNames.has(name);
  }

  /** A tensor name based on `base`, suffixed `_1`, `_2`… when taken. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.tensorNames.has(name); i++) name = `${base}_${i}`;
    this.tensorNames.add(name);
    return name;
  }

  private freshNodeName(base: string): string {
    let name = base;
    for (let i = 1; this.nodeNames.has(name); i++) name = `${base}_${i}`;
    this.nodeNames.add(name);
    return name;
  }

  /** Adds a node; `name` is the ONNX node name (made unique), outputs are tensor names. */
  node(opType: string, inputs: string[], outputs: string[], name: string, attribute: IAttributeProto[] = []): void {
    this.nodes.push({ opType, input: inputs, output: outputs, name: this.freshNodeName(name), attribute });
  }

  /** Keeps a node as it came (opaque ONNX nodes); only its name is made unique. */
  rawNode(node: INodeProto): void {
    this.nodes.push({ ...node, name: node.name ? this.freshNodeName(node.name) : node.name });
  }

  floatInit(base: string, dims: number[], data: Float32Array): string {
    const seen = this.byData.get(data);
    if (seen !== undefined && seen.dims === dims.join(',')) return seen.name;
    const name = this.fresh(base);
    this.initializers.push(floatTensorProto(name, dims, data));
    this.byData.set(data, { name, dims: dims.join(',') });
    return name;
  }

  int64Init(base: string, dims: number[], values: number[]): string {
    const name = this.fresh(base);
    this.initializers.push(int64TensorProto(name, dims, values));
    return name;
  }

  /** A pass-through initializer (opaque node constants), renamed only if its name is taken. */
  rawInit(tensor: ITensorProto): string {
    const seen = this.byData.get(tensor);
    if (seen !== undefined) return seen.name;
    const name = this.fresh(tensor.name || 'const');
    this.initializers.push({ ...tensor, name });
    this.byData.set(tensor, { name, dims: '' });
    return name;
  }
}
