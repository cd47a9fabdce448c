/**
 * Per-layer candidates (method, ranks) for the speed budget and `compare`: each with its MACs at
 * the layer's real spatial size (method-cost.ts) and its kernel error. Errors come as cheaply as
 * each method allows:
 *   nd        every T from one set of per-channel SVDs: err² = discarded σ² share (exact)
 *   spatial   every K from one spectrum of the (C·kh)×(N·kw) reshape (exact, Eckart–Young)
 *   tucker2   the HOSVD bound err² ≤ e_out² + e_in² from the two unfoldings' spectra (De Lathauwer
 *             et al. 2000, Property 10); HOOI only lowers it, so the budget is conservative
 *   cp, cp4   every R from one "slice" spectrum (cp.ts cpSliceSpectrum): the slice model
 *             is a rank-R CP whose error is the discarded σ² share, and ALS started from it
 *             (cp.ts init 'slice') only lowers it — an upper bound, so no fit per candidate;
 *             with `realize`, one real fit per grid point (what `compare` shows)
 *   spatial-nd one real fit per grid point (slow on big layers: opt in with `methods`)
 * Only profitable candidates (fewer MACs than the conv) are kept; 'keep' (the conv, error 0) is
 * always one of them.
 */
import type { Conv2DNode, Graph } from '../models/ir.js';
import { inferShapes, spatialOf } from '../models/shapes.js';
import { decouple, reconstruct, type NdOrder } from '../decompose/nd.js';
import { reconstructSpatial, spatial, type SpatialResult } from '../decompose/spatial.js';
import { unfoldingSingularValues } from '../decompose/vbmf.js';
import { relFrobeniusError } from '../decompose/tensor.js';
import { cpSliceSpectrum } from '../decompose/cp.js';
import { convMacs, methodMacs, type LayerGeometry, type MethodRanks } from './method-cost.js';
import { decoupleFactors, planLayer, type GhostSettings, type Method, type MethodSettings } from './methods.js';
import { spatialNdReplacement, spatialReplacement } from './spatial-rewrite.js';
import type { Replacement } from './splice.js';
import type { DepthwiseForm } from './nd-rewrite.js';

export interface Candidate {
  method: Method | 'keep';
  /** ND T, CP R, spatial K, Tucker-2 R_out (0 for keep). */
  rank: number;
  tuckerRanks?: [number, number];
  factorRank?: number;
  /** ND: ordering and depthwise layout of this realisation (same MACs, different speed). */
  order?: NdOrder;
  form?: DepthwiseForm;
  macs: number;
  /** kernelRelError² (0 for keep). */
  error: number;
  /** 'bound': an upper bound on the error (Tucker-2's HOSVD bound). */
  errorKind: 'exact' | 'bound';
  /** Measured latency of the candidate's layers (budget --by latency). */
  ms?: number;
  /** Its measured speedup over the regular conv with the interval (budget --by latency). */
  speedup?: { ratio: number; low: number; high: number };
  /** With CandidateOptions.realize: the candidate's layers. */
  replacement?: Replacement;
  /** Ghost: primaries after promotion and depthwise channels (fix its MACs), and which fit. */
  ghostPrimaries?: number;
  ghostSlots?: number;
  ghostFit?: 'weights' | 'data';
}

export interface LayerCandidates {
  name: string;
  conv: Conv2DNode;
  geometry: LayerGeometry;
  macsBefore: number;
  /** Measured latency of the regular conv (budget --by latency). */
  msBefore?: number;
  candidates: Candidate[];
}

export interface CandidateOptions {
  /** Default ['nd']. */
  methods?: Method[];
  order?: NdOrder;
  /** ND orderings to offer (default [order]): pw-dw is another approximation at the same T. */
  orders?: NdOrder[];
  /** ND depthwise layouts to offer for T > 1 (default: none named, the run's --form). */
  forms?: DepthwiseForm[];
  /** Grid points per method and layer for the methods with many ranks (spatial, Tucker-2: 48; CP and spatial-nd per T: a third, at least 4). */
  gridSize?: number;
  /** MAC reductions (e.g. [2, 3, 4]) at which every method also gets its largest rank reaching them. */
  anchors?: number[];
  /** ALS iterations per CP candidate (default 25: CP's SVD start is already a good model). */
  cpIterations?: number;
  /** Progress callback (CP candidates on big layers take seconds each). */
  onLayer?: (name: string, index: number, total: number) => void;
  /**
   * Build every candidate's replacement and report its exact error (Tucker-2 then runs HOOI per
   * grid point instead of using the bound): what `compare` needs to run candidates on inputs.
   */
  realize?: Omit<MethodSettings, 'order'>;
  /** Ghost: d and the minimum R² (the ratio s is the candidate's rank). */
  ghost?: GhostSettings;
}

/** Ghost ratios tried per layer: the useful range (s > 8 leaves almost nothing to the conv). */
export const GHOST_RATIOS = [2, 3, 4, 6, 8] as const;

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

/** Up to `n` integers spread evenly over lo..hi (all of them when there are few). */
export function rankGrid(lo: number, hi: number, n: number): number[] {
  if (hi < lo) return [];
  if (hi - lo + 1 <= n) return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  const out = new Set<number>();
  for (let i = 0; i < n; i++) out.add(Math.round(lo + ((hi - lo) * i) / (n - 1)));
  return [...out];
}

/** Largest rank r in 1..max with macsAt(r) ≤ limit (MACs grow with the rank); 0 if none. */
function maxRankWithin(max: number, limit: number, macsAt: (r: number) => number): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (macsAt(mid) <= limit) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Largest rank that costs fewer MACs than the conv (MACs are integers). */
function profitableMax(max: number, before: number, macsAt: (r: number) => number): number {
  return maxRankWithin(max, before - 1, macsAt);
}

/** Tail sums: out[r] = Σ_{t ≥ r} v[t]² / total (so out[r] is the error² of keeping r). */
function discardedShares(values: ArrayLike<number>, total: number): Float64Array {
  const out = new Float64Array(values.length + 1);
  for (let t = values.length - 1; t >= 0; t--) out[t] = out[t + 1] + (values[t] * values[t]) / total;
  return out;
}

export function layerCandidates(conv: Conv2DNode, g: LayerGeometry, opts: CandidateOptions = {}): Candidate[] {
  const methods = opts.methods ?? ['nd'];
  const order = opts.order ?? 'dw-pw';
  const grid = opts.gridSize ?? 48;
  const before = convMacs(conv, g);
  const [N, C, kh, kw] = conv.kernel.shape;
  const macs = (method: Method, r: MethodRanks) => methodMacs(conv, method, r, g);
  // The grid, plus the largest rank within each anchor reduction (so methods are compared at equal MACs).
  const ranks = (hi: number, n: number, macsAt: (r: number) => number): number[] => {
    const extra = (opts.anchors ?? []).map((red) => maxRankWithin(hi, before / red, macsAt)).filter((r) => r > 0);
    return [...new Set([...rankGrid(1, hi, n), ...extra])].sort((a, b) => a - b);
  };
  const out: Candidate[] = [{ method: 'keep', rank: 0, macs: before, error: 0, errorKind: 'exact' }];
  for (const method of methods) {
    // A 1×1 conv's one realisation: the low-rank 1×1 pair (spatial at kh = kw = 1).
    if (kh * kw === 1 && method !== 'spatial') continue;
    if (method === 'nd') for (const order of opts.orders ?? [opts.order ?? 'dw-pw']) {
      const nd = decouple(conv.kernel, { order, rank: 1, name: conv.name });
      let total = 0;
      for (const s of nd.singularValues) for (const v of s) total += v * v;
      const tail = new Float64Array(nd.maxRank + 1);
      for (const s of nd.singularValues) {
        const d = discardedShares(s, total || 1);
        for (let T = 0; T <= nd.maxRank; T++) tail[T] += T < d.length ? d[T] : 0;
      }
      for (let T = 1; T <= nd.maxRank; T++) {
        const m = macs('nd', { rank: T, order });
        if (m >= before) continue;
        const c: Candidate = { method, rank: T, macs: m, error: total ? Math.max(0, tail[T]) : 0, errorKind: 'exact', ...(opts.orders ? { order } : {}) };
        if (opts.realize) realizeWith(c, planLayer(conv, 'nd', { rank: T }, { ...opts.realize, order }).decompose());
        // T = 1 is one depthwise conv in either layout.
        const forms = opts.forms && T > 1 ? opts.forms : [undefined];
        for (const form of forms) out.push(form ? { ...c, form } : c);
      }
    } else if (method === 'spatial') {
      const sd = spatial(conv.kernel, { rank: 1, name: conv.name });
      const sv = sd.singularValues;
      let total = 0;
      for (const v of sv) total += v * v;
      const d = discardedShares(sv, total || 1);
      const kMax = profitableMax(sv.length, before, (K) => macs('spatial', { rank: K }));
      const ks = ranks(kMax, grid, (K) => macs('spatial', { rank: K }));
      const top = opts.realize && ks.length ? spatial(conv.kernel, { rank: ks[ks.length - 1], name: conv.name }) : null;
      for (const K of ks) {
        const c: Candidate = { method, rank: K, macs: macs('spatial', { rank: K }), error: total ? Math.max(0, d[K]) : 0, errorKind: 'exact' };
        if (top) c.replacement = spatialReplacement(conv, leadingSpatial(top, K));
        out.push(c);
      }
    } else if (method === 'tucker2') {
      const so = unfoldingSingularValues(conv.kernel, 'out', conv.name);
      const si = unfoldingSingularValues(conv.kernel, 'in', conv.name);
      let total = 0;
      for (const v of so) total += v * v;
      const dOut = discardedShares(so, total || 1);
      const dIn = discardedShares(si, total || 1);
      // Ranks proportional to the channel counts (ρN, ρC), the usual one-parameter family.
      const at = (rho: number): [number, number] => [Math.max(1, Math.min(N, Math.round(rho * N))), Math.max(1, Math.min(C, Math.round(rho * C)))];
      const steps = Math.max(N, C);
      const sMax = profitableMax(steps, before, (s) => macs('tucker2', { rank: 0, ranks: at(s / steps) }));
      const seen = new Set<string>();
      for (const s of ranks(sMax, grid, (x) => macs('tucker2', { rank: 0, ranks: at(x / steps) }))) {
        const tr = at(s / steps);
        if (seen.has(tr.join())) continue;
        seen.add(tr.join());
        const m = macs('tucker2', { rank: tr[0], ranks: tr });
        if (m >= before) continue;
        const error = total ? Math.min(1, dOut[tr[0]] + dIn[tr[1]]) : 0;
        const c: Candidate = { method, rank: tr[0], tuckerRanks: tr, macs: m, error, errorKind: 'bound' };
        if (opts.realize) realizeWith(c, planLayer(conv, 'tucker2', { tuckerRanks: tr }, { ...opts.realize, order }).decompose());
        out.push(c);
      }
    } else if (method === 'ghost') {
      // Data-free fits (cheap); the error is the fit's weight-space relative error.
      const settings: MethodSettings = { order, form: opts.realize?.form ?? 'split', layout: opts.realize?.layout ?? 'NHWC', ghost: opts.ghost };
      for (const s of GHOST_RATIOS.filter((r) => r <= N)) {
        const planned = planLayer(conv, 'ghost', { rank: s }, settings);
        const m = macs('ghost', planned.ranks);
        if (m >= before) continue;
        const d = planned.decompose();
        const c: Candidate = { method, rank: s, macs: m, error: d.kernelRelError ** 2, errorKind: 'exact', ghostPrimaries: planned.ranks.primaries, ghostSlots: planned.ranks.ghostSlots };
        if (opts.realize) c.replacement = d.replacement;
        out.push(c);
      }
    } else if (method === 'spatial-nd') {
      const full = Math.min(C * kh, N * kw);
      const kGrids: number[][] = [];
      for (let T = 1; T <= Math.min(kh, kw); T++) {
        const fr: [number, number] = [Math.min(T, kh), Math.min(T, kw)];
        const kMax = profitableMax(full, before, (K) => macs('spatial-nd', { rank: K, factorRanks: fr, order }));
        kGrids.push(ranks(kMax, Math.max(4, Math.round(grid / 3)), (K) => macs('spatial-nd', { rank: K, factorRanks: fr, order })));
      }
      // One SVD: the rank-K factors are the leading K components of the largest K needed.
      const top = spatial(conv.kernel, { rank: Math.max(1, ...kGrids.flat()), name: conv.name });
      for (const [ti, ks] of kGrids.entries()) {
        const T = ti + 1;
        for (const K of ks) {
          const sd = leadingSpatial(top, K);
          const [v, h] = decoupleFactors(conv, sd, { factorRank: T }, order);
          const err = relFrobeniusError(conv.kernel, reconstructSpatial({ vertical: reconstruct(v, sd.vertical.shape), horizontal: reconstruct(h, sd.horizontal.shape) }));
          const c: Candidate = { method, rank: K, factorRank: T, macs: macs('spatial-nd', { rank: K, factorRanks: [v.rank, h.rank], order }), error: err * err, errorKind: 'exact' };
          if (opts.realize) c.replacement = spatialNdReplacement(conv, { spatial: sd, vertical: v, horizontal: h }, opts.realize.form, opts.realize.layout);
          out.push(c);
        }
      }
    } else {
      const rMax = profitableMax(kh * kw * Math.min(N, C), before, (R) => macs(method, { rank: R }));
      const iterations = opts.cpIterations ?? 25;
      if (!opts.realize) {
        // Every rank's bound is free once the spectrum is known: a fine grid (4× the others).
        const d = discardedShares(Float64Array.from(cpSliceSpectrum(conv.kernel, method === 'cp4', conv.name), Math.sqrt), 1);
        for (const R of ranks(rMax, grid * 4, (R) => macs(method, { rank: R }))) {
          out.push({ method, rank: R, macs: macs(method, { rank: R }), error: Math.max(0, R < d.length ? d[R] : 0), errorKind: 'bound' });
        }
        continue;
      }
      for (const R of ranks(rMax, Math.max(4, Math.round(grid / 3)), (R) => macs(method, { rank: R }))) {
        const c: Candidate = { method, rank: R, macs: macs(method, { rank: R }), error: 0, errorKind: 'exact' };
        realizeWith(c, planLayer(conv, method, { rank: R }, { ...opts.realize, order, maxIterations: iterations }).decompose());
        out.push(c);
      }
    }
  }
  return out;
}

function realizeWith(c: Candidate, d: { replacement: Replacement; kernelRelError: number }): void {
  c.replacement = d.replacement;
  c.error = d.kernelRelError ** 2;
  c.errorKind = 'exact';
}

/** The rank-K spatial factors from a higher-rank result (the components are nested: Eckart–Young). */
export function leadingSpatial(r: SpatialResult, K: number): Pick<SpatialResult, 'vertical' | 'horizontal'> {
  const [Kt, C, kh] = r.vertical.shape;
  const [N, , , kw] = r.horizontal.shape;
  const horizontal = new Float32Array(N * K * kw);
  for (let n = 0; n < N; n++) horizontal.set(r.horizontal.data.subarray(n * Kt * kw, (n * Kt + K) * kw), n * K * kw);
  return { vertical: { shape: [K, C, kh, 1], data: r.vertical.data.slice(0, K * C * kh) }, horizontal: { shape: [N, K, 1, kw], data: horizontal } };
}

export function networkCandidates(graph: Graph, convs: Conv2DNode[], inputShapes: Record<string, (number | null)[]> | undefined, opts: CandidateOptions = {}): LayerCandidates[] {
  const geometry = layerGeometries(graph, convs, inputShapes);
  return convs.map((conv, i) => {
    opts.onLayer?.(conv.name, i, convs.length);
    const g = geometry.get(conv.name) as LayerGeometry;
    return { name: conv.name, conv, geometry: g, macsBefore: convMacs(conv, g), candidates: layerCandidates(conv, g, opts) };
  });
}
