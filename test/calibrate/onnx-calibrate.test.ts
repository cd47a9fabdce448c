import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { loadGraph } from '../../src/models/load.js';
import { convertGraph } from '../../src/convert/convert.js';
import { createEngine } from '../../src/eval/engine.js';
import { calibrate } from '../../src/eval/calibrate.js';
import { loadCalibrationData } from '../../src/eval/calibration-data.js';
import { compareOutputs } from '../../src/eval/metrics.js';
import type { Graph } from '../../src/models/ir.js';
import type { Batch } from '../../src/eval/tfjs-run.js';

const ROOT = path.resolve(__dirname, '../..');

describe('calibration of an ONNX (NCHW) model in onnxruntime', () => {
  it('lowers the output error of a low-rank decoupling, both orders', async () => {
    const graph = await loadGraph(path.join(ROOT, 'test/fixtures/onnx/tiny-cnn.onnx'));
    const engine = await createEngine('ort', graph.layout);
    const calib = await loadCalibrationData(`images:${path.join(ROOT, 'fixtures/photos')}`, graph, { samples: 8, seed: 4 });
    expect(calib.batches[0].shape.slice(1)).toEqual([3, 16, 16]);
    // Evaluation tiles from another seed: not the calibration tiles.
    const evalData = await loadCalibrationData(`images:${path.join(ROOT, 'fixtures/photos')}`, graph, { samples: 4, seed: 99 });
    const x: Batch = evalData.batches[0];
    const run = async (g: Graph) => {
      const p = await engine.prepare(g);
      const [y] = await p.run(x);
      await p.dispose();
      return y.data;
    };
    const y = await run(graph);
    for (const order of ['dw-pw', 'pw-dw'] as const) {
      const conv = convertGraph(graph, { order, rank: 1, keepUnprofitable: true });
      expect(conv.layers.length).toBe(2);
      const cal = await calibrate(engine, conv, calib.batches, { seed: 4 });
      const plain = compareOutputs(y, await run(conv.graph), 1).relL2;
      const after = compareOutputs(y, await run(cal.graph), 1).relL2;
      expect(after, order).toBeLessThan(plain);
    }
  });
});
