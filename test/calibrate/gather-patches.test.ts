/**
 * The rows the layer refits are built from (src/eval/calibrate-nd.ts gatherPatches,
 * src/eval/calibrate-depthwise.ts gatherRows): a gathered patch times the conv's kernel, plus its
 * bias, is the conv's output at that pixel as direct-loop convolution computes it — for strides,
 * dilations, 'same' / 'valid' / explicit padding (zeros outside the image), both layouts and
 * several images in a batch; and a gathered output row is that pixel's channels.
 */
import { describe, expect, it } from 'vitest';
import { conv, convNodeRef, nchwToNhwc, type T4 } from '../onnx/helpers.js';
import { gatherPatches } from '../../src/eval/calibrate-nd.js';
import { gatherRows } from '../../src/eval/calibrate-depthwise.js';
import { gaussianArray } from '../../src/decompose/random.js';
import type { Padding } from '../../src/models/ir.js';

const CASES: { name: string; strides: [number, number]; dilations: [number, number]; padding: Padding; k: [number, number] }[] = [
  { name: 'same, stride 1', strides: [1, 1], dilations: [1, 1], padding: 'same', k: [3, 3] },
  { name: 'same, stride 2, 3×5 kernel', strides: [2, 2], dilations: [1, 1], padding: 'same', k: [3, 5] },
  { name: 'valid, dilation 2', strides: [1, 1], dilations: [2, 2], padding: 'valid', k: [3, 3] },
  { name: 'explicit pads, stride (2, 1)', strides: [2, 1], dilations: [1, 1], padding: { pads: [2, 0, 1, 1] }, k: [3, 3] },
];

describe('gathered patches reproduce the conv at the sampled pixels', () => {
  for (const c of CASES) {
    for (const layout of ['NCHW', 'NHWC'] as const) {
      // Guards against a wrong stride, dilation or padding offset, a transposed layout, or a batch index lost.
      it(`${c.name}, ${layout}`, () => {
        const [B, C, H, W, N] = [2, 3, 7, 9, 4];
        const node = { ...conv('c', 'x', { cin: C, cout: N, k: c.k, strides: c.strides, dilations: c.dilations, padding: c.padding, seed: 5 }) };
        const x: T4 = { shape: [B, C, H, W], data: gaussianArray(B * C * H * W, 6, 1) };
        const y = convNodeRef(x, node);
        const [, , oh, ow] = y.shape;
        const pixels = B * oh * ow;
        const rows = Int32Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % pixels);
        const act = layout === 'NCHW' ? x : nchwToNhwc(x);
        const F = C * c.k[0] * c.k[1];
        const patches = gatherPatches(act, layout, node, rows, [oh, ow]);
        expect(patches.length).toBe(rows.length * F);
        const yAct = layout === 'NCHW' ? y : nchwToNhwc(y);
        const outRows = gatherRows(yAct, layout, rows);
        for (const [r, p] of rows.entries()) {
          const b = Math.floor(p / (oh * ow));
          const q = p % (oh * ow);
          for (let n = 0; n < N; n++) {
            let s = node.bias?.[n] ?? 0;
            for (let f = 0; f < F; f++) s += patches[r * F + f] * node.kernel.data[n * F + f];
            const want = y.data[(b * N + n) * oh * ow + q];
            expect(s).toBeCloseTo(want, 4);
            expect(outRows[r * N + n]).toBeCloseTo(want, 6);
          }
        }
      });
    }
  }
});
