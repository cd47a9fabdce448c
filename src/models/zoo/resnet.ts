/**
 * ResNet-18 and ResNet-50 (He et al. 2016, Table 1) in torchvision's layout ("ResNet v1.5": a
 * bottleneck's stride sits on its 3×3 conv, not its first 1×1), which is the model behind the
 * usual 1.8 G / 4.1 G MAC figures; v1 (stride on the 1×1) counts 3.9 G for ResNet-50. Convs have no
 * bias (BN follows), padding is PyTorch's symmetric k//2, BN ε = 1e-5: torchvision weights
 * transposed to HWIO load as they are.
 */
import * as tf from '@tensorflow/tfjs';
import { Builder, type Sym } from './layers.js';
import type { ResolvedOptions } from './options.js';

type BlockKind = 'basic' | 'bottleneck';

interface ResNetSpec {
  name: string;
  kind: BlockKind;
  /** Blocks per stage (conv2_x … conv5_x). */
  depths: [number, number, number, number];
}

const WIDTHS = [64, 128, 256, 512];

function basic(b: Builder, x: Sym, name: string, width: number, stride: number, inChannels: number): Sym {
  let y = b.convBnAct(x, `${name}_1_conv`, { filters: width, kernel: 3, strides: stride, padding: 'symmetric' }, 'relu');
  y = b.bn(b.conv(y, `${name}_2_conv`, { filters: width, kernel: 3, padding: 'symmetric' }), `${name}_2_conv_bn`);
  const shortcut = stride !== 1 || inChannels !== width ? b.bn(b.conv(x, `${name}_0_conv`, { filters: width, kernel: 1, strides: stride, padding: 'symmetric' }), `${name}_0_conv_bn`) : x;
  return b.act(b.add([shortcut, y], `${name}_add`), `${name}_out`, 'relu');
}

function bottleneck(b: Builder, x: Sym, name: string, width: number, stride: number, inChannels: number): Sym {
  const out = width * 4;
  let y = b.convBnAct(x, `${name}_1_conv`, { filters: width, kernel: 1 }, 'relu');
  y = b.convBnAct(y, `${name}_2_conv`, { filters: width, kernel: 3, strides: stride, padding: 'symmetric' }, 'relu');
  y = b.bn(b.conv(y, `${name}_3_conv`, { filters: out, kernel: 1 }), `${name}_3_conv_bn`);
  const shortcut = stride !== 1 || inChannels !== out ? b.bn(b.conv(x, `${name}_0_conv`, { filters: out, kernel: 1, strides: stride, padding: 'symmetric' }), `${name}_0_conv_bn`) : x;
  return b.act(b.add([shortcut, y], `${name}_add`), `${name}_out`, 'relu');
}

function resnet(spec: ResNetSpec, o: ResolvedOptions): tf.LayersModel {
  const b = new Builder({ seed: o.seed, bnEpsilon: 1e-5 });
  const input = tf.input({ shape: [o.resolution, o.resolution, 3], name: 'input' });
  let x = b.convBnAct(input, 'conv1', { filters: 64, kernel: 7, strides: 2, padding: 'symmetric' }, 'relu');
  // Max pool after ReLU: zero padding equals PyTorch's −∞ padding because every input is ≥ 0.
  x = tf.layers.zeroPadding2d({ name: 'pool1_pad', padding: [[1, 1], [1, 1]] }).apply(x) as Sym;
  x = tf.layers.maxPooling2d({ name: 'pool1', poolSize: 3, strides: 2, padding: 'valid' }).apply(x) as Sym;
  let channels = 64;
  const block = spec.kind === 'basic' ? basic : bottleneck;
  spec.depths.forEach((depth, si) => {
    for (let bi = 0; bi < depth; bi++) {
      const stride = si > 0 && bi === 0 ? 2 : 1;
      x = block(b, x, `conv${si + 2}_block${bi + 1}`, WIDTHS[si], stride, channels);
      channels = spec.kind === 'basic' ? WIDTHS[si] : WIDTHS[si] * 4;
    }
  });
  x = b.classifier(x, { classes: o.classes, activation: o.classifierActivation });
  return tf.model({ inputs: input, outputs: x, name: spec.name });
}

export const resnet18 = (o: ResolvedOptions): tf.LayersModel => resnet({ name: 'resnet18', kind: 'basic', depths: [2, 2, 2, 2] }, o);
export const resnet50 = (o: ResolvedOptions): tf.LayersModel => resnet({ name: 'resnet50', kind: 'bottleneck', depths: [3, 4, 6, 3] }, o);
