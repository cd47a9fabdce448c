import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { describe, expect, it } from 'vitest';

import {
  energyRank,
  evbmf,
  tucker2EnergyRanks,
  tucker2VbmfRanks,
  unfoldingSingularValues,
  vbmfRank,
} from '../../src/decompose/vbmf.js';
import { addNoise, lowRankPlusNoise, randomKernel, spectrumOf, tuckerKernel } from './synthetic.js';

describe('vbmfRank (empirical VBMF)', () => {
  it('finds rank 5 in a rank-5 60×40 matrix plus small Gaussian noise, either orientation', () => {
    for (const seed of [1, 2, 3]) {
      for (const noise of [0.01, 0.1]) {
        expect(vbmfRank(lowRankPlusNoise(60, 40, 5, noise, seed)).rank).toBe(5);
        expect(vbmfRank(lowRankPlusNoise(40, 60, 5, noise, seed)).rank).toBe(5);
      }
    }
  });

  it('keeps (almost) nothing of pure noise, and estimates its variance', () => {
    for (const seed of [4, 5, 6]) {
      const r = vbmfRank(lowRankPlusNoise(60, 40, 0, 0.5, seed));
      expect(r.rank).toBeLessThanOrEqual(1);
      expect(r.sigma2).toBeGreaterThan(0.25 * 0.5);
      expect(r.sigma2).toBeLessThan(0.25 * 1.5);
    }
  });

  it('estimates the noise variance of low rank + noise', () => {
    const r = vbmfRank(lowRankPlusNoise(100, 80, 6, 0.2, 7));
    expect(r.sigma2 / 0.04).toBeGreaterThan(0.8);
    expect(r.sigma2 / 0.04).toBeLessThan(1.2);
  });

  it('keeps exactly the singular values above the reported threshold', () => {
    const m = lowRankPlusNoise(50, 70, 8, 0.3, 8);
    const r = vbmfRank(m);
    expect(r.rank).toBe(spectrumOf(m).filter((s) => s > r.threshold).length);
    // γ̲ = σ·sqrt(M·x̄), x̄ = (1 + τ̄)(1 + α/τ̄), τ̄ = 2.5129·sqrt(α), α = L/M.
    expect(r.threshold).toBeCloseTo(Math.sqrt(70 * r.sigma2 * xBarOf(50 / 70)), 10);
  });

  it('handles exactly low-rank input (zero singular values) and the zero matrix', () => {
    const exact = vbmfRank(lowRankPlusNoise(30, 20, 4, 0, 9));
    expect(exact.rank).toBe(4);
    expect(Number.isFinite(exact.sigma2)).toBe(true);
    const zero = vbmfRank({ rows: 5, cols: 7, data: new Float64Array(35) });
    expect(zero).toEqual({ rank: 0, sigma2: 0, threshold: 0 });
  });

  it('rejects bad input', () => {
    expect(() => vbmfRank({ rows: 2, cols: 3, data: new Float64Array(5) })).toThrow(/5 values/);
    for (const bad of [NaN, Infinity]) {
      expect(() => vbmfRank({ rows: 1, cols: 2, data: Float64Array.of(1, bad) })).toThrow('vbmfRank: matrix has NaN or infinite values');
    }
    for (const [rows, cols] of [[0, 3], [3, 0], [1.5, 2], [2, 1.5]]) {
      expect(() => vbmfRank({ rows, cols, data: new Float64Array(0) })).toThrow(`vbmfRank: matrix is ${rows}×${cols}; need positive integer dimensions`);
    }
    expect(() => evbmf([1, 2], { L: 3, M: 2 })).toThrow(/L ≤ M/);
    expect(() => evbmf([], { L: 0, M: 2 })).toThrow(/L ≤ M/);
    expect(() => evbmf([3, 2, 1], { L: 2, M: 4 })).toThrow('got L = 2, M = 4, 3 values');
    expect(() => evbmf([3, 2, 1], { L: 3, M: 2 })).toThrow(/L ≤ M/);
    // The smallest legal matrices, one row or one column, are accepted.
    expect(() => vbmfRank({ rows: 4, cols: 1, data: Float64Array.of(1, 2, 3, 4) })).not.toThrow();
    expect(() => vbmfRank({ rows: 1, cols: 4, data: Float64Array.of(1, 2, 3, 4) })).not.toThrow();
  });

  it('estimates σ² as the minimiser of the published Ω over the published interval', () => {
    // Guards the σ² search (grid + golden section) and its interval: a brute-force minimum of
    // Ω(σ²) = Σ_h ψ(γ_h²/(Mσ²)) written from Nakajima et al. (2013), Eq. 37, on a two-level grid.
    for (const [rows, cols, r, noise, seed] of [[40, 60, 5, 0.3, 21], [30, 30, 3, 0.5, 22], [12, 90, 2, 1, 23], [50, 20, 8, 0.05, 24], [25, 25, 0, 1, 25]]) {
      const m = lowRankPlusNoise(rows, cols, r, noise, seed);
      const L = Math.min(rows, cols);
      const M = Math.max(rows, cols);
      const sv = spectrumOf(m);
      const got = evbmf(sv, { L, M });
      const expected = bruteForceSigma2(sv, L, M);
      expect(Math.abs(Math.log(got.sigma2 / expected))).toBeLessThan(1e-6);
      expect(omega(sv, L, M, got.sigma2)).toBeLessThanOrEqual(omega(sv, L, M, expected) + 1e-9);
      expect(got.rank).toBe(sv.filter((s) => s > Math.sqrt(M * expected * xBarOf(L / M))).length);
    }
  });
});

/** EVBMF's x̄ = (1 + τ̄)(1 + α/τ̄), τ̄ = 2.5129·sqrt(α) (Theorem 13). */
function xBarOf(alpha: number): number {
  const tauBar = 2.5129 * Math.sqrt(alpha);
  return (1 + tauBar) * (1 + alpha / tauBar);
}

/** Ω(σ²) of Nakajima et al. (2013), Eq. 37: ψ(x) = x − log x, plus ψ₁(x) above x̄. */
function omega(sv: number[], L: number, M: number, sigma2: number): number {
  const alpha = L / M;
  const xBar = xBarOf(alpha);
  let sum = 0;
  for (const g of sv) {
    const x = (g * g) / (M * sigma2);
    sum += x - Math.log(x);
    if (x > xBar) {
      const tau = 0.5 * (x - (1 + alpha) + Math.sqrt((x - (1 + alpha)) ** 2 - 4 * alpha));
      sum += Math.log(tau + 1) + alpha * Math.log(tau / alpha + 1) - tau;
    }
  }
  return sum;
}

/** argmin of Ω on [max(γ²_{ēH+1}/(M·x̄), mean_{h>ēH} γ_h²/M), Σγ²/(LM)]: 2·10⁴ log-spaced points, then 10⁴ in the best cell. */
function bruteForceSigma2(sv: number[], L: number, M: number): number {
  const s2 = sv.map((g) => g * g);
  const eH = Math.min(Math.ceil(L / (1 + L / M)) - 1, L - 1);
  const tail = s2.slice(eH);
  const lo = Math.max(s2[eH] / (M * xBarOf(L / M)), tail.reduce((a, b) => a + b, 0) / tail.length / M);
  const hi = s2.reduce((a, b) => a + b, 0) / (L * M);
  const search = (a: number, b: number, n: number) => {
    let best = a;
    for (let i = 0; i <= n; i++) {
      const x = a + ((b - a) * i) / n;
      if (omega(sv, L, M, Math.exp(x)) < omega(sv, L, M, Math.exp(best))) best = x;
    }
    return best;
  };
  const [a, b] = [Math.log(lo), Math.log(hi)];
  const step = (b - a) / 2e4;
  const coarse = search(a, b, 2e4);
  return Math.exp(search(Math.max(a, coarse - step), Math.min(b, coarse + step), 1e4));
}

describe('kernel ranks', () => {
  it('tucker2VbmfRanks finds the multilinear ranks of a Tucker kernel plus small noise', () => {
    const W = addNoise(tuckerKernel([32, 24, 3, 3], [6, 4], 10), 0.02, 11);
    const r = tucker2VbmfRanks(W);
    expect(r.ranks).toEqual([6, 4]);
    expect(r.out.rank).toBe(6);
    expect(r.in.rank).toBe(4);
  });

  it('tucker2VbmfRanks never returns a rank below 1, even for noise', () => {
    const r = tucker2VbmfRanks(randomKernel([16, 12, 3, 3], 12));
    expect(r.ranks[0]).toBeGreaterThanOrEqual(1);
    expect(r.ranks[1]).toBeGreaterThanOrEqual(1);
  });

  it('unfoldingSingularValues: mode-1 (N × C·k²) and mode-2 (C × N·k²) spectra', () => {
    const W = randomKernel([6, 4, 3, 3], 13);
    const [N, C, K] = [6, 4, 9];
    const mode1 = Array.from({ length: N }, (_, n) =>
      Array.from(W.data.subarray(n * C * K, (n + 1) * C * K)),
    );
    const mode2 = Array.from({ length: C }, (_, c) => {
      const row: number[] = [];
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) row.push(W.data[(n * C + c) * K + k]);
      return row;
    });
    for (const [mode, rows] of [['out', mode1], ['in', mode2]] as const) {
      const ref = new SingularValueDecomposition(new Matrix(rows), { autoTranspose: true }).diagonal;
      const sv = unfoldingSingularValues(W, mode);
      expect(sv.length).toBe(ref.length);
      for (let t = 0; t < ref.length; t++) expect(sv[t]).toBeCloseTo(ref[t], 4);
    }
  });

  it('energyRank keeps the smallest rank reaching the energy fraction', () => {
    const sv = Float64Array.of(2, 1, 0); // energies 4, 1, 0 of 5
    expect(energyRank(sv, 0.8)).toBe(1);
    expect(energyRank(sv, 0.81)).toBe(2);
    expect(energyRank(sv, 1)).toBe(2);
    expect(() => energyRank(sv, 1.5, { name: 'conv1' })).toThrow(/layer "conv1"/);
  });

  it('tucker2EnergyRanks grow with the energy fraction and reach [N, C] at 1', () => {
    const W = randomKernel([10, 8, 3, 3], 14);
    const lo = tucker2EnergyRanks(W, 0.5);
    const hi = tucker2EnergyRanks(W, 0.9);
    expect(hi[0]).toBeGreaterThanOrEqual(lo[0]);
    expect(hi[1]).toBeGreaterThanOrEqual(lo[1]);
    expect(tucker2EnergyRanks(W, 1)).toEqual([10, 8]);
  });
});
