/**
 * Error falls as the rank grows: on one ONNX conv layer, the relative L2 error of the decoupled
 * model's output (run in onnxruntime) is non-increasing over T = 1..k², and zero (float level) at
 * T = k². Top-T per channel is the best rank-T approximation (Eckart–Young), so the kernel error
 * must fall; the output error follows it on a generic input.
 *
 * The kernel is "smooth": each channel mixes 2-D DCT-II basis filters with weights that decay
 * geometrically with frequency, plus a little noise — the spectrum trained 3×3 filters show, and
 * one where every extra component buys a visible step.
 */
import { describe, expect, it } from 'vitest';
import type { Conv2DNode, Graph } from '../../src/models/ir.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import { onnxToGraph } from '../../src/models/onnx/read.js';
import { convertGraph } from '../../src/convert/convert.js';
import { relL2 } from '../../src/eval/metrics.js';
import type { NdOrder } from '../../src/decompose/nd.js';
import type { DepthwiseForm } from '../../src/convert/nd-rewrite.js';
import { graph, input, randn, run, type T4 } from '../onnx/helpers.js';

const K = 3;
const C = 12;
const N = 16;

/** 2-D DCT-II basis filter (u, v) on a K×K grid. */
function dct(u: number, v: number, i: number, j: number): number {
  return Math.cos((Math.PI * (2 * i + 1) * u) / (2 * K)) * Math.cos((Math.PI * (2 * j + 1) * v) / (2 * K));
}

function smoothKernel(seed: number): Float32Array {
  const coef = randn(N * C * K * K, seed);
  const noise = randn(N * C * K * K, seed + 1, 1e-3);
  const w = new Float32Array(N * C * K * K);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let u = 0; u < K; u++)
        for (let v = 0; v < K; v++) {
          const a = coef[((n * C + c) * K + u) * K + v] * 0.45 ** (u + v);
          for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) w[((n * C + c) * K + i) * K + j] += a * dct(u, v, i, j);
        }
  return w.map((v, i) => v + noise[i]);
}

const layer: Conv2DNode = {
  op: 'conv2d',
  name: 'conv',
  inputs: ['x'],
  kernel: { shape: [N, C, K, K], data: smoothKernel(7) },
  bias: randn(N, 9, 0.1),
  strides: [1, 1],
  dilations: [1, 1],
  padding: 'same',
  groups: 1,
  activation: 'linear',
};
const model: Graph = graph([input('x', [C, 12, 12]), layer], ['conv']);
const xin: T4 = { shape: [1, C, 12, 12], data: randn(C * 144, 11) };

describe('decoupling error falls as the rank grows (one ONNX conv, onnxruntime)', () => {
  const cases: { order: NdOrder; form: DepthwiseForm }[] = [
    { order: 'dw-pw', form: 'split' },
    { order: 'pw-dw', form: 'merged' },
  ];
  for (const { order, form } of cases) {
    it(`${order} ${form}: output relL2 is non-increasing over T = 1..${K * K} and ~0 at T = ${K * K}`, async () => {
      const original = onnxToGraph(graphToOnnx(model));
      const y = await run(original, xin);
      const outErr: number[] = [];
      const kernelErr: number[] = [];
      for (let T = 1; T <= K * K; T++) {
        const conv = convertGraph(original, { order, form, rank: T, keepUnprofitable: true });
        expect(conv.layers.map((l) => l.rank)).toEqual([T]);
        kernelErr.push(conv.layers[0].kernelRelError);
        outErr.push(relL2(y.data, (await run(graphToOnnx(conv.graph), xin)).data));
      }
      // Float32 noise only matters once the error itself is at the float level.
      const slack = (e: number) => e * 1e-4 + 1e-6;
      for (let t = 1; t < K * K; t++) {
        expect(outErr[t], `output error at T = ${t + 1} vs T = ${t}: ${outErr.map((e) => e.toExponential(2)).join(', ')}`).toBeLessThanOrEqual(outErr[t - 1] + slack(outErr[t - 1]));
        expect(kernelErr[t], `kernel error at T = ${t + 1}`).toBeLessThanOrEqual(kernelErr[t - 1] + slack(kernelErr[t - 1]));
      }
      // The decay is real, not flat: each of the first components removes a visible share.
      for (let t = 1; t < 4; t++) expect(outErr[t]).toBeLessThan(0.9 * outErr[t - 1]);
      expect(outErr[0]).toBeGreaterThan(1e-2);
      expect(outErr[K * K - 1]).toBeLessThan(1e-5);
    });
  }
});
