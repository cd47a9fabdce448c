/** Runs IR graphs in tfjs: the graph is written as LayersModel artifacts and loaded from memory. */
import * as tf from '@tensorflow/tfjs';
import { prune, type Graph } from '../models/ir.js';
import { graphToLayersArtifacts } from '../models/tfjs/ir-to-keras.js';

export interface Batch {
  /** With the batch dimension, in the graph's layout. */
  shape: number[];
  data: Float32Array;
}

export async function toLayersModel(graph: Graph): Promise<tf.LayersModel> {
  const art = graphToLayersArtifacts(graph);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: art.modelTopology, weightSpecs: art.weightSpecs as tf.io.WeightsManifestEntry[], weightData: art.weightData }));
}

/** Outputs of the named nodes (default: the model outputs) for one input batch. */
export async function runGraph(graph: Graph, input: Batch, outputs: string[] = graph.outputs): Promise<Batch[]> {
  const model = await toLayersModel(prune({ ...graph, outputs }));
  try {
    return await predict(model, input);
  } finally {
    model.dispose();
  }
}

export async function predict(model: tf.LayersModel, input: Batch): Promise<Batch[]> {
  const x = tf.tensor(input.data, input.shape);
  try {
    const y = model.predict(x);
    const ys = Array.isArray(y) ? y : [y];
    const out = await Promise.all(ys.map(async (t) => ({ shape: t.shape as number[], data: (await t.data()) as Float32Array })));
    tf.dispose(ys);
    return out;
  } finally {
    x.dispose();
  }
}
