/**
 * ONNX in, ONNX out: a full-rank decoupled model computes what the original computes, in stock
 * onnxruntime, for every ordering (dw-pw, pw-dw) and depthwise form (split, merged).
 *
 * Each case is an NCHW IR graph with seeded weights, written with graphToOnnx and read back with
 * onnxToGraph — so the converter sees exactly what it sees for a user's .onnx file — then
 * converted at τ = 1 (exact), written again, and run in ORT beside the original.
 * Pass: max |y − ŷ| ≤ 1e-4 · max |y|, and the converted file names its nodes `<orig>/dw…`,
 * `<orig>/pw…` (depthwise Convs carry `group` > 1, pointwise ones a 1×1 kernel).
 */
import { describe, expect, it } from 'vitest';
import type { BatchNormNode, Graph, Node } from '../../src/models/ir.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import { onnxToGraph } from '../../src/models/onnx/read.js';
import { Attrs, onnx, type INodeProto } from '../../src/models/onnx/proto.js';
import { convertGraph } from '../../src/convert/convert.js';
import type { NdOrder } from '../../src/decompose/nd.js';
import type { DepthwiseForm } from '../../src/convert/nd-rewrite.js';
import { conv, graph, input, randn, run, type T4 } from '../onnx/helpers.js';

interface Case {
  name: string;
  graph: Graph;
  /** Input with batch, NCHW. */
  x: T4;
  /** Convs the converter must replace (all of them here). */
  convs: string[];
  /** BatchNorms it must fold first. */
  folded?: string[];
}

const x = (c: number, h: number, w: number, seed: number, n = 1): T4 => ({ shape: [n, c, h, w], data: randn(n * c * h * w, seed) });

function bn(name: string, from: string, c: number, seed: number): BatchNormNode {
  return {
    op: 'batchNorm',
    name,
    inputs: [from],
    axis: 1,
    epsilon: 1e-3,
    gamma: randn(c, seed, 0.3).map((v) => 1 + v),
    beta: randn(c, seed + 1, 0.3),
    mean: randn(c, seed + 2, 0.3),
    variance: randn(c, seed + 3, 0.3).map((v) => 0.5 + Math.abs(v)),
  };
}

const relu = (name: string, from: string): Node => ({ op: 'activation', name, inputs: [from], activation: 'relu' });

const CASES: Case[] = [
  {
    // 'same' with stride 2 on an odd size: explicit pads [0, 0, 1, 1] in the file (asymmetric).
    name: 'stride 2, TF same padding on 9×9',
    graph: graph([input('x', [4, 9, 9]), conv('c1', 'x', { cin: 4, cout: 6, k: [3, 3], strides: [2, 2], padding: 'same', seed: 1 })], ['c1']),
    x: x(4, 9, 9, 100, 2),
    convs: ['c1'],
  },
  {
    // Free H, W: the writer cannot resolve TF 'same' at stride 2 and writes auto_pad SAME_UPPER.
    name: 'stride 2, auto_pad SAME_UPPER with free H, W',
    graph: graph([input('x', [4, null, null]), conv('c1', 'x', { cin: 4, cout: 6, k: [3, 3], strides: [2, 2], padding: 'same', seed: 2 })], ['c1']),
    x: x(4, 8, 7, 101),
    convs: ['c1'],
  },
  {
    name: 'asymmetric explicit pads [top 0, left 2, bottom 1, right 0]',
    graph: graph([input('x', [5, 8, 8]), conv('c1', 'x', { cin: 5, cout: 7, k: [3, 3], padding: { pads: [0, 2, 1, 0] }, seed: 3 })], ['c1']),
    x: x(5, 8, 8, 102),
    convs: ['c1'],
  },
  {
    name: 'dilation 2',
    graph: graph([input('x', [4, 10, 10]), conv('c1', 'x', { cin: 4, cout: 12, k: [3, 3], dilations: [2, 2], padding: 'same', seed: 4 })], ['c1']),
    x: x(4, 10, 10, 103),
    convs: ['c1'],
  },
  {
    name: 'no bias, valid padding',
    graph: graph([input('x', [6, 7, 7]), conv('c1', 'x', { cin: 6, cout: 5, k: [3, 3], bias: false, seed: 5 })], ['c1']),
    x: x(6, 7, 7, 104),
    convs: ['c1'],
  },
  {
    name: 'Conv → BatchNormalization (folded first), conv without bias',
    graph: graph([input('x', [4, 8, 8]), conv('c1', 'x', { cin: 4, cout: 6, k: [3, 3], padding: 'same', bias: false, seed: 6 }), bn('bn1', 'c1', 6, 60)], ['bn1']),
    x: x(4, 8, 8, 105),
    convs: ['c1'],
    folded: ['bn1'],
  },
  {
    name: 'Conv → Relu → Conv → Relu',
    graph: graph(
      [
        input('x', [4, 8, 8]),
        conv('c1', 'x', { cin: 4, cout: 8, k: [3, 3], padding: 'same', activation: 'relu', seed: 7 }),
        conv('c2', 'c1', { cin: 8, cout: 6, k: [3, 3], strides: [2, 2], padding: 'same', seed: 8 }),
        relu('r2', 'c2'),
      ],
      ['r2'],
    ),
    x: x(4, 8, 8, 106),
    convs: ['c1', 'c2'],
  },
  {
    name: 'residual: relu(bn(conv2(relu(conv1(x)))) + x)',
    graph: graph(
      [
        input('x', [6, 8, 8]),
        conv('c1', 'x', { cin: 6, cout: 6, k: [3, 3], padding: 'same', bias: false, seed: 9 }),
        relu('r1', 'c1'),
        conv('c2', 'r1', { cin: 6, cout: 6, k: [3, 3], padding: 'same', bias: false, seed: 10 }),
        bn('bn2', 'c2', 6, 61),
        { op: 'add', name: 'add', inputs: ['bn2', 'x'] },
        relu('out', 'add'),
      ],
      ['out'],
    ),
    x: x(6, 8, 8, 107),
    convs: ['c1', 'c2'],
    folded: ['bn2'],
  },
  {
    name: 'concat of two conv branches, then a conv',
    graph: graph(
      [
        input('x', [4, 8, 8]),
        conv('a', 'x', { cin: 4, cout: 5, k: [3, 3], padding: 'same', activation: 'relu', seed: 11 }),
        conv('b', 'x', { cin: 4, cout: 3, k: [3, 3], dilations: [2, 2], padding: 'same', seed: 12 }),
        { op: 'concat', name: 'cat', inputs: ['a', 'b'], axis: 1 },
        conv('c', 'cat', { cin: 8, cout: 4, k: [3, 3], padding: { pads: [1, 0, 1, 2] }, seed: 13 }),
      ],
      ['c'],
    ),
    x: x(4, 8, 8, 108),
    convs: ['a', 'b', 'c'],
  },
  {
    name: '5×5 kernel (T up to 25)',
    graph: graph([input('x', [4, 9, 9]), conv('c1', 'x', { cin: 4, cout: 30, k: [5, 5], padding: 'same', seed: 14 })], ['c1']),
    x: x(4, 9, 9, 109),
    convs: ['c1'],
  },
];

const COMBOS: { order: NdOrder; form: DepthwiseForm }[] = [
  { order: 'dw-pw', form: 'split' },
  { order: 'dw-pw', form: 'merged' },
  { order: 'pw-dw', form: 'split' },
  { order: 'pw-dw', form: 'merged' },
];

/** max |a − b| / max |b|. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  expect(s).toBeGreaterThan(0);
  return d / s;
}

function ints(n: INodeProto, name: string): number[] | undefined {
  return new Attrs(n).ints(name);
}

/** The converted file names every replacement `<orig>/dw…` (depthwise Conv) and `<orig>/pw…` (1×1 Conv). */
function expectTraceableNames(bytes: Uint8Array, convs: string[]): void {
  const nodes = onnx.ModelProto.decode(bytes).graph!.node!;
  for (const c of convs) {
    expect(nodes.some((n) => n.name === c), `"${c}" is still a node`).toBe(false);
    const dw = nodes.filter((n) => n.opType === 'Conv' && n.name!.startsWith(`${c}/dw`));
    const pw = nodes.filter((n) => n.opType === 'Conv' && n.name!.startsWith(`${c}/pw`));
    expect(dw.length, `${c}/dw…`).toBeGreaterThan(0);
    expect(pw.length, `${c}/pw…`).toBeGreaterThan(0);
    for (const n of dw) expect(new Attrs(n).int('group', 1), n.name!).toBeGreaterThan(1);
    for (const n of pw) expect(ints(n, 'kernel_shape'), n.name!).toEqual([1, 1]);
  }
}

describe('full-rank decoupling of an ONNX model matches the original in onnxruntime', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      // Through the reader, as a user's file would come in.
      const original = onnxToGraph(graphToOnnx(c.graph), { name: 'case' });
      const y = await run(original, c.x);
      for (const { order, form } of COMBOS) {
        const conv = convertGraph(original, { order, form, energy: 1, keepUnprofitable: true, minInChannels: 0 });
        const label = `${order} ${form}`;
        expect(conv.layers.map((l) => l.name).sort(), label).toEqual([...c.convs].sort());
        expect(conv.kept, label).toEqual([]);
        expect(conv.foldedBatchNorms.map((f) => f.batchNorm), label).toEqual(c.folded ?? []);
        for (const l of conv.layers) expect(l.rank, `${label} ${l.name}`).toBeLessThanOrEqual(l.maxRank);

        const bytes = graphToOnnx(conv.graph);
        expectTraceableNames(bytes, c.convs);
        // The written file is itself readable by netdecouple (a second conversion pass could start here).
        expect(() => onnxToGraph(bytes)).not.toThrow();
        const yHat = await run(bytes, c.x);
        expect(yHat.shape, label).toEqual(y.shape);
        expect(maxRelDiff(yHat.data, y.data), label).toBeLessThanOrEqual(1e-4);
      }
    });
  }
});
