/** Shared by the Keras tests: stock tfjs loading (no project code) and output comparison. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../../src/eval/tfjs-run.js';

export const ROOT = path.resolve(__dirname, '../..');
export const REFERENCE_MODELS = ['fmnist-vgg', 'fmnist-resnet'] as const;

/** A TF.js LayersModel folder loaded with plain tf.loadLayersModel: the oracle the Keras files are checked against. */
export async function stockTfjs(modelJson: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await fs.readFile(modelJson, 'utf8'));
  const bufs: Buffer[] = [];
  for (const g of json.weightsManifest) for (const p of g.paths) bufs.push(await fs.readFile(path.join(path.dirname(modelJson), p)));
  const all = Buffer.concat(bufs);
  const weightSpecs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) }));
}

/** Seeded images in [0, 1], NHWC. */
export function images(n: number, h = 28, w = 28, c = 1, seed = 11): Batch {
  return { shape: [n, h, w, c], data: tf.randomUniform([n, h, w, c], 0, 1, 'float32', seed).dataSync() as Float32Array };
}

export function predictStock(model: tf.LayersModel, x: Batch): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(x.data, x.shape)) as tf.Tensor).dataSync() as Float32Array);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
