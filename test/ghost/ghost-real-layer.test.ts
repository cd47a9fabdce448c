/**
 * On a real trained layer (fmnist-vgg conv2_2, Ghost s = 2): the data fit's output error on the
 * calibration images is no larger than the weight-space fit's — measured by running both converted
 * networks on all pixels of those images, against the original (BatchNorm-folded) layer's output.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { useWasm } from '../helpers/tfjs.js';
import { convertModel } from '../../src/pipeline.js';
import { createRunner } from '../../src/eval/runner.js';
import { loadCalibrationData } from '../../src/eval/calibration-data.js';
import { relL2 } from '../../src/eval/metrics.js';

const MODEL = path.resolve(__dirname, '../../fixtures/models/fmnist-vgg/model.json');
const DATA = 'fashion-mnist-train:128';

beforeAll(useWasm);

describe('Ghost fits on a real layer', () => {
  it('data fit output error ≤ weight-space fit output error on the calibration data', async () => {
    const base = { method: 'ghost' as const, layers: ['conv2_2'], evaluate: false, backend: 'wasm' as const };
    const weights = await convertModel(MODEL, { ...base, ghost: { fit: 'weights' } });
    const data = await convertModel(MODEL, { ...base, ghost: { fit: 'data' }, calibrate: DATA, calibSamples: 128 });
    expect(data.conversion.layers[0].ghost?.fit).toBe('data');
    const runner = await createRunner('wasm', 'NHWC');
    const batches = (await loadCalibrationData(DATA, weights.original, { samples: 128 })).batches;
    const err = async (c: typeof weights) => {
      let se = 0;
      let yy = 0;
      for (const b of batches) {
        const [y] = await runner.run(c.conversion.reference, b, ['conv2_2']);
        // The unfolded graph: the same function, with the layer's output in the original channel order.
        const u = c.conversion.unfolded ?? c.conversion;
        const [z] = await runner.run(u.graph, b, [u.layers[0].output]);
        const e = relL2(y.data, z.data);
        let n = 0;
        for (const v of y.data) n += v * v;
        se += e * e * n;
        yy += n;
      }
      return Math.sqrt(se / yy);
    };
    const [ew, ed] = [await err(weights), await err(data)];
    expect(ed).toBeLessThanOrEqual(ew);
  }, 120_000);
});
