/**
 * Every method's rebuilt layers at full rank compute what the original conv computes, in tfjs
 * (wasm backend, NHWC graphs) and in onnxruntime (NCHW graphs written with graphToOnnx): stride 2
 * with TF 'same' padding on odd and even sizes, valid padding with a non-square kernel, explicit
 * asymmetric pads, dilation, a fused activation, and 'same' with free H, W (ONNX SAME_UPPER).
 * Full rank is reached through each method's energy rule at τ = 1 (so those rules are tested too):
 * ND T = k², CP R = the slice model's exact rank, Tucker-2 [N, C], spatial K = min(C·kh, N·kw),
 * spatial-nd K full and T full on both factors.
 * Pass: max |y − ŷ| ≤ 1e-4 · max |y|.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasm } from '../helpers/tfjs.js';
import { conv, graph, input, randn, run } from '../onnx/helpers.js';
import { convertGraph } from '../../src/convert/convert.js';
import { METHODS, type Method } from '../../src/convert/methods.js';
import { runGraph } from '../../src/eval/tfjs-run.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import type { Conv2DNode, Graph, Padding } from '../../src/models/ir.js';

beforeAll(useWasm);

interface Case {
  name: string;
  cin: number;
  cout: number;
  k: [number, number];
  strides?: [number, number];
  dilations?: [number, number];
  padding: Padding;
  /** H, W of the test input. */
  size: [number, number];
  activation?: string;
  bias?: boolean;
  /** Free spatial size in the graph (ORT writes auto_pad SAME_UPPER). */
  free?: boolean;
}

const CASES: Case[] = [
  { name: 'stride 2, same, odd/even 9×10', cin: 5, cout: 7, k: [3, 3], strides: [2, 2], padding: 'same', size: [9, 10] },
  { name: 'stride 2, same, even 8×8, relu', cin: 4, cout: 6, k: [3, 3], strides: [2, 2], padding: 'same', size: [8, 8], activation: 'relu' },
  { name: 'stride (1, 2), same, 7×8', cin: 4, cout: 5, k: [3, 3], strides: [1, 2], padding: 'same', size: [7, 8] },
  { name: 'stride 2, valid, 3×5 kernel', cin: 4, cout: 6, k: [3, 5], strides: [2, 2], padding: 'valid', size: [11, 12] },
  { name: 'explicit pads [0, 2, 1, 0]', cin: 5, cout: 4, k: [3, 3], padding: { pads: [0, 2, 1, 0] }, size: [8, 7] },
  { name: 'dilation 2, same, no bias', cin: 4, cout: 8, k: [3, 3], dilations: [2, 2], padding: 'same', size: [10, 10], bias: false },
  { name: 'stride 2, same, free H, W', cin: 4, cout: 6, k: [3, 3], strides: [2, 2], padding: 'same', size: [8, 9], free: true },
];

function caseConv(c: Case, seed: number): Conv2DNode {
  return conv('c1', 'x', { cin: c.cin, cout: c.cout, k: c.k, strides: c.strides, dilations: c.dilations, padding: c.padding, bias: c.bias, activation: c.activation, seed });
}

function caseGraph(c: Case, layout: 'NHWC' | 'NCHW', seed: number): Graph {
  const [h, w] = c.free ? [null, null] : c.size;
  const shape = layout === 'NHWC' ? [h, w, c.cin] : [c.cin, h, w];
  return graph([input('x', shape), caseConv(c, seed)], ['c1'], layout);
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

function fullRank(g: Graph, method: Method): ReturnType<typeof convertGraph> {
  const conv = convertGraph(g, { method, energy: 1, keepUnprofitable: true, minInChannels: 0 });
  expect(conv.layers.map((l) => l.name), method).toEqual(['c1']);
  expect(conv.layers[0].kernelRelError, method).toBeLessThan(1e-5);
  return conv;
}

describe('full rank reproduces the conv in tfjs (wasm, NHWC)', () => {
  for (const [i, c] of CASES.entries()) {
    if (c.free) continue;
    it(c.name, async () => {
      const g = caseGraph(c, 'NHWC', 10 + i);
      const x = { shape: [2, c.size[0], c.size[1], c.cin], data: randn(2 * c.size[0] * c.size[1] * c.cin, 50 + i) };
      const [y] = await runGraph(g, x);
      for (const method of METHODS) {
        const [z] = await runGraph(fullRank(g, method).graph, x);
        expect(z.shape, method).toEqual(y.shape);
        expect(maxRel(z.data, y.data), method).toBeLessThan(1e-4);
      }
    });
  }
});

describe('full rank reproduces the conv in onnxruntime (NCHW)', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const g = caseGraph(c, 'NCHW', 30 + i);
      const x = { shape: [1, c.cin, c.size[0], c.size[1]], data: randn(c.cin * c.size[0] * c.size[1], 70 + i) };
      const y = await run(graphToOnnx(g), x);
      for (const method of METHODS) {
        const z = await run(graphToOnnx(fullRank(g, method).graph), x);
        expect(z.shape, method).toEqual(y.shape);
        expect(maxRel(z.data, y.data), method).toBeLessThan(1e-4);
      }
    });
  }
});
