/** User-given weights for zoo models: put into a freshly built model by TF.js weight name, every shape checked. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readModelFiles } from '../tfjs/files.js';
import { decodeWeights } from '../tfjs/weights.js';

export function loadWeights(model: tf.LayersModel, given: Map<string, { shape: number[]; data: Float32Array }>): void {
  const vars = model.weights;
  const known = new Set(vars.map((v) => v.originalName));
  for (const name of given.keys()) {
    if (!known.has(name)) {
      const sample = vars.slice(0, 3).map((v) => v.originalName).join(', ');
      throw new Error(`weight "${name}" is not a weight of ${model.name} (its weights are named like ${sample}, …); rename it or build the matching architecture`);
    }
  }
  // Frozen layers hold the constants of hard-sigmoid/h-swish: arithmetic, not learned, so optional.
  const constant = new Set(model.layers.filter((l) => !l.trainable).flatMap((l) => l.weights.map((w) => w.originalName)));
  const checked = vars.map((v) => {
    const w = given.get(v.originalName);
    if (!w) {
      if (constant.has(v.originalName)) return null;
      throw new Error(`weight "${v.originalName}" [${v.shape}] of ${model.name} is missing from the given weights`);
    }
    const shape = v.shape as number[];
    const same = w.shape.length === v.shape.length && w.shape.every((d, i) => d === shape[i]);
    if (!same || w.data.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`weight "${v.originalName}": given shape [${w.shape}] (${w.data.length} values), the model needs [${v.shape}]`);
    }
    return { v, w, shape };
  });
  // Validate everything first so a bad map leaves the model untouched.
  for (const c of checked) {
    if (!c) continue;
    const t = tf.tensor(c.w.data, c.shape);
    c.v.write(t);
    t.dispose();
  }
}

/**
 * The weights of a saved TF.js LayersModel (model.json or its folder) by name — e.g. a zoo model
 * built earlier, to rebuild the same architecture at another resolution with the same weights.
 */
export async function readWeightsFile(file: string): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const stat = await fs.stat(file).catch(() => null);
  if (!stat) throw new Error(`--weights ${file}: not found; give a model.json (or its folder) saved by TF.js`);
  const json = stat.isDirectory() ? path.join(file, 'model.json') : file;
  const files = await readModelFiles(json);
  return decodeWeights(files.weightData, files.weightSpecs);
}
