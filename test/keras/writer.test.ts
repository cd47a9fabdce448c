/**
 * `convert --format tfjs,keras,h5,onnx` from a .keras file: the .keras and .h5 written beside model.json
 * read back into the same model (outputs equal to plain tf.loadLayersModel on that model.json),
 * and scripts/keras-check.py confirms from Python (h5py) that they have Keras' layout and, where
 * Keras is installed, that Keras loads them and computes the same outputs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadGraph } from '../../src/models/load.js';
import { runGraph } from '../../src/eval/tfjs-run.js';
import { inPairs, runCli } from '../helpers/cli.js';
import { images, maxAbsDiff, predictStock, ROOT, stockTfjs } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const CASES = [
  { model: 'fmnist-vgg', form: 'split' },
  { model: 'fmnist-resnet', form: 'merged' },
] as const;
let tmp: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'nd-keras-'));
  const runs = await inPairs([...CASES], ({ model, form }) =>
    runCli(['convert', path.join(ROOT, 'fixtures/keras', `${model}.keras`), '-o', path.join(tmp, model), '--rank', '2', '--form', form, '--format', 'tfjs,keras,h5,onnx', '--no-eval']),
  );
  for (const r of runs) expect(r.stderr).toBe('');
});

describe.each(CASES)('converted $model ($form) written as Keras files', ({ model }) => {
  const x = images(4, 28, 28, 1, 5);

  it('writes model.json, model.keras, model.h5, model.onnx and report.json', async () => {
    expect((await fs.readdir(path.join(tmp, model))).sort()).toEqual(['model.h5', 'model.json', 'model.keras', 'model.onnx', 'report.json', 'weights.bin']);
    const onnx = await loadGraph(path.join(tmp, model, 'model.onnx'));
    const keras = await loadGraph(path.join(tmp, model, 'model.keras'));
    expect(onnx.nodes.filter((n) => n.op === 'conv2d').length).toBe(keras.nodes.filter((n) => n.op === 'conv2d').length);
  });

  it.each(['keras', 'h5'])('model.%s reads back to the outputs of the model.json written beside it', async (ext) => {
    const stock = await stockTfjs(path.join(tmp, model, 'model.json'));
    const expected = predictStock(stock, x);
    stock.dispose();
    const graph = await loadGraph(path.join(tmp, model, `model.${ext}`));
    expect(graph.nodes.some((n) => n.op === 'conv2d' && n.groups > 1)).toBe(true);
    const [got] = await runGraph(graph, x);
    expect(maxAbsDiff(got.data, expected)).toBeLessThanOrEqual(1e-6);
  });

  it.skipIf(!existsSync(PYTHON))('keras-check.py: Keras layout (h5py), and Keras itself when installed', async () => {
    const stock = await stockTfjs(path.join(tmp, model, 'model.json'));
    const expected = { input: { shape: x.shape, data: [...x.data] }, output: { shape: [4, 10], data: [...predictStock(stock, x)] }, tolerance: 1e-4 };
    stock.dispose();
    const file = path.join(tmp, model, 'expected.json');
    await fs.writeFile(file, JSON.stringify(expected));
    const r = spawnSync(PYTHON, [path.join(ROOT, 'scripts/keras-check.py'), file, path.join(tmp, model, 'model.keras'), path.join(tmp, model, 'model.h5')], { encoding: 'utf8' });
    const lines = r.stdout.trim().split('\n');
    // Skips (no h5py, no Keras) are printed with their reason, never silent.
    for (const l of lines.filter((l) => l.startsWith('skip'))) console.log(`keras-check ${model}: ${l}`);
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(r.status).toBe(0);
    expect(lines.some((l) => l.startsWith('ok layout') || l.startsWith('skip layout'))).toBe(true);
  });
});

it('the fixture script reproduces the committed fixtures byte for byte', () => {
  if (spawnSync(PYTHON, ['-c', 'import h5py']).status !== 0) {
    console.log('skip: python3-h5py is not installed (apt-get install python3-h5py)');
    return;
  }
  const copy = path.join(tmp, 'fixtures-copy');
  execFileSync('mkdir', ['-p', path.join(copy, 'fixtures')]);
  execFileSync('cp', ['-r', path.join(ROOT, 'fixtures/models'), path.join(copy, 'fixtures/models')]);
  execFileSync(PYTHON, [path.join(ROOT, 'scripts/keras-fixtures.py')], { cwd: copy, stdio: 'pipe' });
  return Promise.all(
    ['fmnist-vgg.keras', 'fmnist-resnet.h5'].map(async (f) => expect((await fs.readFile(path.join(copy, 'fixtures/keras', f))).equals(await fs.readFile(path.join(ROOT, 'fixtures/keras', f)))).toBe(true)),
  );
});
