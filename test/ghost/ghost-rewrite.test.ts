/**
 * The Ghost module as built layers (ghost-rewrite.ts), run in onnxruntime against the original conv:
 * channels kept as primaries (with or without ghosts) are the conv's own rows, so they match the
 * conv exactly; the split and merged depthwise layouts compute the same module for s = 3 and 4
 * (where the two order their ghost slots differently); a fused activation is applied once, after the
 * channels are restored; and promoting every ghost leaves the conv itself.
 */
import { describe, expect, it } from 'vitest';
import { convertGraph } from '../../src/convert/convert.js';
import { ghostFromWeights } from '../../src/decompose/ghost.js';
import type { Conv2DNode, Graph } from '../../src/models/ir.js';
import { conv, graph, input, randn, relErr, run } from '../onnx/helpers.js';

const [C, N, H] = [5, 8, 6];
const net = (): Graph => graph([input('x', [C, H, H]), conv('c', 'x', { cin: C, cout: N, k: [3, 3], padding: 'same', activation: 'relu', seed: 4 })], ['c']);
const x = { shape: [2, C, H, H], data: randn(2 * C * H * H, 9) };
const channel = (y: { data: Float32Array }, b: number, n: number) => y.data.subarray((b * N + n) * H * H, (b * N + n + 1) * H * H);

async function ghostOutput(ratio: number, form: 'split' | 'merged', minR2 = 0) {
  const g = convertGraph(net(), { method: 'ghost', minInChannels: 0, keepUnprofitable: true, ghost: { ratio, minR2 }, form });
  return run(g.graph, x);
}

describe('Ghost module layers', () => {
  it('match the conv exactly at every primary channel, and agree between the split and merged layouts', async () => {
    const y = await run(net(), x);
    const c = net().nodes[1] as Conv2DNode;
    for (const ratio of [2, 3, 4]) {
      const fit = ghostFromWeights(c.kernel, c.bias, { ratio, kernelSize: 3, strides: [1, 1], dilations: [1, 1] });
      const kept = [...fit.primaries, ...fit.solo];
      expect(kept.length).toBeLessThan(N);
      const split = await ghostOutput(ratio, 'split');
      const merged = await ghostOutput(ratio, 'merged');
      expect(relErr(merged.data, split.data)).toBeLessThan(1e-6);
      for (let b = 0; b < 2; b++) for (const n of kept) expect(relErr(channel(split, b, n), channel(y, b, n))).toBeLessThan(1e-6);
      // The ReLU is applied after the ghosts: nothing negative, and the ghost channels are not the conv's.
      expect(Math.min(...split.data)).toBeGreaterThanOrEqual(0);
      expect(relErr(split.data, y.data)).toBeGreaterThan(1e-3);
    }
  });

  it('ghost channels explain their conv channel better than its mean does (linear conv, the fit\'s own objective)', async () => {
    const lin = (): Graph => graph([input('x', [C, H, H]), conv('c', 'x', { cin: C, cout: N, k: [3, 3], padding: 'same', seed: 4 })], ['c']);
    const y = await run(lin(), x);
    const z = await run(convertGraph(lin(), { method: 'ghost', minInChannels: 0, keepUnprofitable: true, ghost: { ratio: 2 } }).graph, x);
    const c = lin().nodes[1] as Conv2DNode;
    const fit = ghostFromWeights(c.kernel, c.bias, { ratio: 2, kernelSize: 3, strides: [1, 1], dilations: [1, 1] });
    const ghosts = Array.from(fit.ghosts).filter((g) => g >= 0);
    expect(ghosts.length).toBeGreaterThan(0);
    let residual = 0;
    let spread = 0;
    for (const n of ghosts) {
      for (let b = 0; b < 2; b++) {
        const [yc, zc] = [channel(y, b, n), channel(z, b, n)];
        const mean = yc.reduce((a, v) => a + v, 0) / yc.length;
        for (let i = 0; i < yc.length; i++) {
          residual += (zc[i] - yc[i]) ** 2;
          spread += (yc[i] - mean) ** 2;
        }
      }
    }
    expect(residual).toBeLessThan(spread);
  });

  it('with every ghost promoted (minimum R² 1) is the conv itself', async () => {
    const y = await run(net(), x);
    for (const form of ['split', 'merged'] as const) expect(relErr((await ghostOutput(3, form, 1)).data, y.data)).toBeLessThan(1e-6);
  });
});
