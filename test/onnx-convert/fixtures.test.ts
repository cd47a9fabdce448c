/**
 * fixtures/onnx/ (scripts/export-onnx-fixtures.ts):
 *   - the project's own models are exactly what the script writes (same code → same bytes), run in
 *     stock onnxruntime, and decouple exactly at τ = 1;
 *   - the Fashion-MNIST reference classifiers, relaid out to NCHW and exported to ONNX, predict what
 *     the TF.js originals predict (plain tfjs, wasm) on 300 official test images, and still do
 *     after a τ = 1 conversion of the ONNX file. Skipped while the classifiers are not trained yet.
 * Regenerate with UPDATE_FIXTURES=1 (or `node dist/scripts/export-onnx-fixtures.js`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  CLASSIFIER_NAMES,
  ONNX_FIXTURE_DIR,
  classifierGraph,
  classifierModelJson,
  ownFixtureBytes,
  ownFixtures,
  toNchw,
} from '../../scripts/export-onnx-fixtures.js';
import { buildReferenceModel, REFERENCE_MODEL_NAMES } from '../../scripts/lib/reference-models.js';
import { saveLayersModel } from '../../src/models/tfjs/from-model.js';
import { loadGraph } from '../../src/models/load.js';
import type { Graph } from '../../src/models/ir.js';
import { onnxToGraph, readOnnx } from '../../src/models/onnx/read.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import { convertGraph } from '../../src/convert/convert.js';
import { graphCosts, totalCost } from '../../src/models/cost.js';
import { loadFashionMnist } from '../../src/eval/data/fashion-mnist.js';
import { randn, run } from '../onnx/helpers.js';

const update = process.env.UPDATE_FIXTURES === '1';

/** max |a − b| / max |b|. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

function argmax(rows: Float32Array, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows.length / classes; r++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (rows[r * classes + k] > rows[r * classes + best]) best = k;
    out.push(best);
  }
  return out;
}

describe('the project-made ONNX fixtures', () => {
  for (const f of ownFixtures()) {
    it(`${f.file}: matches its generator, runs in ORT, and decouples exactly at τ = 1`, async () => {
      const file = path.join(ONNX_FIXTURE_DIR, f.file);
      const bytes = ownFixtureBytes(f);
      if (update) fs.writeFileSync(file, bytes);
      expect(fs.existsSync(file), `${file} missing: run node dist/scripts/export-onnx-fixtures.js`).toBe(true);
      expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(bytes)), 'stale fixture: rerun with UPDATE_FIXTURES=1').toBe(true);

      const g = await readOnnx(file);
      const shape = g.nodes[0].op === 'input' ? (g.nodes[0].shape as number[]) : [];
      const x = { shape: [2, ...shape], data: randn(2 * shape.reduce((a, b) => a * b, 1), 3) };
      const y = await run(fs.readFileSync(file), x);
      expect(y.shape).toEqual([2, 10]);
      const conv = convertGraph(g, { energy: 1, keepUnprofitable: true });
      expect(conv.layers.length).toBeGreaterThan(0);
      expect(maxRelDiff((await run(graphToOnnx(conv.graph), x)).data, y.data)).toBeLessThanOrEqual(1e-4);
    });
  }
});

/** The TF.js model in `dir`, loaded by plain tfjs (no project code) on wasm, on NHWC images. */
async function tfjsPredict(dir: string, images: Float32Array, n: number): Promise<Float32Array> {
  await tf.setBackend('wasm');
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: new Uint8Array(Buffer.concat(shards)).buffer }),
  );
  try {
    return tf.tidy(() => (model.predict(tf.tensor4d(images, [n, 28, 28, 1])) as tf.Tensor).dataSync() as Float32Array);
  } finally {
    model.dispose();
  }
}

/**
 * The ONNX file predicts what the TF.js model in `dir` predicts; read back, it is all mapped ops
 * (a PyTorch-like export, no layout transposes) with known sizes, and a τ = 1 conversion on ORT
 * keeps every prediction.
 */
async function expectSamePredictions(onnxBytes: Uint8Array, dir: string, n: number): Promise<void> {
  const data = loadFashionMnist({ split: 'test', limit: n });
  const pTf = await tfjsPredict(dir, data.images, n);
  // NCHW [N, 1, 28, 28]: for one channel the same bytes as the NHWC images tfjs was fed.
  const x = { shape: [n, 1, 28, 28], data: data.images };
  const pOrt = (await run(onnxBytes, x)).data;
  expect(pOrt.length).toBe(n * 10);
  expect(argmax(pOrt, 10)).toEqual(argmax(pTf, 10));
  expect(maxRelDiff(pOrt, pTf)).toBeLessThanOrEqual(1e-4);

  const g = onnxToGraph(onnxBytes);
  expect(g.nodes.filter((m) => m.op === 'opaque').map((m) => m.name)).toEqual([]);
  expect(totalCost(graphCosts(g)).macs).toBeGreaterThan(0);
  const conv = convertGraph(g, { energy: 1, keepUnprofitable: true });
  expect(conv.layers.length).toBeGreaterThan(0);
  const pConv = (await run(graphToOnnx(conv.graph), x)).data;
  expect(argmax(pConv, 10)).toEqual(argmax(pTf, 10));
}

describe('TF.js classifiers relaid out to NCHW and exported to ONNX', () => {
  let tmp: string;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netdecouple-fmnist-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // Untrained stand-ins with the reference architectures: the export path is tested before (and
  // independently of) the trained classifiers.
  for (const name of REFERENCE_MODEL_NAMES) {
    it(`an untrained ${name} (seeded, tfjs layers API) predicts the same in ORT as in tfjs`, async () => {
      const dir = path.join(tmp, name);
      await saveLayersModel(buildReferenceModel(name, 1), dir);
      const bytes = graphToOnnx(toNchw(await loadGraph(path.join(dir, 'model.json'))));
      await expectSamePredictions(bytes, dir, 64);
    });
  }

  it('refuses layouts it cannot relay out (dense over image channels), naming the layer', () => {
    const g: Graph = {
      name: 'g',
      layout: 'NHWC',
      inputs: ['x'],
      outputs: ['fc'],
      nodes: [
        { op: 'input', name: 'x', inputs: [], shape: [4, 4, 3], dtype: 'float32' },
        { op: 'dense', name: 'fc', inputs: ['x'], weight: { shape: [2, 3], data: new Float32Array(6) }, bias: null, activation: 'linear' },
      ],
    };
    expect(() => toNchw(g)).toThrow(/layer "fc": dense over image channels is not relaid out/);
  });
});

describe('the Fashion-MNIST reference classifiers exported to ONNX', () => {
  const N = 300;
  for (const name of CLASSIFIER_NAMES) {
    const trained = fs.existsSync(classifierModelJson(name));
    it.skipIf(!trained)(`${name}.onnx predicts what the TF.js model predicts on ${N} official test images`, async () => {
      const file = path.join(ONNX_FIXTURE_DIR, `${name}.onnx`);
      const bytes = graphToOnnx((await classifierGraph(name))!, { producerName: 'netdecouple' });
      if (update) fs.writeFileSync(file, bytes);
      expect(fs.existsSync(file), `${file} missing: run node dist/scripts/export-onnx-fixtures.js`).toBe(true);
      expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(bytes)), 'stale fixture: rerun with UPDATE_FIXTURES=1').toBe(true);
      await expectSamePredictions(fs.readFileSync(file), path.dirname(classifierModelJson(name)), N);
    });
  }
});
