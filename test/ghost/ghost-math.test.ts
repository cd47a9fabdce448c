/**
 * src/decompose/ghost.ts: s = 1 keeps the conv; a conv whose channels are by construction
 * depthwise-filtered copies of others is recovered exactly by the weight-space and the data fit
 * (the construction is the oracle: its filters, biases and pairing); the assignment is exact
 * against brute force on small matrices; fewer ghosts never fit worse.
 */
import { describe, expect, it } from 'vitest';
import { GhostDataStats, ghostFromStats, ghostFromWeights, ghostPatches, weightStats } from '../../src/decompose/ghost.js';
import { minCostAssignment } from '../../src/decompose/assignment.js';
import { gaussianArray, mulberry32 } from '../../src/decompose/random.js';
import { convSame, ghostConv, marginImages } from './synthetic.js';

const geo = { strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number] };

function expectRecovered(r: ReturnType<typeof ghostFromWeights>, truth: ReturnType<typeof ghostConv>['truth'], tol: number) {
  expect(r.relError).toBeLessThan(tol);
  expect(r.solo.length).toBe(0);
  for (const [i, p] of r.primaries.entries()) {
    const g = r.ghosts[i];
    const t = truth.get(g);
    expect(t, `ghost ${g} is a constructed ghost`).toBeDefined();
    expect(t?.primary).toBe(p);
    for (let f = 0; f < 9; f++) expect(r.filters[i * 9 + f]).toBeCloseTo(t?.filter[f] as number, 3);
    expect(r.biases[i]).toBeCloseTo(t?.beta as number, 3);
  }
}

describe('ghost fits', () => {
  it('s = 1 keeps every channel primary, in order, with no ghosts (the conv itself)', () => {
    const { kernel, bias } = ghostConv(3, 4, 1);
    const r = ghostFromWeights(kernel, bias, { ratio: 1, kernelSize: 3, ...geo });
    expect(Array.from(r.primaries)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.ghosts.length + r.solo.length).toBe(0);
    expect(r.relError).toBe(0);
  });

  it('recovers constructed ghosts exactly from the weights (pairing, filters, biases)', () => {
    const c = ghostConv(4, 3, 2);
    expectRecovered(ghostFromWeights(c.kernel, c.bias, { ratio: 2, kernelSize: 3, ...geo }), c.truth, 1e-5);
  });

  it('recovers constructed ghosts exactly from the layer outputs (data fit)', () => {
    const c = ghostConv(4, 3, 3);
    const dims = { B: 3, C: 3, H: 12, W: 12 };
    const y = convSame(marginImages(dims, 2, 5), dims, c.kernel, c.bias);
    const N = c.kernel.shape[0];
    // Interior positions: there the depthwise filter reads only true primary outputs (at the border
    // it reads its zero padding where the conv would have seen the primary's bias).
    const positions = Int32Array.from({ length: dims.B * dims.H * dims.W }, (_, i) => i).filter((i) => {
      const y = Math.floor((i % 144) / 12);
      const x = i % 12;
      return y > 0 && y < 11 && x > 0 && x < 11;
    });
    const stats = new GhostDataStats(N, 3);
    const maps = { data: y, batch: dims.B, channels: N, height: dims.H, width: dims.W, channelsLast: false };
    const targets = new Float64Array(positions.length * N);
    for (const [r, pos] of positions.entries()) {
      const b = Math.floor(pos / 144);
      for (let n = 0; n < N; n++) targets[r * N + n] = y[(b * N + n) * 144 + (pos % 144)];
    }
    stats.add(ghostPatches(maps, positions, 3), targets, positions.length);
    expectRecovered(ghostFromStats(stats.stats(), { ratio: 2, kernelSize: 3 }), c.truth, 1e-4);
  });

  it('weight statistics of a stride-1 3×3 conv match a direct least-squares residual', () => {
    // Independent check of the composition: the residual of pair (g, p) with D = 0 is ‖W_g‖².
    const kernel = { shape: [3, 2, 3, 3], data: gaussianArray(54, 9) };
    const s = weightStats(kernel, 3, geo);
    let e0 = 0;
    for (let i = 0; i < 18; i++) e0 += kernel.data[i] ** 2;
    expect(s.energy[0]).toBeCloseTo(e0, 6);
  });

  it('a stricter minimum R² promotes ghosts to primaries and never raises the error', () => {
    const kernel = { shape: [8, 4, 3, 3], data: gaussianArray(8 * 36, 4) };
    const loose = ghostFromWeights(kernel, null, { ratio: 2, kernelSize: 3, ...geo });
    const strict = ghostFromWeights(kernel, null, { ratio: 2, kernelSize: 3, minR2: 0.99, ...geo });
    expect(strict.promoted).toBeGreaterThan(0);
    expect(strict.relError).toBeLessThanOrEqual(loose.relError + 1e-12);
    expect(strict.primaries.length + strict.solo.length).toBe(4 + strict.promoted);
  });

  it('rejects an even ghost kernel and a ratio above N with one-line errors', () => {
    const kernel = { shape: [4, 2, 3, 3], data: gaussianArray(72, 1) };
    expect(() => ghostFromWeights(kernel, null, { ratio: 2, kernelSize: 2, name: 'c1', ...geo })).toThrow(/layer "c1": ghost kernel 2: must be an odd/);
    expect(() => ghostFromWeights(kernel, null, { ratio: 5, kernelSize: 3, ...geo })).toThrow(/exceeds the layer's 4 output channels/);
  });
});

describe('min-cost assignment', () => {
  it('matches brute force over all permutations (n ≤ 6)', () => {
    const rand = mulberry32(3);
    const perms = (n: number): number[][] => (n === 0 ? [[]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])));
    for (let n = 1; n <= 6; n++) {
      const cost = Float64Array.from({ length: n * n }, () => Math.floor(rand() * 20));
      const best = Math.min(...perms(n).map((p) => p.reduce((a, c, r) => a + cost[r * n + c], 0)));
      const got = minCostAssignment(cost, n);
      expect(new Set(got).size).toBe(n);
      expect(Array.from(got).reduce((a, c, r) => a + cost[r * n + c], 0)).toBe(best);
    }
  });
});
