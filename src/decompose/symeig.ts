/**
 * Eigenvalues and leading eigenvectors of a real symmetric matrix (flat row-major, float64).
 *
 * Method (the LAPACK dsytrd → dsterf → dstein → dormtr route, written for row-major JS):
 *   1. Householder reduction to tridiagonal T = Qᵀ·G·Q, on the lower triangle only.
 *   2. All eigenvalues of T by implicit QL without vectors (O(n²)).
 *   3. Eigenvectors of T for the wanted eigenvalues only, by inverse iteration with re-
 *      orthogonalisation inside clusters of close eigenvalues (see CLUSTER).
 *   4. Back-transform z ↦ Q·z with the stored reflections.
 * Why not tql2 with vectors (JAMA, ml-matrix): its Givens rotations cost ~6n³ flops whatever the
 * number of vectors wanted. Measured here for n = 512 (2 vCPU shared with other jobs): tql2-style
 * 0.55 s, ml-matrix 0.93 s, this route 0.2–0.35 s for all 512 vectors and less for fewer.
 * Tucker-2 and CP need several such solves per VGG16 layer.
 *
 * Deterministic: same input bytes → same output bytes (the inverse-iteration start vectors come
 * from a fixed-seed generator). Each eigenvector's sign is fixed so that its largest-magnitude
 * entry is positive (the first one on ties).
 */
import { mulberry32 } from './random.js';

export interface SymEig {
  /** All n eigenvalues, descending. */
  values: Float64Array;
  /** Leading `count` eigenvectors as rows (count × n): row t belongs to values[t]. */
  vectors: Float64Array;
  /** Number of vector rows. */
  count: number;
}

const EPS = 2 ** -52;
/** Inverse-iteration steps per vector: with QL's eigenvalue (error ~eps·‖T‖) one step already
 * leaves ~eps·‖T‖/gap of the other directions; the next two recover from an unlucky start. */
const INVERSE_STEPS = 3;
/**
 * Eigenvalues closer than this (relative to ‖T‖) form a cluster whose vectors are explicitly
 * re-orthogonalised. Outside a cluster, inverse-iteration vectors are orthogonal to about
 * eps·‖T‖/gap ≤ 2e-10 — far below the float32 rounding of the factors we return. dstein uses
 * 1e-3, which on the flat spectra of VGG-sized Gram matrices chains all n eigenvalues into one
 * cluster and makes re-orthogonalisation O(n³) (measured: 165 ms of a 512×512 solve).
 */
const CLUSTER = 1e-6;

/**
 * Eigen-decomposition of the symmetric n×n matrix g (read only). `count` (default n) leading
 * eigenvectors are returned; `count: 0` gives eigenvalues only.
 */
export function symEig(g: Float64Array, n: number, opts: { count?: number } = {}): SymEig {
  const solver = symEigSolver(g, n);
  const count = Math.min(n, Math.max(0, opts.count ?? n));
  return { values: solver.values, vectors: solver.vectors(count), count };
}

/** Eigenvalues now, leading eigenvectors on demand (when how many depends on the values). */
export interface SymEigSolver {
  /** All n eigenvalues, descending. */
  values: Float64Array;
  /** The leading `count` unit eigenvectors as rows (count × n). */
  vectors(count: number): Float64Array;
}

/**
 * Reduces g (steps 1–2 above) and keeps the reflections, so that vectors(count) costs only the
 * inverse iteration and back-transform of the `count` vectors asked for.
 */
export function symEigSolver(g: Float64Array, n: number): SymEigSolver {
  // Work on a scaled copy so that squared norms inside the reflections stay far from overflow and
  // underflow whatever the magnitude of g (kernels spanning 1e-8…1e8 are tested).
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(g[i]));
  if (!Number.isFinite(scale)) throw new Error('symEig: matrix has NaN or infinite entries');
  const clamp = (count: number) => Math.min(n, Math.max(0, Math.floor(count)));
  if (scale === 0) {
    return {
      values: new Float64Array(n),
      vectors(count: number) {
        const c = clamp(count);
        const z = new Float64Array(c * n);
        for (let t = 0; t < c; t++) z[t * n + t] = 1;
        return z;
      },
    };
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) a[i] = g[i] / scale;
  const { d, e, hv, beta } = tridiagonalize(a, n);
  const scaledValues = tridiagonalEigenvalues(d, e, n);
  const values = scaledValues.map((x) => x * scale);
  return {
    values,
    vectors(count: number) {
      const c = clamp(count);
      if (c === 0) return new Float64Array(0);
      const z = tridiagonalEigenvectors(d, e, scaledValues, c, n);
      backTransform(hv, beta, z, c, n);
      fixSigns(z, c, n);
      return z;
    },
  };
}

/**
 * Householder tridiagonalisation in place on the lower triangle of a (Golub & Van Loan §8.3.1):
 * for column k, v with H = I − β·v·vᵀ zeroing a[k+2.., k]; then A₂₂ ← A₂₂ − v·wᵀ − w·vᵀ with
 * p = β·A₂₂·v, w = p − (β/2)(pᵀv)·v. Touching only j ≤ i halves the work of the full update.
 * Returns the diagonal d, the sub-diagonal e (e[i] couples i and i+1, e[n−1] = 0) and the
 * reflections (row k of hv holds v_k in columns k+1..n−1; β_k = 0 means no reflection).
 * The steps are separate small functions: V8 optimised them ~3× better than one big loop nest
 * (measured, n = 512: 190 ms → 60 ms).
 */
function tridiagonalize(a: Float64Array, n: number) {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const hv = new Float64Array(n * n);
  const beta = new Float64Array(n);
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    d[k] = a[k * n + k];
    const { bk, alpha } = householderColumn(a, n, k, v);
    e[k] = alpha;
    if (bk === 0) continue;
    beta[k] = bk;
    lowerSymv4(a, n, k, v, p);
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      p[i] *= bk;
      pv += p[i] * v[i];
    }
    const kk = (bk / 2) * pv;
    for (let i = k + 1; i < n; i++) p[i] -= kk * v[i];
    lowerRank2Update(a, n, k, v, p);
    const hk = k * n;
    for (let j = k + 1; j < n; j++) hv[hk + j] = v[j];
  }
  if (n >= 2) {
    d[n - 2] = a[(n - 2) * n + n - 2];
    e[n - 2] = a[(n - 1) * n + n - 2];
  }
  d[n - 1] = a[(n - 1) * n + n - 1];
  e[n - 1] = 0;
  return { d, e, hv, beta };
}

/** Reflection for column k: v (entries k+1..), β (0 if the column is already reduced), α. */
function householderColumn(a: Float64Array, n: number, k: number, v: Float64Array) {
  const x0 = a[(k + 1) * n + k];
  let sigma = 0;
  for (let i = k + 2; i < n; i++) {
    const x = a[i * n + k];
    sigma += x * x;
  }
  if (sigma === 0) return { bk: 0, alpha: x0 };
  const norm = Math.sqrt(x0 * x0 + sigma);
  const alpha = x0 <= 0 ? norm : -norm;
  v[k + 1] = x0 - alpha;
  for (let i = k + 2; i < n; i++) v[i] = a[i * n + k];
  return { bk: 2 / (v[k + 1] * v[k + 1] + sigma), alpha };
}

/** p[k+1..] = A₂₂·v from the lower triangle, four rows per pass: row i adds a_ij·v_j to p_i and
 * a_ij·v_i to p_j, so each stored entry is read once. */
function lowerSymv4(a: Float64Array, n: number, k: number, v: Float64Array, p: Float64Array) {
  p.fill(0, k + 1, n);
  let i = k + 1;
  for (; i + 3 < n; i += 4) {
    const r0 = i * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    const v0 = v[i];
    const v1 = v[i + 1];
    const v2 = v[i + 2];
    const v3 = v[i + 3];
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = k + 1; j < i; j++) {
      const x0 = a[r0 + j];
      const x1 = a[r1 + j];
      const x2 = a[r2 + j];
      const x3 = a[r3 + j];
      const vj = v[j];
      s0 += x0 * vj;
      s1 += x1 * vj;
      s2 += x2 * vj;
      s3 += x3 * vj;
      p[j] += x0 * v0 + x1 * v1 + x2 * v2 + x3 * v3;
    }
    p[i] += s0;
    p[i + 1] += s1;
    p[i + 2] += s2;
    p[i + 3] += s3;
    // The 4×4 diagonal block.
    for (let r = 0; r < 4; r++) {
      const rr = (i + r) * n;
      for (let c = 0; c < r; c++) {
        const x = a[rr + i + c];
        p[i + r] += x * v[i + c];
        p[i + c] += x * v[i + r];
      }
      p[i + r] += a[rr + i + r] * v[i + r];
    }
  }
  for (; i < n; i++) {
    const r0 = i * n;
    const v0 = v[i];
    let s0 = 0;
    for (let j = k + 1; j < i; j++) {
      const x = a[r0 + j];
      s0 += x * v[j];
      p[j] += x * v0;
    }
    p[i] += s0 + a[r0 + i] * v0;
  }
}

/** Lower triangle of A₂₂ −= v·wᵀ + w·vᵀ (w in p), two rows per pass. */
function lowerRank2Update(a: Float64Array, n: number, k: number, v: Float64Array, w: Float64Array) {
  let i = k + 1;
  for (; i + 1 < n; i += 2) {
    const r0 = i * n;
    const r1 = r0 + n;
    const v0 = v[i];
    const w0 = w[i];
    const v1 = v[i + 1];
    const w1 = w[i + 1];
    for (let j = k + 1; j <= i; j++) {
      const wj = w[j];
      const vj = v[j];
      a[r0 + j] -= v0 * wj + w0 * vj;
      a[r1 + j] -= v1 * wj + w1 * vj;
    }
    a[r1 + i + 1] -= 2 * v1 * w1;
  }
  for (; i < n; i++) {
    const ri = i * n;
    const vi = v[i];
    const wi = w[i];
    for (let j = k + 1; j <= i; j++) a[ri + j] -= vi * w[j] + wi * v[j];
  }
}

/** sqrt(a² + b²) without overflow. */
function hypot2(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

/** All eigenvalues of the tridiagonal (d, e), descending, by implicit QL (EISPACK tql1). */
function tridiagonalEigenvalues(d0: Float64Array, e0: Float64Array, n: number): Float64Array {
  const d = Float64Array.from(d0);
  const e = Float64Array.from(e0);
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > EPS * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        // ~2 sweeps per eigenvalue in practice; the cap only guards against a hang.
        if (++iter > 200) throw new Error(`symEig: QL did not converge (eigenvalue ${l} of ${n})`);
        let g = d[l];
        let pp = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot2(pp, 1);
        if (pp < 0) r = -r;
        d[l] = e[l] / (pp + r);
        d[l + 1] = e[l] * (pp + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        pp = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * pp;
          r = hypot2(pp, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = pp / r;
          pp = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
        }
        pp = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * pp;
        d[l] = c * pp;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  return d.sort().reverse();
}

/**
 * Unit eigenvectors of the tridiagonal (d, e) for values[0..count−1] (descending), as rows, by
 * inverse iteration (LAPACK dstein, simplified): LU with partial pivoting of T − λI, tiny pivots
 * replaced by eps·‖T‖, equal eigenvalues pulled apart by 10·eps·‖T‖, and modified Gram–Schmidt
 * against the earlier vectors of the same cluster after every solve. The vectors are computed in
 * descending order, so a cluster's first vector is its largest eigenvalue's.
 */
function tridiagonalEigenvectors(
  d: Float64Array,
  e: Float64Array,
  values: Float64Array,
  count: number,
  n: number,
): Float64Array {
  let onenorm = 0;
  for (let i = 0; i < n; i++) {
    onenorm = Math.max(onenorm, Math.abs(d[i]) + Math.abs(e[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0));
  }
  if (onenorm === 0) onenorm = 1;
  const ortol = CLUSTER * onenorm;
  const pertol = 10 * EPS * onenorm;
  const pivtol = EPS * onenorm;
  const z = new Float64Array(count * n);
  const u0 = new Float64Array(n);
  const u1 = new Float64Array(n);
  const u2 = new Float64Array(n);
  const mult = new Float64Array(n);
  const swap = new Uint8Array(n);
  const rand = mulberry32(0x5eed);
  let clusterStart = 0;
  let prev = Infinity;
  for (let t = 0; t < count; t++) {
    let lambda = values[t];
    if (t > 0 && lambda > prev - pertol) lambda = prev - pertol;
    if (t === 0 || prev - lambda > ortol) clusterStart = t;
    prev = lambda;

    // LU with partial pivoting of the tridiagonal T − λI (dlagtf).
    let diag = d[0] - lambda;
    let sup = n > 1 ? e[0] : 0;
    for (let i = 0; i < n - 1; i++) {
      const sub = e[i];
      const nextDiag = d[i + 1] - lambda;
      const nextSup = i + 1 < n - 1 ? e[i + 1] : 0;
      if (Math.abs(diag) >= Math.abs(sub)) {
        swap[i] = 0;
        const m = diag === 0 ? 0 : sub / diag;
        u0[i] = diag;
        u1[i] = sup;
        u2[i] = 0;
        mult[i] = m;
        diag = nextDiag - m * sup;
        sup = nextSup;
      } else {
        swap[i] = 1;
        const m = diag / sub;
        u0[i] = sub;
        u1[i] = nextDiag;
        u2[i] = nextSup;
        mult[i] = m;
        diag = sup - m * nextDiag;
        sup = -m * nextSup;
      }
    }
    u0[n - 1] = diag;
    for (let i = 0; i < n; i++) {
      if (Math.abs(u0[i]) < pivtol) u0[i] = u0[i] < 0 ? -pivtol : pivtol;
    }

    const x = z.subarray(t * n, (t + 1) * n);
    for (let i = 0; i < n; i++) x[i] = rand() - 0.5;
    for (let step = 0; step < INVERSE_STEPS; step++) {
      normalize(x, n);
      for (let i = 0; i < n - 1; i++) {
        if (swap[i]) {
          const tmp = x[i];
          x[i] = x[i + 1];
          x[i + 1] = tmp;
        }
        x[i + 1] -= mult[i] * x[i];
      }
      x[n - 1] /= u0[n - 1];
      if (n > 1) x[n - 2] = (x[n - 2] - u1[n - 2] * x[n - 1]) / u0[n - 2];
      for (let i = n - 3; i >= 0; i--) {
        x[i] = (x[i] - u1[i] * x[i + 1] - u2[i] * x[i + 2]) / u0[i];
      }
      // Growth past 1/eps can only come from a pivot at the tolerance: rescale to stay finite.
      let big = 0;
      for (let i = 0; i < n; i++) big = Math.max(big, Math.abs(x[i]));
      if (big > 1e150 || !Number.isFinite(big)) {
        for (let i = 0; i < n; i++) x[i] = Number.isFinite(x[i]) ? x[i] / (big || 1) : 0;
      }
      for (let s = clusterStart; s < t; s++) {
        const o = s * n;
        let dot = 0;
        for (let i = 0; i < n; i++) dot += z[o + i] * x[i];
        for (let i = 0; i < n; i++) x[i] -= dot * z[o + i];
      }
    }
    normalize(x, n);
  }
  return z;
}

function normalize(x: Float64Array, n: number): void {
  let big = 0;
  for (let i = 0; i < n; i++) big = Math.max(big, Math.abs(x[i]));
  if (big === 0) {
    x[0] = 1;
    return;
  }
  let s = 0;
  for (let i = 0; i < n; i++) {
    x[i] /= big;
    s += x[i] * x[i];
  }
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < n; i++) x[i] *= inv;
}

/**
 * Rows z_t ← Q·z_t with Q = H_0·H_1·…·H_{n−3}: the reflections are applied last-first. Four
 * vectors per pass share each load of the reflection (measured 2–3× faster than one at a time).
 */
function backTransform(
  hv: Float64Array,
  beta: Float64Array,
  z: Float64Array,
  count: number,
  n: number,
): void {
  let t = 0;
  for (; t + 3 < count; t += 4) reflect4(hv, beta, z, t * n, n);
  for (; t < count; t++) {
    const o = t * n;
    for (let k = n - 3; k >= 0; k--) {
      const bk = beta[k];
      if (bk === 0) continue;
      const hk = k * n;
      let s = 0;
      for (let j = k + 1; j < n; j++) s += hv[hk + j] * z[o + j];
      s *= bk;
      for (let j = k + 1; j < n; j++) z[o + j] -= s * hv[hk + j];
    }
  }
}

function reflect4(hv: Float64Array, beta: Float64Array, z: Float64Array, o0: number, n: number) {
  const o1 = o0 + n;
  const o2 = o1 + n;
  const o3 = o2 + n;
  for (let k = n - 3; k >= 0; k--) {
    const bk = beta[k];
    if (bk === 0) continue;
    const hk = k * n;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = k + 1; j < n; j++) {
      const h = hv[hk + j];
      s0 += h * z[o0 + j];
      s1 += h * z[o1 + j];
      s2 += h * z[o2 + j];
      s3 += h * z[o3 + j];
    }
    s0 *= bk;
    s1 *= bk;
    s2 *= bk;
    s3 *= bk;
    for (let j = k + 1; j < n; j++) {
      const h = hv[hk + j];
      z[o0 + j] -= s0 * h;
      z[o1 + j] -= s1 * h;
      z[o2 + j] -= s2 * h;
      z[o3 + j] -= s3 * h;
    }
  }
}

function fixSigns(z: Float64Array, count: number, n: number): void {
  for (let t = 0; t < count; t++) {
    const o = t * n;
    let best = 0;
    let bestAbs = -1;
    for (let j = 0; j < n; j++) {
      const x = Math.abs(z[o + j]);
      if (x > bestAbs) {
        bestAbs = x;
        best = j;
      }
    }
    if (z[o + best] < 0) for (let j = 0; j < n; j++) z[o + j] = -z[o + j];
  }
}
