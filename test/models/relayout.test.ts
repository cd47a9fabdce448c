/**
 * NCHW → NHWC relayout: an ONNX model (PyTorch-style pads, BN nodes, residual Add, GAP with kept
 * dims, Gemm) written as a TF.js LayersModel by netdecouple's own writer must compute, in stock
 * tfjs, what onnxruntime computes on the ONNX file — the path the wide reference classifiers'
 * TF.js fixtures take. Guards against: a wrong dense-column order after Flatten, PyTorch's
 * symmetric stride-2 pads turned into TF's asymmetric 'same', keepdims dropped by tfjs, and
 * PyTorch node names tfjs refuses as weight names.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadGraph } from '../../src/models/load.js';
import { toNchw, toNhwc } from '../../src/models/relayout.js';
import { layersModelFiles } from '../../src/models/tfjs/load.js';
import { kerasLayerName } from '../../src/models/tfjs/ir-to-keras.js';
import { seededInput, useWasm } from '../helpers/tfjs.js';

const FIXTURES = path.resolve(__dirname, '../../fixtures/onnx');

async function tfjsModel(files: Record<string, Uint8Array | string>): Promise<tf.LayersModel> {
  const mj = JSON.parse(files['model.json'] as string);
  const w = files['weights.bin'] as Uint8Array;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest[0].weights, weightData: w.slice().buffer }));
}

/** NHWC data → NCHW data for one [n, h, w, c] batch. */
function nhwcToNchw(x: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) out[((b * c + k) * h + i) * w + j] = x[((b * h + i) * w + j) * c + k];
  return out;
}

describe('toNhwc', () => {
  beforeAll(useWasm);

  for (const file of ['mini-resnet.onnx', 'mini-vgg.onnx']) {
    it(`${file}: the TF.js model written from its NHWC relayout computes what onnxruntime computes on the ONNX file`, async () => {
      const onnxPath = path.join(FIXTURES, file);
      const graph = toNhwc(await loadGraph(onnxPath));
      const model = await tfjsModel(layersModelFiles(graph));
      const x = seededInput([2, 32, 32, 3], 11);
      const y = model.predict(tf.tensor4d(x.data, x.shape as [number, number, number, number])) as tf.Tensor;
      const got = y.dataSync();
      const session = await ort.InferenceSession.create(onnxPath);
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', nhwcToNchw(x.data, x.shape), [2, 3, 32, 32]) };
      const want = (await session.run(feeds))[session.outputNames[0]].data as Float32Array;
      expect(got.length).toBe(want.length);
      const scale = Math.max(...Array.from(want, Math.abs));
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 * scale);
    });
  }

  it('toNchw undoes toNhwc: dense weights, axes and input shape come back identical', async () => {
    const g = await loadGraph(path.join(FIXTURES, 'mini-resnet.onnx'));
    const back = toNchw(toNhwc(g));
    const input = back.nodes.find((n) => n.op === 'input');
    expect(input && input.op === 'input' && input.shape).toEqual([3, 32, 32]);
    for (const n of g.nodes) {
      const m = back.nodes.find((b) => b.name === n.name)!;
      if (n.op === 'dense' && m.op === 'dense') expect(Array.from(m.weight.data)).toEqual(Array.from(n.weight.data));
      if (n.op === 'batchNorm' && m.op === 'batchNorm') expect(m.axis).toBe(1);
    }
  });
});

describe('kerasLayerName', () => {
  it('turns PyTorch export names into names tfjs accepts as weight prefixes, and keeps rewrite names as before', () => {
    const valid = /^[A-Za-z0-9][-A-Za-z0-9._/]*$/; // tfjs-layers' own rule for tensor names
    for (const n of ['/features/features.0/Conv', '/stage1/conv1/Conv', 'onnx::Conv_123', '_x']) expect(kerasLayerName(n)).toMatch(valid);
    expect(kerasLayerName('conv3/dw')).toBe('conv3__dw');
  });
});
