/**
 * MobileNetV3-Large and -Small (Howard et al. 2019, Tables 1 and 2), in Keras Applications'
 * form: a 16-filter stride-2 stem with h-swish, bottlenecks (expand 1×1 → depthwise k×k →
 * optional SE → project 1×1), a 1×1 conv to 6× the last width, global pool, a 1×1 conv with bias
 * to 1280 (Large) / 1024 (Small) with h-swish, then the classifier.
 *
 * h-swish and the SE gate's hard sigmoid are relu6(x + 3)/6 built from stock layers (a frozen
 * BatchNormalization computing (x + 3)/6, then ReLU capped at 1): see layers.ts for why.
 */
import * as tf from '@tensorflow/tfjs';
import { Builder, makeDivisible, type Act, type Sym } from './layers.js';
import type { ResolvedOptions } from './options.js';

interface Bneck {
  kernel: number;
  /** Expansion ratio over the block's input width (Keras' form; exp size = in·ratio rounded to 8). */
  expand: number;
  out: number;
  se: boolean;
  act: Act;
  stride: number;
}

const b = (kernel: number, expand: number, out: number, se: boolean, act: 'RE' | 'HS', stride: number): Bneck => ({ kernel, expand, out, se, act: act === 'RE' ? 'relu' : 'hswish', stride });

/** Table 1: exp sizes 16, 64, 72, 72, 120, 120, 240, 200, 184, 184, 480, 672, 672, 960, 960. */
const LARGE: Bneck[] = [
  b(3, 1, 16, false, 'RE', 1),
  b(3, 4, 24, false, 'RE', 2),
  b(3, 3, 24, false, 'RE', 1),
  b(5, 3, 40, true, 'RE', 2),
  b(5, 3, 40, true, 'RE', 1),
  b(5, 3, 40, true, 'RE', 1),
  b(3, 6, 80, false, 'HS', 2),
  b(3, 2.5, 80, false, 'HS', 1),
  b(3, 2.3, 80, false, 'HS', 1),
  b(3, 2.3, 80, false, 'HS', 1),
  b(3, 6, 112, true, 'HS', 1),
  b(3, 6, 112, true, 'HS', 1),
  b(5, 6, 160, true, 'HS', 2),
  b(5, 6, 160, true, 'HS', 1),
  b(5, 6, 160, true, 'HS', 1),
];

/** Table 2: exp sizes 16, 72, 88, 96, 240, 240, 120, 144, 288, 576, 576. */
const SMALL: Bneck[] = [
  b(3, 1, 16, true, 'RE', 2),
  b(3, 72 / 16, 24, false, 'RE', 2),
  b(3, 88 / 24, 24, false, 'RE', 1),
  b(5, 4, 40, true, 'HS', 2),
  b(5, 6, 40, true, 'HS', 1),
  b(5, 6, 40, true, 'HS', 1),
  b(5, 3, 48, true, 'HS', 1),
  b(5, 3, 48, true, 'HS', 1),
  b(5, 6, 96, true, 'HS', 2),
  b(5, 6, 96, true, 'HS', 1),
  b(5, 6, 96, true, 'HS', 1),
];

const depth = (v: number) => makeDivisible(v, 8);

function bottleneck(bld: Builder, x: Sym, name: string, inC: number, outC: number, s: Bneck): Sym {
  const exp = depth(inC * s.expand);
  let y = x;
  // Keras: the first block never expands (its ratio is 1).
  if (s.expand !== 1) y = bld.convBnAct(y, `${name}_expand`, { filters: exp, kernel: 1 }, s.act);
  y = bld.dwBnAct(y, `${name}_depthwise`, { kernel: s.kernel, strides: s.stride }, s.act);
  if (s.se) y = bld.squeezeExcite(y, `${name}_se`, { channels: exp, reduced: depth(exp * 0.25), act: 'relu', gate: 'hsigmoid' });
  y = bld.bn(bld.conv(y, `${name}_project`, { filters: outC, kernel: 1 }), `${name}_project_bn`);
  return s.stride === 1 && inC === outC ? bld.add([x, y], `${name}_add`) : y;
}

function mobilenetV3(kind: 'large' | 'small', o: ResolvedOptions): tf.LayersModel {
  const bld = new Builder({ seed: o.seed, bnEpsilon: 1e-3 });
  const stack = kind === 'large' ? LARGE : SMALL;
  const input = tf.input({ shape: [o.resolution, o.resolution, 3], name: 'input' });
  // The stem stays 16 wide for every α (Keras Applications).
  let x = bld.convBnAct(input, 'conv', { filters: 16, kernel: 3, strides: 2 }, 'hswish');
  let channels = 16;
  stack.forEach((s, i) => {
    const outC = depth(s.out * o.alpha);
    x = bottleneck(bld, x, `expanded_conv_${i}`, channels, outC, s);
    channels = outC;
  });
  const wide = depth(channels * 6);
  x = bld.convBnAct(x, 'conv_1', { filters: wide, kernel: 1 }, 'hswish');
  // Pool to 1×1×C (tfjs' global pool has no keepdims), then the head's 1×1 conv with bias, as Keras.
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as Sym;
  x = tf.layers.reshape({ name: 'avg_pool_reshape', targetShape: [1, 1, wide] }).apply(x) as Sym;
  const lastPoint = kind === 'large' ? 1280 : 1024;
  x = bld.conv(x, 'conv_2', { filters: o.alpha > 1 ? depth(lastPoint * o.alpha) : lastPoint, kernel: 1, bias: true });
  x = bld.hardSwish(x, 'conv_2_hswish');
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as Sym;
  x = bld.dense(x, 'predictions', o.classes, o.classifierActivation);
  return tf.model({ inputs: input, outputs: x, name: `mobilenet_v3_${kind}_${o.alpha}_${o.resolution}` });
}

export const mobilenetV3Large = (o: ResolvedOptions): tf.LayersModel => mobilenetV3('large', o);
export const mobilenetV3Small = (o: ResolvedOptions): tf.LayersModel => mobilenetV3('small', o);
