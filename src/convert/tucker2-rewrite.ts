/**
 * Tucker-2 (Kim et al. 2016) as stock layers: 1×1 conv C → R1 → regular kh×kw conv R1 → R2 →
 * 1×1 conv R2 → N. The core takes the stride, padding and dilation (the first 1×1 runs at input
 * resolution, stride 1); bias and activation go on the last 1×1. Factor layouts are tucker2.ts's
 * (first [R1, C, 1, 1], core [R2, R1, kh, kw], last [N, R2, 1, 1]: OIHW kernels as they are).
 */
import type { Conv2DNode } from '../models/ir.js';
import type { Tucker2Result } from '../decompose/tucker2.js';
import type { Replacement } from './splice.js';
import { convNode, spatialOpts } from './nodes.js';

export function tucker2Replacement(c: Conv2DNode, t: Tucker2Result): Replacement {
  return {
    nodes: [
      convNode({ name: `${c.name}/in`, inputs: c.inputs, kernel: t.first }),
      convNode({ name: `${c.name}/core`, inputs: [`${c.name}/in`], kernel: t.core, ...spatialOpts(c) }),
      convNode({ name: `${c.name}/out`, inputs: [`${c.name}/core`], kernel: t.last, bias: c.bias, activation: c.activation }),
    ],
    output: `${c.name}/out`,
  };
}
