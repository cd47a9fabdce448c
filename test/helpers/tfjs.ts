/** Small tfjs models built with the layers API, seeded, for exactness tests. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { graphFromLayersModel } from '../../src/models/tfjs/from-model.js';
import type { Graph } from '../../src/models/ir.js';

export async function useWasm(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
}

let seed = 1;
export const init = () => tf.initializers.randomNormal({ mean: 0, stddev: 0.2, seed: seed++ });

/** Makes BatchNorm statistics non-trivial so folding is really tested. */
export function randomizeBatchNorms(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const ws = layer.getWeights();
    const s = seed++;
    layer.setWeights(ws.map((w, i) => (i === ws.length - 1 ? tf.randomUniform(w.shape, 0.5, 2, 'float32', s) : tf.randomNormal(w.shape, 0, 0.5, 'float32', s + i))));
  }
}

export async function graphOf(model: tf.LayersModel): Promise<Graph> {
  return graphFromLayersModel(model);
}

export function seededInput(shape: number[], s = 7): { shape: number[]; data: Float32Array } {
  return { shape, data: tf.randomNormal(shape, 0, 1, 'float32', s).dataSync() as Float32Array };
}
