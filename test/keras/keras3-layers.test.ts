/**
 * Keras 3 variable order for the separable classes, against tfjs: a model with SeparableConv2D,
 * DepthwiseConv2D (whose kernel Keras 3 calls "kernel"), BatchNormalization and Dense, built in
 * tfjs-layers with random weights, is written as a .keras file by hand — Keras 3 config, weights at
 * layers/<class>/vars/<i> in build() order — and read back to tfjs' own outputs.
 */
import { beforeAll, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import { loadGraph } from '../../src/models/load.js';
import { runGraph } from '../../src/eval/tfjs-run.js';
import { buildH5, writeFloats } from '../../src/models/keras/h5.js';
import { images, maxAbsDiff, predictStock } from './helpers.js';

const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const tensor = (from: string, shape: (number | null)[]) => ({ class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [from, 0, 0] } });
const layer = (cls: string, name: string, config: Record<string, unknown>, from: string | null, inShape: (number | null)[]) => ({
  module: 'keras.layers', class_name: cls, registered_name: null, name,
  config: { name, trainable: true, dtype: policy, ...config },
  ...(from ? { build_config: { input_shape: inShape }, inbound_nodes: [{ args: [tensor(from, inShape)], kwargs: {} }] } : { inbound_nodes: [] }),
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('SeparableConv2D, DepthwiseConv2D, BatchNormalization and Dense read from .keras give tfjs\' outputs', async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.separableConv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'sep', depthwiseInitializer: 'glorotNormal', biasInitializer: 'randomNormal' }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'valid', name: 'dw', biasInitializer: 'randomNormal' }),
      tf.layers.batchNormalization({ name: 'bn', gammaInitializer: 'randomNormal', movingVarianceInitializer: 'ones', movingMeanInitializer: 'randomNormal' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ units: 3, name: 'fc', biasInitializer: 'randomNormal' }),
    ],
  });
  const w = (name: string) => model.getLayer(name).getWeights().map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
  // Keras 3 build() order; tfjs' getWeights() lists them in the same order for these classes.
  const vars: Record<string, ReturnType<typeof w>> = { separable_conv2d: w('sep'), depthwise_conv2d: w('dw'), batch_normalization: w('bn'), dense: w('fc') };
  const weights = await buildH5((f) => {
    f.create_group('vars');
    const layers = f.create_group('layers');
    for (const g of ['input_layer', 'global_average_pooling2d', ...Object.keys(vars)]) {
      const v = layers.create_group(g).create_group('vars');
      (vars[g] ?? []).forEach((arr, i) => writeFloats(v, String(i), arr));
    }
  });
  const config = {
    module: 'keras', class_name: 'Functional', registered_name: 'Functional',
    config: {
      name: 'sep_model', trainable: true,
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, name: 'input_layer', config: { batch_shape: [null, 8, 8, 3], dtype: 'float32', sparse: false, name: 'input_layer' }, inbound_nodes: [] },
        layer('SeparableConv2D', 'sep', { filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], depth_multiplier: 2, activation: 'linear', use_bias: true }, 'input_layer', [null, 8, 8, 3]),
        layer('DepthwiseConv2D', 'dw', { kernel_size: [3, 3], strides: [1, 1], padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], depth_multiplier: 1, activation: 'linear', use_bias: true }, 'sep', [null, 8, 8, 4]),
        layer('BatchNormalization', 'bn', { axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true, synchronized: false }, 'dw', [null, 6, 6, 4]),
        layer('GlobalAveragePooling2D', 'gap', { data_format: 'channels_last', keepdims: false }, 'bn', [null, 6, 6, 4]),
        layer('Dense', 'fc', { units: 3, activation: 'linear', use_bias: true, lora_rank: null }, 'gap', [null, 4]),
      ],
      input_layers: [['input_layer', 0, 0]],
      output_layers: [['fc', 0, 0]],
    },
  };
  const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'nd-k3-')), 'sep.keras');
  await fs.writeFile(file, zipSync({ 'metadata.json': strToU8('{"keras_version": "3.6.0"}'), 'config.json': strToU8(JSON.stringify(config)), 'model.weights.h5': weights }, { level: 0 }));
  const x = images(2, 8, 8, 3);
  const [got] = await runGraph(await loadGraph(file), x);
  expect(maxAbsDiff(got.data, predictStock(model, x))).toBeLessThanOrEqual(1e-5);
});
