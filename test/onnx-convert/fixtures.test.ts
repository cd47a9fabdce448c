/**
 * fixtures/onnx/ (scripts/export-onnx-fixtures.ts):
 *   - the project's own models are exactly what the script writes (same code → same bytes), run in
 *     stock onnxruntime, and decouple exactly at τ = 1;
 *   - the Fashion-MNIST reference classifiers, relaid out to NCHW and exported to ONNX, predict what
 *     the TF.js originals predict (plain tfjs, wasm) on 300 official test images, and still do
 *     after a τ = 1 conversion of the ONNX file. Skipped while the classifiers are not trained yet.
 * Regenerate with UPDATE_FIXTURES=1 (or `node dist/scripts/export-onnx-fixtures.js`).
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
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
} from '../../scripts/export-onnx-fixtures.js';
import { readOnnx } from '../../src/models/onnx/read.js';
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

      const data = loadFashionMnist({ split: 'test', limit: N });
      // The TF.js original, loaded by plain tfjs (no project code), on wasm.
      await tf.setBackend('wasm');
      const dir = path.dirname(classifierModelJson(name));
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
        modelTopology: object;
        weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
      };
      const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
      const model = await tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: new Uint8Array(Buffer.concat(shards)).buffer }),
      );
      const xt = tf.tensor4d(data.images, [N, 28, 28, 1]);
      const pTf = (model.predict(xt) as tf.Tensor).dataSync() as Float32Array;
      xt.dispose();
      model.dispose();

      // NCHW [N, 1, 28, 28]: for one channel the same bytes as the NHWC images tfjs was fed.
      const x = { shape: [N, 1, 28, 28], data: data.images };
      const pOrt = (await run(fs.readFileSync(file), x)).data;
      expect(pOrt.length).toBe(N * 10);
      expect(argmax(pOrt, 10)).toEqual(argmax(pTf, 10));
      expect(maxRelDiff(pOrt, pTf)).toBeLessThanOrEqual(1e-4);

      // Read back like a user's file: every node a mapped op (a PyTorch-like export, no layout
      // transposes), sizes known throughout, and a τ = 1 conversion on ORT keeps every prediction.
      const g = await readOnnx(file);
      expect(g.nodes.filter((n) => n.op === 'opaque').map((n) => n.name)).toEqual([]);
      expect(totalCost(graphCosts(g)).macs).toBeGreaterThan(0);
      const conv = convertGraph(g, { energy: 1, keepUnprofitable: true });
      expect(conv.layers.length).toBeGreaterThan(0);
      const pConv = (await run(graphToOnnx(conv.graph), x)).data;
      expect(argmax(pConv, 10)).toEqual(argmax(pTf, 10));
    });
  }
});
