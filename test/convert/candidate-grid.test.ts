/**
 * The rank bookkeeping every method's candidates share (candidate-grid.ts, candidates.ts, nd's
 * candidates), checked by brute force: the grid spans its range evenly, the largest rank within a
 * MAC limit is the one an exhaustive scan finds, discarded shares are tail sums, the leading K
 * spatial components reproduce a rank-K fit, anchors add the rank reaching each reduction, and ND's
 * exact errors are the per-channel discarded σ² shares (ml-matrix SVDs).
 */
import { describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { discardedShares, leadingSpatial, maxRankWithin, profitableMax, rankGrid } from '../../src/convert/candidate-grid.js';
import { layerCandidates } from '../../src/convert/candidates.js';
import { reconstructSpatial, spatial } from '../../src/decompose/spatial.js';
import { relFrobeniusError } from '../../src/decompose/tensor.js';
import { conv } from '../onnx/helpers.js';

describe('rankGrid', () => {
  it('is empty for an empty range and every integer of a short one', () => {
    expect(rankGrid(5, 4, 10)).toEqual([]);
    expect(rankGrid(3, 3, 1)).toEqual([3]);
    expect(rankGrid(2, 7, 6)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(rankGrid(2, 7, 9)).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('spreads n points over a long range: both ends, increasing, gaps that differ by at most one', () => {
    for (const [lo, hi, n] of [[1, 100, 7], [1, 8, 7], [3, 50, 12], [1, 1000, 48]]) {
      const g = rankGrid(lo, hi, n);
      expect(g.length).toBe(n);
      expect(g[0]).toBe(lo);
      expect(g[g.length - 1]).toBe(hi);
      const gaps = g.slice(1).map((v, i) => v - g[i]);
      expect(Math.min(...gaps)).toBeGreaterThan(0);
      expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(1);
    }
  });
});

describe('maxRankWithin and profitableMax', () => {
  it('find the largest rank an exhaustive scan finds, 0 when none fits', () => {
    const costs = [(r: number) => 10 * r, (r: number) => r * r + 3, (r: number) => 7 * Math.ceil(r / 3)];
    for (const macs of costs) {
      for (const max of [1, 2, 9, 30]) {
        for (const limit of [0, 5, 10, 20, 21, 49, 70, 1000]) {
          let want = 0;
          for (let r = 1; r <= max; r++) if (macs(r) <= limit) want = r;
          expect(maxRankWithin(max, limit, macs)).toBe(want);
          let cheaper = 0;
          for (let r = 1; r <= max; r++) if (macs(r) < limit) cheaper = r;
          expect(profitableMax(max, limit, macs)).toBe(cheaper);
        }
      }
    }
  });
});

describe('discardedShares', () => {
  it('is the tail sum Σ_{t ≥ r} v_t² / total, ending at 0', () => {
    const v = [3, 2, 2, 1];
    const d = discardedShares(v, 18);
    expect(Array.from(d)).toEqual([18 / 18, 9 / 18, 5 / 18, 1 / 18, 0].map((x) => expect.closeTo(x, 12)));
  });
});

describe('leadingSpatial', () => {
  it('the leading K components of a higher-rank spatial fit are the rank-K fit (Eckart–Young)', () => {
    const c = conv('s', 'x', { cin: 4, cout: 5, k: [3, 2], seed: 3 });
    const top = spatial(c.kernel, { rank: 7 });
    for (const K of [1, 3, 7]) {
      const lead = leadingSpatial(top, K);
      expect(lead.vertical.shape).toEqual([K, 4, 3, 1]);
      expect(lead.horizontal.shape).toEqual([5, K, 1, 2]);
      const own = reconstructSpatial(spatial(c.kernel, { rank: K }));
      expect(relFrobeniusError(own, reconstructSpatial(lead))).toBeLessThan(1e-5);
    }
  });
});

describe('layerCandidates', () => {
  const layer = conv('c', 'x', { cin: 6, cout: 7, k: [3, 3], padding: 'same', seed: 9 });
  const g = { hIn: 8, wIn: 8, hOut: 8, wOut: 8 };
  const before = 64 * 7 * 6 * 9;

  it('add, for each anchor reduction, the largest rank whose MACs reach it', () => {
    const plain = layerCandidates(layer, g, { methods: ['spatial'], gridSize: 3 }).filter((c) => c.method === 'spatial');
    const anchored = layerCandidates(layer, g, { methods: ['spatial'], gridSize: 3, anchors: [2, 3, 5] }).filter((c) => c.method === 'spatial');
    const cost = (K: number) => 64 * (K * 6 * 3 + 7 * K * 3);
    const reach = (red: number) => Math.max(...Array.from({ length: 18 }, (_, i) => i + 1).filter((K) => cost(K) <= before / red));
    const want = [...new Set([...plain.map((c) => c.rank), reach(2), reach(3), reach(5)])].sort((a, b) => a - b);
    expect(anchored.map((c) => c.rank)).toEqual(want);
    expect(want.length).toBeGreaterThan(plain.length);
  });

  it('ND: every profitable T with the discarded σ² share of its channels, per order, and a layout per T > 1', () => {
    // dw-pw: channel c's 7 × 9 matrix W[:, c]; pw-dw: output n's 6 × 9 matrix W[n]; err²(T) = Σ discarded σ² / Σ σ².
    const spectra = (order: 'dw-pw' | 'pw-dw') => {
      const [outer, inner] = order === 'dw-pw' ? [6, 7] : [7, 6];
      return Array.from({ length: outer }, (_, o) => {
        const m = Matrix.zeros(inner, 9);
        for (let i = 0; i < inner; i++) for (let k = 0; k < 9; k++) m.set(i, k, layer.kernel.data[((order === 'dw-pw' ? i * 6 + o : o * 6 + i) * 9) + k]);
        return new SingularValueDecomposition(m, { autoTranspose: true }).diagonal;
      });
    };
    const cs = layerCandidates(layer, g, { methods: ['nd'], orders: ['dw-pw', 'pw-dw'], forms: ['split', 'merged'] }).filter((c) => c.method === 'nd');
    for (const order of ['dw-pw', 'pw-dw'] as const) {
      const sv = spectra(order);
      const total = sv.flat().reduce((a, v) => a + v * v, 0);
      const mine = cs.filter((c) => c.order === order);
      expect(mine.filter((c) => c.rank === 1).map((c) => c.form)).toEqual([undefined]);
      for (const c of mine) {
        expect(c.macs).toBeLessThan(before);
        const discarded = sv.reduce((a, s) => a + s.slice(c.rank).reduce((b, v) => b + v * v, 0), 0);
        expect(c.error).toBeCloseTo(discarded / total, 6);
        if (c.rank > 1) expect(mine.filter((x) => x.rank === c.rank).map((x) => x.form).sort()).toEqual(['merged', 'split']);
      }
      const ranks = [...new Set(mine.map((c) => c.rank))];
      // Every T up to the largest profitable one (MACs grow with T).
      expect(ranks).toEqual(Array.from({ length: ranks.length }, (_, i) => i + 1));
      expect(ranks.length).toBeGreaterThan(2);
    }
  });
});
