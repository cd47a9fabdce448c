/**
 * IR (NCHW) → ONNX → onnxruntime equals a direct-loop reference, op by op.
 */
import { describe, expect, it } from 'vitest';
import type { BatchNormNode, DenseNode, Node } from '../../src/models/ir.js';
import {
  add,
  batchNormRef,
  concatC,
  conv,
  convNodeRef,
  convRef,
  denseRef,
  expectClose,
  graph,
  input,
  map,
  poolRef,
  randn,
  run,
  samePadsRef,
  type T4,
} from './helpers.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import { onnx } from '../../src/models/onnx/proto.js';

const x = (n: number, c: number, h: number, w: number, seed = 7): T4 => ({ shape: [n, c, h, w], data: randn(n * c * h * w, seed) });

describe('conv2d export (NCHW)', () => {
  const cases: [string, Parameters<typeof conv>[2], number, number][] = [
    ['stride 2, valid', { cin: 3, cout: 4, k: [3, 3], strides: [2, 2], seed: 1 }, 9, 8],
    ['asymmetric explicit pads', { cin: 2, cout: 3, k: [3, 2], padding: { pads: [1, 0, 2, 1] }, seed: 2 }, 6, 7],
    ['dilation 2', { cin: 2, cout: 2, k: [3, 3], dilations: [2, 2], padding: { pads: [2, 2, 2, 2] }, seed: 3 }, 7, 7],
    ['no bias', { cin: 3, cout: 2, k: [1, 1], bias: false, seed: 4 }, 4, 5],
    ['grouped (2 groups)', { cin: 4, cout: 6, k: [3, 3], groups: 2, padding: 'same', seed: 5 }, 5, 5],
    ['depthwise (groups = C)', { cin: 4, cout: 4, k: [3, 3], groups: 4, padding: 'same', seed: 6 }, 6, 6],
    ['depthwise, multiplier 2', { cin: 3, cout: 6, k: [3, 3], groups: 3, padding: 'same', seed: 7 }, 5, 6],
    ['same, stride 2, odd size', { cin: 2, cout: 3, k: [3, 3], strides: [2, 2], padding: 'same', seed: 8 }, 7, 6],
    ['same, stride 2, dilation 2', { cin: 2, cout: 2, k: [3, 3], strides: [2, 2], dilations: [2, 2], padding: 'same', seed: 9 }, 8, 9],
  ];
  for (const [label, opts, h, w] of cases) {
    it(`matches the direct-loop reference: ${label}`, async () => {
      const c = conv('c', 'x', opts);
      const xin = x(2, opts.cin, h, w);
      const got = await run(graph([input('x', [opts.cin, h, w]), c], ['c']), xin);
      expectClose(got, convNodeRef(xin, c));
    });
  }

  it("'same' with stride 2 and an unknown input size is written as auto_pad SAME_UPPER and still matches TF", async () => {
    const c = conv('c', 'x', { cin: 2, cout: 2, k: [3, 3], strides: [2, 2], padding: 'same', seed: 10 });
    const bytes = graphToOnnx(graph([input('x', [2, null, null]), c], ['c']));
    const m = onnx.ModelProto.decode(bytes);
    const autoPad = m.graph!.node!.find((n) => n.opType === 'Conv')!.attribute!.find((a) => a.name === 'auto_pad');
    expect(new TextDecoder().decode(autoPad!.s!)).toBe('SAME_UPPER');
    for (const [h, w] of [[6, 7], [5, 8]]) {
      const xin = x(1, 2, h, w, h * 10 + w);
      expectClose(await run(bytes, xin), convNodeRef(xin, c));
    }
  });

  it('names ONNX nodes after IR nodes (conv3/dw, conv3/pw) so rewrites stay traceable', () => {
    const dw = conv('conv3/dw', 'x', { cin: 2, cout: 2, k: [3, 3], groups: 2, padding: 'same', seed: 11 });
    const pw = conv('conv3/pw', 'conv3/dw', { cin: 2, cout: 4, k: [1, 1], activation: 'relu', seed: 12 });
    const m = onnx.ModelProto.decode(graphToOnnx(graph([input('x', [2, 4, 4]), dw, pw], ['conv3/pw'])));
    const names = m.graph!.node!.map((n) => n.name);
    expect(names).toContain('conv3/dw');
    expect(names).toContain('conv3/pw');
    expect(names).toContain('conv3/pw/relu');
  });
});

describe('activation export', () => {
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const erf = (z: number) => {
    // Numerical Recipes' Chebyshev erfc, |error| < 1.2e-7: tight enough for a 2e-5 comparison.
    const t = 1 / (1 + 0.5 * Math.abs(z));
    const tau =
      t *
      Math.exp(
        -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
      );
    return z >= 0 ? 1 - tau : tau - 1;
  };
  const acts: [string, Record<string, number> | undefined, (v: number) => number][] = [
    ['relu', undefined, (v) => Math.max(v, 0)],
    ['relu6', undefined, (v) => Math.min(Math.max(v, 0), 6)],
    ['relu', { maxValue: 1.5 }, (v) => Math.min(Math.max(v, 0), 1.5)],
    ['relu', { max_value: 1.5 }, (v) => Math.min(Math.max(v, 0), 1.5)],
    ['relu', { negativeSlope: 0.2, threshold: 0 }, (v) => (v > 0 ? v : 0.2 * v)],
    ['relu', { maxValue: 1, negativeSlope: 0.2 }, (v) => (v > 0 ? Math.min(v, 1) : 0.2 * v)],
    ['sigmoid', undefined, sig],
    ['tanh', undefined, Math.tanh],
    ['elu', undefined, (v) => (v > 0 ? v : Math.exp(v) - 1)],
    ['selu', undefined, (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1))],
    ['softplus', undefined, (v) => Math.log1p(Math.exp(v))],
    ['softsign', undefined, (v) => v / (1 + Math.abs(v))],
    ['swish', undefined, (v) => v * sig(v)],
    ['silu', undefined, (v) => v * sig(v)],
    ['hard_sigmoid', undefined, (v) => Math.min(Math.max(0.2 * v + 0.5, 0), 1)],
    ['hardSigmoid', undefined, (v) => Math.min(Math.max(0.2 * v + 0.5, 0), 1)],
    ['hard_swish', undefined, (v) => v * Math.min(Math.max(v / 6 + 0.5, 0), 1)],
    ['leakyRelu', { alpha: 0.1 }, (v) => (v > 0 ? v : 0.1 * v)],
    ['gelu', undefined, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))],
    ['gelu_new', undefined, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))],
    ['mish', undefined, (v) => v * Math.tanh(Math.log1p(Math.exp(v)))],
    ['exponential', undefined, Math.exp],
  ];
  for (const [name, params, f] of acts) {
    it(`${name}${params ? ' ' + JSON.stringify(params) : ''} on a conv output equals its Keras definition`, async () => {
      const c = conv('c', 'x', { cin: 2, cout: 3, k: [3, 3], padding: 'same', seed: 20 });
      const a: Node = { op: 'activation', name: 'act', inputs: ['c'], activation: name, ...(params ? { params } : {}) };
      const xin = x(1, 2, 5, 5, 21);
      const got = await run(graph([input('x', [2, 5, 5]), c, a], ['act']), xin);
      expectClose(got, map(convNodeRef(xin, c), f), 2e-5);
    });
  }

  it('fused conv activation and opsets before HardSwish/Gelu/Mish give the same values', async () => {
    const xin = x(1, 2, 4, 4, 22);
    for (const act of ['hard_swish', 'gelu', 'mish']) {
      const c = conv('c', 'x', { cin: 2, cout: 2, k: [1, 1], activation: act, seed: 23 });
      const g = graph([input('x', [2, 4, 4]), c], ['c']);
      const [a, b] = await Promise.all([run(graphToOnnx(g, { opset: 13 }), xin), run(graphToOnnx(g, { opset: 21 }), xin)]);
      expectClose(a, b, 1e-5);
    }
  });

  it('softmax normalises over channels for rank 4 and rank 2', async () => {
    const sm: Node = { op: 'activation', name: 'sm', inputs: ['x'], activation: 'softmax' };
    const xin = x(2, 3, 2, 2, 24);
    const got = await run(graph([input('x', [3, 2, 2]), sm], ['sm']), xin);
    for (let b = 0; b < 2; b++)
      for (let p = 0; p < 4; p++) {
        let s = 0;
        for (let c = 0; c < 3; c++) s += got.data[(b * 3 + c) * 4 + p];
        expect(s).toBeCloseTo(1, 5);
      }
  });

  it('rejects an activation with no ONNX mapping, naming it', () => {
    const a: Node = { op: 'activation', name: 'weird', inputs: ['x'], activation: 'bent_identity' };
    expect(() => graphToOnnx(graph([input('x', [2, 2, 2]), a], ['weird']))).toThrow(/node "weird": activation "bent_identity" has no ONNX mapping/);
  });
});

describe('graph structures', () => {
  it('batchNorm after conv matches (x − μ)/√(σ² + ε)·γ + β', async () => {
    const c = conv('c', 'x', { cin: 2, cout: 3, k: [3, 3], padding: 'same', seed: 30 });
    const bn: BatchNormNode = {
      op: 'batchNorm', name: 'bn', inputs: ['c'], axis: 1, epsilon: 1e-3,
      gamma: randn(3, 31), beta: randn(3, 32), mean: randn(3, 33), variance: randn(3, 34).map((v) => v * v + 0.1),
    };
    const xin = x(2, 2, 5, 4, 35);
    const got = await run(graph([input('x', [2, 5, 4]), c, bn], ['bn']), xin);
    expectClose(got, batchNormRef(convNodeRef(xin, c), { gamma: bn.gamma!, beta: bn.beta!, mean: bn.mean, variance: bn.variance, epsilon: 1e-3 }));
  });

  it('residual add: relu(conv2(relu(conv1(x))) + x)', async () => {
    const c1 = conv('c1', 'x', { cin: 3, cout: 3, k: [3, 3], padding: 'same', activation: 'relu', seed: 40 });
    const c2 = conv('c2', 'c1', { cin: 3, cout: 3, k: [3, 3], padding: 'same', seed: 41 });
    const sum: Node = { op: 'add', name: 'sum', inputs: ['c2', 'x'] };
    const out: Node = { op: 'activation', name: 'out', inputs: ['sum'], activation: 'relu' };
    const xin = x(1, 3, 6, 6, 42);
    const got = await run(graph([input('x', [3, 6, 6]), c1, c2, sum, out], ['out']), xin);
    const h1 = map(convNodeRef(xin, c1), (v) => Math.max(v, 0));
    expectClose(got, map(add(convNodeRef(h1, c2), xin), (v) => Math.max(v, 0)));
  });

  it('concat on the channel axis of two conv branches', async () => {
    const a = conv('a', 'x', { cin: 2, cout: 3, k: [3, 3], padding: 'same', seed: 50 });
    const b = conv('b', 'x', { cin: 2, cout: 2, k: [1, 1], seed: 51 });
    const cat: Node = { op: 'concat', name: 'cat', inputs: ['a', 'b'], axis: 1 };
    const xin = x(2, 2, 4, 5, 52);
    const got = await run(graph([input('x', [2, 4, 5]), a, b, cat], ['cat']), xin);
    expectClose(got, concatC([convNodeRef(xin, a), convNodeRef(xin, b)]));
  });

  it('flatten + dense (Gemm) head, with and without bias', async () => {
    const c = conv('c', 'x', { cin: 2, cout: 3, k: [3, 3], strides: [2, 2], activation: 'relu', seed: 60 });
    const flat: Node = { op: 'flatten', name: 'flat', inputs: ['c'] };
    const d1: DenseNode = { op: 'dense', name: 'fc1', inputs: ['flat'], weight: { shape: [5, 12], data: randn(60, 61) }, bias: randn(5, 62), activation: 'tanh' };
    const d2: DenseNode = { op: 'dense', name: 'fc2', inputs: ['fc1'], weight: { shape: [4, 5], data: randn(20, 63) }, bias: null, activation: 'linear' };
    const xin = x(3, 2, 5, 5, 64);
    const got = await run(graph([input('x', [2, 5, 5]), c, flat, d1, d2], ['fc2']), xin);
    const h = map(convNodeRef(xin, c), (v) => Math.max(v, 0));
    const flatRef = { shape: [3, 12], data: h.data };
    const ref = denseRef(map(denseRef(flatRef, d1.weight, d1.bias), Math.tanh), d2.weight, null);
    expectClose(got, ref);
  });

  it('max/avg pooling (valid and TF same, stride 2) and global pools with and without keepDims', async () => {
    const xin = x(1, 2, 5, 6, 70);
    for (const op of ['maxPool', 'avgPool'] as const) {
      for (const padding of ['valid', 'same'] as const) {
        const p: Node = { op, name: 'p', inputs: ['x'], poolSize: [3, 3], strides: [2, 2], padding };
        const got = await run(graph([input('x', [2, 5, 6]), p], ['p']), xin);
        const pads = padding === 'valid' ? [0, 0, 0, 0] : samePadsRef(5, 6, [3, 3], [2, 2]);
        expectClose(got, poolRef(xin, op === 'maxPool' ? 'max' : 'avg', [3, 3], [2, 2], pads));
      }
    }
    const gap: Node = { op: 'globalAvgPool', name: 'gap', inputs: ['x'], keepDims: false };
    const got = await run(graph([input('x', [2, 5, 6]), gap], ['gap']), xin);
    expect(got.shape).toEqual([1, 2]);
    const mean0 = xin.data.subarray(0, 30).reduce((a, b) => a + b, 0) / 30;
    expect(got.data[0]).toBeCloseTo(mean0, 5);
    const gmp: Node = { op: 'globalMaxPool', name: 'gmp', inputs: ['x'], keepDims: true };
    const got2 = await run(graph([input('x', [2, 5, 6]), gmp], ['gmp']), xin);
    expect(got2.shape).toEqual([1, 2, 1, 1]);
    expect(got2.data[1]).toBeCloseTo(Math.max(...xin.data.subarray(30, 60)), 6);
  });

  it('nearest upsample repeats pixels, zeroPad pads [top, left, bottom, right], reshape keeps the batch', async () => {
    const xin = x(1, 1, 2, 3, 80);
    const up: Node = { op: 'upsample', name: 'up', inputs: ['x'], size: [2, 3], interpolation: 'nearest' };
    const u = await run(graph([input('x', [1, 2, 3]), up], ['up']), xin);
    expect(u.shape).toEqual([1, 1, 4, 9]);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 9; j++) expect(u.data[i * 9 + j]).toBe(xin.data[Math.floor(i / 2) * 3 + Math.floor(j / 3)]);

    const zp: Node = { op: 'zeroPad', name: 'zp', inputs: ['x'], pads: [1, 0, 2, 3] };
    const z = await run(graph([input('x', [1, 2, 3]), zp], ['zp']), xin);
    expect(z.shape).toEqual([1, 1, 5, 6]);
    expect(z.data[1 * 6 + 0]).toBe(xin.data[0]);
    expect(z.data[0]).toBe(0);

    const rs: Node = { op: 'reshape', name: 'rs', inputs: ['x'], targetShape: [3, -1] };
    const r = await run(graph([input('x', [1, 2, 3]), rs], ['rs']), { shape: [2, 1, 2, 3], data: randn(12, 81) });
    expect(r.shape).toEqual([2, 3, 2]);
  });

  it("zeroPad → max/avg pool keeps zero padding under ORT's Pad fusion (negative inputs, 'valid' and 'same')", async () => {
    // All-negative input: a padded zero wins every max window that touches it, and counts in averages.
    const xin = map(x(1, 2, 5, 5, 85), (v) => -Math.abs(v) - 0.1);
    const padded = (t: T4, [top, left, bottom, right]: number[]): T4 => {
      const [n, c, h, w] = t.shape;
      const H = h + top + bottom;
      const W = w + left + right;
      const out = new Float32Array(n * c * H * W);
      for (let bc = 0; bc < n * c; bc++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[(bc * H + i + top) * W + j + left] = t.data[(bc * h + i) * w + j];
      return { shape: [n, c, H, W], data: out };
    };
    const zpPads: [number, number, number, number] = [1, 2, 2, 1];
    for (const op of ['maxPool', 'avgPool'] as const) {
      for (const padding of ['valid', 'same'] as const) {
        const nodes: Node[] = [
          input('x', [2, 5, 5]),
          { op: 'zeroPad', name: 'zp', inputs: ['x'], pads: zpPads },
          { op, name: 'p', inputs: ['zp'], poolSize: [2, 2], strides: [2, 2], padding },
        ];
        const got = await run(graph(nodes, ['p']), xin);
        const pz = padded(xin, zpPads);
        const pads = padding === 'valid' ? [0, 0, 0, 0] : samePadsRef(pz.shape[2], pz.shape[3], [2, 2], [2, 2]);
        expectClose(got, poolRef(pz, op === 'maxPool' ? 'max' : 'avg', [2, 2], [2, 2], pads));
      }
    }
  });

  it('zeroPad → conv (which ORT may fuse) matches, even with pads larger than the kernel', async () => {
    const xin = x(1, 2, 4, 4, 86);
    const c = conv('c', 'zp', { cin: 2, cout: 3, k: [1, 1], strides: [2, 2], seed: 87 });
    const nodes: Node[] = [input('x', [2, 4, 4]), { op: 'zeroPad', name: 'zp', inputs: ['x'], pads: [3, 2, 2, 3] }, c];
    const got = await run(graph(nodes, ['c']), xin);
    expectClose(got, convRef(xin, { kernel: c.kernel, bias: c.bias, strides: [2, 2], dilations: [1, 1], pads: [3, 2, 2, 3], groups: 1 }));
  });

  it('shared weights are written once', () => {
    const a = conv('a', 'x', { cin: 2, cout: 2, k: [3, 3], padding: 'same', seed: 90 });
    const b: Node = { ...a, name: 'b', inputs: ['a'] };
    const m = onnx.ModelProto.decode(graphToOnnx(graph([input('x', [2, 4, 4]), a, b], ['b'])));
    expect(m.graph!.initializer!.length).toBe(2); // one kernel, one bias
  });
});
