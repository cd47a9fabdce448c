import { describe, it, expect, beforeAll } from 'vitest';
import path from 'node:path';
import { loadGraph } from '../../src/models/load.js';
import { convertGraph, type ConvertOptions } from '../../src/convert/convert.js';
import { createEngine, type Engine } from '../../src/eval/engine.js';
import { calibrate, type CalibrationOptions } from '../../src/eval/calibrate.js';
import { loadCalibrationData } from '../../src/eval/calibration-data.js';
import { outputRelError } from '../helpers/output-error.js';

const ROOT = path.resolve(__dirname, '../..');
let engine: Engine;

beforeAll(async () => {
  engine = await createEngine('ort', 'NHWC');
});

const CASES: ConvertOptions[] = [
  { method: 'tucker2', tuckerRanks: [8, 8], layers: ['conv3_1'] },
  { method: 'spatial', rank: 8, layers: ['conv3_1'] },
  { method: 'cp', rank: 16, layers: ['conv3_1'] },
];

describe('joint calibration of Tucker-2, spatial and CP factors on fmnist-vgg (training images, fixed seeds)', () => {
  for (const c of CASES) {
    it(`${c.method}: activation-aware + joint refit is never worse than plain + last-factor refit, no step raises a layer's error`, async () => {
      const graph = await loadGraph(path.join(ROOT, 'fixtures/models/fmnist-vgg'));
      // Training split only: the evaluation data stays unseen.
      const data = await loadCalibrationData('fashion-mnist-train:32', graph, { samples: 2, tile: 32, seed: 3 });
      const conv = convertGraph(graph, c);
      const run = async (o: CalibrationOptions) => calibrate(engine, conv, data.batches, { seed: 3, rowsPerLayer: 2048, ...o });
      const plain = await run({ mode: 'lsq' });
      const joint = await run({ mode: 'joint', rounds: 2 });
      const noAware = await run({ mode: 'joint', rounds: 2, dataAware: false });
      // Every layer went through the joint refit (full statistics), whichever result was kept.
      expect(joint.layers.every((l) => l.start !== undefined && l.statistics === 'full')).toBe(true);
      expect(await outputRelError(engine, graph, joint.graph, data.batches)).toBeLessThanOrEqual(await outputRelError(engine, graph, plain.graph, data.batches));
      for (const l of joint.outputCheck?.kept === 'joint' ? joint.layers : []) {
        expect(l.statistics).toBe('full');
        expect(l.start).toBeDefined();
        expect(l.relErrorAfter as number).toBeLessThanOrEqual(l.relErrorBefore as number);
        const steps = l.steps as number[];
        for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeLessThanOrEqual(Math.min(...steps.slice(0, i)) * (1 + 1e-9));
      }
      // The first replaced layer sees the same inputs either way: the whitened start can only help.
      const first = (r: typeof joint) => r.layers.find((l) => l.name === 'conv3_1')?.relErrorAfter as number;
      if (joint.outputCheck?.kept === 'joint' && noAware.outputCheck?.kept === 'joint') expect(first(joint)).toBeLessThanOrEqual(first(noAware) * (1 + 1e-9));
      expect(joint.graph.nodes.map((n) => n.name)).toEqual(conv.graph.nodes.map((n) => n.name));
    }, 300_000);
  }
});
