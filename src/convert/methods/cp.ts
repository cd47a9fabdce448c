/**
 * cp — CP of N×C×(k·k): 1×1 → depthwise k×k → 1×1, rank R; cp4 — CP of N×C×k×k: 1×1 → dw k×1 →
 * dw 1×k → 1×1 (Lebedev et al. 2015), rank R (cp-rewrite.ts).
 */
import { cp3, cp3Cost, cp4, cp4Cost, cpSliceSpectrum } from '../../decompose/cp.js';
import { cpRank } from '../../decompose/rank-rules.js';
import { cp3Replacement, cp4Replacement } from '../cp-rewrite.js';
import { discardedShares, profitableMax, realizeWith } from '../candidate-grid.js';
import type { Candidate, MethodEntry } from '../method-types.js';

function cpEntry(separable: boolean): MethodEntry {
  const method = separable ? 'cp4' : 'cp';
  const entry: MethodEntry = {
    summary: separable ? 'CP 4-way: 1×1 → dw k×1 → dw 1×k → 1×1' : 'CP 3-way: 1×1 → dw k×k → 1×1',
    capFixed([N, C, kh, kw], spec, { cap }) {
      return { ...spec, rank: cap('R', spec.rank, kh * kw * Math.min(N, C)) };
    },
    plan(conv, spec, s, rule) {
      const name = conv.name;
      const [N, C, kh, kw] = conv.kernel.shape;
      const R = cpRank(conv.kernel, separable, spec, name);
      return {
        method, rule, ranks: { rank: R },
        decompose: () => {
          const opts = {
            rank: R, name, seed: s.seed ?? 0, ...(s.maxIterations !== undefined ? { nIterMax: s.maxIterations } : {}),
            ...(s.cpSeconds !== undefined ? { init: 'slice' as const, maxSeconds: s.cpSeconds } : {}),
          };
          const r = separable ? cp4(conv.kernel, opts) : cp3(conv.kernel, opts);
          return {
            replacement: separable ? cp4Replacement(conv, r as ReturnType<typeof cp4>) : cp3Replacement(conv, r as ReturnType<typeof cp3>),
            rank: R, maxRank: kh * kw * Math.min(N, C),
            retainedEnergy: 1 - r.kernelRelError ** 2, kernelRelError: r.kernelRelError, singularValues: [],
            details: { fit: r.fit, iterations: r.iterations, converged: r.converged, degenerate: r.degenerate, warnings: r.warnings, rankRule: rule },
          };
        },
      };
    },
    macs([N, C, kh, kw], r, g) {
      return (separable ? cp4Cost : cp3Cost)({ N, C, kh, kw, rank: r.rank, ...g });
    },
    // Every R from one "slice" spectrum: the slice model is a rank-R CP whose error is the discarded
    // σ² share, and ALS started from it only lowers it (an upper bound, no fit per candidate); with
    // `realize`, one real fit per grid point.
    candidates({ method, conv, geometry, before, opts, grid, order, ranks }) {
      const [N, C, kh, kw] = conv.kernel.shape;
      const macs = (R: number) => entry.macs(conv.kernel.shape, { rank: R }, geometry);
      const rMax = profitableMax(kh * kw * Math.min(N, C), before, macs);
      const iterations = opts.cpIterations ?? 25;
      const out: Candidate[] = [];
      if (!opts.realize) {
        // Every rank's bound is free once the spectrum is known: a fine grid (4× the others).
        const d = discardedShares(Float64Array.from(cpSliceSpectrum(conv.kernel, separable, conv.name), Math.sqrt), 1);
        for (const R of ranks(rMax, grid * 4, macs)) out.push({ method, rank: R, macs: macs(R), error: Math.max(0, R < d.length ? d[R] : 0), errorKind: 'bound' });
        return out;
      }
      for (const R of ranks(rMax, Math.max(4, Math.round(grid / 3)), macs)) {
        const c: Candidate = { method, rank: R, macs: macs(R), error: 0, errorKind: 'exact' };
        realizeWith(c, entry.plan(conv, { rank: R }, { ...opts.realize, order, maxIterations: iterations }, 'fixed').decompose());
        out.push(c);
      }
      return out;
    },
    rankLabel: (r) => `R = ${r.rank}`,
    pointLabel: (c) => `R=${c.rank}`,
  };
  return entry;
}

export const cp = cpEntry(false);
export const cp4Method = cpEntry(true);
