/**
 * The numbers every accuracy and latency report is made of, on hand-computed cases:
 * PSNR of known arrays, top-k of known logits (ties to the lower index), agreement, the
 * super-resolution means, the box downscale, and the timing quantiles.
 */
import { describe, expect, it } from 'vitest';
import { compareOutputs, psnr } from '../../src/eval/metrics.js';
import { agreement, argmaxRows, classificationMetrics, topK, topKAccuracy } from '../../src/eval/accuracy.js';
import { boxDownscale, crop } from '../../src/eval/datasets.js';
import { superResolutionMetrics } from '../../src/eval/super-resolution.js';
import type { SuperResolutionData } from '../../src/eval/datasets.js';
import { quantile, summarizeTimes, measuredSpeedup } from '../../src/eval/timing.js';

describe('PSNR', () => {
  it('is 10·log10(255² / MSE) on known arrays', () => {
    // Differences 1, 1, 1, 1 → MSE 1 → 20·log10(255) = 48.1308 dB.
    expect(compareOutputs([0, 10, 20, 30], [1, 11, 21, 31], 255).psnrDb).toBeCloseTo(48.1308, 3);
    // Differences 0, 2, 0, 2 → MSE 2 → 48.1308 − 10·log10(2) = 45.1205 dB.
    expect(compareOutputs([5, 5, 5, 5], [5, 7, 5, 3], 255).psnrDb).toBeCloseTo(45.1205, 3);
    // Range 1, MSE 0.01 → 20 dB.
    expect(psnr(0.01, 1)).toBeCloseTo(20, 10);
  });

  it('is infinite for identical outputs and states its data range', () => {
    const c = compareOutputs([1, 2, 3], [1, 2, 3], 255);
    expect(c.psnrDb).toBe(Infinity);
    expect(c.dataRange).toBe(255);
  });
});

describe('top-k and agreement', () => {
  // Three examples, four classes.
  const logits = Float32Array.from([
    0.1, 0.7, 0.2, 0.0, // order 1, 2, 0, 3
    2.0, -1, 3.0, 2.5, //  order 2, 3, 0, 1
    0.5, 0.5, 0.1, 0.5, // tie: 0, 1, 3, then 2
  ]);

  it('returns the k best classes per row, best first, ties to the lower index', () => {
    expect(Array.from(topK(logits, 4, 2))).toEqual([1, 2, 2, 3, 0, 1]);
    expect(Array.from(topK(logits, 4, 4))).toEqual([1, 2, 0, 3, 2, 3, 0, 1, 0, 1, 3, 2]);
    expect(Array.from(argmaxRows(logits, 4))).toEqual([1, 2, 0]);
  });

  it('counts a hit when the label is among the top k', () => {
    const labels = [2, 0, 3];
    expect(topKAccuracy(logits, labels, 4, 1)).toBe(0);
    expect(topKAccuracy(logits, labels, 4, 2)).toBeCloseTo(1 / 3, 12); // only row 0 (label 2 is second)
    expect(topKAccuracy(logits, labels, 4, 3)).toBe(1);
    expect(topKAccuracy(logits, [1, 2, 0], 4, 1)).toBe(1);
  });

  it('agreement is the share of equal top-1 predictions', () => {
    expect(agreement([1, 2, 3, 4], [1, 2, 0, 4])).toBe(0.75);
    expect(agreement(Int32Array.from([0]), Int32Array.from([0]))).toBe(1);
  });

  it('reports top-5 only with more than 5 classes, and agreement only with a reference', () => {
    const four = classificationMetrics(logits, [1, 2, 0], 4);
    expect(four.top5).toBeNull();
    expect(four.agreement).toBeNull();
    const six = Float32Array.from([6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6]);
    const m = classificationMetrics(six, [5, 5], 6, Float32Array.from([6, 5, 4, 3, 2, 1, 6, 5, 4, 3, 2, 1]));
    expect(m.top1).toBe(0.5);
    expect(m.top5).toBe(0.5); // row 0's label 5 is its 6th
    expect(m.agreement).toBe(0.5);
  });

  it('rejects malformed input by name', () => {
    expect(() => topK(logits, 5, 1)).toThrow(/do not split into rows of 5/);
    expect(() => topK(logits, 4, 5)).toThrow(/k = 5 must be in 1\.\.4/);
    expect(() => topKAccuracy(logits, [1, 2], 4, 1)).toThrow(/3 score rows for 2 labels/);
    expect(() => agreement([1], [1, 2])).toThrow(/1 and 2 predictions/);
  });
});

describe('super-resolution data and metrics', () => {
  it('box-downscales by the mean of s×s blocks and crops to a multiple of s', () => {
    // 2×4 single-row RGB image where every channel equals its pixel index.
    const px = [0, 1, 2, 3, 4, 5, 6, 7];
    const img = { height: 2, width: 4, data: Float32Array.from(px.flatMap((p) => [p, p, p])) };
    const small = boxDownscale(img, 2);
    expect([small.height, small.width]).toEqual([1, 2]);
    expect(Array.from(small.data)).toEqual([2.5, 2.5, 2.5, 4.5, 4.5, 4.5]); // (0+1+4+5)/4, (2+3+6+7)/4
    const c = crop(img, 2, 3);
    expect(Array.from(c.data.filter((_, i) => i % 3 === 0))).toEqual([0, 1, 2, 4, 5, 6]);
    expect(() => boxDownscale(img, 3)).toThrow(/not a multiple of 3/);
  });

  it('averages per-photo PSNR against the original output and the clipped ground truth', () => {
    const hr = { height: 1, width: 2, data: Float32Array.from([100, 100, 100, 200, 200, 200]) };
    const data: SuperResolutionData = { task: 'super-resolution', name: 't', n: 1, scale: 2, downscale: 'box', items: [{ name: 'a.png', lowRes: hr, highRes: hr }] };
    const original = [{ shape: [1, 1, 2, 3], data: Float32Array.from([101, 101, 101, 201, 201, 201]) }];
    // converted equals the ground truth and is 1 below the original everywhere.
    const converted = [{ shape: [1, 1, 2, 3], data: Float32Array.from([100, 100, 100, 200, 200, 200]) }];
    const m = superResolutionMetrics(data, converted, original);
    expect(m.psnrVsOriginalDb).toBeCloseTo(48.1308, 3);
    expect(m.psnrVsGroundTruthDb).toBe(Infinity);
    expect(m.originalPsnrVsGroundTruthDb).toBeCloseTo(48.1308, 3);
    const over = [{ shape: [1, 1, 2, 3], data: Float32Array.from([100, 100, 100, 300, 300, 300]) }];
    // Clipped to 255: differences 55 on half the values → MSE 55²/2.
    expect(superResolutionMetrics(data, over).psnrVsGroundTruthDb).toBeCloseTo(10 * Math.log10((255 * 255) / (55 * 55 / 2)), 6);
  });
});

describe('timing statistics', () => {
  it('median and 10th/90th percentiles interpolate linearly', () => {
    const times = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5, 100];
    const s = summarizeTimes(times);
    expect(s.medianMs).toBe(6);
    expect(s.p10Ms).toBe(2);
    expect(s.p90Ms).toBe(10);
    expect(s.runs).toBe(11);
    expect(quantile([1, 2], 0.5)).toBe(1.5);
    expect(measuredSpeedup({ ...s, warmup: 1 }, { ...s, medianMs: 3, warmup: 1 })).toBe(2);
  });
});
