/**
 * The committed Keras fixtures (scripts/keras-fixtures.py, written with h5py independently of the
 * project's writer) read into the same model as the TF.js LayersModel they were made from: the
 * same weights bit for bit, and the same outputs as plain tf.loadLayersModel on the TF.js files.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadGraph } from '../../src/models/load.js';
import type { Graph, Node } from '../../src/models/ir.js';
import { runGraph } from '../../src/eval/tfjs-run.js';
import { images, maxAbsDiff, predictStock, REFERENCE_MODELS, ROOT, stockTfjs } from './helpers.js';

/** Every float array a node holds (kernels, biases, BN statistics), in a fixed order. */
function arrays(n: Node): Float32Array[] {
  const out: Float32Array[] = [];
  for (const v of Object.values(n)) {
    if (v instanceof Float32Array) out.push(v);
    else if (v && typeof v === 'object' && (v as { data?: unknown }).data instanceof Float32Array) out.push((v as { data: Float32Array }).data);
  }
  return out;
}

function sameWeights(a: Graph, b: Graph): void {
  expect(b.nodes.map((n) => [n.name, n.op])).toEqual(a.nodes.map((n) => [n.name, n.op]));
  a.nodes.forEach((n, i) => {
    const [x, y] = [arrays(n), arrays(b.nodes[i])];
    expect(y.length).toBe(x.length);
    x.forEach((arr, j) => expect(Buffer.from(y[j].buffer, y[j].byteOffset, y[j].byteLength).equals(Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength))).toBe(true));
  });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it.each(['keras', 'h5'])('a .%s file under another name is recognised by its first bytes', async (ext) => {
  const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'nd-sniff-')), 'model.bin');
  await fs.copyFile(path.join(ROOT, 'fixtures/keras', `fmnist-vgg.${ext}`), file);
  expect((await loadGraph(file)).meta?.format).toBe(ext === 'h5' ? 'keras-h5' : 'keras');
});

describe.each(REFERENCE_MODELS)('%s as Keras files', (model) => {
  const modelJson = path.join(ROOT, 'fixtures/models', model, 'model.json');
  const x = images(8);

  it.each(['h5', 'keras'])('the .%s file holds the TF.js model\'s layers and weights bit for bit', async (ext) => {
    const tfjs = await loadGraph(modelJson);
    const keras = await loadGraph(path.join(ROOT, 'fixtures/keras', `${model}.${ext}`));
    sameWeights(tfjs, keras);
    expect(keras.meta?.format).toBe(ext === 'h5' ? 'keras-h5' : 'keras');
  });

  it.each(['h5', 'keras'])('the .%s file gives the same outputs as plain tf.loadLayersModel on model.json', async (ext) => {
    const stock = await stockTfjs(modelJson);
    const expected = predictStock(stock, x);
    stock.dispose();
    const [got] = await runGraph(await loadGraph(path.join(ROOT, 'fixtures/keras', `${model}.${ext}`)), x);
    expect(got.shape).toEqual([8, 10]);
    expect(maxAbsDiff(got.data, expected)).toBeLessThanOrEqual(1e-6);
  });
});
