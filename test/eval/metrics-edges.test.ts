/**
 * Output comparisons (src/eval/metrics.ts) on arrays small enough to work out by hand, including
 * the edges a report can hit: identical outputs, an all-zero reference, the data range PSNR is
 * stated over. Each case guards against a figure a user reads being silently wrong (a max that is
 * not absolute, a relative error divided by the wrong norm, PSNR over the wrong range).
 */
import { describe, expect, it } from 'vitest';
import { compareOutputs, peakRange, psnr, relL2 } from '../../src/eval/metrics.js';

describe('compareOutputs / relL2', () => {
  it('relL2 = ‖y − ŷ‖₂ / ‖y‖₂ and maxAbsDiff is the largest |y − ŷ|, sign ignored', () => {
    expect(relL2([3, 4], [3, 5])).toBeCloseTo(1 / 5, 12);
    expect(relL2([3, 4], [0, 0])).toBe(1);
    const c = compareOutputs([0, 1, 2], [0.5, 1, -1], 10);
    expect(c.maxAbsDiff).toBe(3);
    expect(c.relL2).toBeCloseTo(Math.sqrt((0.25 + 9) / 5), 12);
    // MSE = 9.25 / 3 over the stated range 10.
    expect(c.psnrDb).toBeCloseTo(10 * Math.log10(100 / (9.25 / 3)), 10);
    expect(c.dataRange).toBe(10);
  });

  it('an all-zero reference gives 0 when the approximation is zero too, else Infinity (never NaN)', () => {
    expect(relL2([0, 0], [0, 0])).toBe(0);
    expect(relL2([0, 0], [0, 1e-9])).toBe(Infinity);
  });

  it('PSNR is 10·log10(range² / MSE), infinite for identical outputs, and 255 by default', () => {
    expect(psnr(1, 1)).toBe(0);
    expect(psnr(1, 10)).toBeCloseTo(20, 12);
    expect(psnr(0, 255)).toBe(Infinity);
    expect(compareOutputs([0, 0], [1, 1]).psnrDb).toBeCloseTo(10 * Math.log10(255 * 255), 10);
    expect(compareOutputs([], []).psnrDb).toBe(Infinity);
  });

  it('refuses outputs of different lengths, naming both', () => {
    expect(() => compareOutputs([1, 2, 3], [1, 2])).toThrow('cannot compare outputs of 3 and 2 values');
  });
});

describe('peakRange', () => {
  it('255 for 8-bit-looking outputs (peak-to-peak in (100, 400]), else the peak-to-peak, else 1', () => {
    expect(peakRange([0, 255])).toBe(255);
    expect(peakRange([-20, 81])).toBe(255); // 101
    expect(peakRange([0, 400])).toBe(255);
    expect(peakRange([0, 100])).toBe(100);
    expect(peakRange([0, 401])).toBe(401);
    expect(peakRange([-1, 0.5, 1])).toBe(2);
    expect(peakRange([3, 3])).toBe(1);
    // The peak and the trough anywhere in the array, not at its ends.
    expect(peakRange([5, -3, 2])).toBe(8);
  });
});
