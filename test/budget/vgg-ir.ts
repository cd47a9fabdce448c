/**
 * VGG16's conv stack (configuration D: 13 3×3 'same' convs with ReLU, a 2×2 max pool after each
 * block) as a bare IR graph with seeded He-normal weights — enough for MACs and kernel errors,
 * without building a 138 M-parameter tfjs model. `widthDivisor` shrinks every conv's channels (a
 * VGG-shaped net cheap enough for the slower candidate methods). Not a test file.
 */
import type { Conv2DNode, Graph, Node } from '../../src/models/ir.js';
import { gaussianArray } from '../../src/decompose/random.js';

const BLOCKS: [filters: number, convs: number][] = [
  [64, 2],
  [128, 2],
  [256, 3],
  [512, 3],
  [512, 3],
];

export function vggConvStack(opts: { resolution?: number; widthDivisor?: number; seed?: number } = {}): Graph {
  const res = opts.resolution ?? 224;
  const div = opts.widthDivisor ?? 1;
  let seed = opts.seed ?? 1;
  const nodes: Node[] = [{ op: 'input', name: 'input', inputs: [], shape: [res, res, 3], dtype: 'float32' }];
  let prev = 'input';
  let cin = 3;
  BLOCKS.forEach(([filters, convs], bi) => {
    const n = Math.max(1, Math.round(filters / div));
    for (let ci = 0; ci < convs; ci++) {
      const name = `block${bi + 1}_conv${ci + 1}`;
      const conv: Conv2DNode = {
        op: 'conv2d', name, inputs: [prev], kernel: { shape: [n, cin, 3, 3], data: gaussianArray(n * cin * 9, seed++, Math.sqrt(2 / (cin * 9))) },
        bias: new Float32Array(n), strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 1, activation: 'relu',
      };
      nodes.push(conv);
      prev = name;
      cin = n;
    }
    nodes.push({ op: 'maxPool', name: `block${bi + 1}_pool`, inputs: [prev], poolSize: [2, 2], strides: [2, 2], padding: 'valid' });
    prev = `block${bi + 1}_pool`;
  });
  return { name: 'vgg16-convs', layout: 'NHWC', nodes, inputs: ['input'], outputs: [prev] };
}
