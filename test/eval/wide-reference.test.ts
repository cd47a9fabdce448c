/**
 * The wide reference classifiers, trained in PyTorch and exported by torch.onnx.export
 * (scripts/train-torch.py), and their TF.js versions written by netdecouple's own writer
 * (scripts/export-wide-fixtures.ts):
 * - the ONNX file, run through `eval`'s path in onnxruntime on the full official test split,
 *   re-measures to the top-1 that PyTorch measured (metrics.json) and the README states;
 * - the TF.js files, read by netdecouple's TF.js reader and run in onnxruntime, re-measure to the
 *   same top-1 and predict the ONNX model's class on every test image whose top-2 logits are not a
 *   near-tie (where float summation order may decide);
 * - stock tfjs loads the same TF.js files and predicts those classes too, on the first images (tfjs-wasm
 *   runs one thread, ~10× slower than onnxruntime here: the full split would take minutes).
 * Skipped while the fixtures are not there (training takes hours on 2 cores).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { loadGraph } from '../../src/models/load.js';
import { createEngine } from '../../src/eval/engine.js';
import { loadDataset } from '../../src/eval/datasets.js';
import { runOnDataset } from '../../src/eval/evaluate.js';
import { useWasm } from '../helpers/tfjs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
/** Images checked in stock tfjs (wasm, one thread, ~10× slower than onnxruntime here). */
const TFJS_IMAGES = 100;
/** Images the TF.js files are checked on in onnxruntime: the full test split. */
const NHWC_IMAGES = 10000;

function argmaxRows(scores: ArrayLike<number>, classes: number): { cls: number[]; margin: number[] } {
  const cls: number[] = [];
  const margin: number[] = [];
  for (let i = 0; i * classes < scores.length; i++) {
    const row = Array.from({ length: classes }, (_, c) => scores[i * classes + c]);
    const sorted = [...row].sort((a, b) => b - a);
    cls.push(row.indexOf(sorted[0]));
    margin.push(sorted[0] - sorted[1]);
  }
  return { cls, margin };
}

/** Largest |value| among the first n rows of 10 logits (a loop: spreading 100 000 values into Math.max is fragile). */
function largestMagnitude(scores: ArrayLike<number>, n: number): number {
  let m = 0;
  for (let i = 0; i < n * 10; i++) m = Math.max(m, Math.abs(scores[i]));
  return m;
}

/** got predicts ref's class on each of the first n images whose top-2 logits are not a near-tie, and most images are compared. */
function expectSameClasses(got: number[], ref: { cls: number[]; margin: number[] }, refScores: ArrayLike<number>, n: number, where: string): void {
  const tie = 1e-4 * largestMagnitude(refScores, n);
  let compared = 0;
  for (let i = 0; i < n; i++) {
    if (ref.margin[i] <= tie) continue;
    compared++;
    expect(got[i], `test image ${i}, ${where}`).toBe(ref.cls[i]);
  }
  expect(compared).toBeGreaterThan(n * 0.95);
}

for (const name of ['fmnist-vgg-wide', 'fmnist-resnet-wide']) {
  const onnx = path.join(ROOT, 'fixtures', 'onnx', `${name}.onnx`);
  const dir = path.join(ROOT, 'fixtures', 'models', name);
  const present = [onnx, path.join(dir, 'model.json'), path.join(dir, 'metrics.json')].every((f) => fs.existsSync(f));
  describe.skipIf(!present)(name, () => {
    beforeAll(useWasm);

    it('the ONNX file re-measures to the top-1 in metrics.json and the README; the TF.js model predicts the same classes', { timeout: 600_000 }, async () => {
      const metrics = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8')) as { top1: number; testSamples: number };
      const graph = await loadGraph(onnx);
      const data = await loadDataset('fashion-mnist', graph);
      if (data.task !== 'classification' || !data.labels || !data.images) throw new Error('expected labelled in-memory classification data');
      const labels = data.labels;
      expect(data.n).toBe(metrics.testSamples);
      const engine = await createEngine('ort', graph.layout, { threads: 2 });
      const out = await runOnDataset(engine, graph, data, { batchSize: 1000 });
      if (out.task !== 'classification') throw new Error('expected classification outputs');
      const ort = argmaxRows(out.scores, out.classes);
      const top1 = ort.cls.filter((c, i) => c === labels[i]).length / data.n;
      // PyTorch and onnxruntime sum in different orders: a few near-tie images may flip.
      expect(Math.abs(top1 - metrics.top1)).toBeLessThanOrEqual(0.0005);
      const stated = README.split('\n').filter((l) => l.includes(name)).flatMap((l) => [...l.matchAll(/(\d{2}\.\d+)\s?%/g)].map((m) => Number(m[1])));
      expect(stated.some((p) => Math.abs(p - top1 * 100) <= 0.05), `README states ${stated.join(', ')} %, measured ${(top1 * 100).toFixed(2)} %`).toBe(true);

      // The TF.js files as netdecouple reads them (NHWC), in onnxruntime.
      const tfjsGraph = await loadGraph(path.join(dir, 'model.json'));
      const nhwcData = await loadDataset(`fashion-mnist:${NHWC_IMAGES}`, tfjsGraph);
      const nhwcEngine = await createEngine('ort', tfjsGraph.layout, { threads: 2 });
      const nhwcOut = await runOnDataset(nhwcEngine, tfjsGraph, nhwcData, { batchSize: 1000 });
      if (nhwcOut.task !== 'classification') throw new Error('expected classification outputs');
      const nhwc = argmaxRows(nhwcOut.scores, nhwcOut.classes);
      expectSameClasses(nhwc.cls, ort, out.scores, NHWC_IMAGES, 'TF.js files in onnxruntime');
      const nhwcTop1 = nhwc.cls.filter((c, i) => c === labels[i]).length / NHWC_IMAGES;
      expect(Math.abs(nhwcTop1 - metrics.top1)).toBeLessThanOrEqual(0.0005);

      const mj = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
      const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest[0].weights, weightData: new Uint8Array(weights).buffer }));
      const x = tf.tensor4d(data.images.subarray(0, TFJS_IMAGES * 784), [TFJS_IMAGES, 28, 28, 1]);
      const logits = (model.predict(x) as tf.Tensor).dataSync();
      const tfjsCls = argmaxRows(logits, 10).cls;
      expectSameClasses(tfjsCls, ort, out.scores, TFJS_IMAGES, 'TF.js files in stock tfjs');
    });
  });
}
