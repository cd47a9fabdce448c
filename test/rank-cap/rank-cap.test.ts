/**
 * One rank for a network of mixed layers: a requested rank above a layer's maximum is capped to
 * that maximum (where the decomposition is exact), the layer is marked, and layers below it are
 * untouched. Also: a custom layer's output shape is re-inferred at the given input size, so costs
 * and the theoretical speedup are never null.
 */
import { describe, expect, it } from 'vitest';
import type { Conv2DNode, Graph, Node } from '../../src/models/ir.js';
import { gaussianArray } from '../../src/decompose/random.js';
import { convertGraph } from '../../src/convert/convert.js';
import { buildReport } from '../../src/report/conversion-report.js';
import { conversionTable } from '../../src/report/table.js';
import { graphCosts, totalCost } from '../../src/models/cost.js';
import { vggConvStack } from '../budget/vgg-ir.js';

function conv(name: string, input: string, n: number, c: number, kh: number, kw: number, seed: number): Conv2DNode {
  return {
    op: 'conv2d', name, inputs: [input], kernel: { shape: [n, c, kh, kw], data: gaussianArray(n * c * kh * kw, seed, 0.1) },
    bias: new Float32Array(n), strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 1, activation: 'relu',
  };
}

/** An Inception-like mix: a 3×3, a 1×3 and a 3×1 conv, 16 channels. */
function mixed(): Graph {
  const nodes: Node[] = [
    { op: 'input', name: 'x', inputs: [], shape: [12, 12, 8], dtype: 'float32' },
    conv('c3x3', 'x', 16, 8, 3, 3, 1),
    conv('c1x3', 'c3x3', 16, 16, 1, 3, 2),
    conv('c3x1', 'c1x3', 16, 16, 3, 1, 3),
  ];
  return { name: 'mixed', layout: 'NHWC', nodes, inputs: ['x'], outputs: ['c3x1'] };
}

const byName = (c: ReturnType<typeof convertGraph>, n: string) => c.layers.find((l) => l.name === n);

describe('per-layer rank cap', () => {
  it('--rank 4 decouples a 3×3 at T = 4 and caps the 1×3 and 3×1 convs at their exact T = 3', () => {
    const c = convertGraph(mixed(), { rank: 4, keepUnprofitable: true });
    expect(byName(c, 'c3x3')).toMatchObject({ rank: 4, maxRank: 9 });
    expect(byName(c, 'c3x3')?.rankCapped).toBeUndefined();
    for (const n of ['c1x3', 'c3x1']) {
      expect(byName(c, n)).toMatchObject({ rank: 3, maxRank: 3, rankCapped: 'T 4 → 3' });
      expect(byName(c, n)?.kernelRelError).toBeLessThan(1e-5); // exact at its maximum
    }
  });

  it('pw-dw caps at min(C, kh·kw) as well', () => {
    const c = convertGraph(mixed(), { rank: 9, order: 'pw-dw', keepUnprofitable: true });
    expect(byName(c, 'c1x3')).toMatchObject({ rank: 3, rankCapped: 'T 9 → 3' });
    expect(byName(c, 'c3x3')).toMatchObject({ rank: 8, rankCapped: 'T 9 → 8' }); // C = 8 < 9
  });

  it('--tucker-ranks 96,96 on VGG16 caps every 64-/128-/256-channel layer at its N and C', () => {
    const g = vggConvStack({ resolution: 32, widthDivisor: 8 }); // 8…64 channels: every layer below 96
    const c = convertGraph(g, { method: 'tucker2', tuckerRanks: [96, 96], keepUnprofitable: true, layers: ['block1_conv2', 'block2_conv1'] });
    const l = byName(c, 'block2_conv1');
    expect(l?.ranks).toEqual([16, 8]);
    expect(l?.rankCapped).toBe('R_out 96 → 16, R_in 96 → 8');
    expect(l?.kernelRelError).toBeLessThan(1e-5); // full Tucker ranks are exact
  });

  it('CP ranks cap at kh·kw·min(N, C) and spatial-nd factor ranks at each factor\'s maximum', () => {
    const small: Graph = { name: 's', layout: 'NHWC', nodes: [{ op: 'input', name: 'x', inputs: [], shape: [6, 6, 2], dtype: 'float32' }, conv('k', 'x', 2, 2, 3, 3, 4)], inputs: ['x'], outputs: ['k'] };
    const cp = convertGraph(small, { method: 'cp', rank: 40, keepUnprofitable: true, minInChannels: 1, maxIterations: 5 });
    expect(cp.layers[0]).toMatchObject({ rank: 18, rankCapped: 'R 40 → 18' });
    const snd = convertGraph(mixed(), { method: 'spatial-nd', rank: 2, factorRank: 5, keepUnprofitable: true, layers: ['c3x3'] });
    expect(snd.layers[0].rankCapped).toBe('factor T 5 → 3/3');
    expect(snd.layers[0].factorRanks).toEqual([3, 3]);
  });

  it('the report marks capped layers in JSON and in the table', () => {
    const g = mixed();
    const c = convertGraph(g, { rank: 4, keepUnprofitable: true });
    const r = buildReport(g, c, null, { version: 't', model: 'm', backend: null, decomposeSeconds: 0 });
    expect(r.layers.filter((l) => l.rankCapped).map((l) => l.name)).toEqual(['c1x3', 'c3x1']);
    const text = conversionTable(r);
    expect(text).toMatch(/3\/3\*/);
    expect(text).toMatch(/rank capped at the layer's maximum.*c1x3 \(T 4 → 3\)/);
  });
});

describe('custom layers at a given input size', () => {
  it('a pixel-shuffle opaque node is re-inferred, so an any-size model has MACs at --input-shape', async () => {
    const { registerOutputShape } = await import('../../src/models/custom-shapes.js');
    // Depth-to-space ×2: [h, w, 4c] → [2h, 2w, c] (a super-resolution model's upscaler).
    registerOutputShape('PixelShuffleTest', (ins) => {
      const [h, w, c] = ins[0];
      return [h === null ? null : 2 * h, w === null ? null : 2 * w, c === null ? null : c / 4];
    });
    const nodes: Node[] = [
      { op: 'input', name: 'x', inputs: [], shape: [null, null, 8], dtype: 'float32' },
      conv('a', 'x', 16, 8, 3, 3, 5),
      { op: 'opaque', name: 'shuffle', inputs: ['a'], source: { format: 'tfjs', className: 'PixelShuffleTest', config: {} }, weights: [], weightNames: [], outputShape: [null, null, 4] },
      conv('b', 'shuffle', 8, 4, 3, 3, 6),
    ];
    const g: Graph = { name: 'sr', layout: 'NHWC', nodes, inputs: ['x'], outputs: ['b'] };
    const shapes = { x: [10, 12, 8] };
    const costs = graphCosts(g, shapes);
    expect(costs.find((c) => c.name === 'shuffle')?.outputShape).toEqual([20, 24, 4]);
    expect(costs.find((c) => c.name === 'b')?.macs).toBe(20 * 24 * 8 * 4 * 9);
    const c = convertGraph(g, { rank: 1, keepUnprofitable: true });
    const r = buildReport(g, c, null, { version: 't', model: 'm', backend: null, decomposeSeconds: 0, inputShapes: shapes });
    expect(r.totals.macsBefore).toBe(totalCost(costs).macs);
    expect(r.totals.theoreticalSpeedup).not.toBeNull();
    expect(r.totals.theoreticalSpeedup as number).toBeGreaterThan(1);
  });
});
