import { describe, it, expect } from 'vitest';
import { RidgeAccumulator } from '../../src/decompose/least-squares.js';
import { mulberry32 } from '../../src/decompose/random.js';

function data(rows: number, F: number, N: number, seed: number, noise = 0) {
  const r = mulberry32(seed);
  const w = Float64Array.from({ length: F * N }, () => r() - 0.5);
  const b = Float64Array.from({ length: N }, () => r() - 0.5);
  const z = Float64Array.from({ length: rows * F }, () => r() * 2 - 1);
  const y = new Float64Array(rows * N);
  for (let i = 0; i < rows; i++)
    for (let n = 0; n < N; n++) {
      let s = b[n] + noise * (r() - 0.5);
      for (let f = 0; f < F; f++) s += z[i * F + f] * w[f * N + n];
      y[i * N + n] = s;
    }
  return { w, b, z, y };
}

describe('ridge least squares for calibration', () => {
  it('recovers an exact linear map and bias from streamed batches', () => {
    const { w, b, z, y } = data(400, 6, 3, 1);
    const acc = new RidgeAccumulator(6, 3);
    acc.add(z.subarray(0, 200 * 6), y.subarray(0, 200 * 3), 200);
    acc.add(z.subarray(200 * 6), y.subarray(200 * 3), 200);
    const fit = acc.solve(new Float64Array(18), new Float64Array(3), 1e-9);
    for (let i = 0; i < 18; i++) expect(fit.weight[i]).toBeCloseTo(w[i], 5);
    for (let i = 0; i < 3; i++) expect(fit.bias[i]).toBeCloseTo(b[i], 5);
    expect(acc.relError(fit.weight, fit.bias)).toBeLessThan(1e-5);
  });

  it('relError from the moments equals the error computed row by row', () => {
    const { z, y } = data(300, 5, 4, 2, 0.3);
    const acc = new RidgeAccumulator(5, 4);
    acc.add(z, y, 300);
    const w = Float64Array.from({ length: 20 }, (_, i) => Math.sin(i));
    const b = Float64Array.from({ length: 4 }, (_, i) => i / 10);
    let se = 0;
    let yy = 0;
    for (let i = 0; i < 300; i++)
      for (let n = 0; n < 4; n++) {
        let p = b[n];
        for (let f = 0; f < 5; f++) p += z[i * 5 + f] * w[f * 4 + n];
        se += (p - y[i * 4 + n]) ** 2;
        yy += y[i * 4 + n] ** 2;
      }
    expect(acc.relError(w, b)).toBeCloseTo(Math.sqrt(se / yy), 8);
  });

  it('the ridge pulls toward the current weights when data are scarce, and the fit never gets worse than them', () => {
    const { w, z, y } = data(3, 8, 2, 3); // fewer rows than features
    const acc = new RidgeAccumulator(8, 2);
    acc.add(z, y, 3);
    const strong = acc.solve(w, new Float64Array(2), 1e6);
    for (let i = 0; i < 16; i++) expect(strong.weight[i]).toBeCloseTo(w[i], 3);
    const fit = acc.solve(new Float64Array(16), new Float64Array(2), 1e-3);
    expect(acc.relError(fit.weight, fit.bias)).toBeLessThan(acc.relError(new Float64Array(16), new Float64Array(2)));
  });

  it('bias-only correction zeroes the mean residual', () => {
    const { w, b, z, y } = data(200, 4, 2, 4);
    const acc = new RidgeAccumulator(4, 2);
    acc.add(z, y, 200);
    const fit = acc.solveBias(w, new Float64Array(2));
    for (let n = 0; n < 2; n++) expect(fit.bias[n]).toBeCloseTo(b[n], 8);
  });

  it('the ridge is scale-free: scaling the features by s scales the weights by 1/s and leaves the bias', () => {
    // Guards the ridge's scale (λ times the mean diagonal of ZᵀZ): (s²G + λs²ḡI)(W/s) = s(G + λḡI)W.
    const { z, y } = data(30, 6, 2, 5, 0.5);
    const fit = (s: number) => {
      const acc = new RidgeAccumulator(6, 2);
      acc.add(z.map((v) => v * s), y, 30);
      return acc.solve(new Float64Array(12), new Float64Array(2), 0.3);
    };
    const one = fit(1);
    const ten = fit(10);
    for (let i = 0; i < 12; i++) expect(ten.weight[i] * 10).toBeCloseTo(one.weight[i], 9);
    for (let n = 0; n < 2; n++) expect(ten.bias[n]).toBeCloseTo(one.bias[n], 9);
  });

  it('the bias is not shrunk: under a huge ridge the weights stay at W₀ and the bias is mean(y) − mean(z)·W₀', () => {
    const { w, z, y } = data(50, 4, 2, 6, 0.5);
    const acc = new RidgeAccumulator(4, 2);
    acc.add(z, y, 50);
    const w0 = w.map((v) => v + 0.2);
    const fit = acc.solve(w0, new Float64Array([5, -5]), 1e9);
    for (let i = 0; i < 8; i++) expect(fit.weight[i]).toBeCloseTo(w0[i], 6);
    for (let n = 0; n < 2; n++) {
      let want = 0;
      for (let r = 0; r < 50; r++) {
        let zw = 0;
        for (let f = 0; f < 4; f++) zw += z[r * 4 + f] * w0[f * 2 + n];
        want += (y[r * 2 + n] - zw) / 50;
      }
      expect(fit.bias[n]).toBeCloseTo(want, 5);
    }
  });

  it('non-finite data leave the current weights and bias as they were (copies, not the arrays given)', () => {
    const { w, z, y } = data(20, 3, 2, 7);
    z[4] = Number.NaN;
    const acc = new RidgeAccumulator(3, 2);
    acc.add(z, y, 20);
    const b0 = new Float64Array([0.5, -0.5]);
    const fit = acc.solve(w, b0);
    expect(Array.from(fit.weight)).toEqual(Array.from(w));
    expect(Array.from(fit.bias)).toEqual(Array.from(b0));
    expect(fit.weight).not.toBe(w);
    expect(fit.bias).not.toBe(b0);
  });

  it('outputEnergy is ‖Y‖², relError is 0 with nothing to fit, and misshapen batches are refused in one line', () => {
    const { z, y } = data(10, 3, 2, 8, 0.1);
    const acc = new RidgeAccumulator(3, 2);
    expect(acc.relError(new Float64Array(6), new Float64Array(2))).toBe(0);
    acc.add(z, y, 10);
    expect(acc.outputEnergy()).toBeCloseTo(y.reduce((s, v) => s + v * v, 0), 10);
    expect(acc.rows).toBe(10);
    // All-zero predictions: the relative error of predicting nothing is exactly 1.
    expect(acc.relError(new Float64Array(6), new Float64Array(2))).toBeCloseTo(1, 12);
    expect(() => acc.add(z.subarray(1), y, 10)).toThrow(`least squares: got 29/20 values for 10 rows of 3 features → 2 outputs`);
    expect(() => acc.add(z, y.subarray(1), 10)).toThrow(`least squares: got 30/19 values`);
  });
});
