/** tucker2 — Tucker-2 (Kim et al. 2016): 1×1 → k×k core → 1×1, ranks [R_out, R_in] (tucker2-rewrite.ts). */
import { tucker2 as tucker2Fit, tucker2Cost } from '../../decompose/tucker2.js';
import { tucker2Ranks } from '../../decompose/rank-rules.js';
import { unfoldingSingularValues } from '../../decompose/vbmf.js';
import { tucker2Replacement } from '../tucker2-rewrite.js';
import { discardedShares, profitableMax, realizeWith } from '../candidate-grid.js';
import type { Candidate, MethodEntry } from '../method-types.js';

export const tucker2: MethodEntry = {
  summary: '1×1 → k×k core → 1×1',
  capFixed([N, C], spec, { cap, notes }) {
    if (spec.tuckerRanks) return { ...spec, tuckerRanks: [cap('R_out', spec.tuckerRanks[0], N) as number, cap('R_in', spec.tuckerRanks[1], C) as number] };
    if (spec.rank !== undefined && (spec.rank > N || spec.rank > C)) notes.push(`R ${spec.rank} → [${Math.min(spec.rank, N)}, ${Math.min(spec.rank, C)}]`);
    return { ...spec };
  },
  plan(conv, spec, s, rule) {
    const [N] = conv.kernel.shape;
    const ranks = tucker2Ranks(conv.kernel, spec, conv.name);
    return {
      method: 'tucker2', rule, ranks: { rank: ranks[0], ranks },
      decompose: () => {
        const t = tucker2Fit(conv.kernel, { ranks, name: conv.name, ...(s.maxIterations !== undefined ? { nIterMax: s.maxIterations } : {}) });
        return {
          replacement: tucker2Replacement(conv, t),
          rank: ranks[0], maxRank: N,
          retainedEnergy: 1 - t.kernelRelError ** 2, kernelRelError: t.kernelRelError, singularValues: [],
          details: { ranks, iterations: t.iterations, converged: t.converged, rankRule: rule },
        };
      },
    };
  },
  macs([N, C, kh, kw], r, g) {
    return tucker2Cost({ N, C, kh, kw, ranks: r.ranks ?? [r.rank, r.rank], ...g });
  },
  // The HOSVD bound err² ≤ e_out² + e_in² from the two unfoldings' spectra (De Lathauwer et al.
  // 2000, Property 10); HOOI only lowers it, so the budget is conservative.
  candidates({ method, conv, geometry, before, opts, grid, order, ranks }) {
    const [N, C] = conv.kernel.shape;
    const macs = (tr: [number, number], rank = 0) => tucker2.macs(conv.kernel.shape, { rank, ranks: tr }, geometry);
    const so = unfoldingSingularValues(conv.kernel, 'out', conv.name);
    const si = unfoldingSingularValues(conv.kernel, 'in', conv.name);
    let total = 0;
    for (const v of so) total += v * v;
    const dOut = discardedShares(so, total || 1);
    const dIn = discardedShares(si, total || 1);
    // Ranks proportional to the channel counts (ρN, ρC), the usual one-parameter family.
    const at = (rho: number): [number, number] => [Math.max(1, Math.min(N, Math.round(rho * N))), Math.max(1, Math.min(C, Math.round(rho * C)))];
    const steps = Math.max(N, C);
    const sMax = profitableMax(steps, before, (s) => macs(at(s / steps)));
    const seen = new Set<string>();
    const out: Candidate[] = [];
    for (const s of ranks(sMax, grid, (x) => macs(at(x / steps)))) {
      const tr = at(s / steps);
      if (seen.has(tr.join())) continue;
      seen.add(tr.join());
      const m = macs(tr, tr[0]);
      if (m >= before) continue;
      const error = total ? Math.min(1, dOut[tr[0]] + dIn[tr[1]]) : 0;
      const c: Candidate = { method, rank: tr[0], tuckerRanks: tr, macs: m, error, errorKind: 'bound' };
      if (opts.realize) realizeWith(c, tucker2.plan(conv, { tuckerRanks: tr }, { ...opts.realize, order }, 'fixed').decompose());
      out.push(c);
    }
    return out;
  },
  rankLabel: (r) => `ranks [R_out, R_in] = [${(r.ranks ?? [r.rank, r.rank]).join(', ')}]`,
  pointLabel: (c) => (c.tuckerRanks ? `${c.tuckerRanks[0]}×${c.tuckerRanks[1]}` : `R=${c.rank}`),
};
