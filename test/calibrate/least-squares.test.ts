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
});
