/**
 * The graph IR every other part of netdecouple works on.
 *
 * One layout for weights, whatever the source format:
 *   - conv kernels are OIHW: [N (out), C/groups (in per group), kh, kw]
 *   - dense weights are [out, in]
 * Activations keep the layout of the model they came from (`Graph.layout`): TF.js graphs are
 * NHWC, ONNX graphs NCHW. Axis attributes (concat, batchNorm) are in that layout.
 *
 * Nodes that came from a file keep their original description in `source`, so a writer for the
 * same format can emit untouched layers byte-for-byte as they were read. Nodes created by a
 * rewrite have no `source` and are emitted from their IR fields.
 */

export type Layout = 'NHWC' | 'NCHW';

/** Dense float tensor with an explicit shape; `data.length` equals the product of `shape`. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/**
 * 'same' follows TF semantics (extra padding at the bottom/right; ONNX SAME_UPPER).
 * Explicit pads are [top, left, bottom, right].
 */
export type Padding = 'same' | 'valid' | { pads: [number, number, number, number] };

/** Keras activation names (the same strings Keras writes); 'linear' means none. */
export type ActivationName = string;

/** Where a node came from, kept so untouched nodes are written back as they were read. */
export type NodeSource =
  | { format: 'tfjs'; className: string; config: Record<string, unknown> }
  | { format: 'onnx'; node: unknown };

interface NodeBase {
  /** Unique within the graph. Rewritten convs produce `<orig>/dw`, `<orig>/pw`, … */
  name: string;
  /** Names of the producing nodes, in argument order. */
  inputs: string[];
  source?: NodeSource;
}

export interface InputNode extends NodeBase {
  op: 'input';
  /** Per-example shape in the graph's layout, without the batch dimension; null = any size. */
  shape: (number | null)[];
  dtype: 'float32' | 'int32';
}

/** Regular, grouped and depthwise convolution: groups = 1 regular, groups = C depthwise. */
export interface Conv2DNode extends NodeBase {
  op: 'conv2d';
  kernel: Tensor; // OIHW [N, C/groups, kh, kw]
  bias: Float32Array | null;
  strides: [number, number];
  dilations: [number, number];
  padding: Padding;
  groups: number;
  activation: ActivationName;
}

export interface DenseNode extends NodeBase {
  op: 'dense';
  weight: Tensor; // [out, in]
  bias: Float32Array | null;
  activation: ActivationName;
}

export interface BatchNormNode extends NodeBase {
  op: 'batchNorm';
  /** Channel axis in the graph's layout, counting the batch axis (NHWC: 3 or -1; NCHW: 1). */
  axis: number;
  epsilon: number;
  gamma: Float32Array | null; // null = scale disabled (1)
  beta: Float32Array | null; // null = center disabled (0)
  mean: Float32Array;
  variance: Float32Array;
}

export interface ActivationNode extends NodeBase {
  op: 'activation';
  activation: ActivationName;
  /** Extra parameters some activations take (LeakyReLU alpha, ReLU max_value…). */
  params?: Record<string, number>;
}

export interface MergeNode extends NodeBase {
  op: 'add' | 'multiply' | 'concat';
  /** concat only: axis in the graph's layout, counting the batch axis; -1 = last. */
  axis?: number;
}

export interface PoolNode extends NodeBase {
  op: 'maxPool' | 'avgPool';
  poolSize: [number, number];
  strides: [number, number];
  padding: Padding;
}

export interface GlobalPoolNode extends NodeBase {
  op: 'globalAvgPool' | 'globalMaxPool';
  keepDims: boolean;
}

export interface UpsampleNode extends NodeBase {
  op: 'upsample';
  size: [number, number];
  interpolation: 'nearest' | 'bilinear';
}

export interface ZeroPadNode extends NodeBase {
  op: 'zeroPad';
  pads: [number, number, number, number]; // top, left, bottom, right
}

export interface ReshapeNode extends NodeBase {
  op: 'flatten' | 'reshape' | 'identity';
  /** reshape only: target per-example shape (no batch dim), -1 allowed once. */
  targetShape?: number[];
}

/**
 * A node the IR does not model (a custom layer, an unsupported ONNX op). Its semantics live in
 * `source`; `outputShape` must be supplied by whoever registered it so costs can be counted.
 */
export interface OpaqueNode extends NodeBase {
  op: 'opaque';
  weights: Tensor[];
  /** Format-specific weight names, parallel to `weights` (TF.js: "layer/kernel"). */
  weightNames: string[];
  outputShape?: (number | null)[];
}

export type Node =
  | InputNode
  | Conv2DNode
  | DenseNode
  | BatchNormNode
  | ActivationNode
  | MergeNode
  | PoolNode
  | GlobalPoolNode
  | UpsampleNode
  | ZeroPadNode
  | ReshapeNode
  | OpaqueNode;

export type OpName = Node['op'];

export interface Graph {
  name: string;
  layout: Layout;
  /** Topologically ordered: every node's inputs appear before it. */
  nodes: Node[];
  /** Names of the graph inputs (op 'input'), in order. */
  inputs: string[];
  /** Names of the nodes whose outputs are the model outputs, in order. */
  outputs: string[];
  /** Format-specific data a same-format writer needs back (Keras version, ONNX opset…). */
  meta?: Record<string, unknown>;
}

export function nodeByName(graph: Graph): Map<string, Node> {
  return new Map(graph.nodes.map((n) => [n.name, n]));
}

/** For each node, the names of the nodes that consume its output. */
export function consumers(graph: Graph): Map<string, string[]> {
  const out = new Map<string, string[]>(graph.nodes.map((n) => [n.name, []]));
  for (const n of graph.nodes) for (const i of n.inputs) out.get(i)?.push(n.name);
  return out;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensor(shape: number[], data?: Float32Array): Tensor {
  const n = numel(shape);
  if (data && data.length !== n) {
    throw new Error(`tensor data has ${data.length} values but shape [${shape}] needs ${n}`);
  }
  return { shape, data: data ?? new Float32Array(n) };
}

/** Channel axis (counting batch) of a graph's activations. */
export function channelAxis(layout: Layout): number {
  return layout === 'NHWC' ? 3 : 1;
}

export function isDepthwise(node: Conv2DNode): boolean {
  return node.groups > 1 && node.kernel.shape[1] === 1;
}

/** Deep-enough copy for rewrites: nodes are shallow-copied, weights shared (rewrites replace, never mutate). */
export function cloneGraph(graph: Graph): Graph {
  return { ...graph, nodes: graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs] })) as Node[], inputs: [...graph.inputs], outputs: [...graph.outputs] };
}

/** Keeps only the nodes the outputs depend on (a model built for some inner outputs has no use for the rest). */
export function prune(graph: Graph): Graph {
  const byName = nodeByName(graph);
  const keep = new Set<string>();
  const stack = [...graph.outputs];
  while (stack.length) {
    const n = stack.pop() as string;
    if (keep.has(n)) continue;
    keep.add(n);
    const node = byName.get(n);
    if (!node) throw new Error(`output "${n}" is not a node of graph "${graph.name}"`);
    stack.push(...node.inputs);
  }
  return { ...graph, nodes: graph.nodes.filter((n) => keep.has(n.name) || graph.inputs.includes(n.name)) };
}
