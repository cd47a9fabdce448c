/**
 * The committed reference classifiers, re-measured through `eval`'s own path (ORT, the full
 * official Fashion-MNIST test split): top-1 matches the figure in each model's metrics.json and the
 * one the README states, so the numbers the sweeps compare against are the models' real ones.
 * Skipped while the fixtures are not there (they are produced by scripts/train-reference.ts).
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGraph } from '../../src/models/load.js';
import { createEngine } from '../../src/eval/engine.js';
import { loadDataset } from '../../src/eval/datasets.js';
import { evaluateModel } from '../../src/eval/evaluate.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** Percentages written on README lines that name the model, e.g. "fmnist-vgg … 92.31 %". */
function readmePercents(name: string): number[] {
  return README.split('\n').filter((l) => l.includes(name)).flatMap((l) => [...l.matchAll(/(\d{2}(?:\.\d+)?)\s?%/g)].map((m) => Number(m[1])));
}

for (const name of ['fmnist-vgg', 'fmnist-resnet']) {
  const dir = path.join(ROOT, 'fixtures', 'models', name);
  const present = fs.existsSync(path.join(dir, 'model.json')) && fs.existsSync(path.join(dir, 'metrics.json'));
  describe.skipIf(!present)(`${name}`, () => {
    it('re-measures to the top-1 in metrics.json and in the README', async () => {
      const metrics = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8')) as { top1: number; testSamples: number };
      const graph = await loadGraph(path.join(dir, 'model.json'));
      const data = await loadDataset('fashion-mnist', graph);
      expect(data.n).toBe(metrics.testSamples);
      const engine = await createEngine('ort', graph.layout, { threads: 2 });
      const r = await evaluateModel(engine, graph, data, { batchSize: 1000 });
      const top1 = r.classification!.top1 as number;
      // Float summation order differs between runtimes: a handful of near-tie images may flip.
      expect(Math.abs(top1 - metrics.top1)).toBeLessThanOrEqual(0.001);
      const stated = readmePercents(name);
      expect(stated.length, `README.md states no top-1 for ${name}`).toBeGreaterThan(0);
      expect(stated.some((p) => Math.abs(p - top1 * 100) <= 0.1), `README states ${stated.join(', ')} %, measured ${(top1 * 100).toFixed(2)} %`).toBe(true);
    });
  });
}
