import { describe, it, expect } from 'vitest';
import { foldBatchNorms } from '../../src/convert/fold-batchnorm.js';
import type { Graph } from '../../src/models/ir.js';

/** A 1×1 conv on one pixel is a matrix product, so the folded weights can be checked by hand. */
function graph(bias: Float32Array | null, activation = 'linear'): Graph {
  return {
    name: 'g', layout: 'NHWC', inputs: ['x'], outputs: ['bn'],
    nodes: [
      { op: 'input', name: 'x', inputs: [], shape: [1, 1, 2], dtype: 'float32' },
      { op: 'conv2d', name: 'c', inputs: ['x'], kernel: { shape: [2, 2, 1, 1], data: new Float32Array([1, 2, 3, 4]) }, bias, strides: [1, 1], dilations: [1, 1], padding: 'valid', groups: 1, activation },
      { op: 'batchNorm', name: 'bn', inputs: ['c'], axis: -1, epsilon: 0, gamma: new Float32Array([2, 1]), beta: new Float32Array([1, -1]), mean: new Float32Array([0.5, 1]), variance: new Float32Array([4, 1]) },
    ],
  };
}

describe('BatchNorm folding', () => {
  it('folds scale and shift into the conv: W·γ/σ, (b − μ)·γ/σ + β', () => {
    const { graph: g, folded } = foldBatchNorms(graph(new Float32Array([1, 0])));
    expect(folded).toEqual([{ conv: 'c', batchNorm: 'bn' }]);
    expect(g.nodes.map((n) => n.name)).toEqual(['x', 'c']);
    expect(g.outputs).toEqual(['c']);
    const c = g.nodes[1];
    if (c.op !== 'conv2d') throw new Error('expected a conv');
    expect(Array.from(c.kernel.data)).toEqual([1, 2, 3, 4]); // s = 2/2 = 1 and 1/1 = 1
    expect(Array.from(c.bias as Float32Array)).toEqual([(1 - 0.5) * 1 + 1, (0 - 1) * 1 - 1]);
  });

  it('adds a bias to a bias-free conv, and leaves convs with an activation alone', () => {
    expect(foldBatchNorms(graph(null)).graph.nodes[1]).toHaveProperty('bias', new Float32Array([0.5, -2]));
    expect(foldBatchNorms(graph(null, 'relu')).folded).toEqual([]);
  });
});
