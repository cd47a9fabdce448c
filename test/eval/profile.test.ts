/**
 * bench --profile (src/eval/profile.ts): per-operator-kind times from onnxruntime's own profiler
 * and tf.profile. Properties only: the kinds a model is made of appear (a decoupled model has
 * depthwise and 1×1 time, the regular one has none), shares add up to 1, and the profiler's JSON
 * is not left in the working folder or the temp folder.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { graphFromLayersModel } from '../../src/models/tfjs/from-model.js';
import { convertGraph } from '../../src/convert/convert.js';
import { kindOf, profileOrt, profileTfjs } from '../../src/eval/profile.js';
import { randomBatch } from '../../src/eval/latency.js';
import { inputNodeOf } from '../../src/eval/inputs.js';
import { useBackend } from '../../src/eval/backend.js';
import { tinyClassifier } from './small-models.js';

const listing = () => [...fs.readdirSync(process.cwd()), ...fs.readdirSync(os.tmpdir())].filter((f) => /profile|ort_profile|\.json$/.test(f)).sort();

describe('profile', () => {
  it('onnxruntime: depthwise and 1×1 time only in the decoupled model; shares sum to 1; nothing left behind', async () => {
    const g = await graphFromLayersModel(tinyClassifier());
    const conv = convertGraph(g, { rank: 1 }).graph;
    const x = randomBatch(inputNodeOf(g).shape as number[], 1, 1, [0, 1]);
    const before = listing();
    const [a, b] = [await profileOrt(g, x, { runs: 3, threads: 1 }), await profileOrt(conv, x, { runs: 3, threads: 1 })];
    expect(listing()).toEqual(before);
    const kinds = (p: typeof a) => p.kinds.map((k) => k.kind);
    expect(kinds(a)).not.toContain('depthwise');
    expect(kinds(b)).toContain('depthwise');
    expect(kinds(b)).toContain('pointwise');
    for (const p of [a, b]) {
      expect(p.kinds.reduce((s, k) => s + k.share, 0)).toBeCloseTo(1, 9);
      expect(p.kernelMs).toBeGreaterThan(0);
    }
  });

  it('tf.profile: the decoupled model spends time in depthwise kernels', async () => {
    await useBackend('cpu');
    const g = await graphFromLayersModel(tinyClassifier());
    const conv = convertGraph(g, { rank: 1 }).graph;
    const x = randomBatch(inputNodeOf(g).shape as number[], 1, 1, [0, 1]);
    const p = await profileTfjs(conv, x, { runs: 2, warmup: 1 });
    expect(p.tool).toBe('tf.profile');
    expect(p.kinds.map((k) => k.kind)).toContain('depthwise');
  });

  it('tells depthwise, 1×1 and regular convs apart by the weight shape', () => {
    expect(kindOf('Conv', [64, 1, 3, 3], 'OIHW', 64)).toBe('depthwise');
    expect(kindOf('Conv', [16, 1, 3, 3], 'OIHW', 1)).toBe('conv'); // a first layer on one channel
    expect(kindOf('FusedConv', [64, 32, 1, 1], 'OIHW', 32)).toBe('pointwise');
    expect(kindOf('Conv2D', [3, 3, 32, 64], 'HWIO')).toBe('conv');
    expect(kindOf('DepthwiseConv2dNative', [3, 3, 32, 1], 'HWIO')).toBe('depthwise');
    expect(kindOf('ReorderInput', null, 'OIHW')).toBe('transpose/reorder');
    expect(kindOf('Relu', null, 'OIHW')).toBe('activation');
  });
});
