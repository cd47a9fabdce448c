/**
 * MobileNetV2 (Sandler et al. 2018, Table 2): inverted residuals with linear bottlenecks —
 * 1×1 expand (×t) → ReLU6 → depthwise 3×3 → ReLU6 → 1×1 project (no activation), with a residual
 * when stride 1 and widths match; the first block (t = 1) has no expand conv. Channels are rounded
 * to multiples of 8 after α; the last conv stays 1280 for α ≤ 1 (as the paper and Keras do).
 */
import * as tf from '@tensorflow/tfjs';
import { Builder, makeDivisible, type Sym } from './layers.js';
import type { ResolvedOptions } from './options.js';

/** [expansion t, output channels c, repeats n, first stride s]. */
const STAGES: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

function invertedResidual(b: Builder, x: Sym, name: string, o: { inC: number; outC: number; t: number; stride: number }): Sym {
  let y = x;
  if (o.t !== 1) y = b.convBnAct(y, `${name}_expand`, { filters: o.inC * o.t, kernel: 1 }, 'relu6');
  y = b.dwBnAct(y, `${name}_depthwise`, { kernel: 3, strides: o.stride }, 'relu6');
  y = b.bn(b.conv(y, `${name}_project`, { filters: o.outC, kernel: 1 }), `${name}_project_bn`);
  return o.stride === 1 && o.inC === o.outC ? b.add([x, y], `${name}_add`) : y;
}

export function mobilenetV2(o: ResolvedOptions): tf.LayersModel {
  const b = new Builder({ seed: o.seed, bnEpsilon: 1e-3 });
  const input = tf.input({ shape: [o.resolution, o.resolution, 3], name: 'input' });
  let channels = makeDivisible(32 * o.alpha, 8);
  let x = b.convBnAct(input, 'conv1', { filters: channels, kernel: 3, strides: 2 }, 'relu6');
  let id = 0;
  for (const [t, c, n, s] of STAGES) {
    const outC = makeDivisible(c * o.alpha, 8);
    for (let i = 0; i < n; i++) {
      x = invertedResidual(b, x, `block_${id}`, { inC: channels, outC, t, stride: i === 0 ? s : 1 });
      channels = outC;
      id += 1;
    }
  }
  const last = o.alpha > 1 ? makeDivisible(1280 * o.alpha, 8) : 1280;
  x = b.convBnAct(x, 'conv_last', { filters: last, kernel: 1 }, 'relu6');
  x = b.classifier(x, { classes: o.classes, activation: o.classifierActivation });
  return tf.model({ inputs: input, outputs: x, name: `mobilenet_v2_${o.alpha}_${o.resolution}` });
}
