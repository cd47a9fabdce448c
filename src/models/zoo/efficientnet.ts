/**
 * EfficientNet-B0 (Tan & Le 2019, Table 1) as Keras Applications builds it: MBConv blocks
 * (1×1 expand → depthwise k×k → SE with swish/sigmoid, reduced to ¼ of the block's *input* width →
 * 1×1 project, residual when stride 1 and widths match), swish everywhere, a 1×1 conv to 1280,
 * global pool, classifier. Drop-connect and dropout are training-only and left out; so is the
 * input Rescaling/Normalization, which callers do themselves.
 */
import * as tf from '@tensorflow/tfjs';
import { Builder, type Sym } from './layers.js';
import type { ResolvedOptions } from './options.js';

interface Stage {
  kernel: number;
  repeats: number;
  out: number;
  expand: number;
  stride: number;
}

/** Table 1, stages 2–8 (stage 1 is the stem, stage 9 the head). */
const STAGES: Stage[] = [
  { kernel: 3, repeats: 1, out: 16, expand: 1, stride: 1 },
  { kernel: 3, repeats: 2, out: 24, expand: 6, stride: 2 },
  { kernel: 5, repeats: 2, out: 40, expand: 6, stride: 2 },
  { kernel: 3, repeats: 3, out: 80, expand: 6, stride: 2 },
  { kernel: 5, repeats: 3, out: 112, expand: 6, stride: 1 },
  { kernel: 5, repeats: 4, out: 192, expand: 6, stride: 2 },
  { kernel: 3, repeats: 1, out: 320, expand: 6, stride: 1 },
];

function mbconv(b: Builder, x: Sym, name: string, o: { inC: number; outC: number; kernel: number; expand: number; stride: number }): Sym {
  const filters = o.inC * o.expand;
  let y = x;
  if (o.expand !== 1) y = b.convBnAct(y, `${name}_expand_conv`, { filters, kernel: 1 }, 'swish');
  y = b.dwBnAct(y, `${name}_dwconv`, { kernel: o.kernel, strides: o.stride }, 'swish');
  y = b.squeezeExcite(y, `${name}_se`, { channels: filters, reduced: Math.max(1, Math.trunc(o.inC * 0.25)), act: 'swish', gate: 'sigmoid' });
  y = b.bn(b.conv(y, `${name}_project_conv`, { filters: o.outC, kernel: 1 }), `${name}_project_bn`);
  return o.stride === 1 && o.inC === o.outC ? b.add([x, y], `${name}_add`) : y;
}

export function efficientnetB0(o: ResolvedOptions): tf.LayersModel {
  const b = new Builder({ seed: o.seed, bnEpsilon: 1e-3 });
  const input = tf.input({ shape: [o.resolution, o.resolution, 3], name: 'input' });
  let x = b.convBnAct(input, 'stem_conv', { filters: 32, kernel: 3, strides: 2 }, 'swish');
  let channels = 32;
  STAGES.forEach((s, si) => {
    for (let i = 0; i < s.repeats; i++) {
      const name = `block${si + 1}${String.fromCharCode(97 + i)}`;
      x = mbconv(b, x, name, { inC: channels, outC: s.out, kernel: s.kernel, expand: s.expand, stride: i === 0 ? s.stride : 1 });
      channels = s.out;
    }
  });
  x = b.convBnAct(x, 'top_conv', { filters: 1280, kernel: 1 }, 'swish');
  x = b.classifier(x, { classes: o.classes, activation: o.classifierActivation });
  return tf.model({ inputs: input, outputs: x, name: `efficientnet_b0_${o.resolution}` });
}
