/** In-memory tf.LayersModel ↔ IR, and saving a LayersModel to disk without tfjs-node's file:// handler. */
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../ir.js';
import type { WeightSpec } from './files.js';
import { decodeWeights } from './weights.js';
import { kerasToGraph } from './keras-to-ir.js';
import { writeFolderAtomically } from '../atomic-dir.js';

export async function layersModelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    captured = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return captured as unknown as tf.io.ModelArtifacts;
}

function weightBuffer(a: tf.io.ModelArtifacts): ArrayBuffer {
  const d = a.weightData;
  if (!d) return new ArrayBuffer(0);
  return Array.isArray(d) ? tf.io.concatenateArrayBuffers(d) : d;
}

export async function graphFromLayersModel(model: tf.LayersModel): Promise<Graph> {
  const a = await layersModelArtifacts(model);
  const weights = await decodeWeights(weightBuffer(a), (a.weightSpecs ?? []) as WeightSpec[]);
  return kerasToGraph(a.modelTopology as Record<string, unknown>, weights);
}

/** Writes model.json + weights.bin into `dir` (atomically), as tfjs-node's file:// handler would. */
/** `convertedBy` names the writer in model.json (it marks a zoo build as ours, so a rebuild may replace it). */
export async function saveLayersModel(model: tf.LayersModel, dir: string, extra: Record<string, string> = {}, opts: { convertedBy?: string; force?: boolean } = {}): Promise<void> {
  const a = await layersModelArtifacts(model);
  const json = { format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`, convertedBy: opts.convertedBy ?? null, modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }] };
  await writeFolderAtomically(dir, { 'model.json': JSON.stringify(json), 'weights.bin': new Uint8Array(weightBuffer(a)), ...extra }, { force: opts.force });
}
