/**
 * The input statistics every activation-aware method reads (moments.ts) and their Kronecker
 * approximation (kron-moments.ts), against sums written out over the samples and against
 * ml-matrix's Kronecker product: a wrong mean, a dropped centring term or a transposed block here
 * moves every data-aware factor without any decomposition test noticing.
 */
import { describe, expect, it } from 'vitest';
import { Matrix } from 'ml-matrix';

import { partialTraces, whitenKernelKron } from '../../src/decompose/kron-moments.js';
import { covBlock, MomentAccumulator, type CentredMoments } from '../../src/decompose/moments.js';
import { gaussianArray } from '../../src/decompose/random.js';
import { spdMatrix } from './synthetic.js';

const C = 3;
const K = 4;
const F = C * K;
const N = 2;
const ROWS = 50;

/** Correlated, offset features and targets that are not centred, so every centring term matters. */
function samples(rows: number, seed: number) {
  const g = gaussianArray(rows * F, seed);
  const e = gaussianArray(rows * N, seed + 1);
  const x = new Float64Array(rows * F);
  const y = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < F; f++) x[r * F + f] = g[r * F + f] + 0.5 * g[r * F + ((f + 5) % F)] + 0.1 * (f + 1);
    for (let n = 0; n < N; n++) y[r * N + n] = x[r * F + n] * (n + 1) - x[r * F + F - 1] + e[r * N + n] + 2 - n;
  }
  return { x, y };
}

/** The per-sample moments written out: means, E[(a − μa)(b − μb)], E‖y‖². */
function direct(x: Float64Array, y: Float64Array, rows: number) {
  const mean = (v: Float64Array, w: number) => Float64Array.from({ length: w }, (_, j) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += v[r * w + j];
    return s / rows;
  });
  const meanX = mean(x, F);
  const meanY = mean(y, N);
  const co = (a: Float64Array, wa: number, ma: Float64Array, i: number, b: Float64Array, wb: number, mb: Float64Array, j: number) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += (a[r * wa + i] - ma[i]) * (b[r * wb + j] - mb[j]);
    return s / rows;
  };
  const cov = Float64Array.from({ length: F * F }, (_, u) => co(x, F, meanX, Math.floor(u / F), x, F, meanX, u % F));
  const cross = Float64Array.from({ length: F * N }, (_, u) => co(x, F, meanX, Math.floor(u / N), y, N, meanY, u % N));
  let yEnergy = 0;
  for (let i = 0; i < rows * N; i++) yEnergy += y[i] ** 2 / rows;
  let yVar = 0;
  for (let n = 0; n < N; n++) yVar += co(y, N, meanY, n, y, N, meanY, n);
  return { meanX, meanY, cov, cross, yEnergy, yVar };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, digits = 10) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], digits);
}

/** Feeds the samples in the given batch sizes. */
function accumulate(x: Float64Array, y: Float64Array | null, batches: number[], opts: { outputs?: number; maxFullBytes?: number } = {}) {
  const acc = new MomentAccumulator({ channels: C, taps: K, outputs: opts.outputs ?? N, maxFullBytes: opts.maxFullBytes });
  let r0 = 0;
  for (const rows of batches) {
    const nOut = opts.outputs ?? N;
    acc.add(x.subarray(r0 * F, (r0 + rows) * F), y ? y.subarray(r0 * nOut, (r0 + rows) * nOut) : null, rows);
    r0 += rows;
  }
  return acc;
}

describe('MomentAccumulator', () => {
  const { x, y } = samples(ROWS, 1);
  const want = direct(x, y, ROWS);

  it('full form: every entry of the centred moments equals the sums over the samples, in any batching', () => {
    // Guards: a dropped μxμxᵀ / μxμyᵀ term, a mean over the wrong count, the lower triangle not mirrored.
    for (const batches of [[ROWS], [7, 0, 30, 13], [1, 49]]) {
      const m = accumulate(x, y, batches).centred();
      expect(m.form).toBe('full');
      expect(m.count).toBe(ROWS);
      expectClose(m.meanX, want.meanX);
      expectClose(m.meanY, want.meanY);
      expectClose(m.cov, want.cov);
      expectClose(m.cross, want.cross);
      expect(m.yEnergy).toBeCloseTo(want.yEnergy, 10);
      expect(m.yVar).toBeCloseTo(want.yVar, 10);
      expect([m.channels, m.taps, m.outputs]).toEqual([C, K, N]);
    }
  });

  it('switches to per-channel blocks exactly above maxFullBytes, and the blocks are the full covariance\'s diagonal blocks', () => {
    // Guards: the size test's comparison, block offsets, and the statistics the block form still keeps whole.
    expect(accumulate(x, y, [ROWS], { maxFullBytes: F * F * 8 }).form).toBe('full');
    const acc = accumulate(x, y, [20, 30], { maxFullBytes: F * F * 8 - 1 });
    expect(acc.form).toBe('blocks');
    const m = acc.centred();
    expect(m.cov.length).toBe(C * K * K);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) expect(m.cov[c * K * K + i * K + j]).toBeCloseTo(want.cov[(c * K + i) * F + c * K + j], 10);
    }
    expectClose(m.cross, want.cross);
    expectClose(m.meanX, want.meanX);
    expect(m.yVar).toBeCloseTo(want.yVar, 10);
  });

  it('reports the bytes it holds: the packed upper triangle, or C blocks of K×K, plus sums and cross products', () => {
    const rest = F * N + F + N;
    expect(accumulate(x, y, [ROWS]).bytes).toBe(((F * (F + 1)) / 2 + rest) * 8);
    expect(accumulate(x, y, [ROWS], { maxFullBytes: 8 }).bytes).toBe((C * K * K + rest) * 8);
  });

  it('input statistics only (outputs = 0): y may be null and the cross-covariance is empty', () => {
    const m = accumulate(x, null, [ROWS], { outputs: 0 }).centred();
    expectClose(m.cov, want.cov);
    expect(m.cross.length).toBe(0);
    expect([m.outputs, m.yVar, m.yEnergy]).toEqual([0, 0, 0]);
  });

  it('with no samples the moments are zeros, not NaN', () => {
    const m = new MomentAccumulator({ channels: C, taps: K, outputs: N }).centred();
    expect(m.count).toBe(0);
    for (const v of [...m.cov, ...m.cross, ...m.meanX, ...m.meanY, m.yVar, m.yEnergy]) expect(v).toBe(0);
  });

  it('a constant target has zero variance (never a negative one from rounding)', () => {
    const yc = new Float64Array(ROWS * N).fill(0.1);
    const m = accumulate(x, yc, [ROWS]).centred();
    expect(m.yVar).toBeGreaterThanOrEqual(0);
    expect(m.yVar).toBeLessThan(1e-12);
    expect(m.yEnergy).toBeCloseTo(N * 0.01, 12);
  });

  it('products computed elsewhere (addProducts) give the same moments as the samples themselves', () => {
    // Guards: the packed store reading the wrong triangle, the sums of x and y, the row count.
    const acc = new MomentAccumulator({ channels: C, taps: K, outputs: N });
    for (const [r0, rows] of [[0, 20], [20, 30]]) {
      const xs = x.subarray(r0 * F, (r0 + rows) * F);
      const ys = y.subarray(r0 * N, (r0 + rows) * N);
      const xx = new Float64Array(F * F);
      const xy = new Float64Array(F * N);
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < F; i++) {
          for (let j = 0; j < F; j++) xx[i * F + j] += xs[r * F + i] * xs[r * F + j];
          for (let n = 0; n < N; n++) xy[i * N + n] += xs[r * F + i] * ys[r * N + n];
        }
      }
      acc.addProducts({ x: xs, y: ys, rows, xx, xy });
    }
    const m = acc.centred();
    expect(m.count).toBe(ROWS);
    expectClose(m.cov, want.cov);
    expectClose(m.cross, want.cross);
    expectClose(m.meanY, want.meanY);
    expect(m.yEnergy).toBeCloseTo(want.yEnergy, 10);
  });

  it('refuses batches that do not fit its shape, in one line that gives the sizes', () => {
    const acc = new MomentAccumulator({ channels: C, taps: K, outputs: N });
    expect(() => acc.add(new Float64Array(F * 2 - 1), new Float64Array(2 * N), 2)).toThrow(`moments: got ${F * 2 - 1}/${2 * N} values for 2 rows of ${F} features → ${N} outputs`);
    expect(() => acc.add(new Float64Array(F * 2), new Float64Array(2 * N + 1), 2)).toThrow(/values for 2 rows/);
    expect(() => acc.add(new Float64Array(F * 2), null, 2)).toThrow(`moments: got ${F * 2}/0 values`);
    const xx = new Float64Array(F * F);
    const ok = { x: new Float64Array(F), y: new Float64Array(N), rows: 1, xx, xy: new Float64Array(F * N) };
    expect(() => acc.addProducts({ ...ok, xx: new Float64Array(F * F - 1) })).toThrow(`moments: products do not fit 1 rows of ${F} features → ${N} outputs`);
    expect(() => acc.addProducts({ ...ok, x: new Float64Array(F + 1) })).toThrow(/products do not fit/);
    expect(() => acc.addProducts({ ...ok, xy: null })).toThrow(/products do not fit/);
    expect(() => acc.addProducts({ ...ok, xy: new Float64Array(F * N - 1) })).toThrow(/products do not fit/);
    expect(() => acc.addProducts({ ...ok, y: null })).toThrow(/products do not fit/);
    expect(() => acc.addProducts({ ...ok, y: new Float64Array(N + 1) })).toThrow(/products do not fit/);
    expect(acc.count).toBe(0);
    const blocks = new MomentAccumulator({ channels: C, taps: K, outputs: N, maxFullBytes: 8 });
    expect(() => blocks.addProducts(ok)).toThrow('moments: products can only be added to the full form');
  });
});

describe('covBlock', () => {
  const { x, y } = samples(ROWS, 2);
  const want = direct(x, y, ROWS);

  it('returns the (c, c′) K×K block of the full covariance, off-diagonal blocks included', () => {
    const m = accumulate(x, y, [ROWS]).centred();
    for (const [c, c2] of [[0, 0], [0, 2], [2, 1]]) {
      const b = covBlock(m, c, c2);
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) expect(b[i * K + j]).toBeCloseTo(want.cov[(c * K + i) * F + c2 * K + j], 10);
    }
  });

  it('in the per-channel form: the kept block on the diagonal, zeros off it', () => {
    const m = accumulate(x, y, [ROWS], { maxFullBytes: 8 }).centred();
    const b = covBlock(m, 1, 1);
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) expect(b[i * K + j]).toBeCloseTo(want.cov[(K + i) * F + K + j], 10);
    expect([...covBlock(m, 1, 2)].every((v) => v === 0)).toBe(true);
  });
});

/** A covariance in the full form with the given channels/taps. */
function fullMoments(cov: Matrix, channels: number, taps: number): Pick<CentredMoments, 'channels' | 'taps' | 'form' | 'cov'> {
  return { channels, taps, form: 'full', cov: Float64Array.from(cov.to1DArray()) };
}

describe('partialTraces', () => {
  it('recovers the factors of an exact Kronecker covariance: A·tr(B) and B·tr(A)', () => {
    // Tucker-2's split (a = channel, b = tap) and the spatial one (a = (channel, row), b = column).
    for (const [channels, taps, nb] of [[3, 4, 4], [2, 6, 3], [4, 2, 1]]) {
      const na = (channels * taps) / nb;
      const A = spdMatrix(na, 10 + nb);
      const B = spdMatrix(nb, 20 + nb);
      const got = partialTraces(fullMoments(A.kroneckerProduct(B), channels, taps), nb);
      expect(got.na).toBe(na);
      // ml-matrix's mul scales in place: clone first.
      expectClose(got.a, A.clone().mul(B.trace()).to1DArray(), 8);
      expectClose(got.b, B.clone().mul(A.trace()).to1DArray(), 8);
    }
  });

  it('on any covariance: each entry is the written-out partial trace', () => {
    const { x, y } = samples(ROWS, 3);
    const m = accumulate(x, y, [ROWS]).centred();
    const nb = 2;
    const na = F / nb;
    const { a, b } = partialTraces(m, nb);
    for (const [i, j] of [[0, 0], [1, 4], [5, 2], [na - 1, na - 1]]) {
      let s = 0;
      for (let q = 0; q < nb; q++) s += m.cov[(i * nb + q) * F + j * nb + q];
      expect(a[i * na + j]).toBeCloseTo(s, 10);
    }
    for (const [i, j] of [[0, 1], [1, 0], [1, 1]]) {
      let s = 0;
      for (let p = 0; p < na; p++) s += m.cov[(p * nb + i) * F + p * nb + j];
      expect(b[i * nb + j]).toBeCloseTo(s, 10);
    }
  });

  it('in the per-channel form: the partial traces of the full covariance with its cross-channel blocks zeroed', () => {
    const { x, y } = samples(ROWS, 4);
    const full = accumulate(x, y, [ROWS]).centred();
    const masked = full.cov.map((v, u) => (Math.floor(Math.floor(u / F) / K) === Math.floor((u % F) / K) ? v : 0));
    const blocks = accumulate(x, y, [ROWS], { maxFullBytes: 8 }).centred();
    for (const nb of [K, 2]) {
      const want = partialTraces({ ...full, cov: masked }, nb);
      const got = partialTraces(blocks, nb);
      expectClose(got.a, want.a);
      expectClose(got.b, want.b);
    }
  });

  it('refuses an inner size that does not divide the taps', () => {
    expect(() => partialTraces(fullMoments(spdMatrix(F, 1), C, K), 3)).toThrow('partialTraces: 3 inner features do not divide 4 taps');
    expect(() => partialTraces(fullMoments(spdMatrix(6, 1), 2, 3), 2)).toThrow('partialTraces: 2 inner features do not divide 3 taps');
  });
});

describe('whitenKernelKron', () => {
  // Non-symmetric S_A and S_B so a transposed index cannot pass; a kernel with zeros in it.
  const dims = { N: 2, C: 3, K: 4 };
  const kernel = gaussianArray(dims.N * dims.C * dims.K, 5).map((v, i) => (i % 5 === 0 ? 0 : v));
  const sa = Matrix.from1DArray(dims.C, dims.C, Array.from(gaussianArray(dims.C ** 2, 6)));
  const sb = Matrix.from1DArray(dims.K, dims.K, Array.from(gaussianArray(dims.K ** 2, 7)));
  const w = Matrix.from1DArray(dims.N, dims.C * dims.K, Array.from(kernel));

  it('is W (S_A ⊗ S_B), with W as N×(C·K): ml-matrix\'s Kronecker product as the oracle', () => {
    const got = whitenKernelKron(kernel, dims, Float64Array.from(sa.to1DArray()), Float64Array.from(sb.to1DArray()));
    expectClose(got, w.mmul(sa.kroneckerProduct(sb)).to1DArray(), 5);
  });

  it('with no tap factor it whitens the channels only: W (S_A ⊗ I)', () => {
    const got = whitenKernelKron(kernel, dims, Float64Array.from(sa.to1DArray()), null);
    expectClose(got, w.mmul(sa.kroneckerProduct(Matrix.eye(dims.K, dims.K))).to1DArray(), 5);
  });
});
