/**
 * Spatial decomposition (Jaderberg et al. 2014) as stock layers: a kh×1 conv C → K then a 1×kw
 * conv K → N (axis-split.ts gives each factor its half of the stride, padding and dilation; bias and
 * activation go on the horizontal conv).
 *
 * ND after SD ("spatial-nd"): each factor is itself a regular conv, so it is decoupled like any
 * other (nd-rewrite.ts): the vertical one into a kh×1 depthwise (T per channel) + 1×1, the
 * horizontal one into a 1×kw depthwise + 1×1. The factor convs are named `<conv>/v` and `<conv>/h`
 * before decoupling, so the final nodes read `<conv>/v/dw0`, `<conv>/v/pw`, `<conv>/h/dw0`, ….
 */
import type { Conv2DNode, Layout } from '../models/ir.js';
import type { SpatialResult } from '../decompose/spatial.js';
import type { NdResult } from '../decompose/nd.js';
import type { Replacement } from './splice.js';
import { convNode } from './nodes.js';
import { horizontalParams, verticalParams } from './axis-split.js';
import { dwPwReplacement, pwDwReplacement, type DepthwiseForm } from './nd-rewrite.js';

/** The two factor convs, wired vertical → horizontal. */
export function spatialFactorConvs(c: Conv2DNode, s: Pick<SpatialResult, 'vertical' | 'horizontal'>): [Conv2DNode, Conv2DNode] {
  const v = convNode({ name: `${c.name}/v`, inputs: c.inputs, kernel: s.vertical, ...verticalParams(c) });
  const h = convNode({ name: `${c.name}/h`, inputs: [v.name], kernel: s.horizontal, ...horizontalParams(c), bias: c.bias, activation: c.activation });
  return [v, h];
}

export function spatialReplacement(c: Conv2DNode, s: Pick<SpatialResult, 'vertical' | 'horizontal'>): Replacement {
  const [v, h] = spatialFactorConvs(c, s);
  return { nodes: [v, h], output: h.name };
}

export interface SpatialNdFactors {
  spatial: Pick<SpatialResult, 'vertical' | 'horizontal'>;
  /** decouple() of the vertical factor [K, C, kh, 1] and of the horizontal one [N, K, 1, kw]. */
  vertical: NdResult;
  horizontal: NdResult;
}

export function spatialNdReplacement(c: Conv2DNode, f: SpatialNdFactors, form: DepthwiseForm, layout: Layout): Replacement {
  const [v, h] = spatialFactorConvs(c, f.spatial);
  const rewrite = (conv: Conv2DNode, nd: NdResult) => (nd.order === 'dw-pw' ? dwPwReplacement(conv, nd, form, layout) : pwDwReplacement(conv, nd, form));
  const vRep = rewrite(v, f.vertical);
  const hRep = rewrite({ ...h, inputs: [vRep.output] }, f.horizontal);
  return { nodes: [...vRep.nodes, ...hRep.nodes], output: hRep.output };
}
