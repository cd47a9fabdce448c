/**
 * Every decomposition method behind one interface: resolve the layer's rank (cheap: fixed, energy
 * or VBMF — decompose/rank-rules.ts), which fixes its MACs so unprofitable layers can be skipped before
 * any expensive fit, then decompose and build the stock-layer replacement.
 *
 *   nd          network decoupling (nd-rewrite.ts)                 rank T per channel
 *   cp          CP of N×C×(k·k): 1×1 → depthwise k×k → 1×1         rank R
 *   cp4         CP of N×C×k×k: 1×1 → dw k×1 → dw 1×k → 1×1         rank R
 *   tucker2     1×1 → k×k core → 1×1                               ranks [R_out, R_in]
 *   spatial     k×1 conv → 1×k conv                                rank K
 *   spatial-nd  spatial, then ND on each factor                    rank K, factor rank T
 *   ghost       primary conv → d×d depthwise ghosts → concat        ratio s (ghost-rewrite.ts)
 */
import type { Conv2DNode, Layout } from '../models/ir.js';
import { reconstruct, type NdOrder, type NdResult } from '../decompose/nd.js';
import { cp3, cp4 } from '../decompose/cp.js';
import { tucker2 } from '../decompose/tucker2.js';
import { reconstructSpatial, spatial, type SpatialResult } from '../decompose/spatial.js';
import { relFrobeniusError } from '../decompose/tensor.js';
import type { Replacement } from './splice.js';
import { dwPwReplacement, pwDwReplacement, type DepthwiseForm } from './nd-rewrite.js';
import { cp3Replacement, cp4Replacement } from './cp-rewrite.js';
import { tucker2Replacement } from './tucker2-rewrite.js';
import { spatialFactorConvs, spatialNdReplacement, spatialReplacement } from './spatial-rewrite.js';
import { cpRank, decoupleBySpec, ruleLabel, spatialRank, tucker2Ranks, type RankSpec } from '../decompose/rank-rules.js';
import type { MethodRanks } from './method-cost.js';
import { ghostFromWeights, type GhostFit } from '../decompose/ghost.js';
import { ghostReplacement } from './ghost-rewrite.js';

export type Method = 'nd' | 'cp' | 'cp4' | 'tucker2' | 'spatial' | 'spatial-nd' | 'ghost';
export const METHODS: readonly Method[] = ['nd', 'cp', 'cp4', 'tucker2', 'spatial', 'spatial-nd', 'ghost'];

/** Ghost options (the ratio s is the method's rank: a plan's rank, else `ratio`). */
export interface GhostSettings {
  /** s (default 2). */
  ratio?: number;
  /** d (default 3). */
  kernelSize?: number;
  /** 'weights' (default): data-free; 'data': refit on calibration outputs (src/eval/calibrate-ghost.ts). */
  fit?: GhostFit;
  /** Ghosts whose fit explains less than this share of their variance stay primary (default 0). */
  minR2?: number;
}

/** What a Ghost conversion reports. */
export interface GhostDetails {
  ratio: number;
  kernelSize: number;
  fit: GhostFit;
  /** All primaries, those promoted from ghosts included. */
  primaries: number;
  promoted: number;
  /** Mean R² of the ghost channels' fits. */
  meanR2: number;
  /** The promotion threshold used. */
  minR2?: number;
  /** How the original channel order is restored: folded into the consumers, or kept (and why). */
  order?: string;
}

export interface MethodSettings {
  order: NdOrder;
  form: DepthwiseForm;
  layout: Layout;
  /** CP: ALS iterations at most; Tucker-2: HOOI iterations at most (library defaults when absent). */
  maxIterations?: number;
  /** Seed of CP's random restart (same seed → byte-identical factors). */
  seed?: number;
  ghost?: GhostSettings;
  /**
   * CP: start ALS from the slice model at every rank and stop it after this many seconds — what
   * the speed budget uses, whose error figures are that start's bound (candidates.ts).
   */
  cpSeconds?: number;
}

/** What a decomposition reports beyond ND's fields (absent where a method has no such thing). */
export interface MethodDetails {
  /** Tucker-2: [R_out, R_in]. */
  ranks?: [number, number];
  /** spatial-nd: T of the vertical and horizontal factors. */
  factorRanks?: [number, number];
  /** CP: 1 − kernelRelError of the float64 fit, as cp.ts reports it. */
  fit?: number;
  /** CP: ALS iterations; Tucker-2: HOOI iterations. */
  iterations?: number;
  converged?: boolean;
  /** CP: degeneracy detected and handled (see warnings). */
  degenerate?: boolean;
  warnings?: string[];
  /** How the rank was chosen: 'fixed', 'energy τ', 'vbmf', or 'budget'. */
  rankRule?: string;
  ghost?: GhostDetails;
  /** Set when a requested rank exceeded this layer's maximum and was capped to it, e.g. "T 4 → 3". */
  rankCapped?: string;
}

export interface DecomposedLayer {
  replacement: Replacement;
  rank: number;
  maxRank: number;
  /** ND: channel-averaged retained energy; other methods: 1 − kernelRelError² (‖Ŵ‖²/‖W‖² for orthogonal fits). */
  retainedEnergy: number;
  kernelRelError: number;
  /** ND: per channel; spatial: the reshape's spectrum; Tucker-2: the two unfoldings' (out, in); CP: none. */
  singularValues: number[][];
  details: MethodDetails;
}

export interface PlannedLayer {
  method: Method;
  ranks: MethodRanks;
  rule: string;
  decompose(): DecomposedLayer;
}

/** Resolves the rank of `conv` for `method`: a fixed rank above the layer's maximum is capped (capRanks), other bad ranks throw naming the layer. */
export function planLayer(conv: Conv2DNode, method: Method, spec: RankSpec, s: MethodSettings): PlannedLayer {
  const capped = capRanks(conv, method, spec, s.order);
  const planned = planCapped(conv, method, capped.spec, s);
  if (!capped.note) return planned;
  return { ...planned, decompose: () => { const d = planned.decompose(); return { ...d, details: { ...d.details, rankCapped: capped.note } }; } };
}

/**
 * One --rank (or --tucker-ranks, --factor-rank) for a network of mixed layers: a fixed rank above
 * a layer's maximum is capped to it (where that layer is already exact), and the cap is reported.
 */
export function capRanks(conv: Conv2DNode, method: Method, spec: RankSpec, order: NdOrder): { spec: RankSpec; note?: string } {
  const [N, C, kh, kw] = conv.kernel.shape;
  const notes: string[] = [];
  const out: RankSpec = { ...spec };
  const cap = (label: string, asked: number | undefined, max: number): number | undefined => {
    if (asked === undefined || !Number.isInteger(asked) || asked <= max) return asked;
    notes.push(`${label} ${asked} → ${max}`);
    return max;
  };
  const fixed = spec.energy === undefined && spec.rankRule === undefined;
  if (fixed) {
    const k2 = kh * kw;
    switch (method) {
      case 'nd':
        out.rank = cap('T', spec.rank, order === 'dw-pw' ? k2 : Math.min(C, k2));
        break;
      case 'cp':
      case 'cp4':
        out.rank = cap('R', spec.rank, k2 * Math.min(N, C));
        break;
      case 'tucker2':
        if (spec.tuckerRanks) out.tuckerRanks = [cap('R_out', spec.tuckerRanks[0], N) as number, cap('R_in', spec.tuckerRanks[1], C) as number];
        else if (spec.rank !== undefined && (spec.rank > N || spec.rank > C)) notes.push(`R ${spec.rank} → [${Math.min(spec.rank, N)}, ${Math.min(spec.rank, C)}]`);
        break;
      case 'spatial':
      case 'spatial-nd':
        out.rank = cap('K', spec.rank, Math.min(C * kh, N * kw));
        break;
    }
  }
  if (method === 'spatial-nd' && spec.factorRank !== undefined && Number.isInteger(out.rank)) {
    // The factors are kh×1 (C → K) and 1×kw (K → N); decoupleFactors caps T at each one's ND maximum.
    const K = out.rank as number;
    const f = spec.factorRank;
    const v = Math.min(f, order === 'dw-pw' ? kh : Math.min(C, kh));
    const h = Math.min(f, order === 'dw-pw' ? kw : Math.min(K, kw));
    if (v < f || h < f) notes.push(`factor T ${f} → ${v}/${h}`);
  }
  return notes.length ? { spec: out, note: notes.join(', ') } : { spec: out };
}

function planCapped(conv: Conv2DNode, method: Method, spec: RankSpec, s: MethodSettings): PlannedLayer {
  const name = conv.name;
  const rule = ruleLabel(spec);
  const [N, C, kh, kw] = conv.kernel.shape;
  switch (method) {
    case 'nd': {
      const nd = decoupleBySpec(conv.kernel, s.order, spec, name);
      return {
        method, rule, ranks: { rank: nd.rank, order: s.order },
        decompose: () => ({
          replacement: s.order === 'dw-pw' ? dwPwReplacement(conv, nd, s.form, s.layout) : pwDwReplacement(conv, nd, s.form),
          rank: nd.rank, maxRank: nd.maxRank, retainedEnergy: nd.retainedEnergy, kernelRelError: nd.kernelRelError,
          singularValues: nd.singularValues.map((x) => Array.from(x)),
          details: { rankRule: rule },
        }),
      };
    }
    case 'cp':
    case 'cp4': {
      const R = cpRank(conv.kernel, method === 'cp4', spec, name);
      return {
        method, rule, ranks: { rank: R },
        decompose: () => {
          const opts = {
            rank: R, name, seed: s.seed ?? 0, ...(s.maxIterations !== undefined ? { nIterMax: s.maxIterations } : {}),
            ...(s.cpSeconds !== undefined ? { init: 'slice' as const, maxSeconds: s.cpSeconds } : {}),
          };
          const r = method === 'cp' ? cp3(conv.kernel, opts) : cp4(conv.kernel, opts);
          return {
            replacement: method === 'cp' ? cp3Replacement(conv, r as ReturnType<typeof cp3>) : cp4Replacement(conv, r as ReturnType<typeof cp4>),
            rank: R, maxRank: kh * kw * Math.min(N, C),
            retainedEnergy: 1 - r.kernelRelError ** 2, kernelRelError: r.kernelRelError, singularValues: [],
            details: { fit: r.fit, iterations: r.iterations, converged: r.converged, degenerate: r.degenerate, warnings: r.warnings, rankRule: rule },
          };
        },
      };
    }
    case 'tucker2': {
      const ranks = tucker2Ranks(conv.kernel, spec, name);
      return {
        method, rule, ranks: { rank: ranks[0], ranks },
        decompose: () => {
          const t = tucker2(conv.kernel, { ranks, name, ...(s.maxIterations !== undefined ? { nIterMax: s.maxIterations } : {}) });
          return {
            replacement: tucker2Replacement(conv, t),
            rank: ranks[0], maxRank: N,
            retainedEnergy: 1 - t.kernelRelError ** 2, kernelRelError: t.kernelRelError, singularValues: [],
            details: { ranks, iterations: t.iterations, converged: t.converged, rankRule: rule },
          };
        },
      };
    }
    case 'spatial':
    case 'spatial-nd': {
      // spatial() computes the whole spectrum whatever K is: one call resolves the rank and fits.
      const P = C * kh;
      const Q = N * kw;
      const fixed = spec.rank !== undefined && spec.energy === undefined && spec.rankRule === undefined;
      // A fixed K is capped at the layer's exact rank, as Tucker-2's ranks are: one --rank for a network of mixed widths.
      if (fixed && Number.isInteger(spec.rank) && (spec.rank as number) > Math.min(P, Q)) spec = { ...spec, rank: Math.min(P, Q) };
      const probe = spatial(conv.kernel, { rank: fixed ? (spec.rank as number) : 1, name });
      const K = fixed ? probe.rank : spatialRank(probe.singularValues, { P, Q }, spec, name);
      const sd = K === probe.rank ? probe : spatial(conv.kernel, { rank: K, name });
      if (method === 'spatial') {
        return {
          method, rule, ranks: { rank: K },
          decompose: () => ({
            replacement: spatialReplacement(conv, sd),
            rank: K, maxRank: Math.min(P, Q),
            retainedEnergy: 1 - sd.kernelRelError ** 2, kernelRelError: sd.kernelRelError,
            singularValues: [Array.from(sd.singularValues)],
            details: { rankRule: rule },
          }),
        };
      }
      const [vNd, hNd] = decoupleFactors(conv, sd, spec, s.order);
      const factorRanks: [number, number] = [vNd.rank, hNd.rank];
      return {
        method, rule, ranks: { rank: K, factorRanks, order: s.order },
        decompose: () => {
          const approx = reconstructSpatial({ vertical: reconstruct(vNd, sd.vertical.shape), horizontal: reconstruct(hNd, sd.horizontal.shape) });
          const err = relFrobeniusError(conv.kernel, approx);
          return {
            replacement: spatialNdReplacement(conv, { spatial: sd, vertical: vNd, horizontal: hNd }, s.form, s.layout),
            rank: K, maxRank: Math.min(P, Q),
            retainedEnergy: 1 - err ** 2, kernelRelError: err,
            singularValues: [Array.from(sd.singularValues)],
            details: { factorRanks, rankRule: rule },
          };
        },
      };
    }
    case 'ghost': {
      const ratio = spec.rank ?? s.ghost?.ratio ?? 2;
      const kernelSize = s.ghost?.kernelSize ?? 3;
      // τ of the energy rule is the minimum R² (τ = 1 keeps every inexact ghost primary: the conv itself).
      const minR2 = spec.energy ?? s.ghost?.minR2;
      // The fit is cheap (N² problems of d² unknowns): done now so the MACs count the promoted primaries.
      const g = ghostFromWeights(conv.kernel, conv.bias, { ratio, kernelSize, minR2, strides: conv.strides, dilations: conv.dilations, name });
      const ghostR2 = Array.from(g.ghosts).filter((c) => c >= 0).map((c) => g.r2[c]);
      return {
        method, rule, ranks: { rank: ratio, primaries: g.primaries.length + g.solo.length, ghostSlots: g.ghosts.length, ghostKernel: kernelSize },
        decompose: () => ({
          replacement: ghostReplacement(conv, g, { form: s.form, layout: s.layout }),
          rank: ratio, maxRank: N,
          retainedEnergy: 1 - g.relError ** 2, kernelRelError: g.relError, singularValues: [],
          details: {
            rankRule: rule,
            ghost: { ratio, kernelSize, fit: s.ghost?.fit ?? 'weights', minR2, primaries: g.primaries.length + g.solo.length, promoted: g.promoted, meanR2: ghostR2.length ? ghostR2.reduce((a, b) => a + b, 0) / ghostR2.length : 1 },
          },
        }),
      };
    }
    default:
      throw new Error(`method "${String(method)}" is not available; choose one of ${METHODS.join(', ')}`);
  }
}

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
