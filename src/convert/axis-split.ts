/**
 * Stride, padding and dilation of a kh×kw conv split onto its vertical (kh×1) and horizontal
 * (1×kw) factors — spatial decomposition and CP4 both run the vertical factor first.
 *
 * TF 'same' pads each axis on its own (total = max((⌈n/s⌉ − 1)·s + (k − 1)·d + 1 − n, 0), extra at
 * the bottom/right), so 'same' on both factors reproduces 'same' on the k×k conv; along a factor's
 * size-1 axis 'same' pads nothing. Explicit pads [t, l, b, r] split into [t, 0, b, 0] and
 * [0, l, 0, r]; 'valid' stays valid. Stride (sh, sw) → (sh, 1) then (1, sw); dilation likewise.
 *
 * The stride of each factor's size-1 axis is always 1. That also keeps these layers off a
 * tfjs-wasm 4.22 bug (tfjs issue 6629), measured here against the cpu backend: a conv or depthwise
 * conv with 'same' padding computes wrong values when, on some axis, the unclamped pad total
 * (⌈n/s⌉ − 1)·s + k − n is negative — i.e. the stride exceeds the kernel size there (k×1 with
 * stride (·, 2) on an even width, 1×k with stride (2, ·) on an even height, any size at stride 3).
 * Putting the whole stride on both factors would hit it (test/convert-methods/wasm-depthwise).
 */
import type { Conv2DNode, Padding } from '../models/ir.js';

export type SpatialParams = Pick<Conv2DNode, 'strides' | 'dilations' | 'padding'>;

function axisPadding(p: Padding, axis: 'vertical' | 'horizontal'): Padding {
  if (typeof p === 'string') return p;
  const [t, l, b, r] = p.pads;
  return { pads: axis === 'vertical' ? [t, 0, b, 0] : [0, l, 0, r] };
}

/** The kh×1 factor's stride, dilation and padding: the height parts only. */
export function verticalParams(c: Conv2DNode): SpatialParams {
  return { strides: [c.strides[0], 1], dilations: [c.dilations[0], 1], padding: axisPadding(c.padding, 'vertical') };
}

/** The 1×kw factor's stride, dilation and padding: the width parts only. */
export function horizontalParams(c: Conv2DNode): SpatialParams {
  return { strides: [1, c.strides[1]], dilations: [1, c.dilations[1]], padding: axisPadding(c.padding, 'horizontal') };
}
