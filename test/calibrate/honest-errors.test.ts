/**
 * The per-layer figures calibration reports (relErrorBefore / relErrorAfter in report.json) are the
 * real ones:
 *   - with every pixel sampled, they equal the layer's pre-activation error computed independently
 *     (direct-loop convolutions before, onnxruntime on the calibrated graph after);
 *   - a refit that makes a layer worse is reported with its real, worse error, flagged, and its
 *     weights are not kept. The least-squares solve is made to return all-zero weights and biases
 *     (a fault injected on purpose: ridge toward the current weights never does worse on the fit
 *     rows), whose relative error is exactly ‖y − 0‖/‖y‖ = 1.
 * Small NCHW graph, onnxruntime, in process.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { conv, convNodeRef, graph, input, type T4 } from '../onnx/helpers.js';
import { convertGraph, type Conversion } from '../../src/convert/convert.js';
import { createEngine, type Engine } from '../../src/eval/engine.js';
import { calibrate } from '../../src/eval/calibrate.js';
import { RidgeAccumulator } from '../../src/decompose/least-squares.js';
import { gaussianArray } from '../../src/decompose/random.js';
import type { Graph } from '../../src/models/ir.js';
import type { Batch } from '../../src/eval/tfjs-run.js';
import { relError } from '../helpers/output-error.js';

const c1 = conv('a', 'x', { cin: 4, cout: 8, k: [3, 3], padding: 'same', activation: 'relu', seed: 21 });
const c2 = conv('b', 'a', { cin: 8, cout: 8, k: [3, 3], padding: 'same', activation: 'relu', seed: 22 });
const g = graph([input('x', [4, 8, 8]), c1, c2], ['b']);
// Two batches of 2 images: 128 pixels each, fewer than the 256 rows a layer samples at least, so
// every pixel is used, in order, and the figures can be recomputed over whole activations.
const batches: Batch[] = [1, 2].map((s) => ({ shape: [2, 4, 8, 8], data: gaussianArray(2 * 4 * 8 * 8, 100 + s, 1) }));
let engine: Engine;

beforeAll(async () => {
  engine = await createEngine('ort', 'NCHW', { threads: 1 });
});
afterEach(() => vi.restoreAllMocks());

const cat = (xs: T4[]) => Float32Array.from(xs.flatMap((x) => Array.from(x.data)));
const linear = (n: Graph['nodes'][number]) => (n.op === 'conv2d' ? { ...n, activation: 'linear' } : n);

async function outputAt(gr: Graph, name: string, x: Batch): Promise<Float32Array> {
  const p = await engine.prepare({ ...gr, nodes: gr.nodes.map((n) => (n.name === name ? linear(n) : n)) }, [name]);
  const [y] = await p.run(x);
  await p.dispose();
  return y.data;
}

describe('calibration reports the real errors', () => {
  // Guards against figures that are not the layer's: a stored `before` in place of `after`, or an
  // error measured after the activation or on a subset of rows.
  it('with every pixel sampled, the first layer\'s before / after are its pre-activation errors', async () => {
    const cv = convertGraph(g, { order: 'dw-pw', rank: 1 });
    const cal = await calibrate(engine, cv, batches, { seed: 1 });
    const [first] = cal.layers;
    expect(first.skipped).toBeUndefined();
    const y = cat(batches.map((x) => convNodeRef(x, linear(c1) as typeof c1)));
    const before = cat(await Promise.all(batches.map(async (x) => ({ shape: [], data: await outputAt(cv.graph, 'a/pw', x) }))));
    const after = cat(await Promise.all(batches.map(async (x) => ({ shape: [], data: await outputAt(cal.graph, 'a/pw', x) }))));
    expect(first.relErrorBefore).toBeCloseTo(relError(y, before), 5);
    expect(first.relErrorAfter).toBeCloseTo(relError(y, after), 5);
    // Ridge toward the current weights never does worse on the rows it fits.
    for (const l of cal.layers) expect(l.relErrorAfter as number, l.name).toBeLessThan(l.relErrorBefore as number);
  });

  for (const order of ['dw-pw', 'pw-dw'] as const) {
    // Guards against `relErrorAfter = min(after, before)` (which made "after ≤ before" untestable)
    // and against keeping a refit that made the layer worse.
    it(`${order}: a refit that makes a layer worse is reported as worse, flagged, and not kept`, async () => {
      vi.spyOn(RidgeAccumulator.prototype, 'solve').mockImplementation(function (this: RidgeAccumulator) {
        return { weight: new Float64Array(this.features * this.outputs), bias: new Float64Array(this.outputs) };
      });
      const cv: Conversion = convertGraph(g, { order, rank: 1 });
      // The last-factor refit ('lsq') is the path that solves with RidgeAccumulator.
      const cal = await calibrate(engine, cv, batches, { mode: 'lsq', seed: 1 });
      expect(cal.layers).toHaveLength(2);
      for (const l of cal.layers) {
        expect(l.relErrorBefore as number, l.name).toBeLessThan(1);
        expect(l.relErrorAfter as number, l.name).toBeCloseTo(1, 9);
        expect(l.skipped, l.name).toMatch(/did not lower the error; kept the decomposition/);
      }
      expect(cal.graph).toEqual(cv.graph);
    });
  }
});
