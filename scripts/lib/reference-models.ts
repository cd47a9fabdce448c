/**
 * The two reference classifiers the project trains on Fashion-MNIST (28×28×1 → 10 classes).
 *
 * Sizes were chosen by measurement, not taste. Time per training step (batch 128, tfjs-wasm, one
 * thread, with the kernels in wasm-conv-grads.ts and fast-batchnorm.ts; process CPU time on a
 * shared 2-vCPU machine): the VGG below ~0.45–0.5 s, the same VGG at 32/64/128 filters ~2.3 s;
 * this ResNet ~0.57–0.64 s, ~0.88 s with an extra identity block at 28×28. The two-model run must stay well under
 * 40 minutes on 2 cores. Both nets still have what the converter must handle: regular 3×3
 * convs with separate BatchNormalization layers, max-pool (VGG), residual Add, stride-2 3×3
 * convs and 1×1 stride-2 projections, global average pooling (ResNet).
 *
 * Every initializer is seeded from `seed`, so a rerun starts from the same weights.
 */
import * as tf from '@tensorflow/tfjs';
import { trainableBatchNormalization } from './fast-batchnorm.js';

export type ReferenceModelName = 'fmnist-vgg' | 'fmnist-resnet';
export const REFERENCE_MODEL_NAMES: readonly ReferenceModelName[] = ['fmnist-vgg', 'fmnist-resnet'];

type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

const INPUT_SHAPE = [28, 28, 1];
const NUM_CLASSES = 10;

/** Hands out distinct seeds in layer-creation order. */
class SeedSequence {
  private next: number;
  constructor(seed: number) {
    this.next = seed * 1000;
  }
  glorot(): Initializer {
    return tf.initializers.glorotUniform({ seed: this.next++ });
  }
  heNormal(): Initializer {
    return tf.initializers.heNormal({ seed: this.next++ });
  }
}

function conv(filters: number, kernelSize: number, strides: number, name: string, seeds: SeedSequence, useBias: boolean): tf.layers.Layer {
  return tf.layers.conv2d({
    filters,
    kernelSize,
    strides,
    padding: 'same',
    useBias,
    kernelInitializer: seeds.heNormal(),
    name,
  });
}

function bn(name: string): tf.layers.Layer {
  return trainableBatchNormalization({ name });
}

/**
 * fmnist-vgg: [conv-BN-ReLU ×2, max-pool] × 3 stages (16, 32, 64 filters), Flatten,
 * Dense(128)-ReLU, Dense(10)-softmax. Six regular 3×3 'same' convs, with bias (the converter
 * must fold BN into a conv that already has one).
 */
export function buildFmnistVgg(seed: number): tf.LayersModel {
  const seeds = new SeedSequence(seed);
  const input = tf.input({ shape: INPUT_SHAPE, name: 'input' });
  let x: tf.SymbolicTensor = input;
  [16, 32, 64].forEach((filters, s) => {
    const stage = s + 1;
    for (let i = 1; i <= 2; i++) {
      x = conv(filters, 3, 1, `conv${stage}_${i}`, seeds, true).apply(x) as tf.SymbolicTensor;
      x = bn(`bn${stage}_${i}`).apply(x) as tf.SymbolicTensor;
      x = tf.layers.reLU({ name: `relu${stage}_${i}` }).apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${stage}` }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: seeds.heNormal(), name: 'fc1' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: NUM_CLASSES, activation: 'softmax', kernelInitializer: seeds.glorot(), name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'fmnist_vgg' });
}

/**
 * One basic residual block (two 3×3 conv-BN, ReLU between, Add, ReLU). With stride 2 the first
 * conv downsamples and the shortcut is a 1×1 stride-2 conv + BN (ResNet "option B").
 */
function residualBlock(x: tf.SymbolicTensor, filters: number, stride: number, name: string, seeds: SeedSequence): tf.SymbolicTensor {
  let y = conv(filters, 3, stride, `${name}_conv1`, seeds, false).apply(x) as tf.SymbolicTensor;
  y = bn(`${name}_bn1`).apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({ name: `${name}_relu1` }).apply(y) as tf.SymbolicTensor;
  y = conv(filters, 3, 1, `${name}_conv2`, seeds, false).apply(y) as tf.SymbolicTensor;
  y = bn(`${name}_bn2`).apply(y) as tf.SymbolicTensor;
  let shortcut = x;
  if (stride !== 1) {
    shortcut = conv(filters, 1, stride, `${name}_proj_conv`, seeds, false).apply(x) as tf.SymbolicTensor;
    shortcut = bn(`${name}_proj_bn`).apply(shortcut) as tf.SymbolicTensor;
  }
  const sum = tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as tf.SymbolicTensor;
  return tf.layers.reLU({ name: `${name}_out` }).apply(sum) as tf.SymbolicTensor;
}

/**
 * fmnist-resnet: stem 3×3 conv(16)-BN-ReLU at 28×28; block1a: stride-2 block (32, 14×14);
 * block2a: stride-2 block (64, 7×7); block2b: identity block (64); GlobalAveragePooling2D;
 * Dense(10)-softmax. Convs have no bias (BN follows each one). Residual blocks sit at 14×14 and
 * 7×7 only: an identity block at 28×28 cost +50 % per training step for the same MACs
 * (elementwise BN/ReLU/Add passes scale with the activation size).
 */
export function buildFmnistResnet(seed: number): tf.LayersModel {
  const seeds = new SeedSequence(seed);
  const input = tf.input({ shape: INPUT_SHAPE, name: 'input' });
  let x = conv(16, 3, 1, 'stem_conv', seeds, false).apply(input) as tf.SymbolicTensor;
  x = bn('stem_bn').apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'stem_relu' }).apply(x) as tf.SymbolicTensor;
  x = residualBlock(x, 32, 2, 'block1a', seeds);
  x = residualBlock(x, 64, 2, 'block2a', seeds);
  x = residualBlock(x, 64, 1, 'block2b', seeds);
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: NUM_CLASSES, activation: 'softmax', kernelInitializer: seeds.glorot(), name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'fmnist_resnet' });
}

export function buildReferenceModel(name: ReferenceModelName, seed: number): tf.LayersModel {
  switch (name) {
    case 'fmnist-vgg':
      return buildFmnistVgg(seed);
    case 'fmnist-resnet':
      return buildFmnistResnet(seed);
    default:
      throw new Error(`unknown reference model "${String(name)}"; use one of ${REFERENCE_MODEL_NAMES.join(', ')}`);
  }
}
