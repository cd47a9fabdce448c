/**
 * Rank allocation by data: replaces each network-decoupling budget candidate's kernel error
 * ‖ΔW‖²/‖W‖² by the relative output error it causes on the calibration data,
 *   tr(ΔW Σx ΔWᵀ) / tr(W Mx Wᵀ)      (Σx centred: the bias absorbs the mean; Mx = Σx + μμᵀ),
 * closed form from each layer's input statistics (activation-statistics.ts, one pass through the
 * original network), for the better of the plain and the activation-whitened factors at that
 * rank. Kernel error treats every input direction as equally likely; this weighs them as the data
 * does. Tucker-2 (truncated HOSVD, as the candidates' kernel-error bound assumes) and spatial
 * candidates likewise, from the better of the plain and the Kronecker-whitened closed form
 * (tucker2-whiten.ts, spatial-whiten.ts). CP and CP4 candidates from the better of the slice model
 * (the plain CP whose error the candidate grid's bound is, methods/cp.ts) and the whitened CP
 * (cp-whiten.ts) with a few ALS iterations (CP_COST_ITERATIONS). Other methods keep their kernel error.
 */
import { decouple, type NdOrder } from '../decompose/nd.js';
import { ndKernel64, optimalBias, toFactors64, type NdDims } from '../decompose/nd-refit.js';
import { whitenedDecouple } from '../decompose/nd-whiten.js';
import { gemmNT } from '../decompose/linalg.js';
import type { CentredMoments } from '../decompose/moments.js';
import type { BudgetCandidates } from '../convert/budget-plan.js';
import type { Engine } from './engine.js';
import { collectStatistics } from './activation-statistics.js';
import { tucker2 } from '../decompose/tucker2.js';
import { tucker2Factors64, tucker2Model, whitenedTucker2 } from '../decompose/tucker2-whiten.js';
import { spatial } from '../decompose/spatial.js';
import { spatialFactors64, spatialModel, whitenedSpatial } from '../decompose/spatial-whiten.js';
import type { Batch } from './tfjs-run.js';
import { cp3, cp4 } from '../decompose/cp.js';
import { cpFactors64, cpModel, whitenedCp } from '../decompose/cp-whiten.js';
import type { Tensor } from '../decompose/tensor.js';
import type { LayerCandidates } from '../convert/candidates.js';

/**
 * ALS iterations of the whitened CP behind each CP candidate's cost. CP is fitted per rank, and its
 * grid has 4× the other methods' ranks (methods/cp.ts): re-costing fmnist-vgg's 1 277 CP and CP4
 * candidates took 50 s with the unfitted whitened slice model, 82 s with 2 iterations and 113 s
 * with 5 (one run each, load 4–6 on 2 cores; its ND, Tucker-2 and spatial candidates: 17 s).
 * More iterations lower the costs (conv3_2's lowest cost / kernel error: 0.22, 0.19, 0.14), so a
 * capped fit overstates what calibration, which refits the whitened CP to convergence (calibrate-
 * factors.ts), reaches: CP is costed cautiously, within the time the other methods' costs take.
 */
export const CP_COST_ITERATIONS = 2;

export interface DataCostOptions {
  order?: NdOrder;
  seed?: number;
  /** ALS iterations of the whitened CP (default CP_COST_ITERATIONS; 0: its slice model, unfitted). */
  cpIterations?: number;
}

/** tr(A Σ Aᵀ) for A (N×F) and the full F×F Σ. */
function quadTrace(a: Float64Array, sigma: Float64Array, N: number, F: number): number {
  const as = new Float64Array(N * F);
  gemmNT(a, sigma, as, { m: N, n: F, k: F });
  let s = 0;
  for (let i = 0; i < N * F; i++) s += a[i] * as[i];
  return s;
}

/**
 * The two CP kernels a CP/CP4 candidate of rank R is costed by: the slice model (init 'slice' with
 * a spent time cap returns it unfitted: exactly the model whose error the grid's bound is) and the
 * whitened CP of the same statistics, its ALS capped at CP_COST_ITERATIONS.
 */
export function cpCostKernels(kernel: Tensor, m: CentredMoments, x: { four: boolean; rank: number; seed?: number; iterations?: number }): { plain: Float64Array; whitened: Float64Array } {
  const [N, C, kh, kw] = kernel.shape;
  const model = cpModel({ N, C, kh, kw, rank: x.rank }, x.four);
  const slice = { rank: x.rank, init: 'slice' as const, seed: x.seed ?? 0 };
  const plain = cpFactors64(x.four ? cp4(kernel, { ...slice, maxSeconds: 0 }) : cp3(kernel, { ...slice, maxSeconds: 0 }));
  const iterations = x.iterations ?? CP_COST_ITERATIONS;
  const whitened = whitenedCp(kernel, m, x.four, iterations > 0 ? { ...slice, nIterMax: iterations } : { ...slice, maxSeconds: 0 });
  return { plain: model.kernel(plain), whitened: model.kernel(whitened) };
}

/** Re-costs one layer's ND, Tucker-2, spatial, CP and CP4 candidates from its full input statistics; false when they cannot be (per-channel blocks, zero output). */
export function dataAwareLayerErrors(layer: Pick<LayerCandidates, 'conv' | 'candidates'>, m: CentredMoments, opts: DataCostOptions = {}): boolean {
  if (m.form !== 'full') return false;
  const order = opts.order ?? 'dw-pw';
  const kernel = layer.conv.kernel;
  const [N, C, kh, kw] = kernel.shape;
  const F = C * kh * kw;
  const dims: NdDims = { N, C, K: kh * kw };
  const w = Float64Array.from(kernel.data);
  // tr(W Mx Wᵀ) = tr(W Σx Wᵀ) + ‖W μx‖² (optimalBias with μy = 0 is −W μx): no F×F copy of Mx (170 MB at F = 4 608).
  const energy = quadTrace(w, m.cov, N, F) + optimalBias(w, { channels: C, taps: kh * kw, meanX: m.meanX, meanY: new Float64Array(N) }).reduce((s, b) => s + b * b, 0);
  if (!(energy > 0)) return false;
  const errorOfKernel = (wh: Float64Array) => quadTrace(wh.map((v, i) => w[i] - v), m.cov, N, F) / energy;
  const errorOf = (f: Parameters<typeof ndKernel64>[0]) => errorOfKernel(ndKernel64(f, dims));
  for (const c of layer.candidates) {
    if (c.method === 'nd') {
      const plain = errorOf(toFactors64(decouple(kernel, { order, rank: c.rank })));
      c.error = order === 'dw-pw' ? Math.min(plain, errorOf(whitenedDecouple(kernel, m, c.rank))) : plain;
    } else if (c.method === 'tucker2' && c.tuckerRanks) {
      const model = tucker2Model({ N, C, K: kh * kw, ranks: c.tuckerRanks });
      const plain = tucker2Factors64(tucker2(kernel, { ranks: c.tuckerRanks, nIterMax: 0 }));
      c.error = Math.min(errorOfKernel(model.kernel(plain)), errorOfKernel(model.kernel(whitenedTucker2(kernel, m, c.tuckerRanks, { nIterMax: 0 }))));
    } else if (c.method === 'spatial') {
      const model = spatialModel({ N, C, kh, kw, rank: c.rank });
      const plain = spatialFactors64(spatial(kernel, { rank: c.rank }));
      c.error = Math.min(errorOfKernel(model.kernel(plain)), errorOfKernel(model.kernel(whitenedSpatial(kernel, m, c.rank))));
    } else if (c.method === 'cp' || c.method === 'cp4') {
      const k = cpCostKernels(kernel, m, { four: c.method === 'cp4', rank: c.rank, seed: opts.seed, iterations: opts.cpIterations });
      c.error = Math.min(errorOfKernel(k.plain), errorOfKernel(k.whitened));
    }
  }
  return true;
}

/** Relative output error of each ND, Tucker-2, spatial, CP and CP4 candidate, in place (candidate.error); returns the layers re-costed. */
export async function dataAwareCandidateErrors(engine: Engine, bc: BudgetCandidates, inputs: Batch[], opts: DataCostOptions = {}): Promise<string[]> {
  const stats = await collectStatistics(engine, bc.graph, bc.layers.map((l) => l.conv), inputs, { seed: opts.seed });
  return bc.layers.filter((layer, li) => dataAwareLayerErrors(layer, stats[li].accumulator.centred(), opts)).map((l) => l.name);
}
