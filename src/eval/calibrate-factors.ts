/**
 * Joint calibration of a Tucker-2, spatial or CP layer (docs/data-aware.md §6): the second moments of
 * its input patches through the network converted so far, against the original layer's
 * pre-activation output; then every factor is refit by block-coordinate least squares
 * (decompose/factor-refit.ts), starting from the spliced (plain) factors and, when data-aware,
 * also from the activation-whitened closed form (tucker2-whiten.ts, spatial-whiten.ts; CP:
 * cp-whiten.ts's whitened CP-ALS) of the same statistics. The lower output error wins; the factors are written back into the spliced nodes.
 */
import type { Conv2DNode, Graph } from '../models/ir.js';
import { factorError, refitFactors, type MultilinearModel } from '../decompose/factor-refit.js';
import { optimalBias } from '../decompose/nd-refit.js';
import type { CentredMoments } from '../decompose/moments.js';
import { spatialModel, whitenedSpatial } from '../decompose/spatial-whiten.js';
import { tucker2Model, whitenedTucker2 } from '../decompose/tucker2-whiten.js';
import { cpModel, whitenedCp } from '../decompose/cp-whiten.js';
import { layerMoments, type NdLayerRefit, type NdLayerRefitInput } from './calibrate-nd.js';

/** The methods whose factors this refits, and the suffixes of their spliced nodes in factor order. */
const ROLES = { tucker2: ['/in', '/core', '/out'], spatial: ['/v', '/h'], cp: ['/in', '/dw', '/out'], cp4: ['/in', '/dwv', '/dwh', '/out'] } as const;
export type FactorMethod = keyof typeof ROLES;

export function isFactorMethod(method: string): method is FactorMethod {
  return method in ROLES;
}

interface Setup {
  model: MultilinearModel;
  whitened: (m: CentredMoments) => Float64Array[];
}

function setup(method: FactorMethod, conv: Conv2DNode, nodes: Conv2DNode[]): Setup {
  const [N, C, kh, kw] = conv.kernel.shape;
  if (method === 'tucker2') {
    const ranks: [number, number] = [nodes[1].kernel.shape[0], nodes[1].kernel.shape[1]];
    return { model: tucker2Model({ N, C, K: kh * kw, ranks }), whitened: (m) => whitenedTucker2(conv.kernel, m, ranks, { name: conv.name }) };
  }
  const rank = nodes[0].kernel.shape[0];
  if (method === 'cp' || method === 'cp4') {
    const four = method === 'cp4';
    // The whitened start is a CP-ALS of its own: bounded like the budget's final fits.
    return { model: cpModel({ N, C, kh, kw, rank }, four), whitened: (m) => whitenedCp(conv.kernel, m, four, { rank, maxSeconds: 30, name: conv.name }) };
  }
  return { model: spatialModel({ N, C, kh, kw, rank }), whitened: (m) => whitenedSpatial(conv.kernel, m, rank) };
}

/** Null when the spliced nodes are not the expected ones or the statistics were kept per channel. */
export async function refitFactorLayer(x: NdLayerRefitInput & { method: FactorMethod }): Promise<NdLayerRefit | null> {
  const { layer, conv } = x;
  const byName = new Map(x.graph.nodes.map((n) => [n.name, n]));
  const nodes = ROLES[x.method].map((s) => byName.get(`${layer.name}${s}`));
  if (!nodes.every((n): n is Conv2DNode => n?.op === 'conv2d')) return null;
  // The factor models have no inner biases.
  if (nodes.slice(0, -1).some((n) => n.bias?.some((b) => b !== 0))) return null;
  const feed = nodes[0].inputs[0];
  const m = x.moments ?? (await layerMoments({ ...x, feed }));
  if (m.form !== 'full') return null;
  const rel = (e: number) => (m.yEnergy > 0 ? Math.sqrt(e / m.yEnergy) : 0);
  const { model, whitened } = setup(x.method, conv, nodes);
  const plain = nodes.map((n) => Float64Array.from(n.kernel.data));
  // E with the spliced bias: E(optimal bias) + ‖b − b*‖² (the cross term vanishes at the optimum).
  const w0 = model.kernel(plain);
  const last = nodes[nodes.length - 1];
  const shift = optimalBias(w0, m).reduce((s, b, n) => s + ((last.bias?.[n] ?? 0) - b) ** 2, 0);
  const before = rel(factorError(w0, m) + shift);
  const starts: { start: 'plain' | 'whitened'; init: Float64Array[] }[] = [{ start: 'plain', init: plain }];
  if (x.dataAware) starts.push({ start: 'whitened', init: whitened(m) });
  const runs = starts.map((s) => ({ start: s.start, fit: refitFactors(model, s.init, m, { rounds: x.rounds }) }));
  const best = runs.reduce((a, b) => (b.fit.error < a.fit.error ? b : a));
  const after = rel(best.fit.error);
  const common = { before, rows: m.count, statistics: m.form, steps: best.fit.errors.map(rel) };
  if (!(after < before)) return { graph: x.graph, after: before, start: 'plain', ...common };
  const refit = new Map(nodes.map((n, i): [string, Conv2DNode] => [
    n.name,
    { ...n, kernel: { shape: n.kernel.shape, data: Float32Array.from(best.fit.factors[i]) }, ...(i === nodes.length - 1 ? { bias: Float32Array.from(best.fit.bias) } : {}) },
  ]));
  return { graph: { ...x.graph, nodes: x.graph.nodes.map((n) => refit.get(n.name) ?? n) }, after, start: best.start, ...common };
}
