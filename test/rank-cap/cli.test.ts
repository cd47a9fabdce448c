/**
 * `convert --rank 4` on an Inception-style network with 1×3 and 3×1 kernels succeeds (the issue's
 * "rank 4 is out of range 1..3"), marks the capped layers, and records the preprocessing its
 * measurement input went through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { saveLayersModel } from '../../src/models/tfjs/from-model.js';
import { runCli } from '../helpers/cli.js';

let tmp: string;
let model: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-rank-cap-'));
  const init = (i: number) => tf.initializers.heNormal({ seed: i });
  const x = tf.input({ shape: [16, 16, 8], name: 'x' });
  let y = tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'k3x3' }).apply(x) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 32, kernelSize: [1, 3], padding: 'same', activation: 'relu', kernelInitializer: init(2), name: 'k1x3' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 32, kernelSize: [3, 1], padding: 'same', kernelInitializer: init(3), name: 'k3x1' }).apply(y) as tf.SymbolicTensor;
  await saveLayersModel(tf.model({ inputs: x, outputs: y }), path.join(tmp, 'm'));
  model = path.join(tmp, 'm', 'model.json');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('convert --rank on mixed kernel shapes', () => {
  it('caps T at 3 on the 1×3 / 3×1 layers, keeps T = 4 on the 3×3, and states the preprocessing', async () => {
    const r = await runCli(['convert', model, '-o', path.join(tmp, 'out'), '--rank', '4', '--keep-unprofitable', '--preprocess', 'tf', '--backend', 'cpu', '--json'], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    const by = (n: string) => rep.layers.find((l: { name: string }) => l.name === n);
    expect(by('k3x3')).toMatchObject({ rank: 4, maxRank: 9 });
    expect(by('k3x3').rankCapped).toBeUndefined();
    expect(by('k1x3')).toMatchObject({ rank: 3, maxRank: 3, rankCapped: 'T 4 → 3' });
    expect(by('k3x1')).toMatchObject({ rank: 3, maxRank: 3, rankCapped: 'T 4 → 3' });
    expect(rep.preprocessing).toMatch(/^tf: .*pixel \/ 127\.5 − mean \[1\]; NHWC \(--preprocess tf\)/);
    expect(rep.input).toMatch(/random pixels uniform in \[0, 255\], seed 1, preprocessed to \[-1, 1\]/);
    expect(fs.readFileSync(path.join(tmp, 'out', 'report.json'), 'utf8')).toContain('"rankCapped": "T 4 → 3"');
  });
});
