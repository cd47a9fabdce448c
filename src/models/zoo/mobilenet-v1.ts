/**
 * MobileNetV1 (Howard et al. 2017, Table 1): a 3×3 stride-2 conv, then thirteen depthwise 3×3 +
 * pointwise 1×1 pairs, each followed by BN and ReLU6 (the TF release), global pool, classifier.
 * α thins every layer (int(c·α), as Keras Applications); the resolution multiplier ρ is the input
 * size, ρ·224.
 */
import * as tf from '@tensorflow/tfjs';
import { Builder } from './layers.js';
import type { ResolvedOptions } from './options.js';

/** [pointwise filters, depthwise stride] of the 13 separable blocks. */
const BLOCKS: [number, number][] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

export function mobilenetV1(o: ResolvedOptions): tf.LayersModel {
  const b = new Builder({ seed: o.seed, bnEpsilon: 1e-3 });
  const width = (c: number) => Math.trunc(c * o.alpha);
  const input = tf.input({ shape: [o.resolution, o.resolution, 3], name: 'input' });
  let x = b.convBnAct(input, 'conv1', { filters: width(32), kernel: 3, strides: 2 }, 'relu6');
  BLOCKS.forEach(([filters, stride], i) => {
    x = b.dwBnAct(x, `conv_dw_${i + 1}`, { kernel: 3, strides: stride }, 'relu6');
    x = b.convBnAct(x, `conv_pw_${i + 1}`, { filters: width(filters), kernel: 1 }, 'relu6');
  });
  x = b.classifier(x, { classes: o.classes, activation: o.classifierActivation });
  return tf.model({ inputs: input, outputs: x, name: `mobilenet_v1_${o.alpha}_${o.resolution}` });
}
