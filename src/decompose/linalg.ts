/**
 * Dense float64 kernels shared by the CP, Tucker-2, spatial and VBMF code: an "NT" matrix product,
 * a Gram matrix and an SPD row solve, on flat row-major arrays (the eigensolver is symeig.ts).
 *
 * Why not ml-matrix: its `mmul` works on arrays of rows through method calls and ran at
 * ~0.5 GMAC/s here (2 vCPU, Node 20); the register-blocked product below runs at ~2.2 GMAC/s.
 * VGG16-sized Tucker-2 and CP need several GMAC per layer, so this is the difference between
 * seconds and minutes.
 *
 * Layout convention: a matrix is (data, rows, cols) with element (i, j) at data[i·cols + j].
 * Products are "NT" (C = A·Bᵀ): both operands are read along their contiguous inner dimension,
 * which is what lets the 4×2 register block below reach the speed quoted above.
 */

export interface GemmDims {
  m: number;
  n: number;
  k: number;
  /** Row strides of a, b, c (default k, k, n): sub-blocks of wider matrices. */
  lda?: number;
  ldb?: number;
  ldc?: number;
  /** c = alpha·a·bᵀ (+ c if accumulate). Default 1. */
  alpha?: number;
  /** Add to c instead of overwriting it. */
  accumulate?: boolean;
}

/**
 * c (m×n) = alpha · a (m×k) · bᵀ, b being n×k, all row-major with the given row strides.
 * Views (`subarray`) pick the first element of a sub-block.
 */
export function gemmNT(a: Float64Array, b: Float64Array, c: Float64Array, dims: GemmDims): void {
  const { m, n, k } = dims;
  const lda = dims.lda ?? k;
  const ldb = dims.ldb ?? k;
  const ldc = dims.ldc ?? n;
  const alpha = dims.alpha ?? 1;
  if (!dims.accumulate) {
    for (let i = 0; i < m; i++) c.fill(0, i * ldc, i * ldc + n);
  }
  if (k === 0 || m === 0 || n === 0) return;
  const m4 = m - (m % 4);
  const n2 = n - (n % 2);
  for (let i = 0; i < m4; i += 4) {
    gemmRows4(a, b, c, { i, n, n2, k, lda, ldb, ldc, alpha });
  }
  for (let i = m4; i < m; i++) {
    const a0 = i * lda;
    const c0 = i * ldc;
    for (let j = 0; j < n; j++) {
      const b0 = j * ldb;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[a0 + p] * b[b0 + p];
      c[c0 + j] += alpha * s;
    }
  }
}

/** Rows i..i+3 of gemmNT: 4×2 register blocks (8 independent accumulators), then column n−1. */
function gemmRows4(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  x: {
    i: number;
    n: number;
    n2: number;
    k: number;
    lda: number;
    ldb: number;
    ldc: number;
    alpha: number;
  },
): void {
  const { i, n, n2, k, lda, ldb, ldc, alpha } = x;
  const a0 = i * lda;
  const a1 = a0 + lda;
  const a2 = a1 + lda;
  const a3 = a2 + lda;
  const c0 = i * ldc;
  const c1 = c0 + ldc;
  const c2 = c1 + ldc;
  const c3 = c2 + ldc;
  for (let j = 0; j < n2; j += 2) {
    const b0 = j * ldb;
    const b1 = b0 + ldb;
    let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
    for (let p = 0; p < k; p++) {
      const x0 = b[b0 + p];
      const x1 = b[b1 + p];
      const y0 = a[a0 + p];
      const y1 = a[a1 + p];
      const y2 = a[a2 + p];
      const y3 = a[a3 + p];
      s00 += y0 * x0;
      s01 += y0 * x1;
      s10 += y1 * x0;
      s11 += y1 * x1;
      s20 += y2 * x0;
      s21 += y2 * x1;
      s30 += y3 * x0;
      s31 += y3 * x1;
    }
    c[c0 + j] += alpha * s00;
    c[c0 + j + 1] += alpha * s01;
    c[c1 + j] += alpha * s10;
    c[c1 + j + 1] += alpha * s11;
    c[c2 + j] += alpha * s20;
    c[c2 + j + 1] += alpha * s21;
    c[c3 + j] += alpha * s30;
    c[c3 + j + 1] += alpha * s31;
  }
  if (n2 < n) {
    const b0 = n2 * ldb;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let p = 0; p < k; p++) {
      const y = b[b0 + p];
      s0 += a[a0 + p] * y;
      s1 += a[a1 + p] * y;
      s2 += a[a2 + p] * y;
      s3 += a[a3 + p] * y;
    }
    c[c0 + n2] += alpha * s0;
    c[c1 + n2] += alpha * s1;
    c[c2 + n2] += alpha * s2;
    c[c3 + n2] += alpha * s3;
  }
}

/**
 * g (m×m) = a·aᵀ for a (m×k): the Gram matrix of a's rows. Computes the upper triangle with the
 * same register block as gemmNT (half the work of a full product) and mirrors it, so g is exactly
 * symmetric — the eigensolver below relies on that.
 */
export function gramRows(a: Float64Array, m: number, k: number, g?: Float64Array): Float64Array {
  const out = g ?? new Float64Array(m * m);
  out.fill(0, 0, m * m);
  const m4 = m - (m % 4);
  const n2 = m - (m % 2);
  for (let i = 0; i < m4; i += 4) {
    const a0 = i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    // Blocks whose columns reach the upper triangle of these four rows.
    for (let j = i; j < n2; j += 2) {
      const b0 = j * k;
      const b1 = b0 + k;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = a[b0 + p];
        const x1 = a[b1 + p];
        const y0 = a[a0 + p];
        const y1 = a[a1 + p];
        const y2 = a[a2 + p];
        const y3 = a[a3 + p];
        s00 += y0 * x0;
        s01 += y0 * x1;
        s10 += y1 * x0;
        s11 += y1 * x1;
        s20 += y2 * x0;
        s21 += y2 * x1;
        s30 += y3 * x0;
        s31 += y3 * x1;
      }
      const c0 = i * m + j;
      out[c0] = s00;
      out[c0 + 1] = s01;
      out[c0 + m] = s10;
      out[c0 + m + 1] = s11;
      out[c0 + 2 * m] = s20;
      out[c0 + 2 * m + 1] = s21;
      out[c0 + 3 * m] = s30;
      out[c0 + 3 * m + 1] = s31;
    }
    if (n2 < m) {
      const b0 = n2 * k;
      for (let r = 0; r < 4; r++) {
        const ar = (i + r) * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ar + p] * a[b0 + p];
        out[(i + r) * m + n2] = s;
      }
    }
  }
  for (let i = m4; i < m; i++) {
    const a0 = i * k;
    for (let j = i; j < m; j++) {
      const b0 = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[a0 + p] * a[b0 + p];
      out[i * m + j] = s;
    }
  }
  for (let i = 1; i < m; i++) {
    for (let j = 0; j < i; j++) out[i * m + j] = out[j * m + i];
  }
  return out;
}

/** Row-major transpose of a rows×cols matrix. */
export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const ai = i * cols;
    for (let j = 0; j < cols; j++) t[j * rows + i] = a[ai + j];
  }
  return t;
}

export function sumSquares(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

/**
 * Block size of the Cholesky factorisation and the triangular solves: inside a block the work is
 * scalar, between blocks it is gemmNT. Measured for R = 1142 (CP at VGG16's 2× point): the scalar
 * versions ran at ~0.4–0.7 GMAC/s, the blocked ones at gemmNT speed.
 */
const TRI_BLOCK = 48;

/**
 * Lower Cholesky factor of the SPD n×n matrix h + ridge·I (left-looking, blocked), as the pair
 * (l, lt = lᵀ) so that both triangular solves read contiguous rows. Null if not positive definite.
 */
export function cholesky(
  h: Float64Array,
  n: number,
  ridge: number,
): { l: Float64Array; lt: Float64Array } | null {
  const l = Float64Array.from(h);
  for (let i = 0; i < n; i++) l[i * n + i] += ridge;
  for (let j0 = 0; j0 < n; j0 += TRI_BLOCK) {
    const j1 = Math.min(n, j0 + TRI_BLOCK);
    const w = j1 - j0;
    // Panel rows j0..n−1, columns j0..j1−1: subtract L[j0.., 0..j0) · L[j0..j1, 0..j0)ᵀ.
    if (j0 > 0) {
      gemmNT(l.subarray(j0 * n), l.subarray(j0 * n), l.subarray(j0 * n + j0), {
        m: n - j0,
        n: w,
        k: j0,
        lda: n,
        ldb: n,
        ldc: n,
        alpha: -1,
        accumulate: true,
      });
    }
    // Factor the diagonal block, then the rows below it (scalar, within the panel).
    for (let i = j0; i < n; i++) {
      const ri = i * n;
      const jEnd = Math.min(i, j1 - 1);
      for (let j = j0; j <= jEnd; j++) {
        const rj = j * n;
        let s = l[ri + j];
        for (let p = j0; p < j; p++) s -= l[ri + p] * l[rj + p];
        if (i === j) {
          if (!(s > 0) || !Number.isFinite(s)) return null;
          l[ri + i] = Math.sqrt(s);
        } else {
          l[ri + j] = s / l[rj + j];
        }
      }
    }
  }
  for (let i = 0; i < n; i++) l.fill(0, i * n + i + 1, (i + 1) * n);
  return { l, lt: transpose(l, n, n) };
}

/**
 * In place: each of the `rows` rows x of m (rows×n) becomes the solution of x·H = x_old with
 * H = L·Lᵀ (H symmetric, so this is the least-squares update X = M·H⁻¹ of ALS): forward
 * substitution with L, then backward with Lᵀ, each blocked so that the bulk is gemmNT.
 */
export function solveRowsCholesky(
  chol: { l: Float64Array; lt: Float64Array },
  m: Float64Array,
  rows: number,
  n: number,
): void {
  const { l, lt } = chol;
  // Forward: y_i = (m_i − Σ_{j<i} L[i, j]·y_j) / L[i, i].
  for (let i0 = 0; i0 < n; i0 += TRI_BLOCK) {
    const i1 = Math.min(n, i0 + TRI_BLOCK);
    if (i0 > 0) {
      gemmNT(m, l.subarray(i0 * n), m.subarray(i0), {
        m: rows,
        n: i1 - i0,
        k: i0,
        lda: n,
        ldb: n,
        ldc: n,
        alpha: -1,
        accumulate: true,
      });
    }
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      for (let i = i0; i < i1; i++) {
        const li = i * n;
        let s = m[o + i];
        for (let j = i0; j < i; j++) s -= l[li + j] * m[o + j];
        m[o + i] = s / l[li + i];
      }
    }
  }
  // Backward: x_i = (y_i − Σ_{j>i} Lᵀ[i, j]·x_j) / L[i, i].
  const last = Math.floor((n - 1) / TRI_BLOCK) * TRI_BLOCK;
  for (let i0 = last; i0 >= 0; i0 -= TRI_BLOCK) {
    const i1 = Math.min(n, i0 + TRI_BLOCK);
    if (i1 < n) {
      gemmNT(m.subarray(i1), lt.subarray(i0 * n + i1), m.subarray(i0), {
        m: rows,
        n: i1 - i0,
        k: n - i1,
        lda: n,
        ldb: n,
        ldc: n,
        alpha: -1,
        accumulate: true,
      });
    }
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      for (let i = i1 - 1; i >= i0; i--) {
        const li = i * n;
        let s = m[o + i];
        for (let j = i + 1; j < i1; j++) s -= lt[li + j] * m[o + j];
        m[o + i] = s / lt[li + i];
      }
    }
  }
}

/**
 * Cholesky-factors the SPD n×n matrix h once, with a ridge of `relRidge`·trace(h)/n raised ×1e3
 * until the factorisation succeeds (h can be numerically singular when two CP components
 * coincide), and returns a solver for x·h = m on rows of m, in place. Null if h has no finite
 * positive trace or stays indefinite.
 */
export function spdRowSolver(
  h: Float64Array,
  n: number,
  relRidge: number,
): ((m: Float64Array, rows: number) => void) | null {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += h[i * n + i];
  if (!(trace > 0) || !Number.isFinite(trace)) return null;
  let ridge = (relRidge * trace) / n;
  for (let attempt = 0; attempt < 8; attempt++) {
    const chol = cholesky(h, n, ridge);
    if (chol) return (m, rows) => solveRowsCholesky(chol, m, rows, n);
    ridge *= 1e3;
  }
  return null;
}

/** spdRowSolver(h, n, relRidge) applied to `rows` rows of m; false if h could not be factored. */
export function solveSpdRows(
  h: Float64Array,
  n: number,
  m: Float64Array,
  rows: number,
  relRidge: number,
): boolean {
  const solve = spdRowSolver(h, n, relRidge);
  if (!solve) return false;
  solve(m, rows);
  return true;
}
