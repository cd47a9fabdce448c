/**
 * Keras 3 specifics: weight paths from class names (checked against the default layer names Keras
 * gives, which come from the same snake-casing), a Sequential .keras model, and the Keras 3
 * features we refuse with one line.
 */
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm/node';
import { hdf5Ready } from '../../src/models/keras/h5.js';
import { loadGraph } from '../../src/models/load.js';
import { runGraph } from '../../src/eval/tfjs-run.js';
import { kerasV3ToV2 } from '../../src/models/keras/config-v3.js';
import { layerPaths, toSnakeCase } from '../../src/models/keras/variables.js';
import { images, maxAbsDiff, ROOT } from './helpers.js';

describe('Keras 3 weight paths', () => {
  it('snake-cases class names as Keras names its layers by default', () => {
    // Keras' automatic layer names: conv2d, depthwise_conv2d, batch_normalization, re_lu, …
    const cases = { Conv2D: 'conv2d', DepthwiseConv2D: 'depthwise_conv2d', SeparableConv2D: 'separable_conv2d', BatchNormalization: 'batch_normalization', ReLU: 're_lu', GlobalAveragePooling2D: 'global_average_pooling2d', MaxPooling2D: 'max_pooling2d', Dense: 'dense', InputLayer: 'input_layer' };
    for (const [cls, name] of Object.entries(cases)) expect(toSnakeCase(cls)).toBe(name);
  });

  it('numbers repeated classes per class, in layer order', () => {
    expect(layerPaths(['InputLayer', 'Conv2D', 'BatchNormalization', 'Conv2D', 'Conv2D', 'Dense'])).toEqual([
      'layers/input_layer', 'layers/conv2d', 'layers/batch_normalization', 'layers/conv2d_1', 'layers/conv2d_2', 'layers/dense',
    ]);
  });
});

describe('Keras 3 config', () => {
  it.each([
    ['an InputLayer with batch_shape', true],
    ['no InputLayer, the input shape in build_config', false],
  ])('a Sequential .keras (%s) reads to the Functional one\'s outputs', async (_what, withInput) => {
    const entries = unzipSync(await fs.readFile(path.join(ROOT, 'fixtures/keras/fmnist-vgg.keras')));
    const functional = JSON.parse(strFromU8(entries['config.json']));
    const layers = functional.config.layers.map(({ inbound_nodes: _n, ...l }: Record<string, unknown>) => l).slice(withInput ? 0 : 1);
    entries['config.json'] = strToU8(JSON.stringify({ module: 'keras', class_name: 'Sequential', config: { name: 'seq', trainable: true, layers }, registered_name: null, build_config: { input_shape: [null, 28, 28, 1] } }));
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'nd-seq-')), 'seq.keras');
    await fs.writeFile(file, zipSync(entries, { level: 0 }));
    await tf.setBackend('cpu');
    const x = images(2);
    const [a] = await runGraph(await loadGraph(file), x);
    const [b] = await runGraph(await loadGraph(path.join(ROOT, 'fixtures/keras/fmnist-vgg.keras')), x);
    expect(maxAbsDiff(a.data, b.data)).toBe(0);
  });

  it('a .h5 whose model_config is in Keras 3 form (as Keras 3 writes .h5 files) reads like the Keras 2 one', async () => {
    const entries = unzipSync(await fs.readFile(path.join(ROOT, 'fixtures/keras/fmnist-resnet.keras')));
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'nd-k3h5-')), 'k3.h5');
    await fs.copyFile(path.join(ROOT, 'fixtures/keras/fmnist-resnet.h5'), file);
    await hdf5Ready();
    const f = new h5wasm.File(file, 'a');
    const text = strFromU8(entries['config.json']);
    f.delete_attribute('model_config');
    f.create_attribute('model_config', text, null, `S${text.length}`);
    f.close();
    await tf.setBackend('cpu');
    const x = images(2);
    const [a] = await runGraph(await loadGraph(file), x);
    const [b] = await runGraph(await loadGraph(path.join(ROOT, 'fixtures/keras/fmnist-resnet.h5')), x);
    expect(maxAbsDiff(a.data, b.data)).toBe(0);
  });

  const layer = (cfg: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    module: 'keras', class_name: 'Functional', registered_name: 'Functional',
    config: { name: 'm', layers: [{ module: 'keras.layers', class_name: 'Dense', name: 'd', config: { name: 'd', units: 2, ...cfg }, inbound_nodes: [], ...extra }], input_layers: ['d', 0, 0], output_layers: ['d', 0, 0] },
  });

  it('maps dtype policies, wrappers and a flat ["name", 0, 0] input list', () => {
    const v2 = kerasV3ToV2(layer({ dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'mixed_float16' }, registered_name: null }, kernel_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null } }), 'm.keras');
    const cfg = v2.config as { layers: { config: Record<string, unknown> }[]; input_layers: unknown };
    expect(cfg.layers[0].config.dtype).toBe('float32');
    expect(cfg.layers[0].config.kernel_initializer).toEqual({ class_name: 'Zeros', config: {} });
    expect(cfg.input_layers).toEqual([['d', 0, 0]]);
  });

  it.each([
    ['a quantized dtype policy', layer({ dtype: { class_name: 'DTypePolicy', config: { name: 'int8_from_float32' } } }), /layer "d" \(Dense\): dtype policy "int8_from_float32" is not supported/],
    ['LoRA', layer({ lora_rank: 4 }), /layer "d" \(Dense\): LoRA \(lora_rank 4\) is not supported/],
    ['a tensor passed as a keyword argument', layer({}, { inbound_nodes: [{ args: [], kwargs: { mask: { class_name: '__keras_tensor__', config: { keras_history: ['x', 0, 0] } } } }] }), /layer "d" \(Dense\): tensors passed as keyword arguments/],
  ])('refuses %s with one line naming the layer', (_what, config, error) => {
    expect(() => kerasV3ToV2(config, 'm.keras')).toThrow(error);
  });
});
