/**
 * Builder options: the width (α) and resolution (ρ) multipliers reproduce the papers' own tables,
 * seeds make weights reproducible, user weights load (and bad ones are refused by name), and the
 * hard-sigmoid / h-swish built from stock layers is exactly relu6(x + 3)/6 (· x).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildZooModel, zooEntry, ZOO } from '../../src/models/zoo/index.js';
import { Builder, makeDivisible } from '../../src/models/zoo/layers.js';
import { graphFromLayersModel } from '../../src/models/tfjs/from-model.js';
import { graphCosts, learnedParams, totalCost } from '../../src/models/cost.js';
import { useBackend } from '../../src/eval/backend.js';
import { gaussianArray } from '../../src/decompose/random.js';
import { relErr } from './helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

async function costs(name: string, opts: Parameters<typeof buildZooModel>[1]) {
  const model = buildZooModel(name, opts);
  try {
    const graph = await graphFromLayersModel(model);
    return { macs: totalCost(graphCosts(graph)).macs as number, params: learnedParams(graph) };
  } finally {
    model.dispose();
  }
}

function weightsOf(model: tf.LayersModel): Map<string, { shape: number[]; data: Float32Array }> {
  return new Map(model.weights.map((v) => [v.originalName, { shape: v.shape as number[], data: v.read().dataSync() as Float32Array }]));
}

async function predict(model: tf.LayersModel, size: number, seed = 5): Promise<Float32Array> {
  const x = tf.tensor(gaussianArray(size * size * 3, seed), [1, size, size, 3]);
  const y = model.predict(x) as tf.Tensor;
  const out = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return out;
}

describe('zoo width and resolution multipliers', () => {
  // [model, options, MACs, params, the params figure's printed half-unit, source]. A figure printed
  // as "2.0 M" only says [1.95, 2.05) M, so params may also differ by that half-unit.
  const table: [string, { alpha?: number; resolution?: number }, number, number, number, string][] = [
    ['mobilenet_v1', { alpha: 0.75 }, 325e6, 2.59e6, 5e3, 'MobileNetV1 Table 6; TF-slim README params'],
    ['mobilenet_v1', { alpha: 0.5 }, 149e6, 1.34e6, 5e3, 'MobileNetV1 Table 6; TF-slim README params'],
    ['mobilenet_v1', { alpha: 0.25 }, 41e6, 0.47e6, 5e3, 'MobileNetV1 Table 6; TF-slim README params'],
    ['mobilenet_v1', { resolution: 192 }, 418e6, 4.24e6, 5e3, 'MobileNetV1 Table 7'],
    ['mobilenet_v1', { resolution: 160 }, 290e6, 4.24e6, 5e3, 'MobileNetV1 Table 7'],
    ['mobilenet_v1', { resolution: 128 }, 186e6, 4.24e6, 5e3, 'MobileNetV1 Table 7'],
    ['mobilenet_v2', { alpha: 1.4 }, 582e6, 6.06e6, 5e3, 'TF-slim mobilenet_v2_1.4_224'],
    ['mobilenet_v2', { alpha: 0.75 }, 209e6, 2.61e6, 5e3, 'TF-slim mobilenet_v2_0.75_224'],
    ['mobilenet_v2', { alpha: 0.5 }, 97e6, 1.95e6, 5e3, 'TF-slim mobilenet_v2_0.5_224'],
    ['mobilenet_v2', { alpha: 0.35 }, 59e6, 1.66e6, 5e3, 'TF-slim mobilenet_v2_0.35_224'],
    ['mobilenet_v2', { resolution: 160 }, 154e6, 3.47e6, 5e3, 'TF-slim mobilenet_v2_1.0_160'],
    ['mobilenet_v3_large', { alpha: 0.75 }, 155e6, 4.0e6, 5e4, 'MobileNetV3 Table 3'],
    ['mobilenet_v3_small', { alpha: 0.75 }, 44e6, 2.0e6, 5e4, 'MobileNetV3 Table 3'],
    ['ghostnet', { alpha: 0.5 }, 42e6, 2.6e6, 5e4, 'GhostNet Table 7'],
    ['ghostnet', { alpha: 1.3 }, 226e6, 7.3e6, 5e4, 'GhostNet Table 7'],
  ];
  for (const [name, opts, macs, params, halfUnit, source] of table) {
    it(`${name} ${JSON.stringify(opts)}: ${macs / 1e6} M MACs and ${params / 1e6} M params (${source}) within 2 %`, async () => {
      const got = await costs(name, opts);
      expect(relErr(got.macs, macs)).toBeLessThan(0.02);
      expect(Math.abs(got.params - params)).toBeLessThan(Math.max(0.02 * params, halfUnit));
    });
  }

  it('rounds channels like tf-slim: nearest multiple of the divisor, never below 90 %', () => {
    expect(makeDivisible(18, 4)).toBe(20);
    expect(makeDivisible(30, 4)).toBe(32);
    expect(makeDivisible(32 * 0.35, 8)).toBe(16);
    expect(makeDivisible(184, 8)).toBe(184);
    expect(makeDivisible(3, 8)).toBe(8);
  });
});

describe('zoo builders', () => {
  it('give every architecture a distinct name and a published figure', () => {
    expect(new Set(ZOO.map((z) => z.name)).size).toBe(ZOO.length);
    for (const z of ZOO) expect(z.publishedMacs > 0 && z.publishedParams > 0 && z.figures.length > 0).toBe(true);
  });

  it('draw the same weights from the same seed and different ones from another', async () => {
    const a = buildZooModel('mobilenet_v3_small', { resolution: 64, seed: 1 });
    const b = buildZooModel('mobilenet_v3_small', { resolution: 64, seed: 1 });
    const c = buildZooModel('mobilenet_v3_small', { resolution: 64, seed: 2 });
    try {
      const [wa, wb, wc] = [a, b, c].map(weightsOf);
      for (const [name, w] of wa) expect(Buffer.from(w.data.buffer).equals(Buffer.from(wb.get(name)!.data.buffer))).toBe(true);
      const learned = [...wa.keys()].filter((n) => n.endsWith('/kernel'));
      expect(learned.every((n) => Buffer.from(wa.get(n)!.data.buffer).equals(Buffer.from(wc.get(n)!.data.buffer)))).toBe(false);
    } finally {
      [a, b, c].forEach((m) => m.dispose());
    }
  });

  it('load given weights: a model rebuilt at another resolution with them computes what the source computes', async () => {
    const src = buildZooModel('ghostnet', { resolution: 96, seed: 4, classifierActivation: 'linear' });
    const weights = weightsOf(src);
    // The frozen hard-sigmoid constants may be left out: they are arithmetic, not learned.
    for (const name of [...weights.keys()]) if (name.includes('_affine/')) weights.delete(name);
    const copy = buildZooModel('ghostnet', { resolution: 96, seed: 9, classifierActivation: 'linear', weights });
    const other = buildZooModel('ghostnet', { resolution: 64, seed: 9, classifierActivation: 'linear', weights });
    try {
      expect(Array.from(await predict(copy, 96))).toEqual(Array.from(await predict(src, 96)));
      expect(other.outputs[0].shape).toEqual([null, 1000]);
    } finally {
      [src, copy, other].forEach((m) => m.dispose());
    }
  });

  it('refuse weights with unknown names, wrong shapes, or learned weights missing — naming the weight', () => {
    const src = buildZooModel('mobilenet_v2', { resolution: 64, alpha: 0.35 });
    const good = weightsOf(src);
    src.dispose();
    const unknown = new Map(good).set('nope/kernel', { shape: [1], data: new Float32Array(1) });
    expect(() => buildZooModel('mobilenet_v2', { resolution: 64, alpha: 0.35, weights: unknown })).toThrow(/weight "nope\/kernel" is not a weight of/);
    const wrong = new Map(good).set('conv1/kernel', { shape: [3, 3, 3, 8], data: new Float32Array(216) });
    expect(() => buildZooModel('mobilenet_v2', { resolution: 64, alpha: 0.35, weights: wrong })).toThrow(/weight "conv1\/kernel": given shape \[3,3,3,8\].*needs \[3,3,3,16\]/);
    const missing = new Map(good);
    missing.delete('conv1_bn/gamma');
    expect(() => buildZooModel('mobilenet_v2', { resolution: 64, alpha: 0.35, weights: missing })).toThrow(/weight "conv1_bn\/gamma" \[16\] .*is missing/);
  });

  it('refuse options that do not apply, naming the fix', () => {
    expect(() => buildZooModel('vgg16', { alpha: 0.5 })).toThrow(/vgg16 has no width multiplier: drop --alpha/);
    expect(() => buildZooModel('resnet18', { resolution: 16 })).toThrow(/resnet18: --resolution 16 must be an integer between 32 and 4096/);
    expect(() => buildZooModel('mobilenet_v2', { alpha: 0 })).toThrow(/--alpha 0 must be in \(0, 4\]/);
    expect(() => zooEntry('mobilenet_v4')).toThrow(/unknown zoo model "mobilenet_v4"; choose one of vgg16, resnet18/);
    expect(zooEntry('MobileNet-V2').name).toBe('mobilenet_v2');
  });

  it('makes hard sigmoid exactly relu6(x + 3)/6 and h-swish x·relu6(x + 3)/6 from stock layers', async () => {
    const b = new Builder({ seed: 0, bnEpsilon: 1e-3 });
    const input = tf.input({ shape: [1, 1, 161] });
    const model = tf.model({ inputs: input, outputs: [b.hardSigmoid(input, 'hsig'), b.hardSwish(input, 'hswish')] });
    const xs = Float32Array.from({ length: 161 }, (_, i) => -8 + i * 0.1);
    const [hs, hw] = model.predict(tf.tensor(xs, [1, 1, 1, 161])) as tf.Tensor[];
    const gotSig = await hs.data();
    const gotSwish = await hw.data();
    const relu6 = (v: number) => Math.min(Math.max(v, 0), 6);
    xs.forEach((x, i) => {
      expect(gotSig[i]).toBeCloseTo(relu6(x + 3) / 6, 6);
      expect(gotSwish[i]).toBeCloseTo((x * relu6(x + 3)) / 6, 5);
    });
    // Constants, not learned: frozen and counted as BN statistics only.
    const graph = await graphFromLayersModel(model);
    expect(learnedParams(graph)).toBe(0);
    expect(totalCost(graphCosts(graph)).macs).toBe(0);
    model.dispose();
  });
});
