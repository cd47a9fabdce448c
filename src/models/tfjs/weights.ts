/**
 * Weight decoding: the TF.js converter's float32, int32 and quantized (uint8 / uint16 / float16)
 * weights become float32 arrays. Dequantization is tfjs's own (tf.io.decodeWeights), so we match
 * what tf.loadLayersModel would load bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelFormatError, type WeightSpec } from './files.js';

export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

export async function decodeWeights(weightData: ArrayBuffer, specs: WeightSpec[]): Promise<Map<string, NamedWeight>> {
  await tf.ready();
  const out = new Map<string, NamedWeight>();
  if (specs.length === 0) return out;
  const tensors = tf.io.decodeWeights(weightData, specs as tf.io.WeightsManifestEntry[]);
  try {
    for (const spec of specs) {
      const t = tensors[spec.name];
      if (!t) throw new ModelFormatError(`weight "${spec.name}" could not be decoded`);
      const data = Float32Array.from(t.dataSync() as ArrayLike<number>);
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i])) {
          throw new ModelFormatError(`weight "${spec.name}" contains ${Number.isNaN(data[i]) ? 'NaN' : 'Inf'} at index ${i}; the model is corrupt`);
        }
      }
      out.set(spec.name, { name: spec.name, shape: [...spec.shape], data });
    }
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return out;
}
