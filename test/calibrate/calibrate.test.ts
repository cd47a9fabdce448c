import { describe, it, expect, beforeAll } from 'vitest';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { esrgan } from '../../src/models/packaged.js';
import { loadGraph } from '../../src/models/load.js';
import { convertGraph } from '../../src/convert/convert.js';
import { createEngine, type Engine } from '../../src/eval/engine.js';
import { calibrate } from '../../src/eval/calibrate.js';
import { loadCalibrationData } from '../../src/eval/calibration-data.js';
import { readPng } from '../../src/eval/image.js';
import { compareOutputs } from '../../src/eval/metrics.js';
import type { Graph } from '../../src/models/ir.js';
import type { Batch } from '../../src/eval/tfjs-run.js';

const PHOTOS = path.resolve(__dirname, '../../fixtures/photos');
let graph: Graph;
let engine: Engine;
let evalInput: Batch;

async function run(g: Graph, x: Batch): Promise<Float32Array> {
  const p = await engine.prepare(g);
  const [y] = await p.run(x);
  await p.dispose();
  return y.data;
}

beforeAll(async () => {
  engine = await createEngine('ort', 'NHWC');
  const m = esrgan('slim', 2);
  graph = await loadGraph(m.modelJson);
  const img = await readPng(m.fixture); // the package's photo: not among the calibration photos
  evalInput = { shape: [1, img.height, img.width, 3], data: img.data };
});

describe('calibration (training-free least-squares refit)', () => {
  for (const rank of [2, 4]) {
    it(`esrgan-slim at T = ${rank}: calibrated PSNR beats plain at equal MACs, lsq beats bias-only`, async () => {
      const conv = convertGraph(graph, { rank });
      const data = await loadCalibrationData(`images:${PHOTOS}`, graph, { samples: 8, tile: 48, seed: 3 });
      const y = await run(graph, evalInput);
      const plain = compareOutputs(y, await run(conv.graph, evalInput), 255).psnrDb;
      const lsq = await calibrate(engine, conv, data.batches, { mode: 'lsq', seed: 3 });
      const bias = await calibrate(engine, conv, data.batches, { mode: 'bias', seed: 3 });
      const psnrLsq = compareOutputs(y, await run(lsq.graph, evalInput), 255).psnrDb;
      const psnrBias = compareOutputs(y, await run(bias.graph, evalInput), 255).psnrDb;
      expect(psnrBias).toBeGreaterThan(plain);
      expect(psnrLsq).toBeGreaterThan(psnrBias);
      // Same structure, same MACs: only weights changed.
      expect(lsq.graph.nodes.map((n) => n.name)).toEqual(conv.graph.nodes.map((n) => n.name));
      // relErrorAfter is the real figure (honest-errors.test.ts): a kept refit lowered the error.
      for (const l of lsq.layers) if (l.relErrorAfter !== null && l.relErrorBefore !== null && !l.skipped) expect(l.relErrorAfter).toBeLessThan(l.relErrorBefore);
    });
  }

  it('PW→DW: refits the depthwise taps per output channel; split and merged forms calibrate identically', async () => {
    const data = await loadCalibrationData(`images:${PHOTOS}`, graph, { samples: 4, tile: 40, seed: 2 });
    const y = await run(graph, evalInput);
    const psnr: number[] = [];
    for (const form of ['split', 'merged'] as const) {
      const conv = convertGraph(graph, { order: 'pw-dw', rank: 2, form, layers: ['F_0', 'GFF_2', 'UPN1'] });
      const plain = compareOutputs(y, await run(conv.graph, evalInput), 255).psnrDb;
      const cal = await calibrate(engine, conv, data.batches, { mode: 'lsq', seed: 2 });
      expect(cal.layers.every((l) => l.refit !== null && !l.skipped)).toBe(true);
      psnr.push(compareOutputs(y, await run(cal.graph, evalInput), 255).psnrDb);
      expect(psnr[psnr.length - 1]).toBeGreaterThan(plain + 3);
    }
    expect(psnr[0]).toBeCloseTo(psnr[1], 2);
  });

  for (const method of ['cp', 'tucker2'] as const) {
    it(`${method}: the last 1×1 is refit and the output error falls`, async () => {
      const data = await loadCalibrationData(`images:${PHOTOS}`, graph, { samples: 4, tile: 40, seed: 6 });
      const conv = convertGraph(graph, { method, rank: 8, layers: ['F_0', 'GFF_2'], maxIterations: 10 });
      expect(conv.layers.map((l) => l.name)).toEqual(['F_0', 'GFF_2']);
      const y = await run(graph, evalInput);
      const plain = compareOutputs(y, await run(conv.graph, evalInput), 255).psnrDb;
      const cal = await calibrate(engine, conv, data.batches, { seed: 6, mode: 'lsq' });
      expect(cal.layers.every((l) => l.refit !== null && !l.skipped)).toBe(true);
      expect(compareOutputs(y, await run(cal.graph, evalInput), 255).psnrDb).toBeGreaterThan(plain);
    });
  }

  it('is deterministic for a seed', async () => {
    const conv = convertGraph(graph, { rank: 3, layers: ['F_0', 'GFF_2'] });
    const data = await loadCalibrationData(`images:${PHOTOS}`, graph, { samples: 4, tile: 32, seed: 5 });
    const a = await calibrate(engine, conv, data.batches, { seed: 5, rounds: 2 });
    const b = await calibrate(engine, conv, data.batches, { seed: 5, rounds: 2 });
    const w = (g: Graph) => g.nodes.filter((n) => n.op === 'conv2d').map((n) => (n.op === 'conv2d' ? Array.from(n.kernel.data) : []));
    expect(w(a.graph)).toEqual(w(b.graph));
  }, 300_000);
});

describe('calibration data', () => {
  it('refuses the evaluation split, unknown names and empty folders', async () => {
    await expect(loadCalibrationData('fashion-mnist', graph)).rejects.toThrow(/leak into evaluation/);
    await expect(loadCalibrationData('fashion-mnist:100', graph)).rejects.toThrow(/leak into evaluation/);
    await expect(loadCalibrationData('imagenet', graph)).rejects.toThrow(/unknown calibration data/);
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'nd-empty-'));
    await expect(loadCalibrationData(`images:${empty}`, graph)).rejects.toThrow(/no PNG or JPEG images/);
  });

  it('photo tiles are seeded and sized as asked', async () => {
    const a = await loadCalibrationData(`images:${PHOTOS}`, graph, { samples: 6, tile: 40, seed: 9 });
    const b = await loadCalibrationData(`images:${PHOTOS}`, graph, { samples: 6, tile: 40, seed: 9 });
    expect(a.images).toBe(6);
    expect(a.batches.map((x) => x.shape)).toEqual([[4, 40, 40, 3], [2, 40, 40, 3]]);
    expect(a.batches[0].data).toEqual(b.batches[0].data);
    expect(a.description).toMatch(/tiles of \d+ photos/);
  });
});
