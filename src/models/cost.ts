/**
 * MAC and parameter counts over the IR — the one counter the converter report, `inspect`, the
 * budget solver and the zoo tests share. Convention (docs/design.md#macs-and-parameters): MACs per image,
 * conv = H_out·W_out·N·(C/groups)·kh·kw, dense = in·out; elementwise ops, BN, pooling and
 * activations count 0 MACs (they are memory-bound and the papers we compare with leave them out).
 */
import type { Graph, Node } from './ir.js';
import { inferShapes, spatialOf, type Shape } from './shapes.js';

export interface NodeCost {
  name: string;
  op: Node['op'];
  macs: number | null; // null when a spatial size is unknown
  params: number;
  outputShape: Shape;
}

export function nodeParams(node: Node): number {
  switch (node.op) {
    case 'conv2d':
      return node.kernel.data.length + (node.bias?.length ?? 0);
    case 'dense':
      return node.weight.data.length + (node.bias?.length ?? 0);
    case 'batchNorm':
      return node.mean.length * 2 + (node.gamma?.length ?? 0) + (node.beta?.length ?? 0);
    case 'opaque':
      return node.weights.reduce((a, w) => a + w.data.length, 0);
    default:
      return 0;
  }
}

/**
 * Learned parameters only: BN moving mean/variance are running statistics, not parameters (PyTorch
 * keeps them as buffers, Keras as non-trainable weights), and the papers' and PyTorch's parameter
 * counts leave them out. `nodeParams` counts every stored number, as Keras' count_params() does;
 * e.g. MobileNetV3-Small is 2.55 M by nodeParams, 2.54 M learned (paper: 2.5 M).
 */
export function nodeLearnedParams(node: Node): number {
  if (node.op === 'batchNorm') return (node.gamma?.length ?? 0) + (node.beta?.length ?? 0);
  return nodeParams(node);
}

export function learnedParams(graph: Graph): number {
  return graph.nodes.reduce((a, n) => a + nodeLearnedParams(n), 0);
}

export function nodeMacs(node: Node, outShape: Shape, graph: Graph): number | null {
  if (node.op === 'conv2d') {
    const { h, w } = spatialOf(outShape, graph.layout);
    if (h === null || w === null) return null;
    const [n, cPerGroup, kh, kw] = node.kernel.shape;
    return h * w * n * cPerGroup * kh * kw;
  }
  if (node.op === 'dense') {
    // Dense on a rank-3+ input applies per position.
    const positions = outShape.slice(0, -1);
    if (positions.some((d) => d === null)) return null;
    return positions.reduce<number>((a, d) => a * (d as number), 1) * node.weight.data.length;
  }
  return 0;
}

export function graphCosts(graph: Graph, inputShapes?: Record<string, Shape>): NodeCost[] {
  const shapes = inferShapes(graph, inputShapes);
  return graph.nodes.map((node) => {
    const outputShape = shapes.get(node.name) as Shape;
    return { name: node.name, op: node.op, macs: nodeMacs(node, outputShape, graph), params: nodeParams(node), outputShape };
  });
}

export interface CostTotals {
  macs: number | null;
  params: number;
}

export function totalCost(costs: NodeCost[]): CostTotals {
  let macs: number | null = 0;
  let params = 0;
  for (const c of costs) {
    params += c.params;
    macs = macs === null || c.macs === null ? null : macs + c.macs;
  }
  return { macs, params };
}

export function formatCount(n: number | null): string {
  if (n === null) return '?';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}
