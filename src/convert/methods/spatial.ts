/**
 * spatial — k×1 conv → 1×k conv (Jaderberg et al. 2014, the SVD form of Tai et al. 2016), rank K;
 * spatial-nd — spatial, then ND on each factor, rank K and factor rank T (spatial-rewrite.ts).
 */
import type { Conv2DNode } from '../../models/ir.js';
import { ndCost, reconstruct, type NdOrder, type NdResult } from '../../decompose/nd.js';
import { reconstructSpatial, spatial as spatialFit, spatialCost, type SpatialResult } from '../../decompose/spatial.js';
import { relFrobeniusError } from '../../decompose/tensor.js';
import { decoupleBySpec, spatialRank, type RankSpec } from '../../decompose/rank-rules.js';
import { spatialFactorConvs, spatialNdReplacement, spatialReplacement } from '../spatial-rewrite.js';
import { discardedShares, leadingSpatial, profitableMax } from '../candidate-grid.js';
import type { Candidate, MethodEntry, MethodSettings, PlannedLayer } from '../method-types.js';

function capK([N, C, kh, kw]: readonly number[], spec: RankSpec, cap: (label: string, asked: number | undefined, max: number) => number | undefined): RankSpec {
  return { ...spec, rank: cap('K', spec.rank, Math.min(C * kh, N * kw)) };
}

/** spatial() computes the whole spectrum whatever K is: one call resolves the rank and fits. */
function resolveSpatial(conv: Conv2DNode, spec: RankSpec): { K: number; sd: SpatialResult; spec: RankSpec } {
  const [N, C, kh, kw] = conv.kernel.shape;
  const name = conv.name;
  const P = C * kh;
  const Q = N * kw;
  const fixed = spec.rank !== undefined && spec.energy === undefined && spec.rankRule === undefined;
  // A fixed K is capped at the layer's exact rank, as Tucker-2's ranks are: one --rank for a network of mixed widths.
  if (fixed && Number.isInteger(spec.rank) && (spec.rank as number) > Math.min(P, Q)) spec = { ...spec, rank: Math.min(P, Q) };
  const probe = spatialFit(conv.kernel, { rank: fixed ? (spec.rank as number) : 1, name });
  const K = fixed ? probe.rank : spatialRank(probe.singularValues, { P, Q }, spec, name);
  const sd = K === probe.rank ? probe : spatialFit(conv.kernel, { rank: K, name });
  return { K, sd, spec };
}

export const spatial: MethodEntry = {
  summary: 'k×1 then 1×k',
  capFixed: (shape, spec, { cap }) => capK(shape, spec, cap),
  plan(conv, spec, _s, rule): PlannedLayer {
    const [N, C, kh, kw] = conv.kernel.shape;
    const { K, sd } = resolveSpatial(conv, spec);
    return {
      method: 'spatial', rule, ranks: { rank: K },
      decompose: () => ({
        replacement: spatialReplacement(conv, sd),
        rank: K, maxRank: Math.min(C * kh, N * kw),
        retainedEnergy: 1 - sd.kernelRelError ** 2, kernelRelError: sd.kernelRelError,
        singularValues: [Array.from(sd.singularValues)],
        details: { rankRule: rule },
      }),
    };
  },
  macs([N, C, kh, kw], r, g) {
    return spatialCost({ N, C, kh, kw, rank: r.rank, ...g });
  },
  // Every K from one spectrum of the (C·kh)×(N·kw) reshape (exact, Eckart–Young).
  candidates({ method, conv, geometry, before, opts, grid, ranks }) {
    const macs = (K: number) => spatial.macs(conv.kernel.shape, { rank: K }, geometry);
    const sv = spatialFit(conv.kernel, { rank: 1, name: conv.name }).singularValues;
    let total = 0;
    for (const v of sv) total += v * v;
    const d = discardedShares(sv, total || 1);
    const ks = ranks(profitableMax(sv.length, before, macs), grid, macs);
    const top = opts.realize && ks.length ? spatialFit(conv.kernel, { rank: ks[ks.length - 1], name: conv.name }) : null;
    const out: Candidate[] = [];
    for (const K of ks) {
      const c: Candidate = { method, rank: K, macs: macs(K), error: total ? Math.max(0, d[K]) : 0, errorKind: 'exact' };
      if (top) c.replacement = spatialReplacement(conv, leadingSpatial(top, K));
      out.push(c);
    }
    return out;
  },
  rankLabel: (r) => `K = ${r.rank}`,
  pointLabel: (c) => (c.factorRank !== undefined ? `K=${c.rank}, T=${c.factorRank}` : `K=${c.rank}`),
  pointwise: true,
};

/**
 * ND of both spatial factors. The factor rank follows the layer's rule: a fixed `factorRank`
 * (capped at each factor's maximum), else energy τ or VBMF on each factor, else T = 1 (the
 * MobileNet-style extreme; a fixed K alone says nothing about T).
 */
export function decoupleFactors(conv: Conv2DNode, sd: Pick<SpatialResult, 'vertical' | 'horizontal'>, spec: RankSpec, order: NdOrder): [NdResult, NdResult] {
  const [v, h] = spatialFactorConvs(conv, sd);
  const one = (f: Conv2DNode): NdResult => {
    const [, fc, fkh, fkw] = f.kernel.shape;
    const max = order === 'dw-pw' ? fkh * fkw : Math.min(fc, fkh * fkw);
    if (spec.factorRank !== undefined) return decoupleBySpec(f.kernel, order, { rank: Math.min(spec.factorRank, max) }, f.name);
    if (spec.rankRule === 'vbmf' || spec.energy !== undefined) return decoupleBySpec(f.kernel, order, { rankRule: spec.rankRule, energy: spec.energy }, f.name);
    return decoupleBySpec(f.kernel, order, { rank: 1 }, f.name);
  };
  return [one(v), one(h)];
}

function planSpatialNd(conv: Conv2DNode, asked: RankSpec, s: MethodSettings, rule: string): PlannedLayer {
  const [N, C, kh, kw] = conv.kernel.shape;
  const { K, sd, spec } = resolveSpatial(conv, asked);
  const [vNd, hNd] = decoupleFactors(conv, sd, spec, s.order);
  const factorRanks: [number, number] = [vNd.rank, hNd.rank];
  return {
    method: 'spatial-nd', rule, ranks: { rank: K, factorRanks, order: s.order },
    decompose: () => {
      const approx = reconstructSpatial({ vertical: reconstruct(vNd, sd.vertical.shape), horizontal: reconstruct(hNd, sd.horizontal.shape) });
      const err = relFrobeniusError(conv.kernel, approx);
      return {
        replacement: spatialNdReplacement(conv, { spatial: sd, vertical: vNd, horizontal: hNd }, s.form, s.layout),
        rank: K, maxRank: Math.min(C * kh, N * kw),
        retainedEnergy: 1 - err ** 2, kernelRelError: err,
        singularValues: [Array.from(sd.singularValues)],
        details: { factorRanks, rankRule: rule },
      };
    },
  };
}

export const spatialNd: MethodEntry = {
  summary: 'spatial, then ND on each factor',
  capFixed(shape, spec, { order, cap, notes }) {
    const out = capK(shape, spec, cap);
    if (spec.factorRank !== undefined && Number.isInteger(out.rank)) {
      // The factors are kh×1 (C → K) and 1×kw (K → N); decoupleFactors caps T at each one's ND maximum.
      const [, C, kh, kw] = shape;
      const K = out.rank as number;
      const f = spec.factorRank;
      const v = Math.min(f, order === 'dw-pw' ? kh : Math.min(C, kh));
      const h = Math.min(f, order === 'dw-pw' ? kw : Math.min(K, kw));
      if (v < f || h < f) notes.push(`factor T ${f} → ${v}/${h}`);
    }
    return out;
  },
  plan: planSpatialNd,
  macs([N, C, kh, kw], r, g) {
    const K = r.rank;
    const order = r.order ?? 'dw-pw';
    const [tv, th] = r.factorRanks ?? [1, 1];
    // Vertical factor: kh×1, C → K, output hOut × wIn; horizontal: 1×kw, K → N, input hOut × wIn.
    const v = ndCost({ N: K, C, kh, kw: 1, order, rank: tv, hIn: g.hIn, wIn: g.wIn, hOut: g.hOut, wOut: g.wIn });
    const h = ndCost({ N, C: K, kh: 1, kw, order, rank: th, hIn: g.hOut, wIn: g.wIn, hOut: g.hOut, wOut: g.wOut });
    return v + h;
  },
  // One real fit per grid point (slow on big layers: opt in with `methods`).
  candidates({ method, conv, geometry, before, opts, grid, order, ranks }) {
    const [N, C, kh, kw] = conv.kernel.shape;
    const macs = (K: number, fr: [number, number]) => spatialNd.macs(conv.kernel.shape, { rank: K, factorRanks: fr, order }, geometry);
    const full = Math.min(C * kh, N * kw);
    const kGrids: number[][] = [];
    for (let T = 1; T <= Math.min(kh, kw); T++) {
      const fr: [number, number] = [Math.min(T, kh), Math.min(T, kw)];
      const kMax = profitableMax(full, before, (K) => macs(K, fr));
      kGrids.push(ranks(kMax, Math.max(4, Math.round(grid / 3)), (K) => macs(K, fr)));
    }
    // One SVD: the rank-K factors are the leading K components of the largest K needed.
    const top = spatialFit(conv.kernel, { rank: Math.max(1, ...kGrids.flat()), name: conv.name });
    const out: Candidate[] = [];
    for (const [ti, ks] of kGrids.entries()) {
      const T = ti + 1;
      for (const K of ks) {
        const sd = leadingSpatial(top, K);
        const [v, h] = decoupleFactors(conv, sd, { factorRank: T }, order);
        const err = relFrobeniusError(conv.kernel, reconstructSpatial({ vertical: reconstruct(v, sd.vertical.shape), horizontal: reconstruct(h, sd.horizontal.shape) }));
        const c: Candidate = { method, rank: K, factorRank: T, macs: macs(K, [v.rank, h.rank]), error: err * err, errorKind: 'exact' };
        if (opts.realize) c.replacement = spatialNdReplacement(conv, { spatial: sd, vertical: v, horizontal: h }, opts.realize.form, opts.realize.layout);
        out.push(c);
      }
    }
    return out;
  },
  rankLabel: (r) => `K = ${r.rank}, T = ${(r.factorRanks ?? [1, 1]).join('/')}`,
  pointLabel: (c) => (c.factorRank !== undefined ? `K=${c.rank}, T=${c.factorRank}` : `K=${c.rank}`),
};
