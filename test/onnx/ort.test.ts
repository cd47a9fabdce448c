/**
 * src/eval/ort.ts: sessions from a Graph or from bytes, single and multi-output runs, timing
 * summary shape (no timing assertions: the machine is shared).
 */
import { describe, expect, it } from 'vitest';
import { createOrtSession, releaseOrt, runOrt, runOrtAll, timeOrt } from '../../src/eval/ort.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import type { Node } from '../../src/models/ir.js';
import { conv, convNodeRef, expectClose, graph, input, randn } from './helpers.js';

const c1 = conv('c1', 'x', { cin: 2, cout: 3, k: [3, 3], padding: 'same', seed: 1 });
const g = graph([input('x', [2, 6, 6]), c1], ['c1']);
const xin = { shape: [1, 2, 6, 6], data: randn(72, 2) };

describe('onnxruntime runner', () => {
  it('runs a Graph and the same model as bytes to the same output, for every optimisation level', async () => {
    const want = convNodeRef(xin, c1);
    for (const optimization of ['disabled', 'basic', 'extended', 'all'] as const) {
      for (const model of [g, graphToOnnx(g)]) {
        const s = await createOrtSession(model, { threads: 1, optimization });
        try {
          expect(s.inputNames).toEqual(['x']);
          expectClose(await runOrt(s, xin), want);
        } finally {
          await releaseOrt(s);
        }
      }
    }
  });

  it('returns every output by name with runOrtAll', async () => {
    const relu: Node = { op: 'activation', name: 'r', inputs: ['c1'], activation: 'relu' };
    const s = await createOrtSession(graph([input('x', [2, 6, 6]), c1, relu], ['c1', 'r']), { threads: 1 });
    try {
      const out = await runOrtAll(s, { x: xin });
      expect(Object.keys(out)).toEqual(['c1', 'r']);
      expect(Array.from(out.r.data)).toEqual(Array.from(out.c1.data).map((v) => Math.max(v, 0)));
    } finally {
      await releaseOrt(s);
    }
  });

  it('timeOrt reports ordered percentiles over the requested runs', async () => {
    const s = await createOrtSession(g, { threads: 1 });
    try {
      const t = await timeOrt(s, xin, { warmup: 1, runs: 7 });
      expect(t.runs).toBe(7);
      expect(t.p10Ms).toBeGreaterThanOrEqual(0);
      expect(t.p10Ms).toBeLessThanOrEqual(t.medianMs);
      expect(t.medianMs).toBeLessThanOrEqual(t.p90Ms);
    } finally {
      await releaseOrt(s);
    }
  });

  it('fails with clear messages on bad bytes, a wrong input size and bad options', async () => {
    await expect(createOrtSession(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow(/^onnxruntime could not load the model: /);
    await expect(createOrtSession(g, { threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
    const s = await createOrtSession(g, { threads: 1 });
    try {
      await expect(runOrt(s, { shape: [1, 2, 6, 6], data: new Float32Array(5) })).rejects.toThrow(/input has 5 values but shape \[1,2,6,6\] needs 72/);
      await expect(runOrtAll(s, {})).rejects.toThrow(/missing input "x"/);
    } finally {
      await releaseOrt(s);
    }
  });
});
