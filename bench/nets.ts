/**
 * The networks the latency benchmarks time (random seeded weights: speed does not depend on
 * values): VGG16- and ResNet-18-shaped at 224² from the zoo (src/models/zoo), VGG16 as its 13-conv
 * stack (the FC head is 124 M of memory-bound weights that no conv rewrite touches), and the
 * single 28²·256 3×3 layer of the table in docs/design.md#runtime-facts.
 */
import * as tf from '@tensorflow/tfjs';
import { buildZooModel } from '../src/models/zoo/index.js';
import { graphFromLayersModel } from '../src/models/tfjs/from-model.js';
import { prune, type Graph } from '../src/models/ir.js';
import { gaussianArray } from '../src/decompose/random.js';

async function zooGraph(name: string, seed: number): Promise<Graph> {
  const model = buildZooModel(name, { seed });
  try {
    return await graphFromLayersModel(model);
  } finally {
    model.dispose();
  }
}

/** VGG16's 13 convs and 5 max-pools at 224², no FC head. */
export async function vgg16ConvStack(seed = 1): Promise<Graph> {
  const g = await zooGraph('vgg16', seed);
  return { ...prune({ ...g, outputs: ['block5_pool'] }), name: 'vgg16-convs' };
}

export async function resnet18(seed = 1): Promise<Graph> {
  return { ...(await zooGraph('resnet18', seed)), name: 'resnet18' };
}

/** One 3×3 'same' conv, C = N = 256, on a 28×28 input (docs/design.md#runtime-facts's per-layer case). He-normal, seeded. */
export function layer28x256(seed = 1): Graph {
  const C = 256;
  const N = 256;
  return {
    name: 'conv-28x28x256',
    layout: 'NHWC',
    inputs: ['x'],
    outputs: ['conv'],
    nodes: [
      { op: 'input', name: 'x', inputs: [], shape: [28, 28, C], dtype: 'float32' },
      {
        op: 'conv2d', name: 'conv', inputs: ['x'], kernel: { shape: [N, C, 3, 3], data: gaussianArray(N * C * 9, seed, Math.sqrt(2 / (C * 9))) },
        bias: new Float32Array(N), strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 1, activation: 'relu',
      },
    ],
  };
}

export function disposeTfjs(): void {
  tf.disposeVariables();
}
