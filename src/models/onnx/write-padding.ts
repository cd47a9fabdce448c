/** IR padding → ONNX Conv / pooling pad attributes (explicit pads or auto_pad). */
import type { Padding } from '../ir.js';
import { attr, type IAttributeProto } from './proto.js';

/** A sliding window over the input, as much as the writer knows of it. */
export interface Window {
  /** Input [H, W], null when unknown. */
  hw: [number | null, number | null];
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
}

/**
 * Explicit [top, left, bottom, right] pads for TF 'same' when they do not depend on the input size
 * (stride 1) or the size is known; undefined → write auto_pad SAME_UPPER (the same rule at run time).
 */
function samePads({ hw, kernel: k, strides: s, dilations: d }: Window): number[] | undefined {
  const total: number[] = [];
  for (let i = 0; i < 2; i++) {
    const span = (k[i] - 1) * d[i] + 1;
    if (s[i] === 1) {
      total.push(span - 1);
    } else {
      const size = hw[i];
      if (size === null) return undefined;
      const out = Math.ceil(size / s[i]);
      total.push(Math.max((out - 1) * s[i] + span - size, 0));
    }
  }
  const before = total.map((t) => Math.floor(t / 2));
  return [before[0], before[1], total[0] - before[0], total[1] - before[1]];
}

/**
 * Pad attributes. A pool right after a zeroPad writes its padding as auto_pad (VALID/SAME_UPPER):
 * onnxruntime's PadFusion (level ≥ 'basic') folds Pad(0) into a following MaxPool/AveragePool
 * whose auto_pad is NOTSET, turning zero padding into padding the pool ignores — wrong values for
 * MaxPool on negative inputs and for AveragePool, or a load failure once the summed pads reach the
 * kernel size. Measured on ORT 1.30; auto_pad ≠ NOTSET is the fusion's documented opt-out.
 */
export function padAttrs(padding: Padding, win: Window, opts: { afterZeroPad?: boolean } = {}): IAttributeProto[] {
  if (padding === 'valid') return opts.afterZeroPad ? [attr.str('auto_pad', 'VALID')] : [];
  if (padding === 'same') {
    const pads = opts.afterZeroPad ? undefined : samePads(win);
    return pads ? [attr.ints('pads', pads)] : [attr.str('auto_pad', 'SAME_UPPER')];
  }
  return [attr.ints('pads', [...padding.pads])];
}
