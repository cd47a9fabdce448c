import { describe, it, expect, beforeAll } from 'vitest';
import path from 'node:path';
import { esrgan } from '../../src/models/packaged.js';
import { loadGraph } from '../../src/models/load.js';
import { convertGraph, type ConvertOptions } from '../../src/convert/convert.js';
import { createEngine, type Engine } from '../../src/eval/engine.js';
import { calibrate, type CalibrationOptions } from '../../src/eval/calibrate.js';
import { loadCalibrationData } from '../../src/eval/calibration-data.js';
import { ortMomentFeeder } from '../../src/eval/ort-moments.js';
import { MomentAccumulator } from '../../src/decompose/moments.js';
import { gaussianArray } from '../../src/decompose/random.js';
import { outputRelError } from '../helpers/output-error.js';

const ROOT = path.resolve(__dirname, '../..');
let engine: Engine;

beforeAll(async () => {
  engine = await createEngine('ort', 'NHWC');
});

interface Case {
  model: string;
  /** Training split or separate photos: never the evaluation data. */
  data: string;
  convert: ConvertOptions;
}

const CASES: Case[] = [
  { model: 'fixtures/models/fmnist-vgg', data: 'fashion-mnist-train:32', convert: { order: 'dw-pw', rank: 1, layers: ['conv2_2', 'conv3_1'] } },
  { model: 'fixtures/models/fmnist-vgg', data: 'fashion-mnist-train:32', convert: { order: 'dw-pw', rank: 3, layers: ['conv2_2', 'conv3_1'] } },
  { model: 'fixtures/models/fmnist-resnet', data: 'fashion-mnist-train:32', convert: { order: 'pw-dw', rank: 2, layers: ['block2a_conv*'] } },
  // F_1_1 reads F_0's output: its input in the converted graph is F_0's replacement.
  { model: 'esrgan-slim', data: `images:${path.join(ROOT, 'fixtures/photos-calibration')}`, convert: { order: 'dw-pw', rank: 2, layers: ['F_0', 'F_1_1'] } },
];

describe('joint calibration: every ND factor refit against the layer output (fixed seeds)', () => {
  for (const c of CASES) {
    it(`${path.basename(c.model)} ${c.convert.order} T = ${c.convert.rank}: activation-aware + joint refit is never worse than plain + 1×1 refit, and no step raises a layer's error`, async () => {
      const graph = await loadGraph(c.model === 'esrgan-slim' ? esrgan('slim', 2).modelJson : path.join(ROOT, c.model));
      const data = await loadCalibrationData(c.data, graph, { samples: 2, tile: 32, seed: 3 });
      const conv = convertGraph(graph, c.convert);
      const run = async (o: CalibrationOptions) => calibrate(engine, conv, data.batches, { seed: 3, ...o });
      const plain = await run({ mode: 'lsq' });
      const joint = await run({ mode: 'joint', rounds: 2, rowsPerLayer: 2048 });
      expect(await outputRelError(engine, graph, joint.graph, data.batches)).toBeLessThanOrEqual(await outputRelError(engine, graph, plain.graph, data.batches));
      expect(joint.outputCheck?.kept).toBe(joint.outputCheck && joint.outputCheck.joint <= joint.outputCheck.lastFactor ? 'joint' : 'lsq');
      for (const l of joint.outputCheck?.kept === 'joint' ? joint.layers : []) {
        expect(l.statistics).toBe('full');
        expect(l.relErrorAfter as number).toBeLessThanOrEqual(l.relErrorBefore as number);
        const steps = l.steps as number[];
        for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeLessThanOrEqual(steps[i - 1] * (1 + 1e-9));
      }
      // Same structure and MACs: only weights changed.
      expect(joint.graph.nodes.map((n) => n.name)).toEqual(conv.graph.nodes.map((n) => n.name));
    }, 300_000);
  }
});

describe('activation statistics in onnxruntime', () => {
  it('ORT products accumulated in float64 match the float64 JS products', async () => {
    const rows = 300;
    const [C, K, N] = [4, 9, 5];
    const x = gaussianArray(rows * C * K, 1);
    const y = gaussianArray(rows * N, 2);
    const js = new MomentAccumulator({ channels: C, taps: K, outputs: N });
    const viaOrt = new MomentAccumulator({ channels: C, taps: K, outputs: N });
    js.add(Float64Array.from(x), Float64Array.from(y), rows);
    const feeder = await ortMomentFeeder(1);
    await feeder.add(viaOrt, x.subarray(0, 100 * C * K), y.subarray(0, 100 * N), 100);
    await feeder.add(viaOrt, x.subarray(100 * C * K), y.subarray(100 * N), rows - 100);
    await feeder.release();
    const a = js.centred();
    const b = viaOrt.centred();
    for (let i = 0; i < a.cov.length; i++) expect(b.cov[i]).toBeCloseTo(a.cov[i], 4);
    for (let i = 0; i < a.cross.length; i++) expect(b.cross[i]).toBeCloseTo(a.cross[i], 4);
    expect(b.yEnergy).toBeCloseTo(a.yEnergy, 6);
  });
});
