/**
 * Rank allocation by data: replaces each network-decoupling budget candidate's kernel error
 * ‖ΔW‖²/‖W‖² by the relative output error it causes on the calibration data,
 *   tr(ΔW Σx ΔWᵀ) / tr(W Mx Wᵀ)      (Σx centred: the bias absorbs the mean; Mx = Σx + μμᵀ),
 * closed form from each layer's input statistics (activation-statistics.ts, one pass through the
 * original network), for the better of the plain and the activation-whitened factors at that
 * rank. Kernel error treats every input direction as equally likely; this weighs them as the data
 * does. Tucker-2 (truncated HOSVD, as the candidates' kernel-error bound assumes) and spatial
 * candidates likewise, from the better of the plain and the Kronecker-whitened closed form
 * (tucker2-whiten.ts, spatial-whiten.ts). Other methods keep their kernel error.
 */
import { decouple, type NdOrder } from '../decompose/nd.js';
import { ndKernel64, toFactors64, type NdDims } from '../decompose/nd-refit.js';
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

/** tr(A Σ Aᵀ) for A (N×F) and the full F×F Σ. */
function quadTrace(a: Float64Array, sigma: Float64Array, N: number, F: number): number {
  const as = new Float64Array(N * F);
  gemmNT(a, sigma, as, { m: N, n: F, k: F });
  let s = 0;
  for (let i = 0; i < N * F; i++) s += a[i] * as[i];
  return s;
}

/** Relative output error of each ND, Tucker-2 and spatial candidate, in place (candidate.error); returns the layers re-costed. */
export async function dataAwareCandidateErrors(engine: Engine, bc: BudgetCandidates, inputs: Batch[], opts: { order?: NdOrder; seed?: number } = {}): Promise<string[]> {
  const order = opts.order ?? 'dw-pw';
  const stats = await collectStatistics(engine, bc.graph, bc.layers.map((l) => l.conv), inputs, { seed: opts.seed });
  const done: string[] = [];
  for (const [li, layer] of bc.layers.entries()) {
    const m: CentredMoments = stats[li].accumulator.centred();
    if (m.form !== 'full') continue;
    const [N, C, kh, kw] = layer.conv.kernel.shape;
    const F = C * kh * kw;
    const dims: NdDims = { N, C, K: kh * kw };
    const w = Float64Array.from(layer.conv.kernel.data);
    const second = m.cov.slice();
    for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) second[i * F + j] += m.meanX[i] * m.meanX[j];
    const energy = quadTrace(w, second, N, F);
    if (!(energy > 0)) continue;
    const errorOf = (f: Parameters<typeof ndKernel64>[0]) => {
      const d = ndKernel64(f, dims);
      for (let i = 0; i < d.length; i++) d[i] = w[i] - d[i];
      return quadTrace(d, m.cov, N, F) / energy;
    };
    const errorOfKernel = (wh: Float64Array) => {
      const d = wh.map((v, i) => w[i] - v);
      return quadTrace(d, m.cov, N, F) / energy;
    };
    const kernel = layer.conv.kernel;
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
      }
    }
    done.push(layer.name);
  }
  return done;
}
