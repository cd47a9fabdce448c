/**
 * Output errors of a conversion on a real input:
 *   - per layer, local: the replacement fed the reference network's own input to that layer,
 *     against the original layer's output (what this layer's approximation costs on its own);
 *   - per layer, accumulated: the converted network's activation at that point against the
 *     reference network's (how error builds up through depth);
 *   - the model output.
 */
import type { Graph, Node } from '../models/ir.js';
import type { Conversion } from '../convert/convert.js';
import type { Batch } from './tfjs-run.js';
import type { GraphRunner } from './runner.js';
import { compareOutputs, peakRange, relL2, type OutputComparison } from './metrics.js';
import { localOutputError, referenceActivations } from './layer-alone.js';

export interface LayerOutputError {
  name: string;
  outputRelError: number;
  accumulatedRelError: number;
}

export interface ConversionErrors {
  layers: LayerOutputError[];
  output: OutputComparison;
  original: Batch;
  converted: Batch;
}

export async function measureConversion(runner: GraphRunner, conv: Conversion, original: Graph, input: Batch, dataRange?: number): Promise<ConversionErrors> {
  const ref = conv.reference;
  const byName = new Map(ref.nodes.map((n) => [n.name, n]));
  const inputsOf = (n: string) => (byName.get(n) as Node).inputs[0];
  const refActs = await referenceActivations(runner, ref, conv.layers.map((l) => ({ name: l.name, input: inputsOf(l.name) })), input);
  // Per layer: the graph before any channel-order folding (the same function, outputs in the original order).
  const perLayer = conv.unfolded ?? { graph: conv.graph, layers: conv.layers };
  const convActs = perLayer.layers.length ? await runner.run(perLayer.graph, input, perLayer.layers.map((l) => l.output)) : [];
  const [origOut] = await runner.run(original, input);
  const [convOut] = await runner.run(conv.graph, input);

  const layers: LayerOutputError[] = [];
  for (const [i, layer] of perLayer.layers.entries()) {
    // In the converted graph the replacement reads the converted predecessor; feed it the reference activation instead.
    const part = new Set(layer.replacedBy);
    const nodes = perLayer.graph.nodes.filter((n) => part.has(n.name));
    const feed = nodes.flatMap((n) => n.inputs).find((x) => !part.has(x)) as string;
    const y = refActs.get(layer.name) as Batch;
    const alone = { name: `${layer.name}_local`, layout: ref.layout, nodes, input: feed, output: layer.output };
    const outputRelError = await localOutputError(runner, alone, refActs.get(inputsOf(layer.name)) as Batch, y);
    layers.push({ name: layer.name, outputRelError, accumulatedRelError: relL2(y.data, convActs[i].data) });
  }
  return { layers, output: compareOutputs(origOut.data, convOut.data, dataRange ?? peakRange(origOut.data)), original: origOut, converted: convOut };
}
