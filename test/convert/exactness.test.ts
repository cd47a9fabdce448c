import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useWasm, init, graphOf, seededInput, randomizeBatchNorms } from '../helpers/tfjs.js';
import { convertGraph, type ConvertOptions } from '../../src/convert/convert.js';
import { runGraph } from '../../src/eval/tfjs-run.js';
import type { Graph } from '../../src/models/ir.js';

beforeAll(useWasm);

const FULL: ConvertOptions = { energy: 1, keepUnprofitable: true, minInChannels: 0 };
const VARIANTS = [
  { order: 'dw-pw', form: 'split' },
  { order: 'dw-pw', form: 'merged' },
  { order: 'pw-dw', form: 'split' },
  { order: 'pw-dw', form: 'merged' },
] as const;

async function expectExact(graph: Graph, inputShape: number[], expectedLayers: number): Promise<void> {
  const x = seededInput(inputShape);
  const [y] = await runGraph(graph, x);
  const scale = Math.max(...Array.from(y.data, Math.abs));
  for (const v of VARIANTS) {
    const conv = convertGraph(graph, { ...FULL, ...v });
    expect(conv.layers.length, `${v.order}/${v.form}`).toBe(expectedLayers);
    const [z] = await runGraph(conv.graph, x);
    expect(z.shape).toEqual(y.shape);
    let maxDiff = 0;
    for (let i = 0; i < y.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(y.data[i] - z.data[i]));
    expect(maxDiff / scale, `${v.order}/${v.form}`).toBeLessThan(1e-5);
  }
}

function convModel(layer: tf.layers.Layer, inputShape: number[]): tf.LayersModel {
  const input = tf.input({ shape: inputShape });
  return tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
}

describe('full-rank decoupling reproduces the original model (every order and form)', () => {
  it('stride 2 with same padding', async () => {
    const m = convModel(tf.layers.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(), biasInitializer: init() }), [9, 10, 6]);
    await expectExact(await graphOf(m), [2, 9, 10, 6], 1);
  });

  it('stride 2 with valid padding, non-square kernel', async () => {
    const m = convModel(tf.layers.conv2d({ filters: 7, kernelSize: [3, 5], strides: 2, padding: 'valid', kernelInitializer: init(), biasInitializer: init() }), [11, 12, 5]);
    await expectExact(await graphOf(m), [1, 11, 12, 5], 1);
  });

  it('dilation 2, no bias', async () => {
    const m = convModel(tf.layers.conv2d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false, kernelInitializer: init() }), [12, 12, 5]);
    await expectExact(await graphOf(m), [1, 12, 12, 5], 1);
  });

  for (const activation of ['relu', 'relu6', 'elu', 'selu', 'sigmoid', 'tanh', 'softplus', 'softsign', 'swish', 'hardSigmoid', 'linear'] as const) {
    it(`conv with fused activation ${activation}`, async () => {
      const m = convModel(tf.layers.conv2d({ filters: 10, kernelSize: 3, padding: 'same', activation, kernelInitializer: init(), biasInitializer: init() }), [8, 8, 4]);
      await expectExact(await graphOf(m), [1, 8, 8, 4], 1);
    });
  }

  it('a conv followed by BatchNormalization (folded first)', async () => {
    const input = tf.input({ shape: [8, 8, 6] });
    const c = tf.layers.conv2d({ filters: 9, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init() }).apply(input);
    const b = tf.layers.batchNormalization().apply(c);
    const r = tf.layers.reLU().apply(b) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: r });
    randomizeBatchNorms(m);
    const g = await graphOf(m);
    expect(convertGraph(g, { ...FULL }).foldedBatchNorms).toEqual([{ conv: g.nodes[1].name, batchNorm: g.nodes[2].name }]);
    await expectExact(g, [1, 8, 8, 6], 1);
  });

  it('a functional graph with Add and Concatenate', async () => {
    const input = tf.input({ shape: [10, 10, 8] });
    const a = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(), biasInitializer: init() }).apply(input) as tf.SymbolicTensor;
    const s = tf.layers.add().apply([a, input]) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', kernelInitializer: init(), biasInitializer: init() }).apply(s) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([s, b]) as tf.SymbolicTensor;
    const out = tf.layers.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init() }).apply(cat) as tf.SymbolicTensor;
    await expectExact(await graphOf(tf.model({ inputs: input, outputs: out })), [1, 10, 10, 8], 3);
  });

  it('a Sequential model with pooling and a dense head', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init() }),
        tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init() }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init() }),
      ],
    });
    await expectExact(await graphOf(m), [2, 12, 12, 3], 2);
  });
});
