/**
 * Bad TF.js input through the CLI (`node dist/cli/main.js`, built by `npm test`): each one fails
 * with exactly one `netdecouple:` line on stderr, exit ≠ 0, and no output folder (nor its hidden
 * temp sibling). The bad models are corrupted copies of a tiny valid LayersModel built with the
 * tfjs layers API and saved with saveLayersModel; a control run shows the valid one converts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { saveLayersModel } from '../../src/models/tfjs/from-model.js';
import { cli, expectCleanFailure, inPairs, MAIN, ROOT, type CliResult } from '../helpers/cli.js';


let root: string;
let valid: string;
let modelJson: Record<string, unknown>;
let weights: Buffer;

beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npm run build; npm test does it)`);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'netdecouple-tfjs-bad-'));
  valid = path.join(root, 'valid');
  const x = tf.input({ shape: [8, 8, 4], name: 'x' });
  const h = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'conv2', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: y, name: 'tiny' });
  await saveLayersModel(model, valid);
  model.dispose();
  modelJson = JSON.parse(fs.readFileSync(path.join(valid, 'model.json'), 'utf8'));
  weights = fs.readFileSync(path.join(valid, 'weights.bin'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A copy of the valid model in a fresh folder, with model.json / weights.bin replaced as given. */
function corrupt(o: { json?: (j: Record<string, unknown>) => unknown; jsonText?: string; weights?: Buffer }): string {
  const d = fs.mkdtempSync(path.join(root, 'case-'));
  const dir = path.join(d, 'model');
  fs.mkdirSync(dir);
  const json = o.json ? o.json(structuredClone(modelJson)) : modelJson;
  fs.writeFileSync(path.join(dir, 'model.json'), o.jsonText ?? JSON.stringify(json));
  fs.writeFileSync(path.join(dir, 'weights.bin'), o.weights ?? weights);
  return path.join(dir, 'model.json');
}

function withFloat(at: number, v: number): Buffer {
  const b = Buffer.from(weights);
  b.writeFloatLE(v, at * 4);
  return b;
}

type Layer = { class_name: string; config: Record<string, unknown> };
type ModelConfig = { config: { layers: Layer[] } };
/** tfjs saves the model config as modelTopology itself; Keras' converter nests it in model_config. */
const layersOf = (j: Record<string, unknown>): Layer[] => {
  const topo = j.modelTopology as ModelConfig & { model_config?: ModelConfig };
  return (topo.model_config ?? topo).config.layers;
};

describe('netdecouple CLI on bad TF.js input', () => {
  it('the valid model converts (control)', async () => {
    const out = path.join(root, 'control-out');
    const r = await cli('convert', path.join(valid, 'model.json'), '-o', out, '--rank', '2', '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['model.json', 'report.json', 'weights.bin']);
    expect(JSON.parse(r.stdout).layers.map((l: { name: string }) => l.name)).toEqual(['conv1', 'conv2']);
  });

  const cases: { name: string; make: () => string; args?: string[]; message: RegExp }[] = [
    { name: 'missing file', make: () => path.join(root, 'nowhere', 'model.json'), message: /model file not found: .*nowhere/ },
    { name: 'malformed JSON', make: () => corrupt({ jsonText: '{"modelTopology": {' }), message: /model\.json is not valid JSON/ },
    {
      name: 'manifest naming a shard outside the model folder (../w.bin)',
      make: () => {
        const f = corrupt({ json: (j) => ({ ...j, weightsManifest: [{ ...(j.weightsManifest as object[])[0], paths: ['../w.bin'] }] }) });
        fs.writeFileSync(path.join(path.dirname(f), '..', 'w.bin'), weights);
        return f;
      },
      message: /weight shard "\.\.\/w\.bin" points outside the model folder/,
    },
    { name: 'truncated shard', make: () => corrupt({ weights: weights.subarray(0, weights.length - 10) }), message: /has \d+ bytes but its manifest describes \d+ \(truncated shard\?\)/ },
    { name: 'shard byte count not matching the manifest', make: () => corrupt({ weights: Buffer.concat([weights, Buffer.alloc(8)]) }), message: /has \d+ bytes but its manifest describes \d+$/ },
    { name: 'NaN weight', make: () => corrupt({ weights: withFloat(5, NaN) }), message: /weight "conv1\/kernel" contains NaN at index 5/ },
    { name: 'Inf weight', make: () => corrupt({ weights: withFloat(3, -Infinity) }), message: /contains Inf at index 3/ },
    {
      name: 'unknown layer class',
      make: () =>
        corrupt({
          json: (j) => {
            layersOf(j)[1].class_name = 'FancyConv';
            return j;
          },
        }),
      message: /unknown layer class "FancyConv" \(layer "conv1"\).*registerCustomLayer/,
    },
    { name: '--rank 0', make: () => path.join(valid, 'model.json'), args: ['--rank', '0'], message: /--rank 0: must be a positive integer/ },
    { name: '--energy 0', make: () => path.join(valid, 'model.json'), args: ['--energy', '0'], message: /--energy 0: τ must be in \(0, 1\]/ },
    { name: '--energy 1.5', make: () => path.join(valid, 'model.json'), args: ['--energy', '1.5'], message: /--energy 1\.5: τ must be in \(0, 1\]/ },
  ];

  // All runs first, two at a time; each case then checks its own result.
  const results = new Map<string, { r: CliResult; out: string }>();
  beforeAll(async () => {
    const runs = await inPairs(cases, async (c) => {
      const file = c.make();
      const out = path.join(fs.mkdtempSync(path.join(root, 'out-')), 'converted');
      return { r: await cli('convert', file, '-o', out, ...(c.args ?? ['--rank', '2']), '--backend', 'cpu'), out };
    });
    cases.forEach((c, i) => results.set(c.name, runs[i]));
  });

  for (const c of cases) {
    it(c.name, () => {
      const { r, out } = results.get(c.name)!;
      expectCleanFailure(r, c.message, out);
    });
  }
});
