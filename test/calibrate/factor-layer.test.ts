/**
 * The joint refit of one Tucker-2, spatial, CP or CP4 layer (src/eval/calibrate-factors.ts) on
 * statistics taken here from synthetic patches, so no runtime is involved. Every error it reports
 * is checked against a direct-loop oracle: the spliced and the refit nodes are applied, as valid
 * convolutions, to each sampled kh×kw patch and compared with the targets row by row.
 */
import { describe, expect, it } from 'vitest';
import { convertGraph, type ConvertOptions } from '../../src/convert/convert.js';
import { refitFactorLayer, type FactorMethod } from '../../src/eval/calibrate-factors.js';
import { MomentAccumulator, type CentredMoments } from '../../src/decompose/moments.js';
import { refitFactors } from '../../src/decompose/factor-refit.js';
import { tucker2Model, whitenedTucker2 } from '../../src/decompose/tucker2-whiten.js';
import type { Conv2DNode, Graph } from '../../src/models/ir.js';
import type { Engine } from '../../src/eval/engine.js';
import { randomKernel } from '../decompose/synthetic.js';

const [N, C, KH, KW] = [6, 5, 3, 3];
const ROWS = 400;

function oneConvGraph(): { graph: Graph; conv: Conv2DNode } {
  const conv: Conv2DNode = {
    op: 'conv2d', name: 'c1', inputs: ['x'], kernel: randomKernel([N, C, KH, KW], 11), bias: Float32Array.from({ length: N }, (_, n) => 0.3 - 0.1 * n),
    strides: [1, 1], dilations: [1, 1], padding: 'valid', groups: 1, activation: 'linear',
  };
  const graph: Graph = { name: 't', layout: 'NHWC', inputs: ['x'], outputs: ['c1'], nodes: [{ op: 'input', name: 'x', inputs: [], shape: [KH, KW, C], dtype: 'float32' }, conv] };
  return { graph, conv };
}

/** Deterministic pseudo-random numbers in (−1, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31) - 1;
}

/** Patches x (rows × C·kh·kw, channel-major like the kernels) with unequal channel scales and correlated taps. */
function patches(seed: number): Float64Array {
  const r = lcg(seed);
  const x = new Float64Array(ROWS * C * KH * KW);
  for (let row = 0; row < ROWS; row++) {
    const shared = r();
    for (let c = 0; c < C; c++) for (let k = 0; k < KH * KW; k++) x[(row * C + c) * KH * KW + k] = (c + 1) * (0.8 * shared + 0.6 * r()) + 0.2 * c;
  }
  return x;
}

/** A valid convolution of one [channels, h, w] array by one conv node (groups respected). */
function applyConv(node: Conv2DNode, input: Float64Array, [h, w]: [number, number]): { out: Float64Array; hw: [number, number] } {
  const [O, I, a, b] = node.kernel.shape;
  const perGroup = O / node.groups;
  const [oh, ow] = [h - a + 1, w - b + 1];
  const out = new Float64Array(O * oh * ow);
  for (let o = 0; o < O; o++) {
    const g = Math.floor(o / perGroup);
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        let s = node.bias?.[o] ?? 0;
        for (let i = 0; i < I; i++) for (let p = 0; p < a; p++) for (let q = 0; q < b; q++) s += node.kernel.data[((o * I + i) * a + p) * b + q] * input[((g * I + i) * h + y + p) * w + x + q];
        out[(o * oh + y) * ow + x] = s;
      }
  }
  return { out, hw: [oh, ow] };
}

/** ‖y − chain(x)‖ / ‖y‖ over all rows, the chain of nodes applied to each patch directly. */
function chainRelError(nodes: Conv2DNode[], x: Float64Array, y: Float64Array): number {
  const F = C * KH * KW;
  let err = 0;
  let energy = 0;
  for (let row = 0; row < ROWS; row++) {
    let a = { out: x.slice(row * F, (row + 1) * F), hw: [KH, KW] as [number, number] };
    for (const n of nodes) a = applyConv(n, a.out, a.hw);
    for (let n = 0; n < N; n++) {
      err += (y[row * N + n] - a.out[n]) ** 2;
      energy += y[row * N + n] ** 2;
    }
  }
  return Math.sqrt(err / energy);
}

/** Targets: the original conv on each patch plus a little noise, so no factorisation is exact. */
function targets(conv: Conv2DNode, x: Float64Array, noise: number): Float64Array {
  const r = lcg(99);
  const y = new Float64Array(ROWS * N);
  for (let row = 0; row < ROWS; row++) {
    const { out } = applyConv(conv, x.slice(row * C * KH * KW, (row + 1) * C * KH * KW), [KH, KW]);
    for (let n = 0; n < N; n++) y[row * N + n] = out[n] + noise * r();
  }
  return y;
}

function moments(x: Float64Array, y: Float64Array, maxFullBytes?: number): CentredMoments {
  const acc = new MomentAccumulator({ channels: C, taps: KH * KW, outputs: N, maxFullBytes });
  acc.add(x, y, ROWS);
  return acc.centred();
}

const OPTIONS: Record<FactorMethod, ConvertOptions> = {
  tucker2: { method: 'tucker2', tuckerRanks: [3, 3] },
  spatial: { method: 'spatial', rank: 2 },
  cp: { method: 'cp', rank: 3 },
  cp4: { method: 'cp4', rank: 3 },
};
const SUFFIXES: Record<FactorMethod, string[]> = { tucker2: ['/in', '/core', '/out'], spatial: ['/v', '/h'], cp: ['/in', '/dw', '/out'], cp4: ['/in', '/dwv', '/dwh', '/out'] };

function setUp(method: FactorMethod, noise = 0.05) {
  const { graph, conv } = oneConvGraph();
  const converted = convertGraph(graph, { keepUnprofitable: true, minInChannels: 0, seed: 5, ...OPTIONS[method] });
  const x = patches(7);
  const y = targets(conv, x, noise);
  const factors = (g: Graph) => SUFFIXES[method].map((s) => g.nodes.find((n) => n.name === `c1${s}`) as Conv2DNode);
  // The refit reads the statistics given; the runtime fields are never reached.
  const input = {
    engine: {} as Engine, graph: converted.graph, layer: converted.layers[0], conv, inputs: [], rows: [], targets: [], outHW: [1, 1] as [number, number],
    dataAware: true, rounds: 3, method, moments: moments(x, y),
  };
  return { input, x, y, factors };
}

describe('refitFactorLayer: reported errors against a direct-loop oracle', () => {
  for (const method of Object.keys(OPTIONS) as FactorMethod[]) {
    it(`${method}: "before" is the spliced nodes' error, "after" the returned nodes' error, lower, bias on the last node only`, async () => {
      const { input, x, y, factors } = setUp(method);
      const r = await refitFactorLayer(input);
      expect(r).not.toBeNull();
      if (!r) return;
      // Guards against a wrong bias shift, a wrong normalisation, or errors of other factors than the ones spliced.
      expect(r.before).toBeCloseTo(chainRelError(factors(input.graph), x, y), 6);
      expect(r.graph).not.toBe(input.graph);
      const refit = factors(r.graph);
      // Guards against the bias landing on an inner node, or factors written back in the wrong order.
      expect(r.after).toBeCloseTo(chainRelError(refit, x, y), 5);
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
    const model = tucker2Model({ N, C, K: KH * KW, ranks: [3, 3] });
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
