/**
 * Saves a TF.js LayersModel to a folder as model.json + weights.bin, without tfjs-node.
 *
 * Written atomically: everything goes to a sibling temp folder first, which then replaces the
 * target with rename(), so an interrupted run never leaves a model.json pointing at a
 * half-written weights file. The JSON is the standard "layers-model" format that
 * tf.loadLayersModel and the TF.js converter read.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const WEIGHTS_FILE = 'weights.bin';

export interface SaveLayersModelOptions {
  /** Extra files written into the same folder in the same atomic step (name → contents). */
  extraFiles?: Record<string, string>;
}

function joinWeightData(data: tf.io.WeightData): Uint8Array {
  const buffer = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
  return new Uint8Array(buffer);
}

export async function saveLayersModel(model: tf.LayersModel, dir: string, options: SaveLayersModelOptions = {}): Promise<void> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        if (artifacts.weightData === undefined || artifacts.weightSpecs === undefined) {
          throw new Error(`saving "${model.name}": the model produced no weights`);
        }
        const weights = joinWeightData(artifacts.weightData);
        const modelJson = {
          modelTopology: artifacts.modelTopology,
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy ?? null,
          weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
        };
        writeFileSync(join(tmp, 'model.json'), `${JSON.stringify(modelJson)}\n`);
        writeFileSync(join(tmp, WEIGHTS_FILE), weights);
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
      }),
    );
    for (const [name, contents] of Object.entries(options.extraFiles ?? {})) {
      writeFileSync(join(tmp, name), contents);
    }
    // rename() cannot replace a non-empty folder: move the old one aside, then drop it.
    const old = join(parent, `.${basename(dir)}.old-${process.pid}`);
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
