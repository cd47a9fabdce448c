/**
 * The joint refit of one network-decoupled layer (src/eval/calibrate-nd.ts, refitNdLayer) on
 * statistics taken here from synthetic patches, so no runtime is involved; every figure it reports
 * is checked against the direct-loop oracle of test/helpers/patch-oracle.ts, for both orders and
 * both depthwise forms.
 */
import { describe, expect, it } from 'vitest';
import { convertGraph } from '../../src/convert/convert.js';
import { refitNdLayer } from '../../src/eval/calibrate-nd.js';
import { refitNd, toFactors64 } from '../../src/decompose/nd-refit.js';
import { decouple } from '../../src/decompose/nd.js';
import { whitenedDecouple } from '../../src/decompose/nd-whiten.js';
import type { DepthwiseForm } from '../../src/convert/nd-rewrite.js';
import type { NdOrder } from '../../src/decompose/nd.js';
import type { Engine } from '../../src/eval/engine.js';
import { graphRelError, oneConvGraph, patches, patchMoments, targets, type PatchCase } from '../helpers/patch-oracle.js';

const P: PatchCase = { N: 6, C: 4, kh: 3, kw: 3, rows: 300 };
const T = 2;

function setUp(order: NdOrder, form: DepthwiseForm, noise = 0.05) {
  const { graph, conv } = oneConvGraph(P, 21);
  const converted = convertGraph(graph, { method: 'nd', rank: T, order, form, keepUnprofitable: true, minInChannels: 0 });
  const x = patches(P, 8);
  const y = targets(P, graph, x, noise);
  const layer = converted.layers[0];
  // The refit reads the statistics given; the runtime fields are never reached.
  const input = {
    engine: {} as Engine, graph: converted.graph, layer, conv, inputs: [], rows: [], targets: [], outHW: [1, 1] as [number, number],
    dataAware: true, rounds: 2, moments: patchMoments(P, x, y),
  };
  return { input, relError: (g: typeof graph) => graphRelError(P, g, layer.output, x, y) };
}

describe('refitNdLayer: reported errors against a direct-loop oracle', () => {
  for (const order of ['dw-pw', 'pw-dw'] as NdOrder[]) {
    for (const form of ['merged', 'split'] as DepthwiseForm[]) {
      it(`${order} ${form}: "before" is the spliced layer's error, "after" the returned layer's, lower; same node names`, async () => {
        const { input, relError } = setUp(order, form);
        const r = await refitNdLayer(input);
        expect(r).not.toBeNull();
        if (!r) return;
        // Guards against a wrong bias term, a wrong normalisation, or the plain factors of another rank or order.
        expect(r.before).toBeCloseTo(relError(input.graph), 6);
        // Guards against factors written back into the wrong nodes or layout, or the bias lost.
        expect(r.after).toBeCloseTo(relError(r.graph), 5);
        expect(r.after).toBeLessThan(r.before);
        expect(r.steps[r.steps.length - 1]).toBeCloseTo(r.after, 9);
        expect(r.rows).toBe(P.rows);
        expect(r.graph.nodes.map((n) => n.name)).toEqual(input.graph.nodes.map((n) => n.name));
        expect(r.graph.nodes.map((n) => n.inputs)).toEqual(input.graph.nodes.map((n) => n.inputs));
      });
    }
  }
});

describe('refitNdLayer: which start is kept', () => {
  // No refit rounds: the starts themselves (with their optimal biases) are compared, and here the whitened one is far better.
  it('dw-pw keeps the lower of the plain and the whitened start; the whitened one only when data-aware; pw-dw has none', async () => {
    const { input } = setUp('dw-pw', 'merged', 0.3);
    const m = input.moments;
    const dims = { N: P.N, C: P.C, K: P.kh * P.kw };
    const rel = (e: number) => Math.sqrt(e / m.yEnergy);
    const plainInit = toFactors64(decouple(input.conv.kernel, { order: 'dw-pw', rank: T }));
    const fromPlain = rel(refitNd(plainInit, m, dims, { rounds: 0 }).error);
    const fromWhitened = rel(refitNd(whitenedDecouple(input.conv.kernel, m, T), m, dims, { rounds: 0 }).error);
    // Only informative when the two starts end at clearly different errors.
    expect(Math.abs(fromPlain - fromWhitened)).toBeGreaterThan(1e-4 * Math.max(fromPlain, fromWhitened));
    const aware = await refitNdLayer({ ...input, rounds: 0 });
    expect(aware?.after).toBeCloseTo(Math.min(fromPlain, fromWhitened), 9);
    expect(aware?.start).toBe(fromWhitened < fromPlain ? 'whitened' : 'plain');
    const plain = await refitNdLayer({ ...input, rounds: 0, dataAware: false });
    expect(plain?.after).toBeCloseTo(fromPlain, 9);
    expect(plain?.start).toBe('plain');
    const pw = setUp('pw-dw', 'merged', 0.3).input;
    const pwInit = toFactors64(decouple(pw.conv.kernel, { order: 'pw-dw', rank: T }));
    expect((await refitNdLayer({ ...pw, rounds: 0 }))?.after).toBeCloseTo(rel(refitNd(pwInit, pw.moments, dims, { rounds: 0 }).error), 9);
  });
});

describe('refitNdLayer: when it declines or refuses', () => {
  it('returns null for per-channel statistics', async () => {
    const { input } = setUp('dw-pw', 'split');
    const blocks = { ...input.moments, form: 'blocks' as const };
    expect(await refitNdLayer({ ...input, moments: blocks })).toBeNull();
  });

  it('keeps the spliced graph, and reports zero error, when the targets have no energy', async () => {
    const { input } = setUp('pw-dw', 'split');
    const x = patches(P, 8);
    const r = await refitNdLayer({ ...input, moments: patchMoments(P, x, new Float64Array(P.rows * P.N)) });
    expect(r?.graph).toBe(input.graph);
    expect([r?.before, r?.after, r?.start]).toEqual([0, 0, 'plain']);
  });

  it('refuses, naming the layer, when the spliced nodes are not the ones the refit rebuilds', async () => {
    const { input } = setUp('dw-pw', 'merged');
    const layer = { ...input.layer, replacedBy: [...input.layer.replacedBy, 'c1/extra'] };
    await expect(refitNdLayer({ ...input, layer })).rejects.toThrow(/layer "c1".*convert again without --calibrate/);
    const fewer = { ...input.layer, replacedBy: input.layer.replacedBy.slice(0, -1) };
    await expect(refitNdLayer({ ...input, layer: fewer })).rejects.toThrow(/layer "c1"/);
  });

  it("rebuilds the layer on the input it reads in the converted graph, not the original conv's", async () => {
    // As when the layer before it was replaced too: its input is now that replacement's output.
    const { input, relError } = setUp('dw-pw', 'merged');
    const rename = (i: string) => (i === 'x' ? 'prev/out' : i);
    const graph = { ...input.graph, inputs: ['prev/out'], nodes: input.graph.nodes.map((n) => ({ ...n, name: rename(n.name), inputs: n.inputs.map(rename) })) };
    const r = await refitNdLayer({ ...input, graph });
    expect(r?.graph.nodes.find((n) => n.name === 'c1/dw')?.inputs).toEqual(['prev/out']);
    expect(r?.after).toBeCloseTo(relError(r?.graph as typeof graph), 5);
  });
});
