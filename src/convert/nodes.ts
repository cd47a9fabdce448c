/** Small constructors shared by every method's rewrite. */
import type { Conv2DNode } from '../models/ir.js';

/** A new conv node: 1×1-style defaults, overridden by `p`. */
export function convNode(p: Partial<Conv2DNode> & Pick<Conv2DNode, 'name' | 'inputs' | 'kernel'>): Conv2DNode {
  return { op: 'conv2d', strides: [1, 1], dilations: [1, 1], padding: 'valid', groups: 1, bias: null, activation: 'linear', ...p };
}

export function spatialOpts(c: Conv2DNode): Pick<Conv2DNode, 'strides' | 'dilations' | 'padding'> {
  return { strides: c.strides, dilations: c.dilations, padding: c.padding };
}
