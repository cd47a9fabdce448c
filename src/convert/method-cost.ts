/**
 * MACs of one conv's replacement, per method (each MethodEntry's macs, from the decompose/ cost
 * helpers): the one formula the keep-unprofitable rule, the speed budget and `compare` share.
 * Every method's first 1×1 (CP, Tucker-2, ND PW→DW) and SD's vertical factor run before the
 * stride is (fully) applied, so the input size matters, not just the output size.
 */
import type { Conv2DNode } from '../models/ir.js';
import type { LayerGeometry, Method, MethodRanks } from './method-types.js';
import { methodEntry } from './methods.js';

export type { LayerGeometry, MethodRanks } from './method-types.js';

/** One output pixel, with the input pixels a stride implies: the ratio the keep-unprofitable rule uses. */
export function perPixel(c: Conv2DNode): LayerGeometry {
  return { hOut: 1, wOut: 1, hIn: c.strides[0], wIn: c.strides[1] };
}

export function convMacs(c: Conv2DNode, g: LayerGeometry): number {
  const [N, C, kh, kw] = c.kernel.shape;
  return g.hOut * g.wOut * N * C * kh * kw;
}

export function methodMacs(c: Conv2DNode, method: Method, r: MethodRanks, g: LayerGeometry): number {
  return methodEntry(method).macs(c.kernel.shape, r, g);
}

/** Replacement MACs / conv MACs per output pixel (≥ 1: the decomposition saves nothing). */
export function macRatio(c: Conv2DNode, method: Method, r: MethodRanks): number {
  const g = perPixel(c);
  return methodMacs(c, method, r, g) / convMacs(c, g);
}
