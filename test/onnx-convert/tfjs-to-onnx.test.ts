/**
 * TF.js → ONNX export of the project's IR: a real LayersModel (esrgan-slim x2, NHWC, with Conv2D,
 * ReLU, Concatenate, Add and upsampling) exported to ONNX and run in onnxruntime gives the output
 * tfjs gives, before and after decoupling — so a TF.js model can be benchmarked on ORT.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../src/models/ir.js';
import { loadGraph } from '../../src/models/load.js';
import { esrgan } from '../../src/models/packaged.js';
import { convertGraph } from '../../src/convert/convert.js';
import { createRunner, type GraphRunner } from '../../src/eval/runner.js';
import { seededUniform } from '../../src/eval/inputs.js';
import { relL2 } from '../../src/eval/metrics.js';
import type { Batch } from '../../src/eval/tfjs-run.js';

let original: Graph;
let tfjs: GraphRunner;
let ort: GraphRunner;
const x: Batch = { shape: [1, 32, 32, 3], data: seededUniform(32 * 32 * 3, 5, 0, 255) };

beforeAll(async () => {
  original = await loadGraph(esrgan('slim', 2).modelJson);
  tfjs = await createRunner('wasm', 'NHWC');
  ort = await createRunner('ort', 'NHWC', { threads: 1 });
});

async function agree(g: Graph): Promise<number> {
  const [a] = await tfjs.run(g, x);
  const [b] = await ort.run(g, x);
  expect(b.shape).toEqual(a.shape);
  expect(a.shape).toEqual([1, 64, 64, 3]);
  return relL2(a.data, b.data);
}

describe('esrgan-slim x2 (TF.js, NHWC) exported to ONNX', () => {
  it('runs on ORT with NHWC input and output, and matches tfjs-wasm (relL2 < 1e-4)', async () => {
    expect(tfjs.name).toBe('wasm');
    expect(ort.name).toBe('ort');
    expect(await agree(original)).toBeLessThan(1e-4);
  });

  it('its rank-4 decoupled version matches tfjs-wasm on ORT too', async () => {
    const conv = convertGraph(original, { order: 'dw-pw', rank: 4 });
    expect(conv.layers.length).toBeGreaterThan(0);
    expect(await agree(conv.graph)).toBeLessThan(1e-4);
  });

  it('the pw-dw merged form (grouped 1×1 sum) also matches', async () => {
    const conv = convertGraph(original, { order: 'pw-dw', form: 'merged', rank: 4 });
    expect(conv.layers.length).toBeGreaterThan(0);
    expect(await agree(conv.graph)).toBeLessThan(1e-4);
  });
});
