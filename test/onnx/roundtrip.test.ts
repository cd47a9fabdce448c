/**
 * ONNX → IR → ONNX: weights survive exactly, outputs stay equal in onnxruntime, ops the IR cannot
 * express travel through as opaque nodes.
 */
import { describe, expect, it } from 'vitest';
import type { Conv2DNode, DenseNode, Graph, Node } from '../../src/models/ir.js';
import { onnxToGraph } from '../../src/models/onnx/read.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import { onnxSource } from '../../src/models/onnx/source.js';
import {
  buildModel,
  conv,
  expectClose,
  floatInit,
  graph,
  input,
  int64Init,
  onnxNode,
  randn,
  relErr,
  run,
  valueInfo,
} from './helpers.js';

const byName = (g: Graph) => new Map(g.nodes.map((n) => [n.name, n]));
const ops = (g: Graph) => g.nodes.map((n) => n.op);

function irTestGraph(): Graph {
  const c1 = conv('c1', 'x', { cin: 3, cout: 4, k: [3, 3], strides: [2, 2], padding: { pads: [1, 0, 1, 2] }, activation: 'relu', seed: 1 });
  const dw = conv('dw', 'c1', { cin: 4, cout: 4, k: [3, 3], groups: 4, padding: 'same', dilations: [2, 2], bias: false, seed: 2 });
  const bn: Node = { op: 'batchNorm', name: 'bn', inputs: ['dw'], axis: 1, epsilon: 1e-3, gamma: randn(4, 3), beta: randn(4, 4), mean: randn(4, 5), variance: randn(4, 6).map((v) => v * v + 0.5) };
  const sum: Node = { op: 'add', name: 'sum', inputs: ['bn', 'c1'] };
  const pw = conv('pw', 'sum', { cin: 4, cout: 2, k: [1, 1], seed: 7 });
  const cat: Node = { op: 'concat', name: 'cat', inputs: ['sum', 'pw'], axis: 1 };
  const pool: Node = { op: 'maxPool', name: 'pool', inputs: ['cat'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' };
  const flat: Node = { op: 'flatten', name: 'flat', inputs: ['pool'] };
  const fc: DenseNode = { op: 'dense', name: 'fc', inputs: ['flat'], weight: { shape: [5, 24], data: randn(120, 8) }, bias: randn(5, 9), activation: 'softmax' };
  return graph([input('x', [3, 9, 9]), c1, dw, bn, sum, pw, cat, pool, flat, fc], ['fc']);
}

describe('IR → ONNX → IR → ONNX', () => {
  it('preserves every weight bit-for-bit and gives identical ORT outputs', async () => {
    const g1 = irTestGraph();
    const bytes1 = graphToOnnx(g1);
    const g2 = onnxToGraph(bytes1);
    const bytes2 = graphToOnnx(g2);
    const g3 = onnxToGraph(bytes2);
    expect(g2.layout).toBe('NCHW');
    for (const g of [g2, g3]) {
      const m = byName(g);
      for (const orig of g1.nodes) {
        const got = m.get(orig.name);
        expect(got, orig.name).toBeDefined();
        expect(got!.op).toBe(orig.op);
        if (orig.op === 'conv2d') {
          const c = got as Conv2DNode;
          expect(c.kernel.shape).toEqual(orig.kernel.shape);
          expect(Array.from(c.kernel.data)).toEqual(Array.from(orig.kernel.data));
          expect(c.bias && Array.from(c.bias)).toEqual(orig.bias && Array.from(orig.bias));
          expect([c.strides, c.dilations, c.groups]).toEqual([orig.strides, orig.dilations, orig.groups]);
        }
        if (orig.op === 'dense') expect(Array.from((got as DenseNode).weight.data)).toEqual(Array.from(orig.weight.data));
        if (orig.op === 'batchNorm' && got!.op === 'batchNorm') expect(Array.from(got.variance)).toEqual(Array.from(orig.variance));
      }
      // Fused activations come back as their own nodes, named after the conv.
      expect(m.get('c1/relu')).toMatchObject({ op: 'activation', activation: 'relu', inputs: ['c1'] });
      expect(g.nodes.every((n) => onnxSource(n) !== undefined)).toBe(true);
    }
    expect(g3.nodes.map((n) => n.name)).toEqual(g2.nodes.map((n) => n.name));
    const xin = { shape: [2, 3, 9, 9], data: randn(2 * 243, 10) };
    const [y1, y2] = [await run(bytes1, xin), await run(bytes2, xin)];
    expect(Array.from(y2.data)).toEqual(Array.from(y1.data));
  });
});

/** A model shaped like a PyTorch export: Constant nodes, Clip bounds as inputs, MatMul+Add, opaque ops. */
function torchLikeModel(form: 'raw' | 'float'): Uint8Array {
  const w = randn(4 * 3 * 3 * 3, 20, 0.4);
  const fcW = randn(8 * 5, 21, 0.3); // MatMul weight [in = 8, out = 5]
  const gemmB = randn(5 * 3, 22, 0.3); // Gemm B [in = 5, out = 3] (transB = 0)
  return buildModel({
    opset: 13,
    inputs: [valueInfo('input', ['batch', 3, 8, 8])],
    outputs: [valueInfo('probs', ['batch', 3])],
    initializers: [
      floatInit('conv1.weight', [4, 3, 3, 3], w, form),
      floatInit('conv1.bias', [4], randn(4, 23), form),
      floatInit('prelu.slope', [4, 1, 1], new Float32Array([0.1, 0.2, 0.3, 0.4]), form),
      int64Init('starts', [1], [0]),
      int64Init('ends', [1], [4]),
      int64Init('axes', [1], [1]),
      int64Init('split', [2], [2, 2]),
      floatInit('fc.weight_t', [8, 5], fcW, form),
      floatInit('fc.bias', [5], randn(5, 24), form),
      floatInit('head.B', [5, 3], gemmB, form),
      floatInit('head.C', [3], randn(3, 25), form),
    ],
    nodes: [
      onnxNode('Conv', ['input', 'conv1.weight', 'conv1.bias'], ['/conv1/Conv_output_0'], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }, '/conv1/Conv'),
      { opType: 'Constant', input: [], output: ['c0'], name: 'c0', attribute: [{ name: 'value', type: 4, t: { dims: [], dataType: 1, floatData: [0] } }] },
      { opType: 'Constant', input: [], output: ['c6'], name: 'c6', attribute: [{ name: 'value', type: 4, t: { dims: [], dataType: 1, floatData: [6] } }] },
      onnxNode('Clip', ['/conv1/Conv_output_0', 'c0', 'c6'], ['clip_out'], {}, '/act/Clip'),
      onnxNode('PRelu', ['clip_out', 'prelu.slope'], ['prelu_out'], {}, '/prelu/PRelu'),
      onnxNode('MaxPool', ['prelu_out'], ['pool_out'], { kernel_shape: [2, 2], strides: [2, 2] }, '/pool/MaxPool'),
      onnxNode('Slice', ['pool_out', 'starts', 'ends', 'axes'], ['slice_out'], {}, '/Slice'),
      onnxNode('Split', ['slice_out', 'split'], ['s0', 's1'], { axis: 1 }, '/Split'),
      onnxNode('Add', ['s0', 's1'], ['sum_out'], {}, '/Add'),
      onnxNode('ReduceMean', ['sum_out'], ['gap_out'], { axes: [2, 3], keepdims: 0 }, '/ReduceMean'),
      onnxNode('Concat', ['gap_out', 'gap_out', 'gap_out', 'gap_out'], ['cat_out'], { axis: 1 }, '/Concat'),
      onnxNode('MatMul', ['cat_out', 'fc.weight_t'], ['mm_out'], {}, '/fc/MatMul'),
      onnxNode('Add', ['fc.bias', 'mm_out'], ['fc_out'], {}, '/fc/Add'),
      onnxNode('Gemm', ['fc_out', 'head.B', 'head.C'], ['logits'], { alpha: 0.5, beta: 2, transB: 0 }, '/head/Gemm'),
      onnxNode('Softmax', ['logits'], ['probs'], { axis: -1 }, '/Softmax'),
    ],
  });
}

describe('reading a PyTorch-shaped model', () => {
  it('maps known ops to IR nodes, keeps the rest opaque, and writes back a model with the same outputs', async () => {
    const bytes = torchLikeModel('raw');
    const g = onnxToGraph(bytes);
    const m = byName(g);
    expect(g.inputs).toEqual(['input']);
    expect((m.get('input') as Extract<Node, { op: 'input' }>).shape).toEqual([3, 8, 8]);
    expect(m.get('/conv1/Conv')).toMatchObject({ op: 'conv2d', padding: { pads: [1, 1, 1, 1] }, groups: 1, activation: 'linear' });
    expect(m.get('/act/Clip')).toMatchObject({ op: 'activation', activation: 'relu6', inputs: ['/conv1/Conv'] });
    expect(m.get('/prelu/PRelu')).toMatchObject({ op: 'opaque', weightNames: ['prelu.slope'] });
    expect((m.get('/prelu/PRelu') as Extract<Node, { op: 'opaque' }>).weights[0].shape).toEqual([4, 1, 1]);
    expect(m.get('/Slice')?.op).toBe('opaque');
    expect(m.get('/Split')).toMatchObject({ op: 'opaque', inputs: ['/Slice'] });
    expect(m.get('s1')).toMatchObject({ op: 'opaque', inputs: ['/Split'] });
    expect(m.get('/Add')).toMatchObject({ op: 'add', inputs: ['/Split', 's1'] });
    expect(m.get('/ReduceMean')).toMatchObject({ op: 'globalAvgPool', keepDims: false });
    // MatMul + Add became one dense with a bias; the Add node is gone.
    const fc = m.get('/fc/MatMul') as DenseNode;
    expect(fc).toMatchObject({ op: 'dense', weight: { shape: [5, 8] } });
    expect(fc.bias).not.toBeNull();
    expect(m.has('/fc/Add')).toBe(false);
    expect(m.get('/head/Gemm')).toMatchObject({ op: 'dense', weight: { shape: [3, 5] }, inputs: ['/fc/MatMul'] });
    expect(m.get('/Softmax')).toMatchObject({ op: 'activation', activation: 'softmax' });
    expect(g.meta).toMatchObject({ sourceFormat: 'onnx', opset: 13, irVersion: 8, producerName: 'test-builder' });

    const out = graphToOnnx(g);
    const xin = { shape: [2, 3, 8, 8], data: randn(384, 26) };
    const [want, got] = [await run(bytes, xin), await run(out, xin)];
    expectClose(got, want, 1e-6);
    // The original output name survives the round trip.
    const g2 = onnxToGraph(out);
    expect((g2.meta as { onnx: { outputNames: string[] } }).onnx.outputNames).toEqual(['probs']);
  });

  it('raw_data and float_data initializers decode to identical weights', () => {
    const a = onnxToGraph(torchLikeModel('raw'));
    const b = onnxToGraph(torchLikeModel('float'));
    const ca = byName(a).get('/conv1/Conv') as Conv2DNode;
    const cb = byName(b).get('/conv1/Conv') as Conv2DNode;
    expect(Array.from(cb.kernel.data)).toEqual(Array.from(ca.kernel.data));
    const ga = byName(a).get('/head/Gemm') as DenseNode;
    const gb = byName(b).get('/head/Gemm') as DenseNode;
    expect(Array.from(gb.weight.data)).toEqual(Array.from(ga.weight.data));
  });

  it('Gemm with transB = 0 and alpha/beta folds into dense [out, in] weights', () => {
    const g = onnxToGraph(torchLikeModel('raw'));
    const d = byName(g).get('/head/Gemm') as DenseNode;
    const B = randn(15, 22, 0.3); // [in = 5, out = 3]
    const C = randn(3, 25);
    for (let o = 0; o < 3; o++) for (let i = 0; i < 5; i++) expect(d.weight.data[o * 5 + i]).toBeCloseTo(0.5 * B[i * 3 + o], 6);
    for (let o = 0; o < 3; o++) expect(d.bias![o]).toBeCloseTo(2 * C[o], 6);
  });

  it('refuses to re-version opaque nodes to another opset', () => {
    const g = onnxToGraph(torchLikeModel('raw'));
    expect(() => graphToOnnx(g, { opset: 17 })).toThrow(/was read at opset 13 and is kept as is; write with \{ opset: 13 \}/);
  });
});

describe('more op mappings', () => {
  function model(): Uint8Array {
    return buildModel({
      opset: 17,
      inputs: [valueInfo('x', [1, 2, 4, 4])],
      outputs: [valueInfo('y', [1, 6, 10, 10])],
      initializers: [
        floatInit('scale', [2], new Float32Array([1.5, 0.5])),
        floatInit('bias', [2], new Float32Array([0.1, -0.2])),
        floatInit('mean', [2], new Float32Array([0.3, 0.0])),
        floatInit('var', [2], new Float32Array([2.0, 0.5])),
        int64Init('pads', [8], [0, 0, 1, 0, 0, 0, 0, 1]),
        floatInit('scales', [4], new Float32Array([1, 1, 2, 2])),
        floatInit('wl', [2, 2, 3, 3], randn(36, 30)),
        floatInit('ws', [2, 2, 3, 3], randn(36, 31)),
      ],
      nodes: [
        onnxNode('BatchNormalization', ['x', 'scale', 'bias', 'mean', 'var'], ['bn'], { epsilon: 1e-3 }, 'bn'),
        onnxNode('HardSigmoid', ['bn'], ['hs'], { alpha: 0.2, beta: 0.5 }, 'hs'),
        onnxNode('Dropout', ['hs'], ['dr'], {}, 'dr'),
        onnxNode('Pad', ['dr', 'pads'], ['pad'], { mode: 'constant' }, 'pad'),
        onnxNode('Resize', ['pad', '', 'scales'], ['up'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, 'up'),
        // SAME_LOWER with stride 2 depends on the input size: kept opaque, still written back.
        onnxNode('Conv', ['up', 'wl'], ['lower'], { auto_pad: 'SAME_LOWER', strides: [2, 2], kernel_shape: [3, 3] }, 'lower'),
        onnxNode('Conv', ['up', 'ws'], ['same'], { auto_pad: 'SAME_UPPER', strides: [2, 2], kernel_shape: [3, 3] }, 'same'),
        onnxNode('AveragePool', ['up'], ['ap'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1, strides: [2, 2] }, 'ap'),
        onnxNode('GlobalAveragePool', ['up'], ['gap'], {}, 'gap'),
        onnxNode('Mul', ['ap', 'gap'], ['se'], {}, 'se'),
        onnxNode('Concat', ['lower', 'se', 'same'], ['cat'], { axis: 1 }, 'cat'),
        onnxNode('Resize', ['cat', '', 'scales'], ['y'], { mode: 'nearest' }, 'resize_default'),
      ],
    });
  }

  it('maps BN, HardSigmoid, Dropout, Pad, Resize, pools; keeps size-dependent forms opaque; output unchanged', async () => {
    const bytes = model();
    const g = onnxToGraph(bytes);
    const m = byName(g);
    expect(m.get('bn')).toMatchObject({ op: 'batchNorm', axis: 1 });
    expect((m.get('bn') as Extract<Node, { op: 'batchNorm' }>).epsilon).toBeCloseTo(1e-3, 8);
    expect(m.get('hs')).toMatchObject({ op: 'activation', activation: 'hard_sigmoid' });
    expect(m.get('dr')?.op).toBe('identity');
    expect(m.get('pad')).toMatchObject({ op: 'zeroPad', pads: [1, 0, 0, 1] });
    expect(m.get('up')).toMatchObject({ op: 'upsample', size: [2, 2], interpolation: 'nearest' });
    expect(m.get('lower')?.op).toBe('opaque');
    expect(m.get('same')).toMatchObject({ op: 'conv2d', padding: 'same', strides: [2, 2] });
    expect(m.get('ap')?.op).toBe('opaque');
    expect(m.get('gap')).toMatchObject({ op: 'globalAvgPool', keepDims: true });
    expect(m.get('se')?.op).toBe('multiply');
    expect(m.get('cat')).toMatchObject({ op: 'concat', axis: 1 });
    // half_pixel + round_prefer_floor (the Resize defaults) also picks floor(x/s) at integer scales.
    expect(m.get('resize_default')).toMatchObject({ op: 'upsample', interpolation: 'nearest' });

    const xin = { shape: [1, 2, 4, 4], data: randn(32, 32) };
    const [want, got] = [await run(bytes, xin), await run(graphToOnnx(g), xin)];
    expect(got.shape).toEqual(want.shape);
    expect(relErr(got.data, want.data)).toBeLessThan(1e-6);
  });

  it('a weight passed through Identity (shared parameters in exports) is still a constant weight', () => {
    const bytes = buildModel({
      inputs: [valueInfo('x', ['N', 2, 4, 4])],
      outputs: [valueInfo('y', ['N', 2, 2, 2])],
      initializers: [floatInit('W0', [2, 2, 3, 3], randn(36, 40))],
      nodes: [onnxNode('Identity', ['W0'], ['W'], {}, 'id'), onnxNode('Conv', ['x', 'W'], ['y'], {}, 'conv')],
    });
    const g = onnxToGraph(bytes);
    expect(ops(g)).toEqual(['input', 'conv2d']);
    expect(Array.from((g.nodes[1] as Conv2DNode).kernel.data)).toEqual(Array.from(randn(36, 40)));
  });

  it('graph inputs that are also initializers (old exporters) are weights, not inputs', () => {
    const bytes = buildModel({
      opset: 11,
      irVersion: 6,
      inputs: [valueInfo('x', ['N', 2, 4, 4]), valueInfo('W', [2, 2, 3, 3])],
      outputs: [valueInfo('y', ['N', 2, 2, 2])],
      initializers: [floatInit('W', [2, 2, 3, 3], randn(36, 41))],
      nodes: [onnxNode('Conv', ['x', 'W'], ['y'], {}, 'conv')],
    });
    const g = onnxToGraph(bytes);
    expect(g.inputs).toEqual(['x']);
    expect(ops(g)).toEqual(['input', 'conv2d']);
    expect(g.meta).toMatchObject({ opset: 11, irVersion: 6 });
  });
});
