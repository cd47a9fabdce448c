/**
 * Joint calibration's output check (src/eval/calibrate.ts), printed in every calibrated report:
 * its two figures are the network-output errors of the joint and of the last-factor refit on the
 * calibration data, recomputed here in onnxruntime; the graph kept is the lower one's; and a
 * conversion with no joint layer skips the check. Small NCHW graph, onnxruntime, in process.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { conv, graph, input } from '../onnx/helpers.js';
import { convertGraph } from '../../src/convert/convert.js';
import { createEngine, type Engine } from '../../src/eval/engine.js';
import { calibrate } from '../../src/eval/calibrate.js';
import { gaussianArray } from '../../src/decompose/random.js';
import type { Batch } from '../../src/eval/tfjs-run.js';
import { outputRelError } from '../helpers/output-error.js';

const c1 = conv('a', 'x', { cin: 4, cout: 8, k: [3, 3], padding: 'same', activation: 'relu', seed: 41 });
const c2 = conv('b', 'a', { cin: 8, cout: 8, k: [3, 3], padding: 'same', activation: 'relu', seed: 42 });
const g = graph([input('x', [4, 8, 8]), c1, c2], ['b']);
const batches: Batch[] = [1, 2].map((s) => ({ shape: [2, 4, 8, 8], data: gaussianArray(2 * 4 * 8 * 8, 300 + s, 1) }));
let engine: Engine;

beforeAll(async () => {
  engine = await createEngine('ort', 'NCHW', { threads: 1 });
});

describe('joint calibration: the output check', () => {
  // Guards against figures that are not the two graphs' output errors (swapped, squared, or over
  // other data), and against keeping the worse graph.
  for (const order of ['dw-pw', 'pw-dw'] as const) {
    it(`${order}: joint and last-factor figures are the output errors of the two refits; the lower one is kept`, async () => {
      const cv = convertGraph(g, { order, rank: 1 });
      const joint = await calibrate(engine, cv, batches, { seed: 1, rounds: 2 });
      const lsq = await calibrate(engine, cv, batches, { seed: 1, mode: 'lsq' });
      const check = joint.outputCheck;
      if (!check) throw new Error('expected an output check');
      const lsqError = await outputRelError(engine, g, lsq.graph, batches);
      expect(check.lastFactor).toBeCloseTo(lsqError, 5);
      const keptError = await outputRelError(engine, g, joint.graph, batches);
      expect(keptError).toBeCloseTo(Math.min(check.joint, check.lastFactor), 5);
      expect(check.kept).toBe(check.joint <= check.lastFactor ? 'joint' : 'lsq');
      expect(joint.mode).toBe('joint');
      if (check.kept === 'joint') expect(joint.layers.every((l) => l.start !== undefined)).toBe(true);
      else expect(joint.graph).toEqual(lsq.graph);
    });
  }

  it('no check when no layer was refit jointly (lsq mode)', async () => {
    const cal = await calibrate(engine, convertGraph(g, { order: 'dw-pw', rank: 1 }), batches, { seed: 1, mode: 'lsq' });
    expect(cal.outputCheck).toBeUndefined();
    expect(cal.mode).toBe('lsq');
  });

  it('refuses an empty list of batches, and returns an empty report for a conversion that replaced nothing', async () => {
    const cv = convertGraph(g, { order: 'dw-pw', rank: 1 });
    await expect(calibrate(engine, cv, [], { seed: 1 })).rejects.toThrow(/at least one input batch/);
    const none = { ...cv, graph: g, layers: [] };
    const cal = await calibrate(engine, none, batches, { seed: 1 });
    expect(cal.layers).toEqual([]);
    expect(cal.graph).toBe(none.graph);
    expect(cal.images).toBe(4);
  });
});
