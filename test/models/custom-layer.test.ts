import { describe, it, expect, beforeAll } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useWasm, init, seededInput } from '../helpers/tfjs.js';
import { saveLayersModel } from '../../src/models/tfjs/from-model.js';
import { registerCustomLayer } from '../../src/models/tfjs/custom-layers.js';
import { loadGraph } from '../../src/models/load.js';
import { convertGraph } from '../../src/convert/convert.js';
import { runGraph } from '../../src/eval/tfjs-run.js';
import { graphCosts } from '../../src/models/cost.js';

/** A user's own layer: doubles its input. */
class Doubler extends tf.layers.Layer {
  static className = 'Doubler';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 2);
  }
}

let file: string;
let model: tf.LayersModel;

beforeAll(async () => {
  await useWasm();
  tf.serialization.registerClass(Doubler);
  const input = tf.input({ shape: [8, 8, 4] });
  const a = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: init() }).apply(input);
  const d = new Doubler({}).apply(a);
  const b = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: init() }).apply(d) as tf.SymbolicTensor;
  model = tf.model({ inputs: input, outputs: b });
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'nd-custom-')), 'm');
  await saveLayersModel(model, dir);
  file = path.join(dir, 'model.json');
});

describe('custom layer classes', () => {
  it('an unregistered class is one clear error naming it and the hook', async () => {
    await expect(loadGraph(file)).rejects.toThrow(/unknown layer class "Doubler" \(layer "doubler_\w*"\).*registerCustomLayer/);
  });

  it('a registered class passes through untouched while the convs around it are decoupled', async () => {
    registerCustomLayer({ className: 'Doubler', outputShape: (ins) => ins[0], tfjsClass: Doubler });
    const graph = await loadGraph(file);
    const opaque = graph.nodes.find((n) => n.op === 'opaque');
    expect(opaque?.source).toMatchObject({ format: 'tfjs', className: 'Doubler' });
    expect(graphCosts(graph).find((c) => c.op === 'opaque')?.outputShape).toEqual([8, 8, 8]);
    // Re-inferred at another input size (its shape function runs again), not frozen at the declared one.
    expect(graphCosts(graph, { [graph.inputs[0]]: [16, 12, 4] }).find((c) => c.op === 'opaque')?.outputShape).toEqual([16, 12, 8]);
    const conv = convertGraph(graph, { energy: 1, keepUnprofitable: true });
    expect(conv.layers).toHaveLength(2);
    const x = seededInput([1, 8, 8, 4]);
    const [y] = await runGraph(graph, x);
    const [z] = await runGraph(conv.graph, x);
    const ref = (model.predict(tf.tensor(x.data, x.shape)) as tf.Tensor).dataSync();
    for (let i = 0; i < ref.length; i++) {
      expect(y.data[i]).toBeCloseTo(ref[i], 4);
      expect(z.data[i]).toBeCloseTo(ref[i], 4);
    }
  });
});
