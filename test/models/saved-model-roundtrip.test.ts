// Imports only @tensorflow/tfjs and node built-ins: the converted model must load with no project code.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const ROOT = path.resolve(__dirname, '../..');
const MODEL = path.join(ROOT, 'node_modules/@upscalerjs/esrgan-slim/models/x2/model.json');
let out: string;

async function load(modelJson: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await fs.readFile(modelJson, 'utf8'));
  const bufs = [];
  for (const g of json.weightsManifest) for (const p of g.paths) bufs.push(await fs.readFile(path.join(path.dirname(modelJson), p)));
  const all = Buffer.concat(bufs);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights), weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) }));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'nd-rt-')), 'converted');
  execFileSync('node', [path.join(ROOT, 'dist/cli/main.js'), 'convert', MODEL, '-o', out, '--energy', '1', '--keep-unprofitable', '--no-eval'], { stdio: 'pipe' });
});

describe('the converted model is a stock TF.js LayersModel', () => {
  it('loads with plain tf.loadLayersModel and matches the original at full rank', async () => {
    const original = await load(MODEL);
    const converted = await load(path.join(out, 'model.json'));
    const classes = new Set(converted.layers.map((l) => l.getClassName()));
    expect(classes.has('DepthwiseConv2D')).toBe(true);
    expect([...classes].every((c) => ['InputLayer', 'Conv2D', 'DepthwiseConv2D', 'Concatenate', 'Add', 'Activation', 'UpSampling2D'].includes(c))).toBe(true);
    const x = tf.randomUniform([1, 16, 16, 3], 0, 255, 'float32', 3);
    const a = (original.predict(x) as tf.Tensor).dataSync();
    const b = (converted.predict(x) as tf.Tensor).dataSync();
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    expect(maxDiff).toBeLessThan(1e-2);
  });

  it('writes report.json beside the model', async () => {
    const report = JSON.parse(await fs.readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report.method).toBe('nd');
    expect(report.layers.length).toBe(8);
    for (const key of ['name', 'kernel', 'stride', 'rank', 'macsBefore', 'macsAfter', 'paramsBefore', 'paramsAfter', 'kernelRelError', 'outputRelError']) expect(report.layers[0]).toHaveProperty(key);
    for (const key of ['macsBefore', 'macsAfter', 'paramsBefore', 'paramsAfter', 'theoreticalSpeedup']) expect(report.totals).toHaveProperty(key);
  });
});
