import { describe, it, expect, beforeAll } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useWasm, init, seededInput } from '../helpers/tfjs.js';
import { loadGraph } from '../../src/models/load.js';
import { esrgan } from '../../src/models/packaged.js';
import { readPng, quantize8 } from '../../src/eval/image.js';
import { runGraph } from '../../src/eval/tfjs-run.js';
import { compareOutputs } from '../../src/eval/metrics.js';
import { layersModelArtifacts } from '../../src/models/tfjs/from-model.js';

beforeAll(useWasm);

describe('TF.js LayersModel loader', () => {
  it('reproduces the esrgan-slim package\'s own result image (PSNR ≥ 90 dB)', async () => {
    const m = esrgan('slim', 2);
    const graph = await loadGraph(m.modelJson);
    expect(graph.nodes.filter((n) => n.op === 'conv2d')).toHaveLength(12);
    const img = await readPng(m.fixture);
    const [y] = await runGraph(graph, { shape: [1, img.height, img.width, 3], data: img.data });
    const expected = await readPng(m.expected);
    expect([y.shape[1], y.shape[2]]).toEqual([expected.height, expected.width]);
    expect(compareOutputs(expected.data, quantize8(y.data), 255).psnrDb).toBeGreaterThanOrEqual(90);
  });

  it('reads the model folder as well as model.json', async () => {
    const m = esrgan('slim', 2);
    const a = await loadGraph(path.dirname(m.modelJson));
    const b = await loadGraph(m.modelJson);
    expect(a.nodes.map((n) => n.name)).toEqual(b.nodes.map((n) => n.name));
  });

  for (const dtype of ['uint8', 'uint16', 'float16'] as const) {
    it(`dequantizes ${dtype} weights exactly as tfjs does`, async () => {
      const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [6, 6, 4], filters: 5, kernelSize: 3, kernelInitializer: init(), biasInitializer: init() }), tf.layers.flatten(), tf.layers.dense({ units: 3, kernelInitializer: init() })] });
      const art = await layersModelArtifacts(model);
      const { specs, data } = quantize(art, dtype);
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nd-quant-'));
      await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: art.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: specs }] }));
      await fs.writeFile(path.join(dir, 'w.bin'), data);
      const graph = await loadGraph(path.join(dir, 'model.json'));
      const x = seededInput([2, 6, 6, 4]);
      const [ours] = await runGraph(graph, x);
      const theirs = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: art.modelTopology, weightSpecs: specs, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer }));
      const ref = (theirs.predict(tf.tensor(x.data, x.shape)) as tf.Tensor).dataSync();
      expect(compareOutputs(ref, ours.data, 1).maxAbsDiff).toBeLessThan(1e-5);
      const float = (model.predict(tf.tensor(x.data, x.shape)) as tf.Tensor).dataSync();
      // Quantization changes weights, a little: the loader did decode the quantized values.
      expect(compareOutputs(float, ours.data, 1).relL2).toBeLessThan(dtype === 'uint8' ? 0.05 : 0.01);
      await fs.rm(dir, { recursive: true, force: true });
    });
  }
});

function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | Math.round(mant / 8192);
}

function quantize(art: tf.io.ModelArtifacts, dtype: 'uint8' | 'uint16' | 'float16'): { specs: tf.io.WeightsManifestEntry[]; data: Uint8Array } {
  const all = new Float32Array(art.weightData as ArrayBuffer);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const spec of art.weightSpecs ?? []) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const w = all.subarray(off, off + n);
    off += n;
    if (dtype === 'float16') {
      specs.push({ ...spec, quantization: { dtype: 'float16' } });
      parts.push(new Uint8Array(Uint16Array.from(w, toHalf).buffer));
      continue;
    }
    const levels = dtype === 'uint8' ? 255 : 65535;
    const min = Math.min(...w);
    const scale = (Math.max(...w) - min) / levels || 1;
    const q = Array.from(w, (v) => Math.round((v - min) / scale));
    specs.push({ ...spec, quantization: { dtype, scale, min } });
    parts.push(dtype === 'uint8' ? Uint8Array.from(q) : new Uint8Array(Uint16Array.from(q).buffer));
  }
  const data = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { specs, data };
}
