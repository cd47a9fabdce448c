import { describe, it, expect } from 'vitest';
import { foldBatchNorms } from '../../src/convert/fold-batchnorm.js';
import type { BatchNormNode, Graph } from '../../src/models/ir.js';

/** A 1×1 conv on one pixel is a matrix product, so the folded weights can be checked by hand. */
function graph(bias: Float32Array | null, activation = 'linear', bn: Partial<BatchNormNode> = {}): Graph {
  return {
    name: 'g', layout: 'NHWC', inputs: ['x'], outputs: ['bn'],
    nodes: [
      { op: 'input', name: 'x', inputs: [], shape: [1, 1, 2], dtype: 'float32' },
      { op: 'conv2d', name: 'c', inputs: ['x'], kernel: { shape: [2, 2, 1, 1], data: new Float32Array([1, 2, 3, 4]) }, bias, strides: [1, 1], dilations: [1, 1], padding: 'valid', groups: 1, activation },
      { op: 'batchNorm', name: 'bn', inputs: ['c'], axis: -1, epsilon: 0, gamma: new Float32Array([2, 1]), beta: new Float32Array([1, -1]), mean: new Float32Array([0.5, 1]), variance: new Float32Array([4, 1]), ...bn },
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

  // Guards against a fold that drops ε or leaves the kernel unscaled: the test above has
  // γ/√(σ² + ε) = 1 with ε = 0, where both mistakes give the right numbers. Here σ² + ε is 1 and 4
  // only with ε = 0.25 (all values exact in binary), so s = γ/√(σ² + ε) = [3/1, 0.5/2] = [3, 0.25].
  it('scales the kernel by γ/√(σ² + ε) with ε ≠ 0 and a scale ≠ 1 (hand derivation)', () => {
    const bn = { gamma: new Float32Array([3, 0.5]), beta: new Float32Array([1, -1]), mean: new Float32Array([0.5, 2]), variance: new Float32Array([0.75, 3.75]), epsilon: 0.25 };
    const c = foldBatchNorms(graph(new Float32Array([1, 0]), 'linear', bn)).graph.nodes[1];
    if (c.op !== 'conv2d') throw new Error('expected a conv');
    // OIHW [2, 2, 1, 1]: filter 0 = [1, 2] · 3, filter 1 = [3, 4] · 0.25.
    expect(Array.from(c.kernel.data)).toEqual([3, 6, 0.75, 1]);
    // b' = (b − μ)·s + β: (1 − 0.5)·3 + 1 = 2.5 and (0 − 2)·0.25 − 1 = −1.5.
    expect(Array.from(c.bias as Float32Array)).toEqual([2.5, -1.5]);
  });

  it('adds a bias to a bias-free conv, and leaves convs with an activation alone', () => {
    expect(foldBatchNorms(graph(null)).graph.nodes[1]).toHaveProperty('bias', new Float32Array([0.5, -2]));
    expect(foldBatchNorms(graph(null, 'relu')).folded).toEqual([]);
  });

  // Guards against folding where it is not exact: a conv whose output another node also reads,
  // a conv that is a graph output, or a BN over another axis.
  it('folds only a linear conv whose sole reader is a BN over the channel axis', () => {
    const g = graph(new Float32Array([1, 0]));
    const twoReaders: Graph = { ...g, nodes: [...g.nodes, { op: 'activation', name: 'r', inputs: ['c'], activation: 'relu' }], outputs: ['bn', 'r'] };
    expect(foldBatchNorms(twoReaders).folded).toEqual([]);
    expect(foldBatchNorms({ ...g, outputs: ['bn', 'c'] }).folded).toEqual([]);
    expect(foldBatchNorms(graph(new Float32Array([1, 0]), 'linear', { axis: 1 })).folded).toEqual([]);
    expect(foldBatchNorms(graph(new Float32Array([1, 0]), 'linear', { axis: 3 })).folded).toHaveLength(1);
    // NCHW: the channel axis is 1.
    expect(foldBatchNorms({ ...graph(new Float32Array([1, 0]), 'linear', { axis: 1 }), layout: 'NCHW' }).folded).toHaveLength(1);
    expect(foldBatchNorms({ ...graph(new Float32Array([1, 0]), 'linear', { axis: -1 }), layout: 'NCHW' }).folded).toEqual([]);
  });

  // Guards against a missing γ (scale=False) or β (center=False) read as 0 instead of 1 and 0, and
  // against readers of the BN left pointing at a node that no longer exists.
  it('γ = null is 1, β = null is 0; readers of the BN read the folded conv, which has no source', () => {
    const g = graph(new Float32Array([1, 0]), 'linear', { gamma: null, beta: null, variance: new Float32Array([0.75, 3.75]), epsilon: 0.25 });
    const source = { format: 'tfjs', className: 'Conv2D', config: {} } as const;
    const withReader: Graph = { ...g, nodes: [...g.nodes.map((n) => (n.name === 'c' ? { ...n, source } : n)), { op: 'activation', name: 'r', inputs: ['bn'], activation: 'relu' }], outputs: ['r'] };
    const out = foldBatchNorms(withReader).graph;
    const c = out.nodes[1];
    if (c.op !== 'conv2d') throw new Error('expected a conv');
    // s = 1/√1 = 1 and 1/√4 = 0.5; b' = (1 − 0.5)·1 + 0 = 0.5, (0 − 1)·0.5 + 0 = −0.5.
    expect(Array.from(c.kernel.data)).toEqual([1, 2, 1.5, 2]);
    expect(Array.from(c.bias as Float32Array)).toEqual([0.5, -0.5]);
    expect(c).not.toHaveProperty('source');
    expect(out.nodes.map((n) => [n.name, n.inputs])).toEqual([['x', []], ['c', ['x']], ['r', ['c']]]);
    expect(out.outputs).toEqual(['r']);
  });

  it('a BN with another channel count than the conv is an error naming both layers', () => {
    expect(() => foldBatchNorms(graph(null, 'linear', { mean: new Float32Array([0, 0, 0]) }))).toThrow('layer "bn": 3 channels after conv "c" with 2 filters');
  });
});

