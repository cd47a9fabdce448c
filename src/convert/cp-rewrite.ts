/**
 * CP decompositions as stock layers (Lebedev et al. 2015; docs/design.md#cp-and-cp4):
 *
 *   cp  (3-way): 1×1 conv C → R  →  depthwise kh×kw on R  →  1×1 conv R → N
 *                (MobileNetV2's linear bottleneck, no nonlinearity inside)
 *   cp4 (4-way): 1×1 conv C → R  →  depthwise kh×1  →  depthwise 1×kw  →  1×1 conv R → N
 *
 * The first 1×1 runs at input resolution with stride 1: the stride belongs to the depthwise
 * factor(s), where the padding is (a strided 1×1 would equal subsample-then-1×1, but the k×k
 * padding must see the full-resolution map). Bias and activation go on the last 1×1.
 * Factor layouts are cp.ts's: inFactor [R, C] is OIHW [R, C, 1, 1] as is, depthwise [R, 1, kh, kw]
 * is the depthwise kernel as is, outFactor [N, R] is OIHW [N, R, 1, 1] as is.
 */
import type { Conv2DNode, Node } from '../models/ir.js';
import type { Cp3Result, Cp4Result } from '../decompose/cp.js';
import type { Replacement } from './splice.js';
import { convNode, spatialOpts } from './nodes.js';
import { horizontalParams, verticalParams } from './axis-split.js';

function pointwise(name: string, input: string, data: Float32Array, out: number, inn: number, c?: Conv2DNode): Conv2DNode {
  return convNode({ name, inputs: [input], kernel: { shape: [out, inn, 1, 1], data }, ...(c ? { bias: c.bias, activation: c.activation } : {}) });
}

export function cp3Replacement(c: Conv2DNode, cp: Cp3Result): Replacement {
  const [n, cin, kh, kw] = c.kernel.shape;
  const R = cp.rank;
  const nodes: Node[] = [
    convNode({ name: `${c.name}/in`, inputs: c.inputs, kernel: { shape: [R, cin, 1, 1], data: cp.inFactor.data } }),
    convNode({ name: `${c.name}/dw`, inputs: [`${c.name}/in`], kernel: { shape: [R, 1, kh, kw], data: cp.depthwise.data }, groups: R, ...spatialOpts(c) }),
    pointwise(`${c.name}/out`, `${c.name}/dw`, cp.outFactor.data, n, R, c),
  ];
  return { nodes, output: `${c.name}/out` };
}

export function cp4Replacement(c: Conv2DNode, cp: Cp4Result): Replacement {
  const [n, cin, kh, kw] = c.kernel.shape;
  const R = cp.rank;
  const nodes: Node[] = [
    convNode({ name: `${c.name}/in`, inputs: c.inputs, kernel: { shape: [R, cin, 1, 1], data: cp.inFactor.data } }),
    convNode({ name: `${c.name}/dwv`, inputs: [`${c.name}/in`], kernel: { shape: [R, 1, kh, 1], data: cp.vertical.data }, groups: R, ...verticalParams(c) }),
    convNode({ name: `${c.name}/dwh`, inputs: [`${c.name}/dwv`], kernel: { shape: [R, 1, 1, kw], data: cp.horizontal.data }, groups: R, ...horizontalParams(c) }),
    pointwise(`${c.name}/out`, `${c.name}/dwh`, cp.outFactor.data, n, R, c),
  ];
  return { nodes, output: `${c.name}/out` };
}
