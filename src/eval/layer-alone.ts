/**
 * One layer on its own: a node group (a conv, or the replacement standing for it) as a runnable
 * graph with a single input, and that replacement fed the reference network's activation — the
 * local output error that conversion-errors.ts reports per layer and `compare` per candidate, and
 * the mini graphs latency.ts times per layer.
 */
import type { Graph, InputNode, Layout, Node } from '../models/ir.js';
import type { GraphRunner } from './runner.js';
import type { Batch } from './tfjs-run.js';
import { relL2 } from './metrics.js';

export interface LayerAlone {
  /** Name of the mini graph. */
  name: string;
  layout: Layout;
  /** The group's nodes, topological order, without the input they read. */
  nodes: Node[];
  /** The one tensor the group reads from outside: it becomes the graph's input. */
  input: string;
  /** The node standing for the group's output. */
  output: string;
}

/** The group as a graph whose one input (per-example shape `inputShape`) stands for `input`. */
export function singleLayerGraph(layer: LayerAlone, inputShape: readonly number[]): Graph {
  const inputNode: InputNode = { op: 'input', name: layer.input, inputs: [], shape: [...inputShape], dtype: 'float32' };
  return { name: layer.name, layout: layer.layout, nodes: [inputNode, ...layer.nodes], inputs: [layer.input], outputs: [layer.output] };
}

/**
 * The reference network's activations a per-layer measurement needs, from one run: each layer's
 * input (the graph's input as given) and output.
 */
export async function referenceActivations(runner: GraphRunner, graph: Graph, layers: { name: string; input: string }[], input: Batch): Promise<Map<string, Batch>> {
  const names = [...new Set([...layers.map((l) => l.input).filter((n) => !graph.inputs.includes(n)), ...layers.map((l) => l.name)])];
  const acts = new Map<string, Batch>();
  if (names.length) {
    const out = await runner.run(graph, input, names);
    names.forEach((n, i) => acts.set(n, out[i]));
  }
  for (const n of graph.inputs) acts.set(n, input);
  return acts;
}

/** ‖y − ŷ‖₂ / ‖y‖₂ of the group fed activation `x` (the reference's input to the layer), against the reference output `y`. */
export async function localOutputError(runner: GraphRunner, layer: LayerAlone, x: Batch, y: Batch): Promise<number> {
  const [local] = await runner.run(singleLayerGraph(layer, x.shape.slice(1)), x);
  return relL2(y.data, local.data);
}
