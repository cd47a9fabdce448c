/**
 * Thin SVDs of many narrow matrices at once (R × K with K = kh·kw small), via their K × K Gram
 * matrices, plus the two products ND builds from them. ND needs one SVD per channel — 512 per
 * VGG16 layer — and ml-matrix's SVD of a 512×9 matrix takes ~1.6 ms here, its symmetric
 * eigendecomposition of the 9×9 Gram ~26 µs.
 *
 * Accuracy: the factors are (v_t, M·v_t) with V orthonormal to rounding, so keeping every component
 * reconstructs M exactly whatever the spectrum (measured: 3.6–4.2e-8 relative at full rank, the
 * float32 rounding of the factors, for VGG16 shapes and for spectra spanning 12 decades). What the
 * Gram route loses is the accuracy of tiny singular values: σ_t² = vᵀGv has absolute error
 * ~eps·‖M‖²_F, so σ_t would be known only to ~1e-8·σ_1. Those below 1e-3·‖M‖_F are recomputed as
 * ‖M·v_t‖; measured against ml-matrix's SVD, |σ_t − σ_t,ref| ≤ 3e-9·σ_1 for every t, and ≤ 1e-10
 * relative for σ_t ≥ 1e-6·σ_1 — below what float32 weights resolve (~6e-8·σ_1) either way.
 *
 * Speed: every pass walks the kernel in memory order, one K-tap row at a time (strided gathers of
 * a channel's rows were slower here). K = 9 — every 3×3 conv — has unrolled loop bodies: measured
 * on this 2-vCPU machine they are 2–3× faster than the generic K loops, which stay as fallback.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * `groups` matrices of `rows` × `cols`, element (g, r, p) at
 * data[g·groupStride + r·rowStride + p] (columns contiguous, as the kh·kw taps of an OIHW kernel).
 * The rows of all matrices must tile `data` densely: one stride is `cols`, the other the product
 * of `cols` and the other count (both ND orders are like this).
 */
export interface StridedBatch {
  data: Float32Array;
  groups: number;
  rows: number;
  cols: number;
  groupStride: number;
  rowStride: number;
}

/** Right singular vectors and singular values of one matrix, components sorted by σ descending. */
export interface NarrowSvd {
  /** v[t·cols + p]: component t's right singular vector. */
  v: Float64Array;
  /** σ_t, length cols; components t ≥ min(rows, cols) are zero, with a zero v_t. */
  sigma: Float64Array;
}

/** Where factor element (g, t, r) lives: index g·group + t·component + r·row. */
export interface ComponentLayout {
  group: number;
  component: number;
  row: number;
}

/**
 * Eigenvalues below this fraction of trace(G) are recomputed from M: their Rayleigh quotients
 * vᵀGv carry absolute error ~eps·trace(G), i.e. ≥ 1e-10 relative error only below this level.
 */
const RECOMPUTE_BELOW = 1e-6;

/**
 * How to walk the rows in memory order: rows of one group are contiguous when
 * groupStride > rowStride (pw-dw), groups of one row when groupStride < rowStride (dw-pw). Row i
 * of the walk starts at i·cols; at (outer o, inner n) its group is n if groupsInner, else o.
 */
interface Walk {
  outer: number;
  inner: number;
  groupsInner: boolean;
}

function memoryWalk(b: StridedBatch): Walk {
  const groupsInner =
    b.groupStride < b.rowStride || (b.groupStride === b.rowStride && b.rows === 1);
  return groupsInner
    ? { outer: b.rows, inner: b.groups, groupsInner }
    : { outer: b.groups, inner: b.rows, groupsInner };
}

function checkDense(b: StridedBatch): void {
  const { groups: G, rows: R, cols: K, groupStride: gs, rowStride: rs } = b;
  const ok =
    b.data.length === G * R * K &&
    ((gs === K && (rs === G * K || R === 1)) || (rs === K && (gs === R * K || G === 1)));
  if (!ok) {
    throw new Error(
      `StridedBatch ${G}×${R}×${K} with strides (${gs}, ${rs}) does not tile ` +
        `${b.data.length} values`,
    );
  }
}

/** Upper triangles of G_g = M_gᵀM_g, packed as groups × cols × cols. */
function gramMatrices(b: StridedBatch): Float64Array {
  const K = b.cols;
  const KK = K * K;
  const d = b.data;
  const G = new Float64Array(b.groups * KK);
  const { outer, inner, groupsInner } = memoryWalk(b);
  if (K === 9) {
    for (let i = 0, s = 0; i < outer; i++) {
      for (let n = 0; n < inner; n++, s += 9) {
        const o = (groupsInner ? n : i) * 81;
        const x0 = d[s], x1 = d[s + 1], x2 = d[s + 2], x3 = d[s + 3], x4 = d[s + 4];
        const x5 = d[s + 5], x6 = d[s + 6], x7 = d[s + 7], x8 = d[s + 8];
        G[o] += x0 * x0; G[o + 1] += x0 * x1; G[o + 2] += x0 * x2; G[o + 3] += x0 * x3;
        G[o + 4] += x0 * x4; G[o + 5] += x0 * x5; G[o + 6] += x0 * x6; G[o + 7] += x0 * x7;
        G[o + 8] += x0 * x8;
        G[o + 10] += x1 * x1; G[o + 11] += x1 * x2; G[o + 12] += x1 * x3; G[o + 13] += x1 * x4;
        G[o + 14] += x1 * x5; G[o + 15] += x1 * x6; G[o + 16] += x1 * x7; G[o + 17] += x1 * x8;
        G[o + 20] += x2 * x2; G[o + 21] += x2 * x3; G[o + 22] += x2 * x4; G[o + 23] += x2 * x5;
        G[o + 24] += x2 * x6; G[o + 25] += x2 * x7; G[o + 26] += x2 * x8;
        G[o + 30] += x3 * x3; G[o + 31] += x3 * x4; G[o + 32] += x3 * x5; G[o + 33] += x3 * x6;
        G[o + 34] += x3 * x7; G[o + 35] += x3 * x8;
        G[o + 40] += x4 * x4; G[o + 41] += x4 * x5; G[o + 42] += x4 * x6; G[o + 43] += x4 * x7;
        G[o + 44] += x4 * x8;
        G[o + 50] += x5 * x5; G[o + 51] += x5 * x6; G[o + 52] += x5 * x7; G[o + 53] += x5 * x8;
        G[o + 60] += x6 * x6; G[o + 61] += x6 * x7; G[o + 62] += x6 * x8;
        G[o + 70] += x7 * x7; G[o + 71] += x7 * x8;
        G[o + 80] += x8 * x8;
      }
    }
    return G;
  }
  const x = new Float64Array(K);
  for (let i = 0, s = 0; i < outer; i++) {
    for (let n = 0; n < inner; n++, s += K) {
      const o = (groupsInner ? n : i) * KK;
      for (let p = 0; p < K; p++) x[p] = d[s + p];
      for (let p = 0; p < K; p++) {
        const xp = x[p];
        const ro = o + p * K;
        for (let q = p; q < K; q++) G[ro + q] += xp * x[q];
      }
    }
  }
  return G;
}

/** ‖M_g · v‖² computed from the matrix itself (the accurate route for tiny σ). */
function normSquaredOfProduct(
  b: StridedBatch,
  g: number,
  v: Float64Array,
  vOff: number,
): number {
  let sum = 0;
  for (let r = 0; r < b.rows; r++) {
    const base = g * b.groupStride + r * b.rowStride;
    let s = 0;
    for (let p = 0; p < b.cols; p++) s += b.data[base + p] * v[vOff + p];
    sum += s * s;
  }
  return sum;
}

/** One thin SVD (right vectors + σ) per matrix of the batch. */
export function batchedNarrowSvd(b: StridedBatch): NarrowSvd[] {
  checkDense(b);
  const K = b.cols;
  const rank = Math.min(b.rows, K);
  const grams = gramMatrices(b);
  const out: NarrowSvd[] = [];
  const full = new Float64Array(K * K);
  const v = new Float64Array(K * K);
  const lambda = new Float64Array(K);
  for (let g = 0; g < b.groups; g++) {
    const gb = g * K * K;
    let trace = 0;
    for (let p = 0; p < K; p++) {
      trace += grams[gb + p * K + p];
      for (let q = p; q < K; q++) {
        full[p * K + q] = grams[gb + p * K + q];
        full[q * K + p] = grams[gb + p * K + q];
      }
    }
    const evd = new EigenvalueDecomposition(Matrix.from1DArray(K, K, full), {
      assumeSymmetric: true,
    });
    const vecs = evd.eigenvectorMatrix;
    for (let t = 0; t < K; t++) {
      // Sign convention: the largest-magnitude tap is positive, so equal inputs give equal bytes.
      let big = 0;
      for (let p = 0; p < K; p++) {
        const x = vecs.get(p, t);
        if (Math.abs(x) > Math.abs(big)) big = x;
      }
      const sign = big < 0 ? -1 : 1;
      // (+ 0 keeps exactly-zero taps +0 after a sign flip.)
      for (let p = 0; p < K; p++) v[t * K + p] = sign * vecs.get(p, t) + 0;
      // Rayleigh quotient vᵀGv rather than the returned eigenvalue: equal to rounding, and
      // consistent with the vector actually used.
      let q = 0;
      for (let p = 0; p < K; p++) {
        let gv = 0;
        for (let s = 0; s < K; s++) gv += full[p * K + s] * v[t * K + s];
        q += v[t * K + p] * gv;
      }
      lambda[t] = q < RECOMPUTE_BELOW * trace ? normSquaredOfProduct(b, g, v, t * K) : q;
    }
    const byValue = Array.from({ length: K }, (_, t) => t).sort((a, c) => lambda[c] - lambda[a]);
    const sv: NarrowSvd = { v: new Float64Array(K * K), sigma: new Float64Array(K) };
    // Components past min(rows, cols) are rounding noise of a rank-deficient Gram: zero them so
    // that padding is exactly zero (M·v_t for them is ~eps·‖M‖, below float32 resolution).
    for (let t = 0; t < rank; t++) {
      const src = byValue[t];
      sv.sigma[t] = Math.sqrt(Math.max(0, lambda[src]));
      sv.v.set(v.subarray(src * K, src * K + K), t * K);
    }
    out.push(sv);
  }
  return out;
}

/**
 * (M_g · v_{g,t})[r] = U_g[r, t]·σ_{g,t} for t < T, written as float32 at `layout`. This is the
 * "pointwise" factor of ND in both orders; only the stride pattern differs.
 */
export function projectOntoComponents(
  b: StridedBatch,
  svds: readonly NarrowSvd[],
  T: number,
  layout: ComponentLayout,
  out: Float32Array,
): void {
  checkDense(b);
  const K = b.cols;
  const d = b.data;
  const { outer, inner, groupsInner } = memoryWalk(b);
  const x = new Float64Array(K);
  for (let i = 0, s = -K; i < outer; i++) {
    for (let n = 0; n < inner; n++) {
      s += K;
      const g = groupsInner ? n : i;
      const r = groupsInner ? i : n;
      const v = svds[g].v;
      const o = g * layout.group + r * layout.row;
      if (K === 9) {
        const x0 = d[s], x1 = d[s + 1], x2 = d[s + 2], x3 = d[s + 3], x4 = d[s + 4];
        const x5 = d[s + 5], x6 = d[s + 6], x7 = d[s + 7], x8 = d[s + 8];
        for (let t = 0, f = 0; t < T; t++, f += 9) {
          // The leading 0 turns an all -0 sum (zero-padded v) into +0, as the generic loop does.
          out[o + t * layout.component] =
            0 + x0 * v[f] + x1 * v[f + 1] + x2 * v[f + 2] + x3 * v[f + 3] + x4 * v[f + 4] +
            x5 * v[f + 5] + x6 * v[f + 6] + x7 * v[f + 7] + x8 * v[f + 8];
        }
        continue;
      }
      for (let p = 0; p < K; p++) x[p] = d[s + p];
      for (let t = 0; t < T; t++) {
        let sum = 0;
        for (let p = 0; p < K; p++) sum += x[p] * v[t * K + p];
        out[o + t * layout.component] = sum;
      }
    }
  }
}

/** The factors `expandComponents` multiplies, and the batch layout of the product. */
export interface ExpandInput {
  /** Layout of the product (its `data` is ignored; the output goes to `out`). */
  shape: Omit<StridedBatch, 'data'>;
  T: number;
  /** Per-row weights ("pointwise"), element (g, t, r) at `weightLayout`. */
  weights: Float32Array;
  weightLayout: ComponentLayout;
  /** Per-component filters ("depthwise"), element (g, t, p) at (g·T + t)·cols + p. */
  filters: Float32Array;
}

/**
 * The inverse of the projection: M̂_g[r, p] = Σ_{t<T} weights(g, t, r) · filters(g, t, p),
 * summed in float64 in order t = 0, 1, … and rounded once to float32.
 */
export function expandComponents(x: ExpandInput, out: Float32Array): void {
  const b: StridedBatch = { ...x.shape, data: out };
  checkDense(b);
  const { T, weights: w, filters: f, weightLayout: wl } = x;
  const K = b.cols;
  const { outer, inner, groupsInner } = memoryWalk(b);
  const acc = new Float64Array(K);
  for (let i = 0, s = -K; i < outer; i++) {
    for (let n = 0; n < inner; n++) {
      s += K;
      const g = groupsInner ? n : i;
      const wo = g * wl.group + (groupsInner ? i : n) * wl.row;
      const fo = g * T * K;
      if (K === 9) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0;
        for (let t = 0, q = fo; t < T; t++, q += 9) {
          const a = w[wo + t * wl.component];
          a0 += a * f[q]; a1 += a * f[q + 1]; a2 += a * f[q + 2]; a3 += a * f[q + 3];
          a4 += a * f[q + 4]; a5 += a * f[q + 5]; a6 += a * f[q + 6]; a7 += a * f[q + 7];
          a8 += a * f[q + 8];
        }
        out[s] = a0; out[s + 1] = a1; out[s + 2] = a2; out[s + 3] = a3; out[s + 4] = a4;
        out[s + 5] = a5; out[s + 6] = a6; out[s + 7] = a7; out[s + 8] = a8;
        continue;
      }
      acc.fill(0);
      for (let t = 0; t < T; t++) {
        const a = w[wo + t * wl.component];
        const q = fo + t * K;
        for (let p = 0; p < K; p++) acc[p] += a * f[q + p];
      }
      for (let p = 0; p < K; p++) out[s + p] = acc[p];
    }
  }
}
