/**
 * src/decompose/ghost.ts against oracles written here: the weight-space statistics against what a
 * conv followed by a d×d depthwise filter computes on impulse inputs (strided, dilated, non-square);
 * the data statistics and patches against direct sums; the selection, on pair residuals crafted
 * through 1×1 statistics, against brute-force assignments and role swaps; the MAC count by hand.
 */
import { describe, expect, it } from 'vitest';
import { GhostDataStats, ghostCost, ghostFromStats, ghostFromWeights, ghostPatches, weightStats, type GhostStats } from '../../src/decompose/ghost.js';
import { gaussianArray, mulberry32 } from '../../src/decompose/random.js';
import type { Tensor } from '../../src/decompose/tensor.js';

interface Geometry { strides: [number, number]; dilations: [number, number] }

/** One output of a strided, dilated conv of x (C×H×W) with one filter w (C×kh×kw) at (Y, X). */
function convAt(x: Float64Array, H: number, W: number, w: Float32Array, shape: number[], geo: Geometry, Y: number, X: number): number {
  const [, C, kh, kw] = shape;
  let sum = 0;
  for (let c = 0; c < C; c++) {
    for (let u = 0; u < kh; u++) {
      for (let v = 0; v < kw; v++) {
        const yy = geo.strides[0] * Y + geo.dilations[0] * u;
        const xx = geo.strides[1] * X + geo.dilations[1] * v;
        if (yy < H && xx < W) sum += w[(c * kh + u) * kw + v] * x[(c * H + yy) * W + xx];
      }
    }
  }
  return sum;
}

/**
 * ‖ghost − conv‖² over all unit impulses: the ghost is D (d×d) applied to primary p's outputs
 * around the centre output (o, o), the conv is channel g's output at (o, o).
 */
function impulseResidual(kernel: Tensor, geo: Geometry, p: number, g: number, D: Float64Array, d: number): number {
  const [, C, kh, kw] = kernel.shape;
  const per = C * kh * kw;
  const wp = kernel.data.subarray(p * per, (p + 1) * per);
  const wg = kernel.data.subarray(g * per, (g + 1) * per);
  const H = geo.strides[0] * (d - 1) + geo.dilations[0] * (kh - 1) + 1;
  const W = geo.strides[1] * (d - 1) + geo.dilations[1] * (kw - 1) + 1;
  const o = (d - 1) / 2;
  let res = 0;
  const x = new Float64Array(C * H * W);
  for (let i = 0; i < x.length; i++) {
    x.fill(0);
    x[i] = 1;
    let ghost = 0;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) ghost += D[a * d + b] * convAt(x, H, W, wp, kernel.shape, geo, a, b);
    res += (ghost - convAt(x, H, W, wg, kernel.shape, geo, o, o)) ** 2;
  }
  return res;
}

/** The residual the statistics give for filter D on pair (p, g): energy − 2·D·cross + Dᵀ·Gram·D. */
function statsResidual(s: GhostStats, p: number, g: number, D: Float64Array): number {
  const q = s.features;
  let r = s.energy[g];
  for (let f = 0; f < q; f++) {
    r -= 2 * D[f] * s.cross[(p * s.channels + g) * q + f];
    for (let f2 = 0; f2 < q; f2++) r += D[f] * s.gram[p * q * q + f * q + f2] * D[f2];
  }
  return r;
}

describe('weightStats: the composed kernel of conv then depthwise, on impulses', () => {
  const cases: [string, number[], Geometry, number][] = [
    ['3×3, stride 1, d = 3', [3, 2, 3, 3], { strides: [1, 1], dilations: [1, 1] }, 3],
    ['3×2, stride 2×1, d = 5', [3, 2, 3, 2], { strides: [2, 1], dilations: [1, 1] }, 5],
    ['2×3, dilation 1×2, stride 1×2, d = 3', [3, 2, 2, 3], { strides: [1, 2], dilations: [1, 2] }, 3],
  ];
  it.each(cases)('%s: every pair and a random filter give the impulse residual', (_, shape, geo, d) => {
    // Guards the composed extent, the centre offset of the target and the tap placement.
    const n = shape.reduce((a, b) => a * b, 1);
    const kernel: Tensor = { shape, data: gaussianArray(n, shape[2] * 10 + d) };
    const s = weightStats(kernel, d, geo);
    for (let p = 0; p < 3; p++) {
      for (let g = 0; g < 3; g++) {
        const D = Float64Array.from(gaussianArray(d * d, 7 * p + g));
        const expected = impulseResidual(kernel, geo, p, g, D, d);
        expect(statsResidual(s, p, g, D)).toBeCloseTo(expected, 4);
        expect(statsResidual(s, p, g, new Float64Array(d * d))).toBeCloseTo(impulseResidual(kernel, geo, p, g, new Float64Array(d * d), d), 5);
      }
    }
    expect(s.fitsBias).toBe(false);
    expect(Array.from(s.spread)).toEqual(Array.from(s.energy));
  });
});

describe('ghostPatches and GhostDataStats against direct sums', () => {
  const [B, N, H, W, d] = [2, 3, 4, 5, 3];
  const nchw = Float32Array.from(gaussianArray(B * N * H * W, 3));
  const at = (b: number, c: number, y: number, x: number) => (y < 0 || y >= H || x < 0 || x >= W ? 0 : nchw[((b * N + c) * H + y) * W + x]);
  const positions = Int32Array.of(0, 4, 7, 19, 20, 24, 33, 39);

  it('reads the d×d neighbourhood, zero outside, in either layout', () => {
    // Guards the border tests (a read past the last row or column) and the NHWC index.
    const nhwc = new Float32Array(nchw.length);
    for (let b = 0; b < B; b++) for (let c = 0; c < N; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) nhwc[((b * H + y) * W + x) * N + c] = at(b, c, y, x);
    const first = ghostPatches({ data: nchw, batch: B, channels: N, height: H, width: W, channelsLast: false }, positions, d);
    const last = ghostPatches({ data: nhwc, batch: B, channels: N, height: H, width: W, channelsLast: true }, positions, d);
    positions.forEach((pos, r) => {
      const [b, y, x] = [Math.floor(pos / (H * W)), Math.floor((pos % (H * W)) / W), pos % W];
      for (let c = 0; c < N; c++) {
        for (let i = 0; i < d; i++) {
          for (let j = 0; j < d; j++) {
            const idx = (r * N + c) * d * d + i * d + j;
            expect(first[idx]).toBe(at(b, c, y + i - 1, x + j - 1));
            expect(last[idx]).toBe(first[idx]);
          }
        }
      }
    });
  });

  it('accumulates the full Gram, cross terms, energy and centred spread, over several batches', () => {
    // Guards the mirrored upper triangle, the running row count and the centring.
    const patches = ghostPatches({ data: nchw, batch: B, channels: N, height: H, width: W, channelsLast: false }, positions, d);
    const rows = positions.length;
    const targets = Float64Array.from(gaussianArray(rows * N, 8)).map((v) => v + 2);
    const stats = new GhostDataStats(N, d);
    stats.add(patches.subarray(0, 3 * N * 9), targets.subarray(0, 3 * N), 3);
    stats.add(patches.subarray(3 * N * 9), targets.subarray(3 * N), rows - 3);
    const s = stats.stats();
    const q = 10;
    expect([s.features, s.fitsBias, stats.rows]).toEqual([q, true, rows]);
    const z = (r: number, p: number, f: number) => (f === 9 ? 1 : patches[(r * N + p) * 9 + f]);
    for (let p = 0; p < N; p++) {
      for (let f = 0; f < q; f++) {
        for (let f2 = 0; f2 < q; f2++) {
          let gram = 0;
          for (let r = 0; r < rows; r++) gram += z(r, p, f) * z(r, p, f2);
          expect(s.gram[(p * q + f) * q + f2]).toBeCloseTo(gram, 9);
        }
        for (let g = 0; g < N; g++) {
          let cross = 0;
          for (let r = 0; r < rows; r++) cross += z(r, p, f) * targets[r * N + g];
          expect(s.cross[(p * N + g) * q + f]).toBeCloseTo(cross, 9);
        }
      }
    }
    for (let g = 0; g < N; g++) {
      const ys = Array.from({ length: rows }, (_, r) => targets[r * N + g]);
      const mean = ys.reduce((a, b) => a + b, 0) / rows;
      expect(s.energy[g]).toBeCloseTo(ys.reduce((a, y) => a + y * y, 0), 9);
      expect(s.spread[g]).toBeCloseTo(ys.reduce((a, y) => a + (y - mean) ** 2, 0), 9);
    }
    expect(() => stats.add(patches, targets.subarray(1), rows)).toThrow(`ghost statistics: got ${patches.length}/${rows * N - 1} values for ${rows} rows of ${N} channels`);
    expect(() => stats.add(patches.subarray(1), targets, rows)).toThrow(/ghost statistics: got/);
  });
});

/**
 * 1×1 statistics (d = 1, no bias) with a chosen residual matrix: Gram G_p, cross c_pg =
 * √((e_g − R_gp)·G_p), so the least-squares residual of g on p is exactly R_gp.
 */
function craftedStats(R: number[][], energy: number[], gram: number[]): GhostStats {
  const N = energy.length;
  const cross = new Float64Array(N * N);
  for (let p = 0; p < N; p++) for (let g = 0; g < N; g++) cross[p * N + g] = g === p ? Math.sqrt(energy[g] * gram[p]) : Math.sqrt((energy[g] - R[g][p]) * gram[p]);
  return { channels: N, features: 1, fitsBias: false, gram: Float64Array.from(gram), cross, energy: Float64Array.from(energy), spread: Float64Array.from(energy, (e) => 2 * e) };
}

/** Minimum cost of putting the ghosts into s − 1 slots per primary, by trying every placement. */
function bestAssignment(R: number[][], ghosts: number[], primaries: number[], slots: number): number {
  let best = Infinity;
  const load = new Array(primaries.length).fill(0);
  const place = (i: number, cost: number) => {
    if (i === ghosts.length) return void (best = Math.min(best, cost));
    primaries.forEach((p, a) => {
      if (load[a] === slots) return;
      load[a]++;
      place(i + 1, cost + R[ghosts[i]][p]);
      load[a]--;
    });
  };
  place(0, 0);
  return best;
}

describe('ghost selection on crafted pair residuals', () => {
  const problems = Array.from({ length: 60 }, (_, k) => {
    const rand = mulberry32(100 + k);
    const N = 5 + (k % 3);
    const s = 2 + (k % 2);
    const energy = Array.from({ length: N }, () => 1 + 3 * rand());
    const R = energy.map((e, g) => energy.map((_, p) => (g === p ? 0 : e * rand() ** 2)));
    return { N, s, energy, R, gram: energy.map(() => 0.5 + rand()) };
  });

  it('places the ghosts optimally for its primaries, and no primary ↔ own-ghost swap lowers the cost', () => {
    // Guards the exact assignment, the swap loop (its passes, its "own ghost" test, its acceptance)
    // and the reported error, on 60 problems with N = 5..7 and s = 2, 3.
    for (const { N, s, energy, R, gram } of problems) {
      const r = ghostFromStats(craftedStats(R, energy, gram), { ratio: s, kernelSize: 1 });
      const primaries = [...r.primaries, ...r.solo];
      expect(primaries.length).toBe(Math.ceil(N / s));
      const ghostList = Array.from(r.ghosts).filter((g) => g >= 0);
      expect(new Set([...primaries, ...ghostList]).size).toBe(N);
      let cost = 0;
      const owned: [number, number][] = [];
      r.primaries.forEach((p, i) => {
        for (let t = 0; t < s - 1; t++) {
          const g = r.ghosts[i * (s - 1) + t];
          if (g < 0) continue;
          cost += R[g][p];
          owned.push([p, g]);
          // The filter is the 1×1 least-squares coefficient c_pg / G_p; R² is relative to the spread.
          expect(r.filters[i * (s - 1) + t]).toBeCloseTo(Math.sqrt((energy[g] - R[g][p]) * gram[p]) / gram[p], 5);
          expect(r.r2[g]).toBeCloseTo(1 - R[g][p] / (2 * energy[g]), 6);
        }
      });
      expect(cost).toBeCloseTo(bestAssignment(R, ghostList, primaries, s - 1), 6);
      expect(r.relError).toBeCloseTo(Math.sqrt(cost / energy.reduce((a, b) => a + b, 0)), 6);
      for (const [p, g] of owned) {
        const swapped = primaries.map((x) => (x === p ? g : x));
        const others = [...ghostList.filter((x) => x !== g), p];
        expect(bestAssignment(R, others, swapped, s - 1)).toBeGreaterThanOrEqual(cost * (1 - 1e-6));
      }
    }
  });

  it('finds the best selection of all when the channels come in clusters of s', () => {
    // Guards the greedy start: the role swaps only trade a primary with its own ghosts, so a greedy
    // that put two primaries in one cluster (wrong gains, no update of what is already explained)
    // ends far from the optimum. The oracle tries every set of ⌈N/s⌉ primaries.
    for (let k = 0; k < 20; k++) {
      const rand = mulberry32(300 + k);
      const s = 2 + (k % 2);
      const N = s * 3 - (k % 3 === 0 ? 1 : 0);
      const cluster = Array.from({ length: N }, (_, c) => c % 3);
      const energy = Array.from({ length: N }, () => 1 + 3 * rand());
      const R = energy.map((e, g) => energy.map((_, p) => (g === p ? 0 : cluster[g] === cluster[p] ? 0.05 * e * rand() : e * (0.9 + 0.1 * rand()))));
      const r = ghostFromStats(craftedStats(R, energy, energy.map(() => 1)), { ratio: s, kernelSize: 1 });
      const m = Math.ceil(N / s);
      let best = Infinity;
      const choose = (start: number, picked: number[]) => {
        if (picked.length === m) {
          const ghosts = Array.from({ length: N }, (_, c) => c).filter((c) => !picked.includes(c));
          return void (best = Math.min(best, bestAssignment(R, ghosts, picked, s - 1)));
        }
        for (let c = start; c < N; c++) choose(c + 1, [...picked, c]);
      };
      choose(0, []);
      expect(r.relError ** 2 * energy.reduce((a, b) => a + b, 0)).toBeCloseTo(best, 6);
    }
  });

  it('promotes exactly the ghosts below the minimum R², and keeps primaries without ghosts solo', () => {
    for (const { s, energy, R, gram } of problems.slice(0, 20)) {
      const loose = ghostFromStats(craftedStats(R, energy, gram), { ratio: s, kernelSize: 1 });
      const cut = 0.9;
      const strict = ghostFromStats(craftedStats(R, energy, gram), { ratio: s, kernelSize: 1, minR2: cut });
      const below = Array.from(loose.ghosts).filter((g) => g >= 0 && loose.r2[g] < cut);
      expect(strict.promoted).toBe(below.length);
      for (const g of below) expect(Array.from(strict.solo)).toContain(g);
      expect(Array.from(strict.solo)).toEqual([...strict.solo].sort((a, b) => a - b));
      for (const [i, p] of strict.primaries.entries()) expect(strict.ghosts.slice(i * (s - 1), (i + 1) * (s - 1)).some((g) => g >= 0)).toBe(true);
      expect(strict.ghosts.length).toBe(strict.primaries.length * (s - 1));
      expect(strict.filters.length).toBe(strict.ghosts.length);
    }
  });

  it('gives a ghost of a constant channel (zero spread) R² 1 only when its fit is exact', () => {
    // Guards the zero-spread branch: R² = 1 − residual/spread would divide by zero.
    const { s, energy, R, gram } = problems[1];
    const flat = { ...craftedStats(R, energy, gram), spread: new Float64Array(energy.length) };
    const r = ghostFromStats(flat, { ratio: s, kernelSize: 1 });
    for (const [i, p] of r.primaries.entries()) {
      for (const g of r.ghosts.slice(i * (s - 1), (i + 1) * (s - 1))) if (g >= 0) expect(r.r2[g]).toBe(R[g][p] === 0 ? 1 : 0);
    }
    const exact = R.map((row, g) => row.map((x, p) => (g === (p ^ 1) ? 0 : x)));
    const pairs = ghostFromStats({ ...craftedStats(exact, energy, gram), spread: new Float64Array(energy.length) }, { ratio: 2, kernelSize: 1 });
    for (const g of pairs.ghosts) if (g >= 0) expect(pairs.r2[g]).toBe(1);
  });

  it('rejects non-finite statistics and a feature count that does not fit the filter', () => {
    const good = craftedStats(problems[0].R, problems[0].energy, problems[0].gram);
    const bad = { ...good, energy: Float64Array.from(good.energy, (e, g) => (g === 2 ? NaN : e)) };
    expect(() => ghostFromStats(bad, { ratio: 2, kernelSize: 1, name: 'g1' })).toThrow(/^layer "g1": ghost statistics are not finite/);
    expect(() => ghostFromStats(bad, { ratio: 2, kernelSize: 1 })).toThrow(/^ghost statistics are not finite/);
    expect(() => ghostFromStats(good, { ratio: 2, kernelSize: 3 })).toThrow('ghost statistics have 1 features; a 3×3 filter needs 9');
  });
});

describe('ghost options, biases and cost', () => {
  const kernel: Tensor = { shape: [6, 2, 3, 3], data: gaussianArray(108, 5) };
  const geo: Geometry = { strides: [1, 1], dilations: [1, 1] };

  it('accepts ratio = N and d = 1; rejects other ratios and kernels in one line naming the layer', () => {
    expect(ghostFromWeights(kernel, null, { ratio: 6, kernelSize: 1, ...geo }).primaries.length).toBe(1);
    for (const ratio of [0, 1.5, 7]) expect(() => ghostFromWeights(kernel, null, { ratio, kernelSize: 3, name: 'c2', ...geo })).toThrow(new RegExp(`^layer "c2": ghost ratio ${ratio}`));
    for (const kernelSize of [0, -1, 4, 2.5]) expect(() => ghostFromWeights(kernel, null, { ratio: 2, kernelSize, ...geo })).toThrow(new RegExp(`^ghost kernel ${kernelSize}: must be an odd positive integer`));
  });

  it('checks the options and weights on both entry points', () => {
    const stats = weightStats(kernel, 3, geo);
    expect(() => ghostFromStats(stats, { ratio: 0, kernelSize: 3, name: 'c3' })).toThrow(/^layer "c3": ghost ratio 0/);
    const data = kernel.data.slice();
    data[7] = NaN;
    expect(() => ghostFromWeights({ shape: kernel.shape, data }, null, { ratio: 2, kernelSize: 3, name: 'c3', ...geo })).toThrow(/^layer "c3": kernel value NaN at \[n, c, i, j\] = \[0, 0, 2, 1\] is not finite/);
  });

  it('β = b_g − ΣD·b_p for every filled slot at s = 3, and 0 for the empty one', () => {
    // N = 5 at s = 3: 2 primaries, 3 ghosts, 4 slots.
    const five: Tensor = { shape: [5, 2, 3, 3], data: kernel.data.subarray(0, 90) };
    const bias = Float32Array.from(gaussianArray(5, 6));
    const r = ghostFromWeights(five, bias, { ratio: 3, kernelSize: 3, ...geo });
    expect(Array.from(r.ghosts).filter((g) => g < 0).length).toBe(1);
    r.primaries.forEach((p, i) => {
      for (let t = 0; t < 2; t++) {
        const slot = i * 2 + t;
        const g = r.ghosts[slot];
        const sumD = r.filters.subarray(slot * 9, slot * 9 + 9).reduce((a, b) => a + b, 0);
        expect(r.biases[slot]).toBeCloseTo(g < 0 ? 0 : bias[g] - sumD * bias[p], 5);
      }
    });
  });

  it('counts MACs by hand: primaries × C·kh·kw plus slots × d², per output position', () => {
    expect(ghostCost({ C: 5, kh: 3, kw: 2, primaries: 4, ghostSlots: 6, kernelSize: 5, hOut: 7, wOut: 9 })).toBe(63 * (4 * 5 * 3 * 2 + 6 * 25));
  });
});
