/**
 * Small seeded models for the eval/report tests, built with the tfjs layers API and saved as
 * model.json + weights.bin (so the tests read them through the same loader as real models).
 */
import * as tf from '@tensorflow/tfjs';
import { saveLayersModel } from '../../src/models/tfjs/from-model.js';

/** 28×28×1 → 10 classes: conv(4) → conv(16) → pool → conv(16) → GAP → dense softmax. Untrained, seeded. */
export function tinyClassifier(seed = 7): tf.LayersModel {
  const init = (i: number) => tf.initializers.heNormal({ seed: seed * 100 + i });
  const input = tf.input({ shape: [28, 28, 1], name: 'input' });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'conv1' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2), name: 'conv2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(3), name: 'conv3' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(4), name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'tiny_classifier' });
}

/** Any-size RGB → ×2 RGB: conv(16) → conv(16) → conv(12) → depth-to-space-free upsample → conv(3). Seeded. */
export function tinyUpscaler(seed = 11): tf.LayersModel {
  const init = (i: number) => tf.initializers.heNormal({ seed: seed * 100 + i });
  const input = tf.input({ shape: [null, null, 3], name: 'input' });
  let x = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'conv1' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2), name: 'conv2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(3), name: 'conv3' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: init(4), biasInitializer: tf.initializers.constant({ value: 128 }), name: 'conv4' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'tiny_upscaler' });
}

export async function saveTiny(model: tf.LayersModel, dir: string): Promise<string> {
  await saveLayersModel(model, dir);
  return `${dir}/model.json`;
}
