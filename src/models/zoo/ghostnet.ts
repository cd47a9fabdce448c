/**
 * GhostNet (Han et al. 2020, Table 1), following the authors' PyTorch code: Ghost modules make half
 * the channels with a 1×1 conv and the other half from those with a cheap depthwise 3×3
 * (ratio s = 2, concatenated); Ghost bottlenecks put a depthwise k×k between two Ghost modules
 * when strided, an SE (ReLU, hard-sigmoid gate, reduced to ¼ rounded to 4) where the table says,
 * and a depthwise + 1×1 projection shortcut when the shape changes. Head: 1×1 conv to 960, pool,
 * 1×1 conv with bias to 1280, ReLU, classifier. PyTorch's symmetric padding, BN ε = 1e-5.
 */
import * as tf from '@tensorflow/tfjs';
import { Builder, makeDivisible, type Sym } from './layers.js';
import type { ResolvedOptions } from './options.js';

/** [kernel, exp size, out, SE, stride] per bottleneck (Table 1). */
const CFG: [number, number, number, boolean, number][] = [
  [3, 16, 16, false, 1],
  [3, 48, 24, false, 2],
  [3, 72, 24, false, 1],
  [5, 72, 40, true, 2],
  [5, 120, 40, true, 1],
  [3, 240, 80, false, 2],
  [3, 200, 80, false, 1],
  [3, 184, 80, false, 1],
  [3, 184, 80, false, 1],
  [3, 480, 112, true, 1],
  [3, 672, 112, true, 1],
  [5, 672, 160, true, 2],
  [5, 960, 160, false, 1],
  [5, 960, 160, true, 1],
  [5, 960, 160, false, 1],
  [5, 960, 160, true, 1],
];

const div4 = (v: number) => makeDivisible(v, 4);

/** Ghost module with ratio 2: `out` is a multiple of 4 here, so the halves concatenate to exactly `out`. */
function ghost(b: Builder, x: Sym, name: string, out: number, relu: boolean): Sym {
  const act = relu ? 'relu' : 'linear';
  const primary = b.convBnAct(x, `${name}_primary`, { filters: Math.ceil(out / 2), kernel: 1 }, act);
  const cheap = b.dwBnAct(primary, `${name}_cheap`, { kernel: 3, padding: 'symmetric' }, act);
  return tf.layers.concatenate({ name: `${name}_concat`, axis: -1 }).apply([primary, cheap]) as Sym;
}

function bottleneck(b: Builder, x: Sym, name: string, o: { inC: number; mid: number; outC: number; kernel: number; stride: number; se: boolean }): Sym {
  let y = ghost(b, x, `${name}_ghost1`, o.mid, true);
  if (o.stride > 1) y = b.bn(b.depthwise(y, `${name}_dw`, { kernel: o.kernel, strides: o.stride, padding: 'symmetric' }), `${name}_dw_bn`);
  if (o.se) y = b.squeezeExcite(y, `${name}_se`, { channels: o.mid, reduced: div4(o.mid * 0.25), act: 'relu', gate: 'hsigmoid' });
  y = ghost(b, y, `${name}_ghost2`, o.outC, false);
  let shortcut = x;
  if (o.stride !== 1 || o.inC !== o.outC) {
    shortcut = b.bn(b.depthwise(x, `${name}_shortcut_dw`, { kernel: o.kernel, strides: o.stride, padding: 'symmetric' }), `${name}_shortcut_dw_bn`);
    shortcut = b.bn(b.conv(shortcut, `${name}_shortcut_pw`, { filters: o.outC, kernel: 1 }), `${name}_shortcut_pw_bn`);
  }
  return b.add([shortcut, y], `${name}_add`);
}

export function ghostnet(o: ResolvedOptions): tf.LayersModel {
  const b = new Builder({ seed: o.seed, bnEpsilon: 1e-5 });
  const input = tf.input({ shape: [o.resolution, o.resolution, 3], name: 'input' });
  let channels = div4(16 * o.alpha);
  let x = b.convBnAct(input, 'conv_stem', { filters: channels, kernel: 3, strides: 2, padding: 'symmetric' }, 'relu');
  CFG.forEach(([kernel, exp, c, se, stride], i) => {
    const outC = div4(c * o.alpha);
    x = bottleneck(b, x, `bneck_${i}`, { inC: channels, mid: div4(exp * o.alpha), outC, kernel, stride, se });
    channels = outC;
  });
  const last = div4(960 * o.alpha);
  x = b.convBnAct(x, 'conv_last', { filters: last, kernel: 1 }, 'relu');
  // conv_head is a 1×1 conv with bias on the pooled 1×1 map: a dense layer, same MACs and params.
  x = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as Sym;
  x = b.dense(x, 'conv_head', 1280, 'relu');
  x = b.dense(x, 'predictions', o.classes, o.classifierActivation);
  return tf.model({ inputs: input, outputs: x, name: `ghostnet_${o.alpha}_${o.resolution}` });
}
