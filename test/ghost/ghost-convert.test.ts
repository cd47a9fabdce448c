/**
 * The Ghost rewrite end to end: s = 1 is the conv itself (exact, one conv); the rebuilt layers
 * load and run in stock tfjs (tf.loadLayersModel from the written files) and in onnxruntime (the
 * written ONNX bytes), giving what the IR computes; folding the channel-order node into conv,
 * BatchNorm, concat, flatten → dense consumers changes nothing but MACs (oracle: the unfolded
 * graph, where the order is an explicit selection conv); an Add consumer keeps the selection node.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { useWasm } from '../helpers/tfjs.js';
import { conv, graph, input, randn, relErr, run } from '../onnx/helpers.js';
import { convertGraph } from '../../src/convert/convert.js';
import { runGraph } from '../../src/eval/tfjs-run.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import { layersModelFiles } from '../../src/models/tfjs/load.js';
import type { Graph, Node } from '../../src/models/ir.js';
import { convertModel } from '../../src/pipeline.js';
import path from 'node:path';

beforeAll(useWasm);

/** x → c1 (relu) → bn → c2 → concat(c2, c1) → c3 → pool → flatten → dense. */
function net(layout: 'NHWC' | 'NCHW'): Graph {
  const nodes: Node[] = [
    input('x', layout === 'NHWC' ? [8, 8, 6] : [6, 8, 8]),
    conv('c1', 'x', { cin: 6, cout: 8, k: [3, 3], padding: 'same', activation: 'relu', seed: 1 }),
    { op: 'batchNorm', name: 'bn', inputs: ['c1'], axis: layout === 'NHWC' ? 3 : 1, epsilon: 1e-3, gamma: randn(8, 5).map((v) => 1 + 0.2 * v), beta: randn(8, 6), mean: randn(8, 7), variance: randn(8, 8).map((v) => 1 + v * v) },
    conv('c2', 'bn', { cin: 8, cout: 6, k: [3, 3], padding: 'same', seed: 2 }),
    { op: 'concat', name: 'cat', inputs: ['c2', 'c1'], axis: layout === 'NHWC' ? 3 : 1 },
    conv('c3', 'cat', { cin: 14, cout: 9, k: [3, 3], padding: 'same', activation: 'relu', seed: 3 }),
    { op: 'maxPool', name: 'pool', inputs: ['c3'], poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
    { op: 'flatten', name: 'flat', inputs: ['pool'] },
    { op: 'dense', name: 'fc', inputs: ['flat'], weight: { shape: [5, 144], data: randn(720, 9, 0.1) }, bias: randn(5, 10), activation: 'linear' },
  ];
  return graph(nodes, ['fc'], layout);
}

const opts = { method: 'ghost' as const, minInChannels: 0, keepUnprofitable: true, foldBatchNorm: false };

describe('ghost rewrite', () => {
  it('s = 1 reproduces the network exactly, one conv per layer', async () => {
    const g = net('NHWC');
    const c = convertGraph(g, { ...opts, ghost: { ratio: 1 } });
    expect(c.layers.map((l) => l.replacedBy)).toEqual([['c1/primary'], ['c2/primary'], ['c3/primary']]);
    const x = { shape: [2, 8, 8, 6], data: randn(768, 11) };
    const [y] = await runGraph(g, x);
    const [z] = await runGraph(c.graph, x);
    expect(relErr(z.data, y.data)).toBeLessThan(1e-6);
  });

  it('folding the channel order into conv, BatchNorm, concat and flatten → dense changes nothing', async () => {
    const g = net('NHWC');
    const folded = convertGraph(g, { ...opts, ghost: { ratio: 2 } });
    const plain = convertGraph(g, { ...opts, ghost: { ratio: 2 }, foldOrders: false });
    expect(folded.layers.map((l) => l.ghost?.order)).toEqual(['folded into the consumers', 'folded into the consumers', 'folded into the consumers']);
    expect(folded.graph.nodes.some((n) => n.name.endsWith('/order'))).toBe(false);
    expect(plain.graph.nodes.filter((n) => n.name.endsWith('/order')).length).toBe(3);
    const x = { shape: [2, 8, 8, 6], data: randn(768, 12) };
    const [a] = await runGraph(plain.graph, x);
    const [b] = await runGraph(folded.graph, x);
    expect(relErr(b.data, a.data)).toBeLessThan(1e-5);
  });

  it('an Add consumer keeps the order as a 1×1 selection conv, and the output is still right', async () => {
    const g = graph([input('x', [6, 6, 4]), conv('c1', 'x', { cin: 4, cout: 4, k: [3, 3], padding: 'same', seed: 4 }), { op: 'add', name: 'sum', inputs: ['c1', 'x'] }], ['sum'], 'NHWC');
    const folded = convertGraph(g, { ...opts, ghost: { ratio: 2 } });
    const plain = convertGraph(g, { ...opts, ghost: { ratio: 2 }, foldOrders: false });
    expect(folded.layers[0].ghost?.order).toMatch(/kept as a 1×1 selection: consumer "sum" \(add\)/);
    const x = { shape: [1, 6, 6, 4], data: randn(144, 13) };
    expect(relErr((await runGraph(folded.graph, x))[0].data, (await runGraph(plain.graph, x))[0].data)).toBeLessThan(1e-6);
  });

  it('s = 3 with promoted ghosts (solo primaries) loads with plain tf.loadLayersModel and matches the IR', async () => {
    const g = net('NHWC');
    const c = convertGraph(g, { ...opts, ghost: { ratio: 3, minR2: 0.05 } });
    expect(c.graph.nodes.some((n) => n.op === 'conv2d' && n.groups > 1)).toBe(true);
    expect(c.graph.nodes.some((n) => n.name.endsWith('/solo'))).toBe(true);
    const files = layersModelFiles(c.graph);
    const json = JSON.parse(files['model.json'] as string);
    const bin = files[json.weightsManifest[0].paths[0]] as Uint8Array;
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((m: { weights: unknown[] }) => m.weights), weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer }));
    const x = { shape: [2, 8, 8, 6], data: randn(768, 14) };
    const theirs = (model.predict(tf.tensor(x.data, x.shape)) as tf.Tensor).dataSync() as Float32Array;
    const [ours] = await runGraph(c.graph, x);
    expect(relErr(theirs, ours.data)).toBeLessThan(1e-5);
  });

  it('runs in onnxruntime from the written ONNX bytes (NCHW), equal to the unfolded graph', async () => {
    const g = net('NCHW');
    const folded = convertGraph(g, { ...opts, ghost: { ratio: 2 } });
    const plain = convertGraph(g, { ...opts, ghost: { ratio: 2 }, foldOrders: false });
    const x = { shape: [1, 6, 8, 8], data: randn(384, 15) };
    const a = await run(graphToOnnx(plain.graph), x);
    const b = await run(graphToOnnx(folded.graph), x);
    expect(relErr(b.data, a.data)).toBeLessThan(1e-5);
    // The ghost's depthwise + concat are really there.
    expect(folded.graph.nodes.filter((n) => n.op === 'conv2d' && n.groups > 1).length).toBe(3);
  });

  it('rejects misplaced Ghost options with one-line errors naming the fix', async () => {
    const g = net('NHWC');
    expect(() => convertGraph(g, { ...opts, rankRule: 'vbmf' })).toThrow(/--method ghost has no VBMF rule: give --ghost-ratio/);
    expect(() => convertGraph(g, { ...opts, rank: 2, ghost: { ratio: 3 } })).toThrow(/give --ghost-ratio or --rank/);
    expect(() => convertGraph(g, { ...opts, ghost: { kernelSize: 4 } })).toThrow(/--ghost-kernel 4: must be an odd/);
    const model = path.resolve(__dirname, '../../fixtures/models/fmnist-vgg/model.json');
    await expect(convertModel(model, { method: 'ghost', ghost: { fit: 'data' }, evaluate: false })).rejects.toThrow(/--ghost-fit data .* add --calibrate <data>/);
  });
});
