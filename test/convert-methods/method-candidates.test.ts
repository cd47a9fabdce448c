/**
 * Each method's budget/`compare` candidates for one layer (methods/*.ts via layerCandidates), checked
 * against independent sources: the MACs of each factorisation derived by hand from its layer shapes,
 * the spectra of the kernel's reshapes and unfoldings from ml-matrix (Eckart–Young, the HOSVD bound),
 * and real fits of the same ranks, which must reach what an "exact" figure says and never exceed
 * what a "bound" says. Layer: C = 5 inputs, N = 6 outputs, 3×3, 'same' on 8×8 (before = 64·6·5·9).
 */
import { describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { layerCandidates, type Candidate } from '../../src/convert/candidates.js';
import { methodEntry } from '../../src/convert/methods.js';
import { tucker2 as tucker2Fit } from '../../src/decompose/tucker2.js';
import { cp3 } from '../../src/decompose/cp.js';
import type { Conv2DNode } from '../../src/models/ir.js';
import { conv } from '../onnx/helpers.js';

const [N, C, H] = [6, 5, 8];
const layer: Conv2DNode = conv('c', 'x', { cin: C, cout: N, k: [3, 3], padding: 'same', seed: 5 });
const g = { hIn: H, wIn: H, hOut: H, wOut: H };
const before = H * H * N * C * 9;
const W = (n: number, c: number, i: number, j: number) => layer.kernel.data[((n * C + c) * 3 + i) * 3 + j];

function spectrum(rows: number, cols: number, at: (r: number, c: number) => number): number[] {
  const m = Matrix.zeros(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m.set(r, c, at(r, c));
  return new SingularValueDecomposition(m, { autoTranspose: true }).diagonal;
}
/** Σ_{t ≥ r} σ_t² / Σ σ²: the squared relative error of the best rank-r approximation. */
const tail = (sv: number[], r: number) => sv.slice(r).reduce((a, v) => a + v * v, 0) / sv.reduce((a, v) => a + v * v, 0);
const fitted = (cs: Candidate[], method: string) => cs.filter((c) => c.method === method);

describe('Tucker-2 candidates', () => {
  // Computed inside each test, so a mutant of the candidate code is active while it runs.
  const candidates = () => fitted(layerCandidates(layer, g, { methods: ['tucker2'] }), 'tucker2');
  // Mode-1 (N × C·9) and mode-2 (C × N·9) unfoldings.
  const sOut = spectrum(N, C * 9, (n, k) => W(n, Math.floor(k / 9), Math.floor(k / 3) % 3, k % 3));
  const sIn = spectrum(C, N * 9, (c, k) => W(Math.floor(k / 9), c, Math.floor(k / 3) % 3, k % 3));

  it('cost what 1×1 (C → R_in) at 8×8, the 3×3 core and 1×1 (R_out → N) cost, always fewer MACs than the conv', () => {
    const cs = candidates();
    expect(cs.length).toBeGreaterThan(2);
    for (const c of cs) {
      const [ro, ri] = c.tuckerRanks as [number, number];
      expect(c.rank).toBe(ro);
      expect(c.macs).toBe(H * H * (C * ri + ri * ro * 9 + ro * N));
      expect(c.macs).toBeLessThan(before);
    }
    // Guards against a rank family other than the documented one: every pair is (ρN, ρC) rounded
    // and clamped to [1, N] × [1, C] for one ρ = s / max(N, C), s an integer.
    const pairAt = (s: number) => [N, C].map((d) => Math.max(1, Math.min(d, Math.round((s / Math.max(N, C)) * d)))).join();
    const family = new Set(Array.from({ length: Math.max(N, C) }, (_, i) => pairAt(i + 1)));
    for (const c of cs) expect(family.has((c.tuckerRanks as number[]).join()), c.tuckerRanks?.join()).toBe(true);
    // Distinct rank pairs, both growing together (one ρ scales both).
    expect(new Set(cs.map((c) => c.tuckerRanks?.join())).size).toBe(cs.length);
    const sorted = [...cs].sort((a, b) => a.macs - b.macs);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i].tuckerRanks?.[0]).toBeGreaterThanOrEqual(sorted[i - 1].tuckerRanks?.[0] as number);
      expect(sorted[i].tuckerRanks?.[1]).toBeGreaterThanOrEqual(sorted[i - 1].tuckerRanks?.[1] as number);
    }
  });

  it('carry the HOSVD bound e_out² + e_in² of the two unfoldings, which HOOI at the same ranks never exceeds', () => {
    const cs = candidates();
    for (const c of cs) {
      const [ro, ri] = c.tuckerRanks as [number, number];
      expect(c.errorKind).toBe('bound');
      expect(c.error).toBeCloseTo(Math.min(1, tail(sOut, ro) + tail(sIn, ri)), 6);
      const hooi = tucker2Fit(layer.kernel, { ranks: [ro, ri] }).kernelRelError ** 2;
      expect(hooi).toBeLessThanOrEqual(c.error + 1e-6);
    }
    expect(cs.some((c) => c.error > 0.05)).toBe(true);
  });

  it('with realize, report the fit they built: the exact error, never above the bound', () => {
    const cs = candidates();
    const real = fitted(layerCandidates(layer, g, { methods: ['tucker2'], realize: { form: 'split', layout: 'NCHW' } }), 'tucker2');
    expect(real.map((c) => c.tuckerRanks?.join())).toEqual(cs.map((c) => c.tuckerRanks?.join()));
    for (const [i, c] of real.entries()) {
      expect(c.errorKind).toBe('exact');
      expect(c.replacement?.nodes.length).toBeGreaterThan(0);
      expect(c.error).toBeLessThanOrEqual(cs[i].error + 1e-6);
      expect(c.error).toBeCloseTo(tucker2Fit(layer.kernel, { ranks: c.tuckerRanks as [number, number] }).kernelRelError ** 2, 5);
    }
    // Guards against realize settings not reaching HOOI: one iteration is what maxIterations 1 fits.
    const once = fitted(layerCandidates(layer, g, { methods: ['tucker2'], realize: { form: 'split', layout: 'NCHW', maxIterations: 1 } }), 'tucker2');
    for (const c of once) expect(c.error).toBeCloseTo(tucker2Fit(layer.kernel, { ranks: c.tuckerRanks as [number, number], nIterMax: 1 }).kernelRelError ** 2, 6);
    expect(once.some((c, i) => Math.abs(c.error - real[i].error) > 1e-6)).toBe(true);
  });
});

describe('spatial candidates', () => {
  // The (C·kh) × (N·kw) reshape whose rank-K truncation the k×1 → 1×k pair is.
  const sv = spectrum(C * 3, N * 3, (r, q) => W(Math.floor(q / 3), Math.floor(r / 3), r % 3, q % 3));
  const candidates = () => fitted(layerCandidates(layer, g, { methods: ['spatial'] }), 'spatial');

  it('offer every profitable K with its Eckart–Young error and the MACs of 3×1 (C → K) then 1×3 (K → N)', () => {
    const cs = candidates();
    const cost = (K: number) => H * H * (K * C * 3 + N * K * 3);
    const profitable = Array.from({ length: 15 }, (_, i) => i + 1).filter((K) => cost(K) < before);
    expect(cs.map((c) => c.rank)).toEqual(profitable);
    for (const c of cs) {
      expect(c.macs).toBe(cost(c.rank));
      expect(c.errorKind).toBe('exact');
      expect(c.error).toBeCloseTo(tail(sv, c.rank), 6);
    }
  });

  it('with realize, build the rank-K pair whose kernel has that error', () => {
    const cs = candidates();
    const real = fitted(layerCandidates(layer, g, { methods: ['spatial'], realize: { form: 'split', layout: 'NCHW' } }), 'spatial');
    expect(real.map((c) => c.rank)).toEqual(cs.map((c) => c.rank));
    for (const c of real) {
      const [v, h] = c.replacement?.nodes.filter((n) => n.op === 'conv2d') as Conv2DNode[];
      expect(v.kernel.shape).toEqual([c.rank, C, 3, 1]);
      expect(h.kernel.shape).toEqual([N, c.rank, 1, 3]);
      let num = 0;
      let den = 0;
      for (let n = 0; n < N; n++) {
        for (let ch = 0; ch < C; ch++) {
          for (let i = 0; i < 3; i++) {
            for (let j = 0; j < 3; j++) {
              let w = 0;
              for (let k = 0; k < c.rank; k++) w += h.kernel.data[(n * c.rank + k) * 3 + j] * v.kernel.data[(k * C + ch) * 3 + i];
              num += (w - W(n, ch, i, j)) ** 2;
              den += W(n, ch, i, j) ** 2;
            }
          }
        }
      }
      expect(num / den).toBeCloseTo(c.error, 5);
    }
  });
});

describe('spatial-nd candidates', () => {
  const candidates = () => fitted(layerCandidates(layer, g, { methods: ['spatial-nd'], gridSize: 48 }), 'spatial-nd');

  it('offer every factor rank T = 1..3 of the 3×1 and 1×3 factors, never a worse error than spatial alone at the same K', () => {
    const cs = candidates();
    expect([...new Set(cs.map((c) => c.factorRank))].sort()).toEqual([1, 2, 3]);
    const sp = new Map(fitted(layerCandidates(layer, g, { methods: ['spatial'] }), 'spatial').map((c) => [c.rank, c.error]));
    for (const c of cs) {
      expect(c.macs).toBeLessThan(before);
      expect(c.error).toBeGreaterThanOrEqual((sp.get(c.rank) ?? 0) - 1e-6);
      // T = 3 = kh·1 keeps each dw-pw factor whole: exactly spatial's error.
      if (c.factorRank === 3 && sp.has(c.rank)) expect(c.error).toBeCloseTo(sp.get(c.rank) as number, 6);
    }
  });

  it('report what a planned spatial-nd layer of the same K and T reaches, at its MACs', () => {
    const cs = candidates();
    const entry = methodEntry('spatial-nd');
    for (const c of cs.filter((_, i) => i % 3 === 0)) {
      const p = entry.plan(layer, { rank: c.rank, factorRank: c.factorRank }, { order: 'dw-pw', form: 'split', layout: 'NCHW' }, 'fixed');
      expect(c.error).toBeCloseTo(p.decompose().kernelRelError ** 2, 6);
      expect(c.macs).toBe(entry.macs(layer.kernel.shape, p.ranks, g));
    }
  });
});

describe('CP candidates', () => {
  const candidates = () => fitted(layerCandidates(layer, g, { methods: ['cp'] }), 'cp');

  it('cost 1×1 (C → R) at 8×8, a depthwise 3×3 and 1×1 (R → N), and carry a bound that falls with R', () => {
    const cs = candidates();
    expect(cs.length).toBeGreaterThan(5);
    for (const [i, c] of cs.entries()) {
      expect(c.macs).toBe(H * H * (C * c.rank + c.rank * 9 + c.rank * N));
      expect(c.macs).toBeLessThan(before);
      expect(c.errorKind).toBe('bound');
      expect(c.error).toBeGreaterThan(0);
      if (i > 0) expect(c.error).toBeLessThanOrEqual(cs[i - 1].error + 1e-12);
    }
  });

  it('with realize, run ALS at each rank (cpIterations of it) and report the error of the fit', () => {
    const cs = candidates();
    const real = fitted(layerCandidates(layer, g, { methods: ['cp'], cpIterations: 3, realize: { form: 'split', layout: 'NCHW', seed: 4 } }), 'cp');
    expect(real.length).toBeGreaterThanOrEqual(4);
    for (const c of real.filter((_, i) => i % 2 === 0)) {
      expect(c.errorKind).toBe('exact');
      const fit = cp3(layer.kernel, { rank: c.rank, seed: 4, nIterMax: 3 });
      expect(c.error).toBeCloseTo(fit.kernelRelError ** 2, 6);
    }
  });
});

describe('Ghost candidates', () => {
  it('offer each ratio s ≤ N of GhostNet with fewer MACs, its exact error and the primaries it keeps', () => {
    const four = conv('q', 'x', { cin: 16, cout: 4, k: [3, 3], padding: 'same', seed: 8 });
    const cs = fitted(layerCandidates(four, g, { methods: ['ghost'], realize: { form: 'split', layout: 'NCHW' } }), 'ghost');
    // N = 4 outputs: s = 2, 3, 4 (s = 6, 8 exceed N); primaries ⌈4/s⌉ each cost a 16-channel 3×3 conv.
    expect(cs.map((c) => c.rank)).toEqual([2, 3, 4]);
    for (const c of cs) {
      const primary = c.replacement?.nodes.find((n) => n.name === 'q/primary') as Conv2DNode;
      const solo = c.replacement?.nodes.find((n) => n.name === 'q/solo') as Conv2DNode | undefined;
      expect(c.ghostPrimaries).toBe(primary.kernel.shape[0] + (solo?.kernel.shape[0] ?? 0));
      expect(c.macs).toBeLessThan(H * H * 4 * 16 * 9);
      expect(c.error).toBeGreaterThan(0);
    }
  });
});
