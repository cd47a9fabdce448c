import { SVD } from 'ml-matrix';
import { describe, expect, it } from 'vitest';

import {
  decouple,
  ndCost,
  reconstruct,
  type NdOrder,
  type NdResult,
} from '../../src/decompose/nd.js';
import { gaussianArray, mulberry32 } from '../../src/decompose/random.js';
import {
  ENERGY_TOLERANCE,
  chooseRank,
  energyCurve,
  retainedEnergy,
} from '../../src/decompose/rank.js';
import { numel, relFrobeniusError, type Tensor } from '../../src/decompose/tensor.js';
import { channelMatrix } from './synthetic.js';

const ORDERS: NdOrder[] = ['dw-pw', 'pw-dw'];

function randomKernel(shape: number[], seed: number): Tensor {
  return { shape, data: gaussianArray(numel(shape), seed) };
}

function maxRankOf(order: NdOrder, shape: number[]): number {
  const [, C, kh, kw] = shape;
  return order === 'dw-pw' ? kh * kw : Math.min(C, kh * kw);
}

/** Σ_g Σ_{t ≥ T} σ² / Σ_g Σ_t σ²: the discarded share of the whole kernel's energy. */
function discardedShare(svs: Float64Array[], T: number): number {
  let dropped = 0;
  let total = 0;
  for (const s of svs) {
    for (let t = 0; t < s.length; t++) {
      total += s[t] * s[t];
      if (t >= T) dropped += s[t] * s[t];
    }
  }
  return total === 0 ? 0 : dropped / total;
}

// Shapes chosen to hit every branch: N < k², C < k², 1×1, 5×5, non-square 3×1 and 1×3, C = 1.
const SHAPES: number[][] = [
  [8, 5, 3, 3],
  [4, 12, 3, 3],
  [16, 3, 3, 3],
  [6, 4, 1, 1],
  [30, 7, 5, 5],
  [6, 5, 3, 1],
  [3, 4, 1, 3],
  [5, 1, 3, 3],
];

describe('decouple: exactness', () => {
  for (const order of ORDERS) {
    for (const [i, shape] of SHAPES.entries()) {
      it(`reconstructs the kernel exactly at T = maxRank (${order}, [${shape}])`, () => {
        const kernel = randomKernel(shape, 100 + i);
        const maxRank = maxRankOf(order, shape);
        const r = decouple(kernel, { order, rank: maxRank, name: 'exact' });
        expect(r.maxRank).toBe(maxRank);
        expect(r.kernelRelError).toBeLessThan(1e-5);
        expect(relFrobeniusError(kernel, reconstruct(r, shape))).toBeLessThan(1e-5);
        expect(r.retainedEnergy).toBe(1);
      });
    }
  }

  it('recovers an exactly rank-1-per-channel kernel at T = 1 (both orders)', () => {
    const [N, C, K] = [12, 10, 9];
    const rand = mulberry32(7);
    const u = () => rand() * 2 - 1;
    for (const order of ORDERS) {
      // dw-pw: W[n, c, :] = a_c[n]·f_c;  pw-dw: W[n, c, :] = a_n[c]·f_n.
      const G = order === 'dw-pw' ? C : N;
      const R = order === 'dw-pw' ? N : C;
      const a = Array.from({ length: G }, () => Array.from({ length: R }, u));
      const f = Array.from({ length: G }, () => Array.from({ length: K }, u));
      const data = new Float32Array(N * C * K);
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) {
          const [g, r] = order === 'dw-pw' ? [c, n] : [n, c];
          for (let p = 0; p < K; p++) data[(n * C + c) * K + p] = a[g][r] * f[g][p];
        }
      }
      const kernel = { shape: [N, C, 3, 3], data };
      const r = decouple(kernel, { order, rank: 1 });
      expect(r.kernelRelError).toBeLessThan(1e-6);
      for (const s of r.singularValues) {
        for (let t = 1; t < s.length; t++) expect(s[t]).toBeLessThan(1e-6 * s[0]);
      }
      // τ = 1 picks the smallest exact T, which is 1 here.
      expect(decouple(kernel, { order, energy: 1 }).rank).toBe(1);
    }
  });

  it('pads dw-pw with exact zeros past N when N < k², so every T up to k² is valid', () => {
    const kernel = randomKernel([4, 6, 3, 3], 11);
    const r = decouple(kernel, { order: 'dw-pw', rank: 9 });
    const [C, T, K] = [6, 9, 9];
    for (let c = 0; c < C; c++) {
      for (let t = 4; t < T; t++) {
        expect(r.singularValues[c][t]).toBe(0);
        for (let p = 0; p < K; p++) expect(r.depthwise.data[(c * T + t) * K + p]).toBe(0);
        for (let n = 0; n < 4; n++) expect(r.pointwise.data[(n * C + c) * T + t]).toBe(0);
      }
    }
    // Components past N add nothing, so T = N is already exact and larger T changes nothing.
    const atN = decouple(kernel, { order: 'dw-pw', rank: 4 });
    expect(atN.kernelRelError).toBe(r.kernelRelError);
    expect(r.kernelRelError).toBeLessThan(1e-5);
  });

  it('a zero kernel gives zero factors and error 0, not NaN', () => {
    const kernel = { shape: [5, 4, 3, 3], data: new Float32Array(180) };
    for (const order of ORDERS) {
      const r = decouple(kernel, { order, energy: 0.9, name: 'dead' });
      expect(r.rank).toBe(1);
      expect(r.kernelRelError).toBe(0);
      expect(r.retainedEnergy).toBe(1);
      expect(r.pointwise.data.every((x) => x === 0)).toBe(true);
    }
  });
});

describe('decouple: approximation', () => {
  for (const order of ORDERS) {
    it(`kernelRelError falls as T grows, strictly where discarded σ are nonzero (${order})`, () => {
      const shape = [24, 16, 3, 3];
      const kernel = randomKernel(shape, 21);
      const results = Array.from({ length: maxRankOf(order, shape) }, (_, t) =>
        decouple(kernel, { order, rank: t + 1 }),
      );
      for (let T = 1; T < results.length; T++) {
        const [prev, next] = [results[T - 1], results[T]];
        expect(next.kernelRelError).toBeLessThanOrEqual(prev.kernelRelError);
        // Component T (0-based) is dropped at T and kept at T + 1.
        const gained = next.singularValues.some((s) => s[T] > 1e-6 * s[0]);
        if (gained) expect(next.kernelRelError).toBeLessThan(prev.kernelRelError);
      }
      // The same spectrum whatever T was asked for.
      expect(results[0].singularValues).toEqual(results[results.length - 1].singularValues);
    });

    it(`kernelRelError² equals the discarded energy share (Eckart–Young, ${order})`, () => {
      const shape = [20, 12, 3, 3];
      const kernel = randomKernel(shape, 31);
      for (let T = 1; T <= maxRankOf(order, shape); T++) {
        const r = decouple(kernel, { order, rank: T });
        expect(Math.abs(r.kernelRelError ** 2 - discardedShare(r.singularValues, T))).toBeLessThan(
          1e-6,
        );
      }
    });

    it(`singular values match ml-matrix's SVD of each channel matrix (${order})`, () => {
      for (const shape of [
        [10, 6, 3, 3],
        [4, 3, 3, 3],
        [7, 2, 5, 5],
      ]) {
        const kernel = randomKernel(shape, 41);
        const r = decouple(kernel, { order, rank: 1 });
        r.singularValues.forEach((s, g) => {
          const ref = new SVD(channelMatrix(kernel, order, g), { autoTranspose: true }).diagonal;
          ref.sort((x, y) => y - x);
          expect(s.length).toBe(maxRankOf(order, shape));
          for (let t = 0; t < s.length; t++) {
            expect(Math.abs(s[t] - (ref[t] ?? 0))).toBeLessThan(1e-6 * ref[0]);
          }
        });
      }
    });
  }

  it("the result's kernelRelError is relFrobeniusError(W, reconstruct(result))", () => {
    const kernel = randomKernel([9, 7, 3, 3], 51);
    for (const order of ORDERS) {
      for (const opts of [{ rank: 1 }, { rank: 3 }, { energy: 0.8 }]) {
        const r = decouple(kernel, { order, ...opts });
        expect(r.kernelRelError).toBe(relFrobeniusError(kernel, reconstruct(r, kernel.shape)));
      }
    }
  });

  it('returns the documented shapes and is deterministic (same kernel → same bytes)', () => {
    const kernel = randomKernel([6, 5, 3, 1], 61);
    const dw = decouple(kernel, { order: 'dw-pw', rank: 2 });
    expect(dw.depthwise.shape).toEqual([5, 2, 3, 1]);
    expect(dw.pointwise.shape).toEqual([6, 5, 2]);
    const pw = decouple(kernel, { order: 'pw-dw', rank: 2 });
    expect(pw.depthwise.shape).toEqual([6, 2, 3, 1]);
    expect(pw.pointwise.shape).toEqual([6, 2, 5]);
    const again = decouple(kernel, { order: 'dw-pw', rank: 2 });
    expect(Buffer.from(again.depthwise.data.buffer)).toEqual(Buffer.from(dw.depthwise.data.buffer));
    expect(Buffer.from(again.pointwise.data.buffer)).toEqual(Buffer.from(dw.pointwise.data.buffer));
    // Sign convention: each filter's largest-magnitude tap is positive.
    for (let f = 0; f < 10; f++) {
      const taps = Array.from(dw.depthwise.data.subarray(f * 3, f * 3 + 3));
      const big = taps.reduce((m, x) => (Math.abs(x) > Math.abs(m) ? x : m), 0);
      expect(big).toBeGreaterThan(0);
    }
  });
});

/** Naive grouped conv, one image, CHW, stride 1, 'valid': the reference the layouts must fit. */
function conv(x: Tensor, kernel: Tensor, groups: number): Tensor {
  const [Cin, H, W] = x.shape;
  const [Cout, Cg, kh, kw] = kernel.shape;
  expect(Cg * groups).toBe(Cin);
  const [Ho, Wo] = [H - kh + 1, W - kw + 1];
  const y = new Float32Array(Cout * Ho * Wo);
  const outPerGroup = Cout / groups;
  for (let o = 0; o < Cout; o++) {
    const g = Math.floor(o / outPerGroup);
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        let s = 0;
        for (let ci = 0; ci < Cg; ci++) {
          const c = g * Cg + ci;
          for (let a = 0; a < kh; a++) {
            for (let b = 0; b < kw; b++) {
              const w = kernel.data[((o * Cg + ci) * kh + a) * kw + b];
              s += x.data[(c * H + i + a) * W + j + b] * w;
            }
          }
        }
        y[(o * Ho + i) * Wo + j] = s;
      }
    }
  }
  return { shape: [Cout, Ho, Wo], data: y };
}

/** The layer pipelines nd.ts documents, built literally from the factor tensors. */
function runDecoupled(x: Tensor, r: NdResult, kernelShape: number[]): Tensor {
  const [N, C, kh, kw] = kernelShape;
  const T = r.rank;
  if (r.order === 'dw-pw') {
    const dw = conv(x, { shape: [C * T, 1, kh, kw], data: r.depthwise.data }, C);
    return conv(dw, { shape: [N, C * T, 1, 1], data: r.pointwise.data }, 1);
  }
  const pw = conv(x, { shape: [N * T, C, 1, 1], data: r.pointwise.data }, 1);
  const dw = conv(pw, { shape: [N * T, 1, kh, kw], data: r.depthwise.data }, N * T);
  return conv(dw, { shape: [N, T, 1, 1], data: new Float32Array(N * T).fill(1) }, N);
}

describe('decouple: the documented layer layouts', () => {
  const shape = [5, 4, 3, 2];
  const kernel = randomKernel(shape, 71);
  const x = randomKernel([4, 7, 6], 72);
  x.shape = [4, 7, 6];
  const y = conv(x, kernel, 1);
  for (const order of ORDERS) {
    it(`depthwise → 1×1 layers built from the factors compute the conv (${order})`, () => {
      const full = decouple(kernel, { order, rank: maxRankOf(order, shape) });
      expect(relFrobeniusError(y, runDecoupled(x, full, shape))).toBeLessThan(1e-5);
      // At lower rank the layers compute exactly the conv with the reconstructed kernel.
      const low = decouple(kernel, { order, rank: 2 });
      const yLow = conv(x, reconstruct(low, shape), 1);
      expect(relFrobeniusError(yLow, runDecoupled(x, low, shape))).toBeLessThan(1e-5);
    });
  }
});

describe('chooseRank and the energy rule', () => {
  const rand = mulberry32(81);
  const svs = Array.from({ length: 6 }, () => {
    const s = Float64Array.from({ length: 9 }, () => rand() * 3);
    return s.sort().reverse();
  });

  it('energyCurve is non-decreasing, ends at 1, and matches retainedEnergy', () => {
    const curve = energyCurve(svs);
    expect(curve.length).toBe(9);
    for (let T = 1; T <= 9; T++) {
      expect(curve[T - 1]).toBeCloseTo(retainedEnergy(svs, T), 14);
      if (T > 1) expect(curve[T - 1]).toBeGreaterThanOrEqual(curve[T - 2]);
    }
    expect(curve[8]).toBe(1);
  });

  it('picks the smallest T whose channel-averaged retained energy reaches τ', () => {
    const curve = energyCurve(svs);
    for (let T = 1; T <= 9; T++) {
      // Thresholds just above curve[T-2] and exactly at curve[T-1] both select T.
      const lo = T === 1 ? 1e-3 : curve[T - 2] + 1e-9;
      for (const tau of [lo, curve[T - 1]]) {
        if (tau > curve[T - 1] + ENERGY_TOLERANCE) continue;
        expect(chooseRank(svs, { energy: tau, maxRank: 9 })).toBe(T);
      }
    }
    expect(chooseRank(svs, { energy: 1, maxRank: 9 })).toBe(9);
  });

  it('counts all-zero channels as fully retained', () => {
    const withDead = [...svs, new Float64Array(9)];
    expect(retainedEnergy(withDead, 1)).toBeCloseTo((retainedEnergy(svs, 1) * 6 + 1) / 7, 14);
    expect(retainedEnergy([new Float64Array(9)], 1)).toBe(1);
  });

  it('returns a fixed rank unchanged', () => {
    expect(chooseRank(svs, { rank: 4, maxRank: 9 })).toBe(4);
  });

  it('rejects bad ranks and thresholds, naming the thing', () => {
    const what = 'layer "conv3_1"';
    expect(() => chooseRank(svs, { rank: 12, maxRank: 9, what })).toThrow(
      'rank 12 is out of range 1..9 for layer "conv3_1"',
    );
    for (const rank of [0, -1, 2.5, NaN]) {
      expect(() => chooseRank(svs, { rank, maxRank: 9, what })).toThrow(
        /out of range 1\.\.9.*conv3_1/,
      );
    }
    for (const energy of [0, -0.1, 1.5, NaN]) {
      expect(() => chooseRank(svs, { energy, maxRank: 9, what })).toThrow(
        /energy .*\(0, 1\].*conv3_1/,
      );
    }
    expect(() => chooseRank(svs, { maxRank: 9, what })).toThrow(/exactly one of rank .* neither/);
    expect(() => chooseRank(svs, { rank: 2, energy: 0.9, maxRank: 9, what })).toThrow(/both/);
    // A caller's bad bound is named too, and an unnamed kernel is called "kernel".
    for (const maxRank of [0, 2.5]) {
      expect(() => chooseRank(svs, { rank: 1, maxRank, what })).toThrow(`maxRank ${maxRank} for layer "conv3_1" must be a positive integer`);
    }
    expect(() => chooseRank(svs, { rank: 12, maxRank: 9 })).toThrow('rank 12 is out of range 1..9 for kernel');
  });

  it('treats no channels at all as nothing to lose: T = 1 at any τ', () => {
    expect(retainedEnergy([], 1)).toBe(1);
    expect(chooseRank([], { energy: 0.9, maxRank: 5 })).toBe(1);
  });
});

describe('decouple: input validation', () => {
  const kernel = randomKernel([4, 3, 3, 3], 91);

  it('names the layer when the rank is out of range for the order', () => {
    expect(() => decouple(kernel, { order: 'dw-pw', rank: 12, name: 'conv3_1' })).toThrow(
      'rank 12 is out of range 1..9 for layer "conv3_1"',
    );
    // pw-dw stops at min(C, k²) = 3 and says why.
    expect(() => decouple(kernel, { order: 'pw-dw', rank: 4, name: 'conv1_1' })).toThrow(
      /rank 4 is out of range 1\.\.3 for layer "conv1_1".*min\(C, kh·kw\) = 3/,
    );
    expect(() => decouple(kernel, { order: 'dw-pw', energy: 1.2, name: 'conv3_1' })).toThrow(
      /conv3_1/,
    );
  });

  it('rejects non-finite weights, naming the layer and the element', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const data = kernel.data.slice();
      data[(2 * 3 + 1) * 9 + 4] = bad;
      const broken = { shape: kernel.shape, data };
      expect(() => decouple(broken, { order: 'dw-pw', rank: 1, name: 'conv2_2' })).toThrow(
        /layer "conv2_2".*\[n, c, i, j\] = \[2, 1, 1, 1\] is not finite/,
      );
    }
  });

  it('rejects malformed shapes, data lengths and orders', () => {
    const name = 'convX';
    const cases: [Tensor, RegExp][] = [
      [{ shape: [4, 3, 9], data: kernel.data }, /convX.*OIHW/],
      [{ shape: [4, 3, 3, 0], data: new Float32Array(0) }, /convX.*OIHW/],
      [{ shape: [4, 3, 1.5, 6], data: kernel.data }, /convX.*OIHW/],
      [{ shape: [4, 3, 3, 3], data: kernel.data.subarray(1) }, /convX.*107 values.*needs 108/],
    ];
    for (const [k, msg] of cases) {
      expect(() => decouple(k, { order: 'dw-pw', rank: 1, name })).toThrow(msg);
    }
    expect(() => decouple(kernel, { order: 'dw' as NdOrder, rank: 1, name })).toThrow(
      /convX.*'dw-pw' or 'pw-dw'/,
    );
    const noData = { shape: [4, 3, 3, 3], data: undefined } as unknown as Tensor;
    expect(() => decouple(noData, { order: 'dw-pw', rank: 1, name })).toThrow(/^layer "convX": kernel data has undefined values/);
  });

  it('says "kernel" without a name, the dw-pw bound, and the fix for a bad weight', () => {
    // Guards the parts of the one-line errors a user acts on: what, why, and what to do.
    expect(() => decouple({ shape: [4, 3, 9], data: kernel.data }, { order: 'dw-pw', rank: 1 })).toThrow(/^kernel: kernel shape \[4,3,9\]/);
    expect(() => decouple(kernel, { order: 'dw-pw', rank: 12, name: 'c' })).toThrow(/dw-pw allows T ≤ kh·kw = 9/);
    // A non-square kernel tells the row index from the column index: element [3, 1, 1, 0] of 4×3×3×2.
    const data = randomKernel([4, 3, 3, 2], 5).data;
    data[((3 * 3 + 1) * 3 + 1) * 2 + 0] = NaN;
    expect(() => decouple({ shape: [4, 3, 3, 2], data }, { order: 'pw-dw', rank: 1, name: 'c' })).toThrow(
      /\[n, c, i, j\] = \[3, 1, 1, 0\] is not finite; fix or re-export the weights/,
    );
  });
});

describe('reconstruct: factors that do not fit the kernel', () => {
  // Guards the shape check: a wrong rank, order or length must not be read as some other kernel.
  const nd = decouple(randomKernel([4, 3, 3, 3], 92), { order: 'dw-pw', rank: 2 });
  const bad = (dw: number[], pw: number[]) => () =>
    reconstruct({ ...nd, depthwise: { ...nd.depthwise, shape: dw }, pointwise: { ...nd.pointwise, shape: pw } }, [4, 3, 3, 3]);

  it('rejects a wrong depthwise or pointwise shape alone, one wrong dimension, or an extra axis', () => {
    expect(() => reconstruct(nd, [4, 3, 3, 3])).not.toThrow();
    const message = /^reconstruct: factors \[.*\] \/ \[.*\] do not fit kernel \[4, 3, 3, 3\] at dw-pw T = 2; expected \[3, 2, 3, 3\] \/ \[4, 3, 2\]$/;
    expect(bad([3, 2, 3, 4], [4, 3, 2])).toThrow(message);
    expect(bad([3, 2, 3, 3], [4, 3, 1])).toThrow(message);
    expect(bad([3, 2, 3, 3, 1], [4, 3, 2])).toThrow(message);
    expect(bad([3, 2, 3, 3], [4, 3])).toThrow(message);
  });
});

describe('ndCost', () => {
  const base = { N: 256, C: 128, kh: 3, kw: 3, hIn: 56, wIn: 56 };
  it('dw-pw matches the speedup formula 1 / (T/k² + T/N)', () => {
    const macs = ndCost({ ...base, order: 'dw-pw', rank: 2, hOut: 56, wOut: 56 });
    const regular = 56 * 56 * 256 * 128 * 9;
    expect(regular / macs).toBeCloseTo(1 / (2 / 9 + 2 / 256), 10);
  });
  it('pw-dw runs its 1×1 at input resolution, so stride 2 does not shrink that part', () => {
    const s1 = ndCost({ ...base, order: 'pw-dw', rank: 2, hOut: 56, wOut: 56 });
    const s2 = ndCost({ ...base, order: 'pw-dw', rank: 2, hOut: 28, wOut: 28 });
    expect(s1).toBe(56 * 56 * 256 * 2 * (128 + 9));
    expect(s2).toBe(56 * 56 * 128 * 256 * 2 + 28 * 28 * 256 * 2 * 9);
  });
});
