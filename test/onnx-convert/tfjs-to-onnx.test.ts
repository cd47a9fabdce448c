/**
 * TF.js → ONNX export of the project's IR: a real LayersModel (esrgan-slim x2, NHWC, with Conv2D,
 * ReLU, Concatenate, Add and upsampling) exported to ONNX and run in onnxruntime gives the output
 * tfjs gives, before and after decoupling — so a TF.js model can be benchmarked on ORT.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DenseNode, Graph, Node } from '../../src/models/ir.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import { onnxToGraph } from '../../src/models/onnx/read.js';
import { graphCosts, totalCost } from '../../src/models/cost.js';
import { conv as convNode, graph, input, randn } from '../onnx/helpers.js';
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

  it('a fixed-size NHWC model read back from its ONNX export has known sizes and the same MACs', () => {
    // The writer states the shapes of the NHWC↔NCHW transposes it adds, so the reader (which keeps
    // Transpose opaque) still knows every size after them.
    const fc: DenseNode = { op: 'dense', name: 'fc', inputs: ['flat'], weight: { shape: [5, 5 * 5 * 8], data: randn(1000, 3) }, bias: null, activation: 'softmax' };
    const nodes: Node[] = [
      input('x', [10, 10, 4]),
      convNode('c1', 'x', { cin: 4, cout: 8, k: [3, 3], padding: 'same', activation: 'relu', seed: 1 }),
      convNode('c2', 'c1', { cin: 8, cout: 8, k: [3, 3], strides: [2, 2], padding: 'same', seed: 2 }),
      { op: 'flatten', name: 'flat', inputs: ['c2'] },
      fc,
    ];
    const g = graph(nodes, ['fc'], 'NHWC');
    const back = onnxToGraph(graphToOnnx(g));
    expect(back.layout).toBe('NCHW');
    expect(totalCost(graphCosts(back)).macs).toBe(totalCost(graphCosts(g)).macs);
    expect(graphCosts(back).find((c) => c.name === 'c2')?.outputShape).toEqual([8, 5, 5]);
  });
});
