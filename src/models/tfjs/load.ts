/** TF.js LayersModel on disk ↔ IR graph. */
import path from 'node:path';
import type { Graph } from '../ir.js';
import { readModelFiles } from './files.js';
import { decodeWeights } from './weights.js';
import { kerasToGraph } from './keras-to-ir.js';
import { graphToLayersArtifacts } from './ir-to-keras.js';

export async function loadTfjsGraph(modelJsonPath: string): Promise<Graph> {
  const files = await readModelFiles(modelJsonPath);
  const weights = await decodeWeights(files.weightData, files.weightSpecs);
  const graph = kerasToGraph(files.modelTopology, weights);
  graph.meta = { ...graph.meta, sourcePath: path.resolve(modelJsonPath), format: 'tfjs' };
  return graph;
}

/** The files of a saved LayersModel: model.json + one weights shard, float32. */
export function layersModelFiles(graph: Graph, extra: Record<string, unknown> = {}): Record<string, Uint8Array | string> {
  const art = graphToLayersArtifacts(graph);
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'netdecouple',
    convertedBy: null,
    modelTopology: art.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }],
    ...extra,
  };
  return { 'model.json': JSON.stringify(modelJson), 'weights.bin': new Uint8Array(art.weightData) };
}
