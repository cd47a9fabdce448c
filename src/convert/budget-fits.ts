/**
 * Time for the fits the speed budget still needs. The budget chose CP ranks from the slice
 * spectrum's error bound (candidates.ts), which the slice model itself achieves; ALS from that
 * start only lowers the error. So a fit can stop at any time and the plan stays valid: the time
 * left of --budget-seconds is shared among the CP layers in proportion to one ALS iteration's
 * cost (three MTTKRPs, ∝ N·C·kh·kw·R), so big layers get the time they need to iterate at all.
 */
import type { LayerCandidates } from './candidates.js';
import type { LayerPlan } from './convert.js';

export function shareFitSeconds(layers: LayerCandidates[], plan: Record<string, LayerPlan>, seconds: number): Map<string, number> {
  const weights = new Map<string, number>();
  for (const l of layers) {
    const p = plan[l.name];
    if (!p || (p.method !== 'cp' && p.method !== 'cp4')) continue;
    const [N, C, kh, kw] = l.conv.kernel.shape;
    weights.set(l.name, N * C * kh * kw * (p.rank ?? 1));
  }
  const total = [...weights.values()].reduce((a, b) => a + b, 0);
  const out = new Map<string, number>();
  for (const [name, w] of weights) out.set(name, total > 0 ? (seconds * w) / total : 0);
  return out;
}
