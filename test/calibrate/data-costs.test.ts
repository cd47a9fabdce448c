import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { loadGraph } from '../../src/models/load.js';
import { budgetCandidates } from '../../src/convert/budget-plan.js';
import { createEngine } from '../../src/eval/engine.js';
import { loadCalibrationData } from '../../src/eval/calibration-data.js';
import { dataAwareCandidateErrors } from '../../src/eval/data-costs.js';
import { collectStatistics } from '../../src/eval/activation-statistics.js';

const VGG = path.resolve(__dirname, '../../fixtures/models/fmnist-vgg');

describe('rank allocation by data', () => {
  it('every ND candidate is re-costed by its output error on the calibration data', async () => {
    const graph = await loadGraph(VGG);
    const data = await loadCalibrationData('fashion-mnist-train:32', graph);
    const bc = budgetCandidates(graph, { methods: ['nd'], layers: ['conv2_2', 'conv3_1'] });
    const kernelErrors = bc.layers.map((l) => l.candidates.map((c) => c.error));
    const engine = await createEngine('ort', graph.layout);
    expect(await dataAwareCandidateErrors(engine, bc, data.batches, { seed: 1 })).toEqual(['conv2_2', 'conv3_1']);
    bc.layers.forEach((l, li) => {
      for (const [ci, c] of l.candidates.entries()) {
        expect(c.error).toBeGreaterThanOrEqual(0);
        if (c.method === 'keep') expect(c.error).toBe(0);
        if (c.method === 'nd') expect(c.error).not.toBe(kernelErrors[li][ci]);
      }
    });
  });

  it('Tucker-2 and spatial candidates are re-costed too (output error, not kernel error)', async () => {
    const graph = await loadGraph(VGG);
    const data = await loadCalibrationData('fashion-mnist-train:16', graph);
    const bc = budgetCandidates(graph, { methods: ['tucker2', 'spatial'], layers: ['conv2_2'] });
    const kernelErrors = bc.layers[0].candidates.map((c) => c.error);
    const engine = await createEngine('ort', graph.layout);
    expect(await dataAwareCandidateErrors(engine, bc, data.batches, { seed: 1 })).toEqual(['conv2_2']);
    const changed = bc.layers[0].candidates.filter((c, ci) => c.method !== 'keep' && c.error !== kernelErrors[ci]);
    expect(new Set(changed.map((c) => c.method))).toEqual(new Set(['tucker2', 'spatial']));
    for (const c of bc.layers[0].candidates) expect(c.error).toBeGreaterThanOrEqual(0);
  });

  it('statistics keep the whole covariance under the cap and per-channel blocks above it', async () => {
    const graph = await loadGraph(VGG);
    const data = await loadCalibrationData('fashion-mnist-train:16', graph);
    const engine = await createEngine('ort', graph.layout);
    const convs = budgetCandidates(graph, { methods: ['nd'], layers: ['conv2_2', 'conv3_2'] }).layers.map((l) => l.conv);
    // conv2_2: F = 32·9 (663 KiB whole), conv3_2: F = 64·9 (2.6 MiB whole): a 1 MiB cap splits only the latter.
    const stats = await collectStatistics(engine, graph, convs, data.batches, { maxFullBytes: 2 ** 20, rowsPerBatch: 64 });
    expect(stats.map((s) => s.accumulator.form)).toEqual(['full', 'blocks']);
    expect(stats.every((s) => s.accumulator.count === 64 * data.batches.length)).toBe(true);
  });
});
