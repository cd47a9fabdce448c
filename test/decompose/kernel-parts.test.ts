/**
 * The numeric kernels the decompositions stand on, each against an independent oracle: naive loops,
 * ml-matrix (SVD, solve, eigenvalues), brute force over permutations, hand-derived index formulas.
 * Everything above them inherits their mistakes, and most of their branches (non-9 tap counts,
 * blocked solves past one block, the ridge escalation, messages) are not reached by the methods'
 * own tests.
 */
import { describe, expect, it } from 'vitest';
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition, solve } from 'ml-matrix';

import { minCostAssignment } from '../../src/decompose/assignment.js';
import { checkKernel, checkRank, describe as subject, frobenius, permuted, toTensor, type KernelOrder } from '../../src/decompose/kernel64.js';
import { gramRows, solveSpdRows, spdRowSolver, sumSquares, transpose } from '../../src/decompose/linalg.js';
import { gaussianArray, mulberry32 } from '../../src/decompose/random.js';
import { batchedNarrowSvd, expandComponents, projectOntoComponents, type StridedBatch } from '../../src/decompose/svd.js';
import { symEig, symEigSolver } from '../../src/decompose/symeig.js';
import { numel, relFrobeniusError } from '../../src/decompose/tensor.js';

const uniform = (n: number, seed: number) => {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => r() - 0.5);
};
const toMatrix = (a: ArrayLike<number>, rows: number, cols: number) => Matrix.from1DArray(rows, cols, Array.from(a));

describe('tensor.ts', () => {
  it('numel is the product of the shape, 1 for a scalar', () => {
    expect(numel([])).toBe(1);
    expect(numel([3, 4, 5])).toBe(60);
    expect(numel([2, 0, 7])).toBe(0);
  });

  it('relFrobeniusError is ‖a − b‖/‖a‖; a zero reference gives 0 or Infinity, never NaN', () => {
    const a = { shape: [2, 2], data: Float32Array.of(3, 0, 0, 4) };
    const b = { shape: [2, 2], data: Float32Array.of(3, 1, 0, 4) };
    expect(relFrobeniusError(a, b)).toBeCloseTo(1 / 5, 12);
    expect(relFrobeniusError(b, b)).toBe(0);
    const zero = { shape: [2, 2], data: new Float32Array(4) };
    expect(relFrobeniusError(zero, zero)).toBe(0);
    expect(relFrobeniusError(zero, a)).toBe(Infinity);
  });

  it('relFrobeniusError refuses different shapes or lengths, naming them', () => {
    const a = { shape: [2, 3], data: new Float32Array(6) };
    expect(() => relFrobeniusError(a, { shape: [3, 2], data: new Float32Array(6) })).toThrow('relFrobeniusError: shapes differ, [2, 3] vs [3, 2]; compare tensors of the same shape');
    expect(() => relFrobeniusError(a, { shape: [2], data: new Float32Array(6) })).toThrow('shapes differ, [2, 3] vs [2]');
    expect(() => relFrobeniusError(a, { shape: [2, 3], data: new Float32Array(5) })).toThrow('relFrobeniusError: data lengths differ (6 vs 5)');
  });
});

describe('random.ts', () => {
  it('mulberry32: same seed, same sequence; uniform on [0, 1) with the moments of U(0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const n = 100_000;
    let sum = 0;
    let sq = 0;
    let same = 0;
    let differ = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const x = a();
      if (x !== b()) differ++;
      if (x === c()) same++;
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
      sq += x * x;
    }
    expect([differ, outside]).toEqual([0, 0]);
    expect(same).toBeLessThan(5);
    // Mean 1/2 ± 5σ (σ = 1/√(12n)), E[x²] = 1/3 ± 5σ (σ = √(4/45 / n)).
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(5 / Math.sqrt(12 * n));
    expect(Math.abs(sq / n - 1 / 3)).toBeLessThan(5 * Math.sqrt(4 / 45 / n));
  });

  it('gaussianArray: seeded, N(0, std²) moments, odd lengths filled to the end', () => {
    const n = 100_001;
    const x = gaussianArray(n, 7, 3);
    expect(Array.from(gaussianArray(n, 7, 3))).toEqual(Array.from(x));
    let sum = 0;
    let sq = 0;
    for (const v of x) {
      sum += v;
      sq += v * v;
    }
    expect(Math.abs(sum / n)).toBeLessThan((5 * 3) / Math.sqrt(n));
    expect(Math.abs(sq / n - 9)).toBeLessThan(5 * 9 * Math.sqrt(2 / n));
    expect(x[n - 1]).not.toBe(0);
    expect(x.every(Number.isFinite)).toBe(true);
    // Box–Muller pairs share a radius drawn from one uniform: the first pair's is √(−2 ln(1 − u₁))·std.
    const u = mulberry32(7)();
    expect(Math.hypot(x[0], x[1])).toBeCloseTo(Math.sqrt(-2 * Math.log(1 - u)) * 3, 5);
  });
});

describe('minCostAssignment', () => {
  function* permutations(n: number): Generator<number[]> {
    if (n === 0) return yield [];
    for (const p of permutations(n - 1)) for (let i = 0; i < n; i++) yield [...p.slice(0, i), n - 1, ...p.slice(i)];
  }
  const costOf = (cost: Float64Array, n: number, cols: ArrayLike<number>) => Array.from(cols).reduce((s, c, r) => s + cost[r * n + c], 0);

  it('is a permutation of minimal total cost (brute force over all n!, n ≤ 6, negative costs and ties included)', () => {
    for (let n = 1; n <= 6; n++) {
      for (let seed = 0; seed < 4; seed++) {
        const r = mulberry32(100 * n + seed);
        const cost = Float64Array.from({ length: n * n }, () => (seed === 3 ? Math.floor(r() * 3) : r() * 10 - 5));
        const got = minCostAssignment(cost, n);
        expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        let best = Infinity;
        for (const p of permutations(n)) best = Math.min(best, costOf(cost, n, p));
        expect(costOf(cost, n, got)).toBeCloseTo(best, 10);
      }
    }
  });

  it('refuses a cost count that is not n², or a non-finite cost', () => {
    expect(() => minCostAssignment(new Float64Array(5), 2)).toThrow('assignment: 5 costs for a 2×2 matrix');
    expect(() => minCostAssignment(Float64Array.of(1, Number.NaN, 0, 1), 2)).toThrow('assignment: every cost must be finite');
    expect(() => minCostAssignment(Float64Array.of(1, Infinity, 0, 1), 2)).toThrow('assignment: every cost must be finite');
  });
});

describe('kernel64.ts', () => {
  const kernel = { shape: [2, 3, 2, 2], data: Float32Array.from({ length: 24 }, (_, i) => i - 7) };

  it('checkKernel returns the dimensions, and names the layer and the fix for a bad kernel', () => {
    expect(checkKernel(kernel, 'c1')).toEqual({ N: 2, C: 3, kh: 2, kw: 2, K: 4 });
    expect(subject(undefined)).toBe('kernel');
    expect(subject('c1')).toBe('layer "c1"');
    for (const shape of [[2, 3, 2], [2, 3, 0, 2], [2, 3, 1.5, 2], [2, 3, 2, 2, 1]]) {
      expect(() => checkKernel({ shape, data: new Float32Array(24) }, 'c1')).toThrow(`layer "c1": kernel shape [${shape}] must be OIHW [N, C, kh, kw] with positive integers`);
    }
    expect(() => checkKernel({ shape: [2, 3, 2, 2], data: new Float32Array(23) }, undefined)).toThrow('kernel: kernel data has 23 values, shape [2, 3, 2, 2] needs 24');
    expect(() => checkKernel({ shape: [2, 3, 2, 2], data: new Float64Array(24) as unknown as Float32Array }, 'c1')).toThrow(/kernel data has 24 values/);
    // Index 17 = n 1, c 1, i 0, j 1 (17 = 1·12 + 1·4 + 0·2 + 1).
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const data = kernel.data.slice();
      data[17] = bad;
      expect(() => checkKernel({ shape: kernel.shape, data }, 'c1')).toThrow(`layer "c1": kernel value ${bad} at [n, c, i, j] = [1, 1, 0, 1] is not finite; fix or re-export the weights before decomposing`);
    }
  });

  it('permuted puts W[n, c, k]·scale at the stride of each letter, slowest first', () => {
    const dims = checkKernel(kernel, undefined);
    const { N, C, K } = dims;
    const at: Record<KernelOrder, (n: number, c: number, k: number) => number> = {
      knc: (n, c, k) => (k * N + n) * C + c,
      kcn: (n, c, k) => (k * C + c) * N + n,
      nkc: (n, c, k) => (n * K + k) * C + c,
      ckn: (n, c, k) => (c * K + k) * N + n,
    };
    for (const order of Object.keys(at) as KernelOrder[]) {
      const out = permuted(kernel, dims, order, 0.5);
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) expect(out[at[order](n, c, k)]).toBe(kernel.data[(n * C + c) * K + k] * 0.5);
    }
  });

  it('toTensor, frobenius and checkRank', () => {
    expect(toTensor([3], [1, 2, 3], 2)).toEqual({ shape: [3], data: Float32Array.of(2, 4, 6) });
    expect(toTensor([2], [1.5, -1])).toEqual({ shape: [2], data: Float32Array.of(1.5, -1) });
    expect(frobenius({ shape: [2], data: Float32Array.of(3, 4) })).toBe(5);
    expect(checkRank(4, 4, 'layer "c1"', 'C·K')).toBe(4);
    expect(() => checkRank(5, 4, 'layer "c1"', 'C·K')).toThrow('layer "c1": rank 5 exceeds C·K = 4');
    for (const bad of [0, -1, 1.5, '2', undefined]) expect(() => checkRank(bad, 4, 'layer "c1"', 'C·K')).toThrow(`layer "c1": rank ${String(bad)} must be a positive integer`);
  });
});

describe('linalg.ts helpers', () => {
  it('transpose and sumSquares', () => {
    const a = Float64Array.of(1, 2, 3, 4, 5, 6);
    expect(Array.from(transpose(a, 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(transpose(a, 3, 2))).toEqual([1, 3, 5, 2, 4, 6]);
    expect(sumSquares(a)).toBe(91);
  });

  it('gramRows is a·aᵀ, exactly symmetric, for every row count around the 4×2 block and into a given buffer', () => {
    for (let m = 1; m <= 9; m++) {
      for (const k of [0, 1, 5]) {
        const a = uniform(m * k, 10 * m + k);
        const buf = new Float64Array(m * m).fill(7);
        const g = gramRows(a, m, k, buf);
        expect(g).toBe(buf);
        const want = toMatrix(a, m, k).mmul(toMatrix(a, m, k).transpose());
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < m; j++) {
            expect(g[i * m + j]).toBeCloseTo(k ? want.get(i, j) : 0, 12);
            expect(g[i * m + j]).toBe(g[j * m + i]);
          }
        }
      }
    }
  });

  it('spdRowSolver / solveSpdRows solve x·(H + ρI) = m on every row, past one Cholesky block', () => {
    for (const n of [3, 50, 97]) {
      const h = gramRows(uniform(n * (n + 5), n), n, n + 5);
      const rows = 3;
      const m = uniform(rows * n, n + 1);
      const H = toMatrix(h, n, n);
      const trace = H.trace();
      for (const rel of [0, 1e-2]) {
        const x = m.slice();
        expect(solveSpdRows(h, n, x, rows, rel)).toBe(true);
        const want = solve(H.clone().add(Matrix.eye(n, n).mul((rel * trace) / n)), toMatrix(m, rows, n).transpose()).transpose();
        for (let i = 0; i < rows * n; i++) expect(x[i]).toBeCloseTo(want.get(Math.floor(i / n), i % n), 6);
      }
    }
  });

  it('raises the ridge 1000-fold until H + ρI factors, and gives up on no trace, a non-finite one or eight failures', () => {
    // Eigenvalues 2, −0.5 (trace 1.5): ρ₀ = 1e-6·1.5/2 = 7.5e-7; ×1e3² = 0.75 is the first above 0.5.
    const q = Math.SQRT1_2;
    const h = Float64Array.of(2 * q * q - 0.5 * q * q, 2 * q * q + 0.5 * q * q, 2 * q * q + 0.5 * q * q, 2 * q * q - 0.5 * q * q);
    const solver = spdRowSolver(h, 2, 1e-6);
    expect(solver).not.toBeNull();
    const x = Float64Array.of(1, 2);
    solver!(x, 1);
    const want = solve(toMatrix(h, 2, 2).add(Matrix.eye(2, 2).mul(0.75)), toMatrix([1, 2], 2, 1));
    expect(x[0]).toBeCloseTo(want.get(0, 0), 10);
    expect(x[1]).toBeCloseTo(want.get(1, 0), 10);
    expect(spdRowSolver(new Float64Array(4), 2, 1e-6)).toBeNull();
    expect(spdRowSolver(Float64Array.of(-1, 0, 0, -1), 2, 1e-6)).toBeNull();
    expect(spdRowSolver(Float64Array.of(Infinity, 0, 0, 1), 2, 1e-6)).toBeNull();
    // Trace 1, ρ₀ = 1e-22: the eighth try (×1e3⁷) reaches 0.1, short of the eigenvalue −1; a ninth would pass.
    expect(spdRowSolver(Float64Array.of(2, 0, 0, -1), 2, 2e-22)).toBeNull();
    expect(solveSpdRows(Float64Array.of(2, 0, 0, -1), 2, Float64Array.of(1, 1), 1, 2e-22)).toBe(false);
    expect(spdRowSolver(Float64Array.of(2, 0, 0, -1), 2, 2e-19)).not.toBeNull();
  });
});

describe('symEig beyond the PSD cases', () => {
  const symmetric = (n: number, seed: number) => {
    const a = uniform(n * n, seed);
    return Float64Array.from({ length: n * n }, (_, u) => a[u] + a[(u % n) * n + Math.floor(u / n)]);
  };

  it('indefinite and huge-scale matrices: values as ml-matrix, descending; G v = λ v; largest entry of each vector positive', () => {
    for (const [n, scale, seed] of [[7, 1, 1], [33, 1e30, 2], [5, -1, 3]]) {
      const g = symmetric(n, seed).map((v) => v * scale);
      const { values, vectors } = symEig(g, n);
      const ref = new EigenvalueDecomposition(toMatrix(g, n, n), { assumeSymmetric: true }).realEigenvalues.sort((a, b) => b - a);
      const top = Math.max(...ref.map(Math.abs));
      for (let i = 0; i < n; i++) expect(Math.abs(values[i] - ref[i])).toBeLessThan(1e-12 * top);
      for (let t = 0; t < n; t++) {
        const v = vectors.subarray(t * n, (t + 1) * n);
        let big = 0;
        for (let i = 0; i < n; i++) {
          let gv = 0;
          for (let j = 0; j < n; j++) gv += g[i * n + j] * v[j];
          expect(Math.abs(gv - values[t] * v[i])).toBeLessThan(1e-11 * top);
          if (Math.abs(v[i]) > Math.abs(big)) big = v[i];
        }
        expect(big).toBeGreaterThan(0);
      }
    }
  });

  it('count is clamped to 0..n and floored; the solver\'s lazy vectors equal the eager ones byte for byte', () => {
    const g = symmetric(6, 4);
    const full = symEig(g, 6);
    expect(symEig(g, 6, { count: -2 }).vectors.length).toBe(0);
    expect(symEig(g, 6, { count: 9 }).count).toBe(6);
    const solver = symEigSolver(g, 6);
    expect(Array.from(solver.values)).toEqual(Array.from(full.values));
    expect(Array.from(solver.vectors(2.7))).toEqual(Array.from(full.vectors.subarray(0, 12)));
    expect(Array.from(symEig(g, 6).vectors)).toEqual(Array.from(full.vectors));
  });

  it('the zero matrix: zero values and the identity\'s leading rows as vectors', () => {
    const solver = symEigSolver(new Float64Array(9), 3);
    expect(Array.from(solver.values)).toEqual([0, 0, 0]);
    expect(Array.from(solver.vectors(2))).toEqual([1, 0, 0, 0, 1, 0]);
    expect(solver.vectors(-1).length).toBe(0);
    expect(solver.vectors(5.5).length).toBe(9);
  });
});

describe('svd.ts: batched thin SVDs of narrow matrices', () => {
  /** G groups of R×K matrices in either ND layout: groups outer (pw-dw) or rows outer (dw-pw). */
  function batch(G: number, R: number, K: number, groupsOuter: boolean, seed: number): StridedBatch {
    const data = Float32Array.from(uniform(G * R * K, seed));
    return groupsOuter ? { data, groups: G, rows: R, cols: K, groupStride: R * K, rowStride: K } : { data, groups: G, rows: R, cols: K, groupStride: K, rowStride: G * K };
  }
  const matrixOf = (b: StridedBatch, g: number) => {
    const m = new Matrix(b.rows, b.cols);
    for (let r = 0; r < b.rows; r++) for (let p = 0; p < b.cols; p++) m.set(r, p, b.data[g * b.groupStride + r * b.rowStride + p]);
    return m;
  };

  it('σ as ml-matrix\'s SVD, orthonormal v with M·v_t of norm σ_t, zero padding past min(R, K), both layouts, K = 9 and not', () => {
    for (const [G, R, K, outer] of [[3, 5, 9, true], [2, 12, 9, false], [3, 4, 6, false], [2, 3, 4, true], [4, 1, 9, false]] as const) {
      const b = batch(G, R, K, outer, G * 100 + R * 10 + K);
      const svds = batchedNarrowSvd(b);
      expect(svds.length).toBe(G);
      for (let g = 0; g < G; g++) {
        const m = matrixOf(b, g);
        const ref = new SingularValueDecomposition(m, { autoTranspose: true }).diagonal;
        const { v, sigma } = svds[g];
        const rank = Math.min(R, K);
        for (let t = 0; t < K; t++) {
          if (t >= rank) {
            expect(sigma[t]).toBe(0);
            expect(v.subarray(t * K, (t + 1) * K).every((x) => x === 0)).toBe(true);
            continue;
          }
          expect(sigma[t]).toBeCloseTo(ref[t], 6);
          const vt = toMatrix(v.subarray(t * K, (t + 1) * K), K, 1);
          expect(vt.norm()).toBeCloseTo(1, 10);
          expect(m.mmul(vt).norm()).toBeCloseTo(sigma[t], 6);
          let big = 0;
          for (const x of vt.to1DArray()) if (Math.abs(x) > Math.abs(big)) big = x;
          expect(big).toBeGreaterThan(0);
        }
      }
    }
  });

  it('small singular values match ml-matrix\'s SVD of the same float32 matrix to 1e-9 relative, far below what the Gram resolves', () => {
    // M = U diag(1, 1e-3, 3e-6, 1e-6) Vᵀ with random orthogonal U, V: through the Gram, σ = 1e-6
    // would carry an error of ~eps·σ₁²/σ ≈ 1e-10, i.e. 1e-4 relative; recomputed as ‖M v‖ it does not.
    const [R, K] = [6, 4];
    const q = (n: number, seed: number) => new SingularValueDecomposition(toMatrix(uniform(n * n, seed), n, n)).leftSingularVectors;
    const m = q(R, 1).subMatrix(0, R - 1, 0, K - 1).mmul(Matrix.diag([1, 1e-3, 3e-6, 1e-6])).mmul(q(K, 2).transpose());
    const data = Float32Array.from(m.to1DArray());
    const ref = new SingularValueDecomposition(toMatrix(data, R, K), { autoTranspose: true }).diagonal;
    const [svd] = batchedNarrowSvd({ data, groups: 1, rows: R, cols: K, groupStride: R * K, rowStride: K });
    for (let t = 0; t < K; t++) expect(Math.abs(svd.sigma[t] / ref[t] - 1)).toBeLessThan(1e-9);
  });

  it('projectOntoComponents writes M·v_t at the layout given; expandComponents inverts it at full rank', () => {
    for (const [G, R, K, outer] of [[3, 5, 9, true], [2, 6, 9, false], [3, 4, 6, false], [2, 3, 4, true]] as const) {
      const b = batch(G, R, K, outer, 7 + K);
      const svds = batchedNarrowSvd(b);
      const T = Math.min(R, K);
      // Layout (g, t, r) ↦ g·T·R + r·T + t: any dense layout works; this one differs from both walks.
      const layout = { group: T * R, component: 1, row: T };
      const w = new Float32Array(G * T * R);
      projectOntoComponents(b, svds, T, layout, w);
      for (let g = 0; g < G; g++) {
        const mv = matrixOf(b, g).mmul(toMatrix(svds[g].v.subarray(0, T * K), T, K).transpose());
        for (let r = 0; r < R; r++) for (let t = 0; t < T; t++) expect(w[g * T * R + r * T + t]).toBeCloseTo(mv.get(r, t), 5);
      }
      const filters = new Float32Array(G * T * K);
      for (let g = 0; g < G; g++) filters.set(Float32Array.from(svds[g].v.subarray(0, T * K)), g * T * K);
      const out = new Float32Array(G * R * K);
      const { data: _data, ...shape } = b;
      expandComponents({ shape, T, weights: w, weightLayout: layout, filters }, out);
      for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(b.data[i], 5);
    }
  });

  it('refuses a batch whose strides do not tile its data', () => {
    const b = batch(2, 3, 4, true, 1);
    expect(() => batchedNarrowSvd({ ...b, rowStride: 5 })).toThrow('StridedBatch 2×3×4 with strides (12, 5) does not tile 24 values');
    expect(() => batchedNarrowSvd({ ...b, data: new Float32Array(23) })).toThrow('does not tile 23 values');
    expect(() => projectOntoComponents({ ...b, groupStride: 4 }, [], 1, { group: 0, component: 0, row: 0 }, new Float32Array(0))).toThrow(/does not tile/);
  });
});
