/**
 * An OIHW conv kernel as the CP / Tucker-2 / spatial code reads it: validated once, then copied to
 * float64 in whichever axis order makes that method's products run along contiguous memory.
 *
 * Axis letters: n = output channel (N), c = input channel (C), k = spatial tap (K = kh·kw,
 * k = i·kw + j, the OIHW order of the last two axes).
 */
import { numel, type Tensor } from './tensor.js';

export interface KernelDims {
  N: number;
  C: number;
  kh: number;
  kw: number;
  K: number;
}

/** `layer "conv3_1"` or `kernel`: the subject of every error message. */
export function describe(name: string | undefined): string {
  return name === undefined ? 'kernel' : `layer "${name}"`;
}

/**
 * Checks shape, length and finiteness (the boundary where bad weights are caught, with the
 * index of the first bad value) and returns the dimensions.
 */
export function checkKernel(kernel: Tensor, name: string | undefined): KernelDims {
  const what = describe(name);
  const s = kernel?.shape;
  if (!Array.isArray(s) || s.length !== 4 || s.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(
      `${what}: kernel shape [${String(s)}] must be OIHW [N, C, kh, kw] with positive integers`,
    );
  }
  const d = kernel.data;
  if (!(d instanceof Float32Array) || d.length !== numel(s)) {
    throw new Error(
      `${what}: kernel data has ${d?.length} values, shape [${s.join(', ')}] needs ${numel(s)}`,
    );
  }
  const [N, C, kh, kw] = s;
  // x·0 is 0 for finite x and NaN otherwise: one cheap pass, then locate the culprit.
  let probe = 0;
  for (let i = 0; i < d.length; i++) probe += d[i] * 0;
  if (probe !== 0) {
    const i = d.findIndex((x) => !Number.isFinite(x));
    const K = kh * kw;
    const idx = [Math.floor(i / (C * K)), Math.floor(i / K) % C, Math.floor(i / kw) % kh, i % kw];
    throw new Error(
      `${what}: kernel value ${d[i]} at [n, c, i, j] = [${idx.join(', ')}] is not finite; ` +
        'fix or re-export the weights before decomposing',
    );
  }
  return { N, C, kh, kw, K: kh * kw };
}

/** ‖W‖_F accumulated in float64. */
export function frobenius(kernel: Tensor): number {
  const d = kernel.data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  return Math.sqrt(s);
}

export type KernelOrder = 'knc' | 'kcn' | 'nkc' | 'ckn';

/**
 * The kernel times `scale`, as float64 in the given axis order (first letter slowest).
 * Decompositions work on W/‖W‖ so that every intermediate is O(1) whatever the weights'
 * magnitude, and scale the result back at the end.
 */
export function permuted(kernel: Tensor, dims: KernelDims, order: KernelOrder, scale: number) {
  const { N, C, K } = dims;
  const src = kernel.data;
  const out = new Float64Array(N * C * K);
  // Strides of n, c, k in the output.
  const stride: Record<'n' | 'c' | 'k', number> =
    order === 'knc'
      ? { k: N * C, n: C, c: 1 }
      : order === 'kcn'
        ? { k: C * N, c: N, n: 1 }
        : order === 'nkc'
          ? { n: K * C, k: C, c: 1 }
          : { c: K * N, k: N, n: 1 };
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * K;
      const o = n * stride.n + c * stride.c;
      for (let k = 0; k < K; k++) out[o + k * stride.k] = src[base + k] * scale;
    }
  }
  return out;
}

/** A float32 tensor of `shape` from float64 values times `scale`. */
export function toTensor(shape: number[], values: ArrayLike<number>, scale = 1): Tensor {
  const data = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i] * scale;
  return { shape, data };
}

/** Checks that `rank` is a positive integer ≤ `max`, naming the layer and the bound. */
export function checkRank(rank: unknown, max: number, what: string, bound: string): number {
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1) {
    throw new Error(`${what}: rank ${String(rank)} must be a positive integer`);
  }
  if (rank > max) throw new Error(`${what}: rank ${rank} exceeds ${bound} = ${max}`);
  return rank;
}
