/**
 * The training-only kernels used by scripts/train-reference.ts compute the same gradients as
 * tfjs' reference (cpu backend) implementations:
 *   - wasm Conv2DBackpropFilter / Conv2DBackpropInput (scripts/lib/wasm-conv-grads.ts), over
 *     strides, 'same'/'valid'/explicit padding, odd sizes and 1×1 kernels;
 *   - the BatchNormalization training pass (scripts/lib/fast-batchnorm.ts): same output, same
 *     gradients, same moving statistics, and it serialises as a plain BatchNormalization.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGrads } from '../../scripts/lib/wasm-conv-grads.js';
import { trainableBatchNormalization } from '../../scripts/lib/fast-batchnorm.js';

function maxAbsDiff(a: Float32Array | number[], b: Float32Array | number[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: Float32Array | number[]): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  x: [number, number, number, number];
  k: [number, number, number, number];
  s: number | [number, number];
  pad: Pad;
}

const CASES: ConvCase[] = [
  { x: [2, 8, 8, 3], k: [3, 3, 3, 4], s: 1, pad: 'same' },
  { x: [2, 8, 8, 3], k: [3, 3, 3, 4], s: 2, pad: 'same' },
  { x: [2, 7, 7, 3], k: [3, 3, 3, 4], s: 2, pad: 'same' },
  { x: [2, 9, 8, 3], k: [3, 3, 3, 5], s: 2, pad: 'valid' },
  { x: [2, 8, 8, 3], k: [1, 1, 3, 4], s: 2, pad: 'same' },
  { x: [1, 10, 9, 2], k: [5, 3, 2, 3], s: [2, 3], pad: 'same' },
  { x: [1, 6, 6, 2], k: [3, 3, 2, 2], s: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
];

/** Gradients of sum(conv2d(x, w)²) w.r.t. x and w on the given backend. */
async function convGrads(backend: string, c: ConvCase, x: Float32Array, w: Float32Array): Promise<[Float32Array, Float32Array]> {
  await tf.setBackend(backend);
  const xt = tf.tensor4d(x, c.x);
  const wt = tf.tensor4d(w, c.k);
  const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad))))([xt, wt]);
  const out: [Float32Array, Float32Array] = [(await gx.data()) as Float32Array, (await gw.data()) as Float32Array];
  tf.dispose([xt, wt, gx, gw]);
  return out;
}

function seeded(n: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([n], 0, 1, 'float32', seed).dataSync() as Float32Array);
}

describe('wasm Conv2D gradient kernels', () => {
  beforeAll(async () => {
    await tf.ready();
    registerWasmConvGrads();
  });

  for (const c of CASES) {
    it(`match the cpu backend: x ${c.x.join('×')}, kernel ${c.k.join('×')}, stride ${String(c.s)}, pad ${JSON.stringify(c.pad)}`, async () => {
      const x = seeded(c.x.reduce((a, b) => a * b), 1);
      const w = seeded(c.k.reduce((a, b) => a * b), 2);
      const [cpuX, cpuW] = await convGrads('cpu', c, x, w);
      const [wasmX, wasmW] = await convGrads('wasm', c, x, w);
      expect(maxAbsDiff(wasmX, cpuX)).toBeLessThanOrEqual(1e-5 * maxAbs(cpuX) + 1e-6);
      expect(maxAbsDiff(wasmW, cpuW)).toBeLessThanOrEqual(1e-5 * maxAbs(cpuW) + 1e-6);
    });
  }

  it('leak no tensors through the fused conv gradient used by Conv2D layers', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 8, 3]);
      const w = tf.randomNormal([3, 3, 3, 4]);
      const b = tf.zeros([4]);
      const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, bias: bb, strides: 2, pad: 'same', activation: 'relu' })),
      )([x, w, b]);
      g.forEach((t) => t.dataSync());
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('TrainableBatchNormalization', () => {
  /** conv → BN → dense; the BN layer is stock or ours, every other weight is seeded alike. */
  function net(fast: boolean): tf.LayersModel {
    return tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [5, 5, 3], filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        fast ? trainableBatchNormalization({ name: 'bn' }) : tf.layers.batchNormalization({ name: 'bn' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
  }

  for (const backend of ['cpu', 'wasm']) {
    it(`gives the stock layer's training output, gradients and moving statistics (${backend})`, async () => {
      await tf.setBackend(backend);
      const x = tf.randomNormal([4, 5, 5, 3], 2, 3, 'float32', 7);
      const results = [false, true].map((fast) => {
        const m = net(fast);
        const { value, grads } = tf.variableGrads(
          () => tf.tidy(() => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar),
          m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
        );
        const gradList = m.trainableWeights.map((w) => Array.from(grads[(w as unknown as { val: tf.Variable }).val.name].dataSync()));
        const bnWeights = m.getLayer('bn').getWeights().map((w) => Array.from(w.dataSync()));
        const className = (m.toJSON(null, false) as { config: { layers: { class_name: string }[] } }).config.layers[1].class_name;
        const loss = value.dataSync()[0];
        tf.dispose([value, ...Object.values(grads)]);
        m.dispose();
        return { loss, gradList, bnWeights, className };
      });
      const [stock, fast] = results;
      expect(fast.className).toBe('BatchNormalization');
      expect(Math.abs(fast.loss - stock.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(stock.loss));
      stock.gradList.forEach((g, i) => expect(maxAbsDiff(fast.gradList[i], g)).toBeLessThanOrEqual(1e-5 * maxAbs(g) + 1e-5));
      stock.bnWeights.forEach((w, i) => expect(maxAbsDiff(fast.bnWeights[i], w)).toBeLessThanOrEqual(1e-5 * maxAbs(w) + 1e-6));
      x.dispose();
    });
  }
});
