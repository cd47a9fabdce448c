/** ghost — GhostNet's Ghost module (Han et al. 2020): primary conv → d×d depthwise ghosts → concat, ratio s (ghost-rewrite.ts). */
import { ghostCost, ghostFromWeights } from '../../decompose/ghost.js';
import { ghostReplacement } from '../ghost-rewrite.js';
import type { Candidate, MethodEntry, MethodSettings } from '../method-types.js';

/** Ghost ratios tried per layer: the useful range (s > 8 leaves almost nothing to the conv). */
export const GHOST_RATIOS = [2, 3, 4, 6, 8] as const;

export const ghost: MethodEntry = {
  summary: 'Ghost module: primary conv → d×d depthwise ghosts → concat',
  plan(conv, spec, s, rule) {
    const [N] = conv.kernel.shape;
    const name = conv.name;
    const ratio = spec.rank ?? s.ghost?.ratio ?? 2;
    const kernelSize = s.ghost?.kernelSize ?? 3;
    // τ of the energy rule is the minimum R² (τ = 1 keeps every inexact ghost primary: the conv itself).
    const minR2 = spec.energy ?? s.ghost?.minR2;
    // The fit is cheap (N² problems of d² unknowns): done now so the MACs count the promoted primaries.
    const g = ghostFromWeights(conv.kernel, conv.bias, { ratio, kernelSize, minR2, strides: conv.strides, dilations: conv.dilations, name });
    const ghostR2 = Array.from(g.ghosts).filter((c) => c >= 0).map((c) => g.r2[c]);
    return {
      method: 'ghost', rule, ranks: { rank: ratio, primaries: g.primaries.length + g.solo.length, ghostSlots: g.ghosts.length, ghostKernel: kernelSize },
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
  },
  macs([N, C, kh, kw], r, g) {
    const m = Math.ceil(N / r.rank);
    return ghostCost({ C, kh, kw, primaries: r.primaries ?? m, ghostSlots: r.ghostSlots ?? m * (r.rank - 1), kernelSize: r.ghostKernel ?? 3, hOut: g.hOut, wOut: g.wOut });
  },
  // Data-free fits (cheap); the error is the fit's weight-space relative error.
  candidates({ method, conv, geometry, before, opts, order }) {
    const settings: MethodSettings = { order, form: opts.realize?.form ?? 'split', layout: opts.realize?.layout ?? 'NHWC', ghost: opts.ghost };
    const out: Candidate[] = [];
    for (const s of GHOST_RATIOS.filter((r) => r <= conv.kernel.shape[0])) {
      const planned = ghost.plan(conv, { rank: s }, settings, 'fixed');
      const m = ghost.macs(conv.kernel.shape, planned.ranks, geometry);
      if (m >= before) continue;
      const d = planned.decompose();
      const c: Candidate = { method, rank: s, macs: m, error: d.kernelRelError ** 2, errorKind: 'exact', ghostPrimaries: planned.ranks.primaries, ghostSlots: planned.ranks.ghostSlots };
      if (opts.realize) c.replacement = d.replacement;
      out.push(c);
    }
    return out;
  },
  rankLabel: (r) => `s = ${r.rank}`,
  pointLabel: (c) => `s=${c.rank}${c.ghostPrimaries !== undefined ? `, m=${c.ghostPrimaries}` : ''}${c.ghostFit === 'data' ? ', data' : ''}`,
};
