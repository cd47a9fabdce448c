/**
 * Network decoupling (Guo et al., BMVC 2018, arXiv 1808.05517): a regular k×k conv as the sum of
 * T depthwise-separable blocks, from one small SVD per channel. No data, no training.
 *
 * Input kernel W: OIHW [N, C, kh, kw] (N outputs, C inputs, K = kh·kw taps, tap p = i·kw + j).
 * All tensors below are float32, row-major; "=" gives the element formula.
 *
 * order 'dw-pw' (MobileNetV1 block, Keras SeparableConv2D(depth_multiplier = T)):
 *   SVD per input channel c of M_c = W[:, c] as N × K:  M_c = U_c S_c V_cᵀ.
 *   depthwise [C, T, kh, kw]  depthwise[c, t, i, j] = V_c[(i, j), t]
 *   pointwise [N, C, T]       pointwise[n, c, t]    = U_c[n, t] · S_c[t]
 *   W[n, c, i, j] ≈ Σ_t pointwise[n, c, t] · depthwise[c, t, i, j]
 *   As layers: depthwise conv on C channels with multiplier T, output channel c·T + t (the Keras /
 *   ONNX group order) — its OIHW kernel [C·T, 1, kh, kw] is `depthwise` as is; then a 1×1 conv
 *   C·T → N, OIHW [N, C·T, 1, 1] = `pointwise` as is. Stride, padding and dilation go on the
 *   depthwise conv; bias and activation on the 1×1.
 *   maxRank = K; if N < K the components t ≥ N are zero (σ = 0, zero filter, zero weights), so
 *   every T in 1..K is valid and T = K is exact.
 *
 * order 'pw-dw' (the official code's default):
 *   SVD per output channel n of W[n] as C × K:  W[n] = U_n S_n V_nᵀ.
 *   pointwise [N, T, C]       pointwise[n, t, c]    = U_n[c, t] · S_n[t]
 *   depthwise [N, T, kh, kw]  depthwise[n, t, i, j] = V_n[(i, j), t]
 *   W[n, c, i, j] ≈ Σ_t pointwise[n, t, c] · depthwise[n, t, i, j]
 *   As layers: 1×1 conv C → N·T, output channel n·T + t, OIHW [N·T, C, 1, 1] = `pointwise` as is;
 *   depthwise conv (multiplier 1) on those N·T channels, OIHW [N·T, 1, kh, kw] = `depthwise` as
 *   is, carrying stride, padding and dilation (zero padding commutes with a bias-free 1×1); then
 *   sum each run of T consecutive channels into output n (a grouped 1×1 with groups = N and all
 *   weights 1, or a reshape-sum), which takes the bias and activation.
 *   maxRank = min(C, K), exact there.
 *
 * The top T components per channel are its best rank-T approximation (Eckart–Young), so
 * kernelRelError² equals the discarded share Σ_{t>T} σ² / Σ σ² over all channels together.
 */
import { chooseRank, retainedEnergy } from './rank.js';
import {
  batchedNarrowSvd,
  expandComponents,
  projectOntoComponents,
  type ComponentLayout,
  type StridedBatch,
} from './svd.js';
import { numel, relFrobeniusError, type Tensor } from './tensor.js';

export type NdOrder = 'dw-pw' | 'pw-dw';

export interface NdOptions {
  order: NdOrder;
  /** Fixed T per channel, 1..maxRank. Exactly one of `rank` and `energy`. */
  rank?: number;
  /** Energy threshold τ in (0, 1] (see rank.ts). Exactly one of `rank` and `energy`. */
  energy?: number;
  /** Layer name, used in error messages. */
  name?: string;
}

export interface NdResult {
  order: NdOrder;
  /** T, components kept per channel. */
  rank: number;
  /** Largest valid T: K for dw-pw, min(C, K) for pw-dw. */
  maxRank: number;
  /** dw-pw: [C, T, kh, kw]; pw-dw: [N, T, kh, kw]. */
  depthwise: Tensor;
  /** dw-pw: [N, C, T]; pw-dw: [N, T, C]. */
  pointwise: Tensor;
  /** Per SVD'd channel (dw-pw: per input c, pw-dw: per output n), descending, length maxRank. */
  singularValues: Float64Array[];
  /** Channel-averaged retained energy at T (the quantity the energy rule thresholds). */
  retainedEnergy: number;
  /** ‖W − Ŵ‖_F / ‖W‖_F with Ŵ rebuilt from the float32 factors above (0 for a zero kernel). */
  kernelRelError: number;
}

function describe(name: string | undefined): string {
  return name === undefined ? 'kernel' : `layer "${name}"`;
}

function validateKernel(kernel: Tensor, what: string): void {
  const s = kernel.shape;
  if (!Array.isArray(s) || s.length !== 4 || s.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(
      `${what}: kernel shape [${String(s)}] must be OIHW [N, C, kh, kw] with positive integers`,
    );
  }
  if (!(kernel.data instanceof Float32Array) || kernel.data.length !== numel(s)) {
    throw new Error(
      `${what}: kernel data has ${kernel.data?.length} values, shape [${s.join(', ')}] needs ` +
        `${numel(s)}`,
    );
  }
  const d = kernel.data;
  // x·0 is 0 for finite x and NaN otherwise: one cheap pass, then locate the culprit.
  let probe = 0;
  for (let i = 0; i < d.length; i++) probe += d[i] * 0;
  if (probe !== 0) {
    const i = d.findIndex((x) => !Number.isFinite(x));
    const [, C, kh, kw] = s;
    const idx = [
      Math.floor(i / (C * kh * kw)),
      Math.floor(i / (kh * kw)) % C,
      Math.floor(i / kw) % kh,
      i % kw,
    ];
    throw new Error(
      `${what}: kernel value ${d[i]} at [n, c, i, j] = [${idx.join(', ')}] is not finite; ` +
        'fix or re-export the weights before decoupling',
    );
  }
}

/** Element (g, t, r) of the pointwise factor, g the SVD'd channel and r the other one. */
function pointwiseLayout(order: NdOrder, d: { N: number; C: number; T: number }): ComponentLayout {
  // dw-pw [N, C, T]: g = c, r = n.  pw-dw [N, T, C]: g = n, r = c.
  return order === 'dw-pw'
    ? { group: d.T, component: 1, row: d.C * d.T }
    : { group: d.T * d.C, component: d.C, row: 1 };
}

/** Decouple one conv kernel into depthwise + pointwise factors (layouts in the file comment). */
export function decouple(kernel: Tensor, opts: NdOptions): NdResult {
  const what = describe(opts.name);
  if (opts.order !== 'dw-pw' && opts.order !== 'pw-dw') {
    throw new Error(`${what}: order "${String(opts.order)}" must be 'dw-pw' or 'pw-dw'`);
  }
  validateKernel(kernel, what);
  const [N, C, kh, kw] = kernel.shape;
  const K = kh * kw;
  const dwpw = opts.order === 'dw-pw';

  // Both orders SVD rows of K taps; they differ only in which index is the group.
  const batch: StridedBatch = dwpw
    ? { data: kernel.data, groups: C, rows: N, cols: K, groupStride: K, rowStride: C * K }
    : { data: kernel.data, groups: N, rows: C, cols: K, groupStride: C * K, rowStride: K };
  const maxRank = dwpw ? K : Math.min(C, K);
  const svds = batchedNarrowSvd(batch);
  const singularValues = svds.map((s) => s.sigma.slice(0, maxRank));

  const rankHint = dwpw
    ? `dw-pw allows T ≤ kh·kw = ${K}`
    : `pw-dw allows T ≤ min(C, kh·kw) = ${maxRank}`;
  const T = chooseRank(singularValues, {
    rank: opts.rank,
    energy: opts.energy,
    maxRank,
    what: `${what} (${rankHint})`,
  });

  const G = batch.groups;
  const depthwise = new Float32Array(G * T * K);
  for (let g = 0; g < G; g++) {
    depthwise.set(svds[g].v.subarray(0, T * K), g * T * K);
  }
  const pointwise = new Float32Array(N * C * T);
  projectOntoComponents(batch, svds, T, pointwiseLayout(opts.order, { N, C, T }), pointwise);

  const partial = {
    order: opts.order,
    rank: T,
    maxRank,
    depthwise: { shape: [G, T, kh, kw], data: depthwise },
    pointwise: { shape: dwpw ? [N, C, T] : [N, T, C], data: pointwise },
  };
  return {
    ...partial,
    singularValues,
    retainedEnergy: retainedEnergy(singularValues, T),
    kernelRelError: relFrobeniusError(kernel, reconstruct(partial, kernel.shape)),
  };
}

/** The factors `reconstruct` reads (an NdResult or any object with these fields). */
export type NdFactors = Pick<NdResult, 'order' | 'rank' | 'depthwise' | 'pointwise'>;

/** Ŵ, OIHW [N, C, kh, kw]: Σ_t pointwise · depthwise per the layouts above, summed in float64. */
export function reconstruct(result: NdFactors, kernelShape: readonly number[]): Tensor {
  const [N, C, kh, kw] = kernelShape;
  const K = kh * kw;
  const T = result.rank;
  const dwpw = result.order === 'dw-pw';
  const expectDw = dwpw ? [C, T, kh, kw] : [N, T, kh, kw];
  const expectPw = dwpw ? [N, C, T] : [N, T, C];
  const same = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same(result.depthwise.shape, expectDw) || !same(result.pointwise.shape, expectPw)) {
    throw new Error(
      `reconstruct: factors [${result.depthwise.shape.join(', ')}] / ` +
        `[${result.pointwise.shape.join(', ')}] ` +
        `do not fit kernel [${kernelShape.join(', ')}] at ${result.order} T = ${T}; ` +
        `expected [${expectDw.join(', ')}] / [${expectPw.join(', ')}]`,
    );
  }
  const out = new Float32Array(N * C * K);
  expandComponents(
    {
      shape: dwpw
        ? { groups: C, rows: N, cols: K, groupStride: K, rowStride: C * K }
        : { groups: N, rows: C, cols: K, groupStride: C * K, rowStride: K },
      T,
      weights: result.pointwise.data,
      weightLayout: pointwiseLayout(result.order, { N, C, T }),
      filters: result.depthwise.data,
    },
    out,
  );
  return { shape: [N, C, kh, kw], data: out };
}

export interface NdCostInput {
  N: number;
  C: number;
  kh: number;
  kw: number;
  order: NdOrder;
  rank: number;
  hOut: number;
  wOut: number;
  hIn: number;
  wIn: number;
}

/**
 * MACs per image of the decoupled block (the original costs hOut·wOut·N·C·kh·kw).
 * dw-pw: hOut·wOut·(C·T·kh·kw + C·T·N).
 * pw-dw: hIn·wIn·C·N·T (the 1×1 runs before the strided depthwise, at input resolution)
 *        + hOut·wOut·N·T·kh·kw. Summing each output's T channels is not counted: it is T − 1
 *        additions per output pixel and no multiplies (an Add / reduce-sum in split form).
 */
export function ndCost(x: NdCostInput): number {
  const T = x.rank;
  const K = x.kh * x.kw;
  if (x.order === 'dw-pw') return x.hOut * x.wOut * (x.C * T * K + x.C * T * x.N);
  return x.hIn * x.wIn * x.C * x.N * T + x.hOut * x.wOut * x.N * T * K;
}
