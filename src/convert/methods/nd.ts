/** nd — network decoupling (Guo et al. 2018): depthwise k×k and 1×1, rank T per channel (nd-rewrite.ts). */
import { decouple, ndCost } from '../../decompose/nd.js';
import { decoupleBySpec } from '../../decompose/rank-rules.js';
import { dwPwReplacement, pwDwReplacement } from '../nd-rewrite.js';
import { discardedShares, realizeWith } from '../candidate-grid.js';
import type { Candidate, MethodEntry } from '../method-types.js';

export const nd: MethodEntry = {
  summary: 'network decoupling: T depthwise filters per channel + 1×1',
  capFixed(shape, spec, { order, cap }) {
    const [, C, kh, kw] = shape;
    return { ...spec, rank: cap('T', spec.rank, order === 'dw-pw' ? kh * kw : Math.min(C, kh * kw)) };
  },
  plan(conv, spec, s, rule) {
    const nd = decoupleBySpec(conv.kernel, s.order, spec, conv.name);
    return {
      method: 'nd', rule, ranks: { rank: nd.rank, order: s.order },
      decompose: () => ({
        replacement: s.order === 'dw-pw' ? dwPwReplacement(conv, nd, s.form, s.layout) : pwDwReplacement(conv, nd, s.form),
        rank: nd.rank, maxRank: nd.maxRank, retainedEnergy: nd.retainedEnergy, kernelRelError: nd.kernelRelError,
        singularValues: nd.singularValues.map((x) => Array.from(x)),
        details: { rankRule: rule },
      }),
    };
  },
  macs([N, C, kh, kw], r, g) {
    return ndCost({ N, C, kh, kw, order: r.order ?? 'dw-pw', rank: r.rank, ...g });
  },
  // Every T from one set of per-channel SVDs: err² = the discarded σ² share (exact).
  candidates({ method, conv, geometry, before, opts }) {
    const out: Candidate[] = [];
    for (const order of opts.orders ?? [opts.order ?? 'dw-pw']) {
      const d0 = decouple(conv.kernel, { order, rank: 1, name: conv.name });
      let total = 0;
      for (const s of d0.singularValues) for (const v of s) total += v * v;
      const tail = new Float64Array(d0.maxRank + 1);
      for (const s of d0.singularValues) {
        const d = discardedShares(s, total || 1);
        for (let T = 0; T <= d0.maxRank; T++) tail[T] += T < d.length ? d[T] : 0;
      }
      for (let T = 1; T <= d0.maxRank; T++) {
        const m = nd.macs(conv.kernel.shape, { rank: T, order }, geometry);
        if (m >= before) continue;
        const c: Candidate = { method, rank: T, macs: m, error: total ? Math.max(0, tail[T]) : 0, errorKind: 'exact', ...(opts.orders ? { order } : {}) };
        if (opts.realize) realizeWith(c, nd.plan(conv, { rank: T }, { ...opts.realize, order }, 'fixed').decompose());
        // T = 1 is one depthwise conv in either layout.
        const forms = opts.forms && T > 1 ? opts.forms : [undefined];
        for (const form of forms) out.push(form ? { ...c, form } : c);
      }
    }
    return out;
  },
  rankLabel: (r) => `T = ${r.rank}`,
  pointLabel: (c) => `T=${c.rank}`,
};
