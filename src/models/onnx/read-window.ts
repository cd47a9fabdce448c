/** Sliding-window attributes of ONNX Conv and pooling ops (pads, auto_pad, strides, dilations) → IR. */
import type { Padding } from '../ir.js';
import type { Attrs } from './proto.js';

/** The IR padding the attributes describe, or null when it depends on the input size or is not 2-D. */
export function padsFromAttrs(a: Attrs, kernel: [number, number], strides: number[], dilations: number[]): Padding | null {
  const autoPad = a.str('auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return 'valid';
  if (autoPad === 'SAME_UPPER') return 'same';
  if (autoPad === 'SAME_LOWER') {
    // Without the input size the split of an odd total pad is unknown; when the total is always
    // even (stride 1, even (k−1)·d) SAME_LOWER and SAME_UPPER agree.
    const symmetric = [0, 1].every((i) => strides[i] === 1 && ((kernel[i] - 1) * dilations[i]) % 2 === 0);
    return symmetric ? 'same' : null;
  }
  if (autoPad !== 'NOTSET') return null;
  const pads = a.ints('pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4 || pads.some((p) => p < 0)) return null;
  if (pads.every((p) => p === 0)) return 'valid';
  return { pads: [pads[0], pads[1], pads[2], pads[3]] };
}

/** A 2-D strides/dilations pair ([1, 1] when absent); null when not 2-D; throws when not positive. */
export function pair(v: number[] | undefined, what: string, label: string): [number, number] | null {
  if (v === undefined) return [1, 1];
  if (v.length !== 2) return null;
  if (v.some((x) => !Number.isSafeInteger(x) || x < 1)) throw new Error(`${label}: invalid ${what} [${v}]`);
  return [v[0], v[1]];
}
