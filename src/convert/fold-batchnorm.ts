/**
 * Folds Conv2D → BatchNormalization into one conv (exact at inference):
 *   y = γ·(conv(x) + b − μ)/√(σ² + ε) + β  ⇒  W' = W·s, b' = (b − μ)·s + β, s = γ/√(σ² + ε).
 * Done before decomposition so the factors approximate the conv the network actually computes.
 */
import { channelAxis, consumers, type BatchNormNode, type Conv2DNode, type Graph, type Node } from '../models/ir.js';

export interface FoldedPair {
  conv: string;
  batchNorm: string;
}

export function foldBatchNorms(graph: Graph): { graph: Graph; folded: FoldedPair[] } {
  const users = consumers(graph);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const replaced = new Map<string, Node>();
  const dropped = new Map<string, string>(); // BN name → conv name that now produces its output
  const folded: FoldedPair[] = [];
  for (const node of graph.nodes) {
    if (node.op !== 'batchNorm') continue;
    const conv = byName.get(node.inputs[0]);
    if (!conv || conv.op !== 'conv2d' || conv.activation !== 'linear') continue;
    if ((users.get(conv.name) ?? []).length !== 1 || graph.outputs.includes(conv.name)) continue;
    const axis = node.axis < 0 ? 4 + node.axis : node.axis;
    if (axis !== channelAxis(graph.layout)) continue;
    replaced.set(conv.name, foldOne(conv, node));
    dropped.set(node.name, conv.name);
    folded.push({ conv: conv.name, batchNorm: node.name });
  }
  if (folded.length === 0) return { graph, folded };
  const rename = (n: string) => dropped.get(n) ?? n;
  const nodes = graph.nodes
    .filter((n) => !dropped.has(n.name))
    .map((n) => replaced.get(n.name) ?? (n.inputs.some((i) => dropped.has(i)) ? { ...n, inputs: n.inputs.map(rename) } : n)) as Node[];
  return { graph: { ...graph, nodes, outputs: graph.outputs.map(rename) }, folded };
}

function foldOne(conv: Conv2DNode, bn: BatchNormNode): Conv2DNode {
  const [n, cg, kh, kw] = conv.kernel.shape;
  const per = cg * kh * kw;
  if (bn.mean.length !== n) throw new Error(`layer "${bn.name}": ${bn.mean.length} channels after conv "${conv.name}" with ${n} filters`);
  const kernel = new Float32Array(conv.kernel.data.length);
  const bias = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    const s = (bn.gamma ? bn.gamma[o] : 1) / Math.sqrt(bn.variance[o] + bn.epsilon);
    for (let i = 0; i < per; i++) kernel[o * per + i] = conv.kernel.data[o * per + i] * s;
    bias[o] = ((conv.bias ? conv.bias[o] : 0) - bn.mean[o]) * s + (bn.beta ? bn.beta[o] : 0);
  }
  // No `source`: the folded conv is a new layer (it now has a bias the original may not have had).
  const { source: _drop, ...rest } = conv;
  void _drop;
  return { ...rest, kernel: { shape: [n, cg, kh, kw], data: kernel }, bias };
}
