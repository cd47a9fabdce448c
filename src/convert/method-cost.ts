/**
 * MACs of one conv's replacement, per method, from the decompose/ cost helpers — the one formula
 * the keep-unprofitable rule, the speed budget and `compare` share. Every method's first 1×1 (CP,
 * Tucker-2, ND PW→DW) and SD's vertical factor run before the stride is (fully) applied, so the
 * input size matters, not just the output size.
 */
import type { Conv2DNode } from '../models/ir.js';
import { ndCost, type NdOrder } from '../decompose/nd.js';
import { cp3Cost, cp4Cost } from '../decompose/cp.js';
import { tucker2Cost } from '../decompose/tucker2.js';
import { spatialCost } from '../decompose/spatial.js';
import { ghostCost } from '../decompose/ghost.js';
import type { Method } from './methods.js';

export interface LayerGeometry {
  hIn: number;
  wIn: number;
  hOut: number;
  wOut: number;
}

/** The ranks that fix a replacement's shape. */
export interface MethodRanks {
  /** ND: T; CP: R; spatial, spatial-nd: K; Tucker-2: R_out. */
  rank: number;
  /** Tucker-2: [R_out, R_in]. */
  ranks?: [number, number];
  /** spatial-nd: T of the vertical and of the horizontal factor's ND. */
  factorRanks?: [number, number];
  /** ND and spatial-nd ordering. */
  order?: NdOrder;
  /** Ghost (rank = s): primaries after promotion, depthwise channels, d. Default ⌈N/s⌉, ⌈N/s⌉·(s−1), 3. */
  primaries?: number;
  ghostSlots?: number;
  ghostKernel?: number;
}

/** One output pixel, with the input pixels a stride implies: the ratio the keep-unprofitable rule uses. */
export function perPixel(c: Conv2DNode): LayerGeometry {
  return { hOut: 1, wOut: 1, hIn: c.strides[0], wIn: c.strides[1] };
}

export function convMacs(c: Conv2DNode, g: LayerGeometry): number {
  const [N, C, kh, kw] = c.kernel.shape;
  return g.hOut * g.wOut * N * C * kh * kw;
}

export function methodMacs(c: Conv2DNode, method: Method, r: MethodRanks, g: LayerGeometry): number {
  const [N, C, kh, kw] = c.kernel.shape;
  const order = r.order ?? 'dw-pw';
  switch (method) {
    case 'nd':
      return ndCost({ N, C, kh, kw, order, rank: r.rank, ...g });
    case 'cp':
      return cp3Cost({ N, C, kh, kw, rank: r.rank, ...g });
    case 'cp4':
      return cp4Cost({ N, C, kh, kw, rank: r.rank, ...g });
    case 'tucker2':
      return tucker2Cost({ N, C, kh, kw, ranks: r.ranks ?? [r.rank, r.rank], ...g });
    case 'spatial':
      return spatialCost({ N, C, kh, kw, rank: r.rank, ...g });
    case 'ghost': {
      const m = Math.ceil(N / r.rank);
      return ghostCost({ C, kh, kw, primaries: r.primaries ?? m, ghostSlots: r.ghostSlots ?? m * (r.rank - 1), kernelSize: r.ghostKernel ?? 3, hOut: g.hOut, wOut: g.wOut });
    }
    case 'spatial-nd': {
      const K = r.rank;
      const [tv, th] = r.factorRanks ?? [1, 1];
      // Vertical factor: kh×1, C → K, output hOut × wIn; horizontal: 1×kw, K → N, input hOut × wIn.
      const v = ndCost({ N: K, C, kh, kw: 1, order, rank: tv, hIn: g.hIn, wIn: g.wIn, hOut: g.hOut, wOut: g.wIn });
      const h = ndCost({ N, C: K, kh: 1, kw, order, rank: th, hIn: g.hOut, wIn: g.wIn, hOut: g.hOut, wOut: g.wOut });
      return v + h;
    }
  }
}

/** Replacement MACs / conv MACs per output pixel (≥ 1: the decomposition saves nothing). */
export function macRatio(c: Conv2DNode, method: Method, r: MethodRanks): number {
  const g = perPixel(c);
  return methodMacs(c, method, r, g) / convMacs(c, g);
}
