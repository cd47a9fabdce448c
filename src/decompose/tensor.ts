/**
 * The dense tensor the decomposition code works on, and the two measurements every method needs.
 *
 * `Tensor` is structurally identical to the IR's Tensor (src/models/ir.ts) so IR kernels can be
 * passed straight in; it is redeclared here because src/decompose must not import src/models.
 */

/** Dense float tensor with an explicit shape; `data.length` equals the product of `shape`. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Number of elements a shape holds (1 for a scalar shape []). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * ‖a − b‖_F / ‖a‖_F, accumulated in float64 (float32 sums of 2 M squared weights would lose
 * ~3 digits). A zero `a` gives 0 when `b` is zero too and Infinity otherwise, never NaN.
 */
export function relFrobeniusError(a: Tensor, b: Tensor): number {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(
      `relFrobeniusError: shapes differ, [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]; ` +
        'compare tensors of the same shape',
    );
  }
  const x = a.data;
  const y = b.data;
  if (x.length !== y.length) {
    throw new Error(`relFrobeniusError: data lengths differ (${x.length} vs ${y.length})`);
  }
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - y[i];
    diff += d * d;
    ref += x[i] * x[i];
  }
  if (ref === 0) return diff === 0 ? 0 : Infinity;
  return Math.sqrt(diff / ref);
}
