import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';

import { cholesky, gemmNT, gramRows, solveRowsCholesky } from '../../src/decompose/linalg.js';
import { mulberry32 } from '../../src/decompose/random.js';
import { symEig } from '../../src/decompose/symeig.js';

function uniform(n: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => r() - 0.5);
}

/** max |G·v − λ·v| / max|G| over the returned pairs and max |VVᵀ − I|. */
function eigQuality(g: Float64Array, n: number, count: number) {
  const { values, vectors } = symEig(g, n, { count });
  let scale = 0;
  for (const x of g) scale = Math.max(scale, Math.abs(x));
  let residual = 0;
  let orth = 0;
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < n; i++) {
      let x = 0;
      for (let j = 0; j < n; j++) x += g[i * n + j] * vectors[s * n + j];
      residual = Math.max(residual, Math.abs(x - values[s] * vectors[s * n + i]));
    }
    for (let u = 0; u <= s; u++) {
      let x = 0;
      for (let j = 0; j < n; j++) x += vectors[u * n + j] * vectors[s * n + j];
      orth = Math.max(orth, Math.abs(x - (u === s ? 1 : 0)));
    }
  }
  const ref = new EigenvalueDecomposition(
    new Matrix(Array.from({ length: n }, (_, i) => Array.from(g.subarray(i * n, (i + 1) * n)))),
    { assumeSymmetric: true },
  ).realEigenvalues.sort((a, b) => b - a);
  let valueErr = 0;
  for (let i = 0; i < n; i++) valueErr = Math.max(valueErr, Math.abs(ref[i] - values[i]));
  const rel = (x: number) => (scale ? x / scale : x);
  return { residual: rel(residual), orth, valueErr: rel(valueErr), values };
}

describe('symEig', () => {
  const cases: [string, () => { g: Float64Array; n: number }][] = [
    ['1×1', () => ({ g: Float64Array.of(3), n: 1 })],
    ['random 37×37 Gram', () => ({ g: gramRows(uniform(37 * 40, 1), 37, 40), n: 37 })],
    ['rank-5 Gram (many zero eigenvalues)', () => ({ g: gramRows(uniform(80 * 5, 2), 80, 5), n: 80 })],
    ['diagonal with repeated values', () => {
      const n = 40;
      const g = new Float64Array(n * n);
      for (let i = 0; i < n; i++) g[i * n + i] = [3, 3, 3, 1, 0][i % 5];
      return { g, n };
    }],
    ['identity + rank 3', () => {
      const n = 30;
      const g = gramRows(uniform(n * 3, 3), n, 3);
      for (let i = 0; i < n; i++) g[i * n + i] += 1;
      return { g, n };
    }],
    ['1D Laplacian (clustered spectrum)', () => {
      const n = 120;
      const g = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        g[i * n + i] = 2;
        if (i + 1 < n) g[i * n + i + 1] = g[(i + 1) * n + i] = -1;
      }
      return { g, n };
    }],
    ['tiny scale (1e-30)', () => {
      const g = gramRows(uniform(50 * 60, 4), 50, 60).map((x) => x * 1e-30);
      return { g, n: 50 };
    }],
  ];
  for (const [name, make] of cases) {
    it(`decomposes ${name}: small residuals, orthonormal vectors, values as ml-matrix`, () => {
      const { g, n } = make();
      const q = eigQuality(g, n, n);
      expect(q.residual).toBeLessThan(1e-12);
      expect(q.orth).toBeLessThan(1e-9);
      expect(q.valueErr).toBeLessThan(1e-12);
      for (let i = 1; i < n; i++) expect(q.values[i]).toBeLessThanOrEqual(q.values[i - 1]);
    });
  }

  it('returns only the leading `count` vectors, identical to the full run', () => {
    const g = gramRows(uniform(60 * 70, 5), 60, 70);
    const full = symEig(g, 60);
    const part = symEig(g, 60, { count: 7 });
    expect(part.vectors.length).toBe(7 * 60);
    for (let i = 0; i < 7 * 60; i++) expect(part.vectors[i]).toBeCloseTo(full.vectors[i], 10);
  });

  it('throws on NaN', () => {
    expect(() => symEig(Float64Array.of(1, NaN, NaN, 1), 2)).toThrow(/NaN/);
  });
});

describe('gemmNT / Cholesky', () => {
  it('gemmNT matches the naive product on strided sub-blocks, with alpha and accumulate', () => {
    const a = uniform(9 * 11, 6);
    const b = uniform(8 * 11, 7);
    const c = uniform(7 * 9, 8);
    const before = c.slice();
    // c[1.., 2..] (5×6, ldc 9) += −2 · a[2.., 1..] (5×4, lda 11) · b[1.., 3..]ᵀ (6×4, ldb 11)
    gemmNT(a.subarray(2 * 11 + 1), b.subarray(11 + 3), c.subarray(9 + 2), {
      ...{ m: 5, n: 6, k: 4 },
      ...{ lda: 11, ldb: 11, ldc: 9 },
      ...{ alpha: -2, accumulate: true },
    });
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 9; j++) {
        let expected = before[i * 9 + j];
        if (i >= 1 && i < 6 && j >= 2 && j < 8) {
          let s = 0;
          for (let p = 0; p < 4; p++) s += a[(i + 1) * 11 + 1 + p] * b[(j - 1) * 11 + 3 + p];
          expected += -2 * s;
        }
        expect(c[i * 9 + j]).toBeCloseTo(expected, 12);
      }
    }
  });

  it('solves x·H = m through the blocked Cholesky factor, for sizes around the block size', () => {
    for (const n of [1, 5, 47, 48, 49, 100]) {
      const h = gramRows(uniform(n * (n + 10), n), n, n + 10);
      const x = uniform(6 * n, n + 1);
      const m = new Float64Array(6 * n);
      gemmNT(x, h, m, { m: 6, n, k: n });
      const chol = cholesky(h, n, 0);
      expect(chol).not.toBeNull();
      solveRowsCholesky(chol!, m, 6, n);
      for (let i = 0; i < 6 * n; i++) expect(m[i]).toBeCloseTo(x[i], 6);
    }
  });

  it('reports a non-positive-definite matrix as null', () => {
    expect(cholesky(Float64Array.of(1, 2, 2, 1), 2, 0)).toBeNull();
  });
});
