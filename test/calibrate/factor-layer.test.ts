/**
 * The joint refit of one Tucker-2, spatial, CP or CP4 layer (src/eval/calibrate-factors.ts) on
 * statistics taken here from synthetic patches, so no runtime is involved. Every error it reports
 * is checked against a direct-loop oracle (test/helpers/patch-oracle.ts): the spliced and the refit
 * nodes are applied, as valid convolutions, to each sampled kh×kw patch and compared with the targets row by row.
 */
import { describe, expect, it } from 'vitest';
import { convertGraph, type ConvertOptions } from '../../src/convert/convert.js';
import { refitFactorLayer, type FactorMethod } from '../../src/eval/calibrate-factors.js';
import { refitFactors } from '../../src/decompose/factor-refit.js';
import { tucker2Model, whitenedTucker2 } from '../../src/decompose/tucker2-whiten.js';
import type { Conv2DNode, Graph } from '../../src/models/ir.js';
import type { Engine } from '../../src/eval/engine.js';
import { graphRelError, oneConvGraph, patches, patchMoments, targets, type PatchCase } from '../helpers/patch-oracle.js';

const P: PatchCase = { N: 6, C: 5, kh: 3, kw: 3, rows: 400 };
const [N, KH, KW, ROWS] = [P.N, P.kh, P.kw, P.rows];
const moments = (x: Float64Array, y: Float64Array, maxFullBytes?: number) => patchMoments(P, x, y, maxFullBytes);

const OPTIONS: Record<FactorMethod, ConvertOptions> = {
  tucker2: { method: 'tucker2', tuckerRanks: [3, 3] },
  spatial: { method: 'spatial', rank: 2 },
  cp: { method: 'cp', rank: 3 },
  cp4: { method: 'cp4', rank: 3 },
};
const SUFFIXES: Record<FactorMethod, string[]> = { tucker2: ['/in', '/core', '/out'], spatial: ['/v', '/h'], cp: ['/in', '/dw', '/out'], cp4: ['/in', '/dwv', '/dwh', '/out'] };

function setUp(method: FactorMethod, noise = 0.05) {
  const { graph, conv } = oneConvGraph(P);
  const converted = convertGraph(graph, { keepUnprofitable: true, minInChannels: 0, seed: 5, ...OPTIONS[method] });
  const x = patches(P, 7);
  const y = targets(P, graph, x, noise);
  const factors = (g: Graph) => SUFFIXES[method].map((s) => g.nodes.find((n) => n.name === `c1${s}`) as Conv2DNode);
  // The refit reads the statistics given; the runtime fields are never reached.
  const input = {
    engine: {} as Engine, graph: converted.graph, layer: converted.layers[0], conv, inputs: [], rows: [], targets: [], outHW: [1, 1] as [number, number],
    dataAware: true, rounds: 3, method, moments: moments(x, y),
  };
  const relError = (g: Graph) => graphRelError(P, g, converted.layers[0].output, x, y);
  return { input, x, y, factors, relError };
}

describe('refitFactorLayer: reported errors against a direct-loop oracle', () => {
  for (const method of Object.keys(OPTIONS) as FactorMethod[]) {
    it(`${method}: "before" is the spliced nodes' error, "after" the returned nodes' error, lower, bias on the last node only`, async () => {
      const { input, factors, relError } = setUp(method);
      const r = await refitFactorLayer(input);
      expect(r).not.toBeNull();
      if (!r) return;
      // Guards against a wrong bias shift, a wrong normalisation, or errors of other factors than the ones spliced.
      expect(r.before).toBeCloseTo(relError(input.graph), 6);
      expect(r.graph).not.toBe(input.graph);
      const refit = factors(r.graph);
      // Guards against the bias landing on an inner node, or factors written back in the wrong order.
      expect(r.after).toBeCloseTo(relError(r.graph), 5);
      expect(refit.slice(0, -1).every((n) => !n.bias || n.bias.every((b) => b === 0))).toBe(true);
      expect(r.after).toBeLessThan(r.before);
      expect(r.steps[r.steps.length - 1]).toBeCloseTo(r.after, 9);
      expect(r.rows).toBe(ROWS);
      expect(r.statistics).toBe('full');
      // Nodes other than the factors are passed through untouched.
      expect(r.graph.nodes.filter((n) => !n.name.startsWith('c1/'))).toEqual(input.graph.nodes.filter((n) => !n.name.startsWith('c1/')));
    });
  }
});

describe('refitFactorLayer: which start is kept', () => {
  it('keeps the lower of the plain and the whitened refit, and tries the whitened one only when data-aware', async () => {
    const { input } = setUp('tucker2', 0.3);
    const m = input.moments;
    const conv = input.conv;
    const model = tucker2Model({ N, C: P.C, K: KH * KW, ranks: [3, 3] });
    const plainInit = ['/in', '/core', '/out'].map((s) => Float64Array.from((input.graph.nodes.find((n) => n.name === `c1${s}`) as Conv2DNode).kernel.data));
    const rel = (e: number) => Math.sqrt(e / m.yEnergy);
    const fromPlain = rel(refitFactors(model, plainInit, m, { rounds: 1 }).error);
    const fromWhitened = rel(refitFactors(model, whitenedTucker2(conv.kernel, m, [3, 3], { name: 'c1' }), m, { rounds: 1 }).error);
    // The case is only informative when the two starts end at clearly different errors.
    expect(Math.abs(fromPlain - fromWhitened)).toBeGreaterThan(1e-4 * Math.max(fromPlain, fromWhitened));
    const aware = await refitFactorLayer({ ...input, rounds: 1 });
    const plain = await refitFactorLayer({ ...input, rounds: 1, dataAware: false });
    expect(aware?.after).toBeCloseTo(Math.min(fromPlain, fromWhitened), 9);
    expect(aware?.start).toBe(fromWhitened < fromPlain ? 'whitened' : 'plain');
    expect(plain?.after).toBeCloseTo(fromPlain, 9);
    expect(plain?.start).toBe('plain');
  });
});

describe('refitFactorLayer: when it declines', () => {
  it('refuses factors with a bias on any inner node, and accepts one on the last', async () => {
    for (const method of ['tucker2', 'cp4'] as FactorMethod[]) {
      const { input, factors } = setUp(method);
      const nodes = factors(input.graph);
      for (const [i, n] of nodes.entries()) {
        const bias = new Float32Array(n.kernel.shape[0]);
        bias[bias.length - 1] = 0.5;
        const graph = { ...input.graph, nodes: input.graph.nodes.map((m) => (m === n ? { ...n, bias } : m)) };
        const r = await refitFactorLayer({ ...input, graph });
        if (i < nodes.length - 1) expect(r, `${method}: bias on ${n.name}`).toBeNull();
        else expect(r, `${method}: bias on ${n.name}`).not.toBeNull();
      }
    }
  });

  it('returns null when a factor node is missing or is not a conv, and for per-channel statistics', async () => {
    const { input, x, y } = setUp('cp');
    const missing = { ...input.graph, nodes: input.graph.nodes.filter((n) => n.name !== 'c1/dw') };
    expect(await refitFactorLayer({ ...input, graph: missing })).toBeNull();
    const notConv = { ...input.graph, nodes: input.graph.nodes.map((n) => (n.name === 'c1/out' ? { op: 'relu', name: n.name, inputs: n.inputs } as unknown as Conv2DNode : n)) };
    expect(await refitFactorLayer({ ...input, graph: notConv })).toBeNull();
    const blocks = moments(x, y, 8);
    expect(blocks.form).toBe('blocks');
    expect(await refitFactorLayer({ ...input, moments: blocks })).toBeNull();
  });

  it('keeps the spliced graph, and reports zero error, when the targets have no energy', async () => {
    const { input, x } = setUp('spatial');
    const r = await refitFactorLayer({ ...input, moments: moments(x, new Float64Array(ROWS * N)) });
    expect(r?.graph).toBe(input.graph);
    expect(r?.before).toBe(0);
    expect(r?.after).toBe(0);
    expect(r?.start).toBe('plain');
  });
});
