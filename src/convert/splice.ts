/**
 * Replaces nodes of a graph by subgraphs. Every method's rewrite (ND, CP, Tucker-2, spatial)
 * produces a Replacement; this is the one place that rewires consumers and model outputs.
 */
import type { Graph, Node } from '../models/ir.js';

export interface Replacement {
  /** New nodes in topological order; their inputs may name the replaced node's inputs. */
  nodes: Node[];
  /** The new node whose output stands for the replaced node's output. */
  output: string;
}

export function splice(graph: Graph, replacements: Map<string, Replacement>): Graph {
  const outOf = (n: string) => replacements.get(n)?.output ?? n;
  const names = new Set(graph.nodes.map((n) => n.name));
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    const rep = replacements.get(node.name);
    if (!rep) {
      nodes.push(node.inputs.some((i) => replacements.has(i)) ? ({ ...node, inputs: node.inputs.map(outOf) } as Node) : node);
      continue;
    }
    for (const n of rep.nodes) {
      if (names.has(n.name) && n.name !== node.name) throw new Error(`rewriting "${node.name}" would create "${n.name}", which already exists`);
      nodes.push({ ...n, inputs: n.inputs.map(outOf) } as Node);
    }
  }
  return { ...graph, nodes, outputs: graph.outputs.map(outOf) };
}
