/**
 * The rank rules every method's --energy / --rank-rule resolve through (rank-rules.ts), checked
 * against spectra computed here with ml-matrix (a different SVD and eigen-solver from the
 * project's), against ranks planted by construction, and against the rules as documented.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';

import { gaussianArray } from '../../src/decompose/random.js';
import {
  cpEnergyRank,
  cpRank,
  decoupleBySpec,
  ndVbmfRank,
  ruleLabel,
  spatialRank,
  tucker2Ranks,
  vbmfFromSpectrum,
} from '../../src/decompose/rank-rules.js';
import { decouple, type NdOrder } from '../../src/decompose/nd.js';
import type { Tensor } from '../../src/decompose/tensor.js';
import { vbmfRank } from '../../src/decompose/vbmf.js';
import { channelMatrix, lowRankPlusNoise, randomKernel, spectrumOf } from './synthetic.js';

/** Σ_{t<T} σ² / Σσ²: the share of the energy the leading T singular values keep. */
function energyShare(sv: number[], T: number): number {
  const total = sv.reduce((a, s) => a + s * s, 0);
  return sv.slice(0, T).reduce((a, s) => a + s * s, 0) / total;
}

/** Smallest r whose leading σ² keep a fraction τ of Σσ², from the documented rule. */
function energyOracle(sv: number[], tau: number): number {
  let r = 1;
  while (r < sv.length && energyShare(sv, r) < tau - 1e-12) r++;
  return r;
}

/** A matrix as vbmfRank takes it. */
function asInput(m: Matrix): { rows: number; cols: number; data: Float64Array } {
  return { rows: m.rows, cols: m.columns, data: Float64Array.from(m.to1DArray()) };
}

/** ND's VBMF rule as documented: ⌈mean over channels of max(1, EVBMF rank)⌉. */
function ndVbmfOracle(kernel: Tensor, order: NdOrder): number {
  const channels = order === 'dw-pw' ? kernel.shape[1] : kernel.shape[0];
  let sum = 0;
  for (let ch = 0; ch < channels; ch++) sum += Math.max(1, vbmfRank(asInput(channelMatrix(kernel, order, ch))).rank);
  return Math.ceil(sum / channels);
}

/** dw-pw planted kernel: input channel c's N×K matrix has rank ranks[c] plus small noise. */
function plantedNdKernel(N: number, k: number, ranks: number[], seed: number): Tensor {
  const C = ranks.length;
  const K = k * k;
  const data = new Float32Array(N * C * K);
  ranks.forEach((r, c) => {
    const m = lowRankPlusNoise(N, K, r, 1e-3, seed + 10 * c).data;
    for (let n = 0; n < N; n++) for (let t = 0; t < K; t++) data[(n * C + c) * K + t] = m[n * K + t];
  });
  return { shape: [N, C, k, k], data };
}

function symmetricEigenvectors(g: Matrix): number[][] {
  const e = new EigenvalueDecomposition(g, { assumeSymmetric: true });
  const v = e.eigenvectorMatrix;
  return Array.from({ length: g.rows }, (_, j) => v.getColumn(j));
}

/**
 * The CP slice spectrum as documented: rotate the taps to the principal filter basis (the tap
 * Gram's eigenvectors; separable: products of the row and column Grams' eigenvectors), SVD each
 * rotated N×C slice, pool σ²/‖W‖² and sort descending.
 */
function sliceShares(kernel: Tensor, separable: boolean): number[] {
  const [N, C, kh, kw] = kernel.shape;
  const K = kh * kw;
  const w = (n: number, c: number, k: number) => kernel.data[(n * C + c) * K + k];
  const tapDot = (k1: number, k2: number) => {
    let s = 0;
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) s += w(n, c, k1) * w(n, c, k2);
    return s;
  };
  let basis: number[][];
  if (separable) {
    const rows = Matrix.zeros(kh, kh);
    const cols = Matrix.zeros(kw, kw);
    for (let i = 0; i < kh; i++) for (let i2 = 0; i2 < kh; i2++) for (let j = 0; j < kw; j++) rows.set(i, i2, rows.get(i, i2) + tapDot(i * kw + j, i2 * kw + j));
    for (let j = 0; j < kw; j++) for (let j2 = 0; j2 < kw; j2++) for (let i = 0; i < kh; i++) cols.set(j, j2, cols.get(j, j2) + tapDot(i * kw + j, i * kw + j2));
    const a = symmetricEigenvectors(rows);
    const b = symmetricEigenvectors(cols);
    basis = a.flatMap((av) => b.map((bv) => Array.from({ length: K }, (_, k) => av[Math.floor(k / kw)] * bv[k % kw])));
  } else {
    basis = symmetricEigenvectors(Matrix.from1DArray(K, K, Array.from({ length: K * K }, (_, i) => tapDot(Math.floor(i / K), i % K))));
  }
  let total = 0;
  for (let i = 0; i < kernel.data.length; i++) total += kernel.data[i] ** 2;
  const shares = basis.flatMap((q) => {
    const slice = Array.from({ length: N * C }, (_, i) => q.reduce((s, qk, k) => s + qk * w(Math.floor(i / C), i % C, k), 0));
    return spectrumOf({ rows: N, cols: C, data: slice }).map((s) => (s * s) / total);
  });
  return shares.sort((x, y) => y - x);
}

describe('ruleLabel (the rule a report names)', () => {
  it('names vbmf before energy, energy with its τ, and anything else fixed', () => {
    expect(ruleLabel({ rankRule: 'vbmf' })).toBe('vbmf');
    expect(ruleLabel({ rankRule: 'vbmf', energy: 0.9 })).toBe('vbmf');
    expect(ruleLabel({ energy: 0.95 })).toBe('energy 0.95');
    expect(ruleLabel({ rank: 3 })).toBe('fixed');
    expect(ruleLabel({ tuckerRanks: [2, 3] })).toBe('fixed');
  });
});

describe('vbmfFromSpectrum', () => {
  it('finds a planted rank from the spectrum alone, in either orientation', () => {
    // Guards against swapping EVBMF's L = min and M = max: the threshold depends on both.
    for (const [rows, cols, r] of [[30, 12, 3], [12, 30, 3], [40, 9, 5], [9, 40, 2]]) {
      const sv = spectrumOf(lowRankPlusNoise(rows, cols, r, 1e-2, rows + cols));
      expect(vbmfFromSpectrum(sv, rows, cols)).toBe(r);
    }
  });

  it('agrees with EVBMF on the matrix itself when the planted signal sits near the noise', () => {
    for (const seed of [1, 2, 3, 4]) {
      const [rows, cols] = seed % 2 ? [25, 11] : [11, 25];
      const m = lowRankPlusNoise(rows, cols, 4, 0.6, seed);
      const expected = Math.max(1, vbmfRank(m).rank);
      expect(vbmfFromSpectrum(spectrumOf(m), rows, cols)).toBe(expected);
    }
  });

  it('reads a short spectrum as padded with zeros, and returns at least 1 for pure noise', () => {
    const sv = spectrumOf(lowRankPlusNoise(20, 10, 3, 1e-2, 9));
    const short = sv.slice(0, 6);
    expect(vbmfFromSpectrum(short, 20, 10)).toBe(vbmfFromSpectrum([...short, 0, 0, 0, 0], 20, 10));
    const noise = spectrumOf({ rows: 20, cols: 10, data: gaussianArray(200, 5) });
    expect(vbmfFromSpectrum(noise, 20, 10)).toBeGreaterThanOrEqual(1);
  });
});

describe('spatialRank (K of the (C·kh)×(N·kw) reshape)', () => {
  const [P, Q] = [12, 20];
  const sv = Float64Array.from(spectrumOf(lowRankPlusNoise(P, Q, 3, 0.05, 21)));

  it('follows the spec: fixed K, the energy rule on the spectrum, EVBMF of the reshape', () => {
    expect(spatialRank(sv, { P, Q }, { rank: 5 }, 'c')).toBe(5);
    for (const tau of [0.5, 0.9, 0.999, 1]) expect(spatialRank(sv, { P, Q }, { energy: tau }, 'c')).toBe(energyOracle([...sv], tau));
    expect(spatialRank(sv, { P, Q }, { rankRule: 'vbmf' }, 'c')).toBe(3);
  });

  it('names the layer when τ is out of range', () => {
    expect(() => spatialRank(sv, { P, Q }, { energy: 1.5 }, 'conv_s')).toThrow(/layer "conv_s"/);
  });
});

describe('tucker2Ranks and cpRank name the layer in their errors', () => {
  // Guards against dropping the name on the way to the unfolding and energy helpers.
  const flat: Tensor = { shape: [4, 4], data: new Float32Array(16) };
  const kernel = randomKernel([4, 3, 3, 3], 2);

  it('on a kernel that is not OIHW, and on τ out of range', () => {
    expect(() => tucker2Ranks(flat, { rankRule: 'vbmf' }, 'conv_t')).toThrow(/layer "conv_t"/);
    expect(() => tucker2Ranks(flat, { energy: 0.9 }, 'conv_t')).toThrow(/layer "conv_t"/);
    expect(() => tucker2Ranks(kernel, { energy: 1.5 }, 'conv_t')).toThrow(/layer "conv_t"/);
    expect(() => cpRank(flat, false, { rankRule: 'vbmf' }, 'conv_c')).toThrow(/layer "conv_c"/);
  });

  it('pass fixed ranks through, Tucker-2 capped by N and C', () => {
    expect(tucker2Ranks(kernel, { rank: 10 }, 'k')).toEqual([4, 3]);
    expect(tucker2Ranks(kernel, { rank: 2 }, 'k')).toEqual([2, 2]);
    expect(tucker2Ranks(kernel, { tuckerRanks: [1, 3] }, 'k')).toEqual([1, 3]);
    expect(cpRank(kernel, true, { rank: 7 }, 'k')).toBe(7);
  });
});

describe('cpEnergyRank (CP energy rule on the rotated-slice spectrum)', () => {
  const cases: [string, Tensor, boolean][] = [
    ['3×3, slices by the tap basis', randomKernel([6, 4, 3, 3], 31), false],
    ['3×2, separable row × column basis', randomKernel([5, 7, 3, 2], 32), true],
  ];

  it.each(cases)('%s: the smallest R whose largest slice σ² keep τ, at and just past every step', (_, kernel, separable) => {
    const shares = sliceShares(kernel, separable);
    let cum = 0;
    for (let R = 1; R < shares.length; R++) {
      cum += shares[R - 1];
      if (shares[R] < 1e-6) break;
      expect(cpEnergyRank(kernel, separable, cum - 1e-9, 'k')).toBe(R);
      expect(cpEnergyRank(kernel, separable, cum + 1e-9, 'k')).toBe(R + 1);
      expect(cpRank(kernel, separable, { energy: cum - 1e-9 }, 'k')).toBe(R);
    }
  });

  it('keeps every slice component of a kernel built from 5 of them at τ = 1', () => {
    // W = Σ_t q_t ⊗ S_t over an orthonormal tap basis q_t, with rank(S_t) = 2, 2, 1: 5 components.
    // Every component's u is a different orthonormal vector, so the slices are orthogonal and q_t
    // is the principal filter basis.
    const [N, C, K] = [6, 5, 9];
    const orthonormal = (n: number, seed: number) => {
      const a = new Matrix(Array.from({ length: n }, (_, i) => Array.from(gaussianArray(n, seed + i))));
      return symmetricEigenvectors(a.mmul(a.transpose()));
    };
    const q = orthonormal(K, 40);
    const us = orthonormal(N, 50);
    let component = 0;
    const data = new Float32Array(N * C * K);
    [[3, 2], [1.5, 0.8], [0.4]].forEach((sigmas, t) => {
      sigmas.forEach((s, j) => {
        const u = us[component++];
        const v = gaussianArray(C, 80 + 7 * t + j);
        for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) data[(n * C + c) * K + k] += s * u[n] * v[c] * q[t][k];
      });
    });
    const planted: Tensor = { shape: [N, C, 3, 3], data };
    expect(cpEnergyRank(planted, false, 1, 'k')).toBe(5);
    expect(cpEnergyRank(planted, false, 0.999999, 'k')).toBe(5);
  });

  it('gives 1 for a zero kernel, and rejects τ outside (0, 1] naming the layer', () => {
    const zero: Tensor = { shape: [3, 2, 3, 3], data: new Float32Array(54) };
    expect(cpEnergyRank(zero, false, 0.9, 'k')).toBe(1);
    const kernel = randomKernel([3, 2, 3, 3], 3);
    expect(() => cpEnergyRank(kernel, false, 1, 'k')).not.toThrow(); // τ = 1 is in range
    for (const tau of [0, -0.5, 1.0001, Number.NaN]) {
      expect(() => cpEnergyRank(kernel, false, tau, 'conv_e')).toThrow(/layer "conv_e": energy .* out of range/);
    }
  });
});

describe('ND rank by VBMF and decoupleBySpec', () => {
  it('ndVbmfRank: the channel mean of planted ranks 1, 2, 2, 3, 4 rounds up to 3', () => {
    const kernel = plantedNdKernel(12, 3, [1, 2, 2, 3, 4], 50);
    const full = decouple(kernel, { order: 'dw-pw', rank: 1 });
    expect(ndVbmfRank(full, kernel.shape)).toBe(3);
    expect(decoupleBySpec(kernel, 'dw-pw', { rankRule: 'vbmf' }, 'k').rank).toBe(3);
  });

  it.each(['dw-pw', 'pw-dw'] as const)('%s: ndVbmfRank is ⌈mean⌉ of EVBMF on each channel matrix (N ≠ C ≠ k²)', (order) => {
    for (const seed of [61, 62]) {
      const kernel = randomKernel([10, 6, 3, 3], seed);
      for (let i = 0; i < 6; i++) for (let k = 0; k < 9; k++) kernel.data[i * 9 + k] *= 8; // output channel 0 strong: uneven channel ranks
      const full = decouple(kernel, { order, rank: 1 });
      expect(ndVbmfRank(full, kernel.shape)).toBe(ndVbmfOracle(kernel, order));
    }
  });

  it.each(['dw-pw', 'pw-dw'] as const)('%s: decoupleBySpec keeps a fixed T (also beside τ) and applies the energy rule', (order) => {
    const kernel = randomKernel([7, 5, 3, 3], 70);
    expect(decoupleBySpec(kernel, order, { rank: 2 }, 'k').rank).toBe(2);
    expect(decoupleBySpec(kernel, order, { rank: 2, energy: 0.99 }, 'k').rank).toBe(2);
    const channels = order === 'dw-pw' ? 5 : 7;
    const spectra = Array.from({ length: channels }, (_, ch) => spectrumOf(channelMatrix(kernel, order, ch)));
    for (const tau of [0.6, 0.8, 0.95]) {
      // ND's documented energy: retained σ² share averaged over channels.
      const mean = (T: number) => spectra.reduce((a, sv) => a + energyShare(sv, T), 0) / channels;
      let T = 1;
      while (mean(T) < tau - 1e-12) T++;
      expect(decoupleBySpec(kernel, order, { energy: tau }, 'k').rank).toBe(T);
    }
  });
});
