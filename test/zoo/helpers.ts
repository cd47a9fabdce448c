/**
 * One check list for every zoo architecture: counted costs against the published figures, the IR
 * counter against tfjs' own parameter count, and a forward pass at the native 224² on tfjs-wasm
 * that onnxruntime reproduces from our ONNX export. The model is built and read into the IR once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { zooEntry } from '../../src/models/zoo/index.js';
import { graphFromLayersModel } from '../../src/models/tfjs/from-model.js';
import { graphCosts, learnedParams, totalCost } from '../../src/models/cost.js';
import type { Graph } from '../../src/models/ir.js';
import { useBackend } from '../../src/eval/backend.js';
import { createOrtSession, releaseOrt, runOrt } from '../../src/eval/ort.js';
import { gaussianArray } from '../../src/decompose/random.js';
import { relError } from '../helpers/output-error.js';

export const relErr = (got: number, want: number) => Math.abs(got - want) / want;

/** ‖a − b‖₂ / ‖b‖₂. */
export const relL2 = (a: ArrayLike<number>, b: ArrayLike<number>): number => relError(b, a);

export interface ArchitectureChecks {
  /**
   * Exact learned-parameter count of the reference implementation this build follows
   * (torchvision / timm `sum(p.numel())`, which leaves BN running statistics out), when known.
   */
  referenceLearnedParams?: number;
}

export function describeArchitecture(name: string, checks: ArchitectureChecks = {}): void {
  const entry = zooEntry(name);
  describe(`zoo: ${name}`, () => {
    let model: tf.LayersModel;
    let graph: Graph;

    beforeAll(async () => {
      await useBackend('wasm');
      // Logits, not softmax: comparing runtimes on probabilities would hide differences.
      model = entry.build({ classifierActivation: 'linear', seed: 3 });
      graph = await graphFromLayersModel(model);
    });
    afterAll(() => model?.dispose());

    it(`counts MACs within 2 % of the published ${entry.publishedMacs / 1e6} M`, () => {
      const { macs } = totalCost(graphCosts(graph));
      expect(macs).not.toBeNull();
      expect(relErr(macs as number, entry.publishedMacs)).toBeLessThan(0.02);
    });

    it(`counts learned parameters within 2 % of the published ${entry.publishedParams / 1e6} M`, () => {
      expect(relErr(learnedParams(graph), entry.publishedParams)).toBeLessThan(0.02);
      if (checks.referenceLearnedParams !== undefined) expect(learnedParams(graph)).toBe(checks.referenceLearnedParams);
    });

    it('counts every stored number exactly as tfjs does (countParams)', () => {
      expect(totalCost(graphCosts(graph)).params).toBe(model.countParams());
    });

    it('runs at its native 224² on tfjs-wasm, and onnxruntime on our ONNX export gives the same logits (rel L2 < 1e-4)', async () => {
      const input = { shape: [1, 224, 224, 3], data: gaussianArray(224 * 224 * 3, 11) };
      const x = tf.tensor(input.data, input.shape);
      const y = model.predict(x) as tf.Tensor;
      const got = (await y.data()) as Float32Array;
      tf.dispose([x, y]);
      expect(y.shape).toEqual([1, 1000]);
      expect(got.every(Number.isFinite)).toBe(true);
      const session = await createOrtSession(graph);
      try {
        const ort = await runOrt(session, input);
        expect(ort.shape).toEqual([1, 1000]);
        expect(relL2(ort.data, got)).toBeLessThan(1e-4);
      } finally {
        await releaseOrt(session);
      }
    });
  });
}
