/**
 * Per-layer candidates (method, ranks) for the speed budget and `compare`: each with its MACs at
 * the layer's real spatial size (method-cost.ts) and its kernel error. Each method's entry
 * (methods/*.ts) builds its own, as cheaply as the method allows:
 *   nd        every T from one set of per-channel SVDs: err² = discarded σ² share (exact)
 *   spatial   every K from one spectrum of the (C·kh)×(N·kw) reshape (exact, Eckart–Young)
 *   tucker2   the HOSVD bound err² ≤ e_out² + e_in² from the two unfoldings' spectra (De Lathauwer
 *             et al. 2000, Property 10); HOOI only lowers it, so the budget is conservative
 *   cp, cp4   every R from one "slice" spectrum (decompose/cp.ts cpSliceSpectrum): the slice model
 *             is a rank-R CP whose error is the discarded σ² share, and ALS started from it
 *             (cp.ts init 'slice') only lowers it — an upper bound, so no fit per candidate;
 *             with `realize`, one real fit per grid point (what `compare` shows)
 *   spatial-nd one real fit per grid point (slow on big layers: opt in with `methods`)
 * Only profitable candidates (fewer MACs than the conv) are kept; 'keep' (the conv, error 0) is
 * always one of them.
 */
import type { Conv2DNode, Graph } from '../models/ir.js';
import { inferShapes, spatialOf } from '../models/shapes.js';
import { convMacs, type LayerGeometry } from './method-cost.js';
import { methodEntry } from './methods.js';
import { maxRankWithin, rankGrid } from './candidate-grid.js';
import type { Candidate, CandidateOptions } from './method-types.js';

export type { Candidate, CandidateOptions } from './method-types.js';
export { leadingSpatial, rankGrid } from './candidate-grid.js';
export { GHOST_RATIOS } from './methods/ghost.js';

export interface LayerCandidates {
  name: string;
  conv: Conv2DNode;
  geometry: LayerGeometry;
  macsBefore: number;
  /** Measured latency of the regular conv (budget --by latency). */
  msBefore?: number;
  candidates: Candidate[];
}

/** Each target conv's input and output spatial size; throws when a size is unknown. */
export function layerGeometries(graph: Graph, convs: Conv2DNode[], inputShapes?: Record<string, (number | null)[]>): Map<string, LayerGeometry> {
  const shapes = inferShapes(graph, inputShapes);
  const out = new Map<string, LayerGeometry>();
  for (const c of convs) {
    const i = spatialOf(shapes.get(c.inputs[0]) ?? [], graph.layout);
    const o = spatialOf(shapes.get(c.name) ?? [], graph.layout);
    if (i.h === null || i.w === null || o.h === null || o.w === null) {
      throw new Error(`layer "${c.name}": its spatial size is unknown (the model takes any size); give --input-shape H,W`);
    }
    out.set(c.name, { hIn: i.h, wIn: i.w, hOut: o.h, wOut: o.w });
  }
  return out;
}

export function layerCandidates(conv: Conv2DNode, g: LayerGeometry, opts: CandidateOptions = {}): Candidate[] {
  const before = convMacs(conv, g);
  const [, , kh, kw] = conv.kernel.shape;
  // The grid, plus the largest rank within each anchor reduction (so methods are compared at equal MACs).
  const ranks = (hi: number, n: number, macsAt: (r: number) => number): number[] => {
    const extra = (opts.anchors ?? []).map((red) => maxRankWithin(hi, before / red, macsAt)).filter((r) => r > 0);
    return [...new Set([...rankGrid(1, hi, n), ...extra])].sort((a, b) => a - b);
  };
  const out: Candidate[] = [{ method: 'keep', rank: 0, macs: before, error: 0, errorKind: 'exact' }];
  for (const method of opts.methods ?? ['nd']) {
    const entry = methodEntry(method);
    // A 1×1 conv's one realisation: the low-rank 1×1 pair (spatial at kh = kw = 1).
    if (kh * kw === 1 && !entry.pointwise) continue;
    out.push(...entry.candidates({ method, conv, geometry: g, before, opts, order: opts.order ?? 'dw-pw', grid: opts.gridSize ?? 48, ranks }));
  }
  return out;
}

export function networkCandidates(graph: Graph, convs: Conv2DNode[], inputShapes: Record<string, (number | null)[]> | undefined, opts: CandidateOptions = {}): LayerCandidates[] {
  const geometry = layerGeometries(graph, convs, inputShapes);
  return convs.map((conv, i) => {
    opts.onLayer?.(conv.name, i, convs.length);
    const g = geometry.get(conv.name) as LayerGeometry;
    return { name: conv.name, conv, geometry: g, macsBefore: convMacs(conv, g), candidates: layerCandidates(conv, g, opts) };
  });
}
