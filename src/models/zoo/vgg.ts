/**
 * VGG16 (Simonyan & Zisserman 2015, Table 1 configuration D): thirteen 3×3 convs with bias and
 * ReLU in five blocks, each closed by a 2×2 max pool, then 4096-4096-classes fully connected.
 * Layer names are Keras Applications' (block1_conv1 … fc1, fc2, predictions).
 */
import * as tf from '@tensorflow/tfjs';
import { Builder, type Sym } from './layers.js';
import type { ResolvedOptions } from './options.js';

const BLOCKS: [filters: number, convs: number][] = [
  [64, 2],
  [128, 2],
  [256, 3],
  [512, 3],
  [512, 3],
];

export function vgg16(o: ResolvedOptions): tf.LayersModel {
  const b = new Builder({ seed: o.seed, bnEpsilon: 1e-3 });
  const input = tf.input({ shape: [o.resolution, o.resolution, 3], name: 'input' });
  let x: Sym = input;
  BLOCKS.forEach(([filters, convs], bi) => {
    for (let ci = 0; ci < convs; ci++) {
      x = b.conv(x, `block${bi + 1}_conv${ci + 1}`, { filters, kernel: 3, bias: true, activation: 'relu' });
    }
    x = tf.layers.maxPooling2d({ name: `block${bi + 1}_pool`, poolSize: 2, strides: 2 }).apply(x) as Sym;
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as Sym;
  x = b.dense(x, 'fc1', 4096, 'relu');
  x = b.dense(x, 'fc2', 4096, 'relu');
  x = b.dense(x, 'predictions', o.classes, o.classifierActivation);
  return tf.model({ inputs: input, outputs: x, name: 'vgg16' });
}
