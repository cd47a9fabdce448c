/**
 * What each method's plan and cap do with the rank a user asked for (methods/*.ts): the notes a
 * capped rank leaves (maxima derived by hand from the layer shape), which rule picks K for spatial
 * and T for spatial-nd's factors, how CP's seed, iteration cap and time-limited slice start reach
 * the fit, and the Ghost module's ratio, ghost kernel, primaries and MACs (counted in the built
 * layers). Layer: C = 5 inputs, N = 6 outputs, 3×3.
 */
import { describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { methodEntry, planLayer } from '../../src/convert/methods.js';
import { ghostFromWeights } from '../../src/decompose/ghost.js';
import type { CapRank, MethodSettings } from '../../src/convert/method-types.js';
import type { NdOrder } from '../../src/decompose/nd.js';
import type { RankSpec } from '../../src/decompose/rank-rules.js';
import type { Conv2DNode } from '../../src/models/ir.js';
import { conv } from '../onnx/helpers.js';

const [N, C] = [6, 5];
const layer: Conv2DNode = conv('c', 'x', { cin: C, cout: N, k: [3, 3], padding: 'same', seed: 11 });
const settings: MethodSettings = { order: 'dw-pw', form: 'split', layout: 'NCHW' };

/** capFixed with a recording cap: returns the capped spec, the cap calls and the notes. */
function capped(method: Parameters<typeof methodEntry>[0], shape: number[], spec: RankSpec, order: NdOrder = 'dw-pw') {
  const calls: string[] = [];
  const notes: string[] = [];
  const cap: CapRank = (label, asked, max) => {
    calls.push(`${label} ${asked} ≤ ${max}`);
    return asked === undefined ? undefined : Math.min(asked, max);
  };
  const out = methodEntry(method).capFixed?.(shape, spec, { order, cap, notes });
  return { out, calls, notes };
}

describe('rank caps and their notes', () => {
  it('Tucker-2: one R above either channel count is noted per side; ranks [R_out, R_in] are capped at N and C', () => {
    expect(capped('tucker2', [5, 8, 3, 3], { rank: 6 }).notes).toEqual(['R 6 → [5, 6]']);
    expect(capped('tucker2', [8, 5, 3, 3], { rank: 6 }).notes).toEqual(['R 6 → [6, 5]']);
    expect(capped('tucker2', [5, 8, 3, 3], { rank: 5 }).notes).toEqual([]);
    const r = capped('tucker2', [5, 8, 3, 3], { tuckerRanks: [9, 2] });
    expect(r.calls).toEqual(['R_out 9 ≤ 5', 'R_in 2 ≤ 8']);
    expect(r.out?.tuckerRanks).toEqual([5, 2]);
  });

  it('CP: R is capped at kh·kw·min(N, C); spatial: K at min(C·kh, N·kw)', () => {
    expect(capped('cp', [6, 5, 3, 3], { rank: 99 }).calls).toEqual(['R 99 ≤ 45']);
    expect(capped('cp4', [4, 7, 3, 5], { rank: 99 }).calls).toEqual(['R 99 ≤ 60']);
    expect(capped('spatial', [6, 5, 3, 3], { rank: 99 }).calls).toEqual(['K 99 ≤ 15']);
    expect(capped('spatial', [2, 5, 3, 3], { rank: 99 }).out?.rank).toBe(6);
  });

  it('spatial-nd: a factor T above a factor\'s ND maximum is noted (kh×1: kh in dw-pw, min(C, kh) in pw-dw; 1×kw: kw, min(K, kw))', () => {
    expect(capped('spatial-nd', [8, 8, 3, 5], { rank: 4, factorRank: 4 }).notes).toEqual(['factor T 4 → 3/4']);
    expect(capped('spatial-nd', [8, 8, 5, 3], { rank: 4, factorRank: 4 }).notes).toEqual(['factor T 4 → 4/3']);
    expect(capped('spatial-nd', [8, 8, 3, 3], { rank: 4, factorRank: 3 }).notes).toEqual([]);
    expect(capped('spatial-nd', [8, 2, 3, 3], { rank: 4, factorRank: 3 }, 'pw-dw').notes).toEqual(['factor T 3 → 2/3']);
    expect(capped('spatial-nd', [8, 8, 3, 3], { rank: 2, factorRank: 3 }, 'pw-dw').notes).toEqual(['factor T 3 → 3/2']);
    expect(capped('spatial-nd', [8, 8, 3, 3], { rank: 2, factorRank: 3 }, 'dw-pw').notes).toEqual([]);
  });
});

describe('planLayer', () => {
  it('reports a cap only when it capped: "T 99 → 9" for ND dw-pw on a 3×3, no rankCapped field otherwise', () => {
    expect(planLayer(layer, 'nd', { rank: 99 }, settings).decompose().details.rankCapped).toBe('T 99 → 9');
    expect(planLayer(layer, 'nd', { rank: 9 }, settings).decompose().details).not.toHaveProperty('rankCapped');
  });
});

describe('spatial and spatial-nd plans', () => {
  // The (C·3) × (N·3) reshape the k×1 → 1×k pair truncates.
  const m = Matrix.zeros(C * 3, N * 3);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) m.set(c * 3 + i, n * 3 + j, layer.kernel.data[((n * C + c) * 3 + i) * 3 + j]);
  const sv = new SingularValueDecomposition(m, { autoTranspose: true }).diagonal;
  const total = sv.reduce((a, v) => a + v * v, 0);
  const kept = (K: number) => sv.slice(0, K).reduce((a, v) => a + v * v, 0) / total;

  it('spatial: a fixed K above min(C·kh, N·kw) becomes the exact full rank; the report carries the reshape spectrum', () => {
    const d = methodEntry('spatial').plan(layer, { rank: 99 }, settings, 'fixed').decompose();
    expect(d.rank).toBe(15);
    expect(d.maxRank).toBe(15);
    expect(d.kernelRelError).toBeLessThan(1e-5);
    d.singularValues[0].forEach((v, i) => expect(v).toBeCloseTo(sv[i], 4));
  });

  it('spatial: energy τ picks the smallest K keeping τ of Σσ², and reports 1 − err² as retained', () => {
    for (const tau of [0.5, 0.8, 0.95]) {
      const want = Array.from({ length: 15 }, (_, i) => i + 1).find((K) => kept(K) >= tau) as number;
      const p = methodEntry('spatial').plan(layer, { energy: tau }, settings, `energy ${tau}`);
      expect(p.ranks.rank).toBe(want);
      const d = p.decompose();
      expect(d.kernelRelError ** 2).toBeCloseTo(1 - kept(want), 5);
      expect(d.retainedEnergy).toBeCloseTo(kept(want), 5);
    }
  });

  it('spatial-nd: T = 1 with a fixed K alone, a factor T capped at each factor\'s maximum, energy 1 keeps everything', () => {
    const entry = methodEntry('spatial-nd');
    expect(entry.plan(layer, { rank: 4 }, settings, 'fixed').ranks.factorRanks).toEqual([1, 1]);
    expect(entry.plan(layer, { rank: 4, factorRank: 9 }, settings, 'fixed').ranks.factorRanks).toEqual([3, 3]);
    // pw-dw: the vertical factor maps C = 5 → K with a 3×1 (max min(5, 3)); the horizontal K = 2 → N (max min(2, 3)).
    expect(entry.plan(layer, { rank: 2, factorRank: 9 }, { ...settings, order: 'pw-dw' }, 'fixed').ranks.factorRanks).toEqual([3, 2]);
    const all = entry.plan(layer, { energy: 1 }, settings, 'energy 1');
    expect(all.ranks.rank).toBe(15);
    expect(all.ranks.factorRanks).toEqual([3, 3]);
    const d = all.decompose();
    expect(d.kernelRelError).toBeLessThan(1e-5);
    expect(d.maxRank).toBe(15);
    d.singularValues[0].forEach((v, i) => expect(v).toBeCloseTo(sv[i], 4));
  });
});

describe('CP plans', () => {
  // N = 6 < R = 8 < kh·kw: the SVD start pads the N×R output factor with seeded random columns.
  const cpPlan = (s: Partial<MethodSettings>) => methodEntry('cp').plan(layer, { rank: 8 }, { ...settings, ...s }, 'fixed').decompose();

  it('report R and the maximum rank kh·kw·min(N, C) = 45', () => {
    const d = cpPlan({ maxIterations: 2 });
    expect(d.rank).toBe(8);
    expect(d.maxRank).toBe(45);
    expect(d.retainedEnergy).toBeCloseTo(1 - d.kernelRelError ** 2, 12);
  });

  it('pass the iteration cap and the seed of the random start (default 0) to ALS', () => {
    expect(cpPlan({ maxIterations: 2 }).details.iterations).toBeLessThanOrEqual(2);
    const err = (seed?: number) => cpPlan({ maxIterations: 3, ...(seed === undefined ? {} : { seed }) }).kernelRelError;
    expect(err()).toBe(err(0));
    expect(err(1)).not.toBe(err(2));
  });

  it('with a time limit, start from the slice model, which no seed changes', () => {
    const err = (seed: number) => cpPlan({ maxIterations: 3, seed, cpSeconds: 30 }).kernelRelError;
    expect(err(1)).toBe(err(2));
  });
});

describe('Ghost plans', () => {
  const ghost = methodEntry('ghost');
  const parts = (d: ReturnType<ReturnType<typeof ghost.plan>['decompose']>) => {
    const byName = (suffix: string) => d.replacement.nodes.find((n) => n.name === `c${suffix}`) as Conv2DNode | undefined;
    const ghosts = d.replacement.nodes.filter((n) => n.op === 'conv2d' && n.name.startsWith('c/ghost')) as Conv2DNode[];
    return { primary: byName('/primary'), solo: byName('/solo'), ghosts };
  };

  it('take the ratio from the plan, else the ghost settings, else 2; the ghost kernel d from the settings, else 3', () => {
    expect(ghost.plan(layer, { rank: 3 }, { ...settings, ghost: { ratio: 2 } }, 'fixed').ranks.rank).toBe(3);
    expect(ghost.plan(layer, {}, { ...settings, ghost: { ratio: 3 } }, 'fixed').ranks.rank).toBe(3);
    const d = ghost.plan(layer, {}, settings, 'fixed').decompose();
    expect(d.rank).toBe(2);
    expect(d.maxRank).toBe(N);
    for (const g of parts(d).ghosts) expect(g.kernel.shape.slice(2)).toEqual([3, 3]);
    const five = parts(ghost.plan(layer, {}, { ...settings, ghost: { kernelSize: 5 } }, 'fixed').decompose());
    for (const g of five.ghosts) expect(g.kernel.shape.slice(2)).toEqual([5, 5]);
  });

  it('count as primaries the primary and solo convs it builds, and its MACs are theirs plus the ghosts\'', () => {
    for (const minR2 of [0, 0.5, 1]) {
      const p = ghost.plan(layer, { rank: 3 }, { ...settings, ghost: { minR2 } }, 'fixed');
      const d = p.decompose();
      const { primary, solo, ghosts } = parts(d);
      const primaries = (primary?.kernel.shape[0] ?? 0) + (solo?.kernel.shape[0] ?? 0);
      expect(p.ranks.primaries).toBe(primaries);
      expect(d.details.ghost?.primaries).toBe(primaries);
      const slots = ghosts.reduce((a, g) => a + g.kernel.shape[0], 0);
      expect(p.ranks.ghostSlots).toBe(slots);
      const g = { hIn: 8, wIn: 8, hOut: 8, wOut: 8 };
      expect(ghost.macs(layer.kernel.shape, p.ranks, g)).toBe(64 * (primaries * C * 9 + slots * 9));
      expect(d.retainedEnergy).toBeCloseTo(1 - d.kernelRelError ** 2, 12);
      if (minR2 === 1) expect(primaries).toBe(N);
    }
  });

  it('without counts, cost ⌈N/s⌉ primaries and ⌈N/s⌉·(s − 1) ghost channels', () => {
    const g = { hIn: 4, wIn: 4, hOut: 4, wOut: 4 };
    expect(ghost.macs([6, 5, 3, 3], { rank: 4 }, g)).toBe(16 * (2 * 5 * 9 + 6 * 9));
    expect(ghost.macs([7, 5, 3, 3], { rank: 2 }, g)).toBe(16 * (4 * 5 * 9 + 4 * 9));
  });

  it('report the mean R² of the ghost channels\' fits, within [0, 1], and 1 when every ghost is promoted', () => {
    const some = ghost.plan(layer, { rank: 2 }, settings, 'fixed').decompose().details.ghost;
    expect(some?.meanR2).toBeGreaterThanOrEqual(0);
    expect(some?.meanR2).toBeLessThan(1);
    // This layer's ghost slots hold channel 0 too: the mean runs over every filled slot.
    const fit = ghostFromWeights(layer.kernel, layer.bias, { ratio: 2, kernelSize: 3, strides: [1, 1], dilations: [1, 1] });
    const held = Array.from(fit.ghosts).filter((ch) => ch !== -1);
    expect(held).toContain(0);
    expect(some?.meanR2).toBeCloseTo(held.reduce((a, ch) => a + fit.r2[ch], 0) / held.length, 12);
    const none = ghost.plan(layer, { rank: 2 }, { ...settings, ghost: { minR2: 1 } }, 'fixed').decompose().details.ghost;
    expect(none?.promoted).toBeGreaterThan(0);
    expect(none?.meanR2).toBe(1);
  });
});
