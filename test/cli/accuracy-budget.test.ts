/**
 * `convert --max-drop / --min-agreement`: the written model, loaded from its files with plain tfjs
 * (no project loader) and scored here on the same Fashion-MNIST images, meets the constraint; the
 * report holds every point tried with the pick on the Pareto frontier; overlapping validation and
 * calibration data, and a constraint no point meets, fail with one line and write nothing.
 * Small settings keep it fast: 200 test images, 64 calibration images, last-factor calibration,
 * MAC budget, at most 3 points.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useWasm } from '../helpers/tfjs.js';
import { cli, expectCleanFailure, ROOT } from '../helpers/cli.js';
import { loadFashionMnist, type FashionMnist } from '../../src/eval/data/fashion-mnist.js';

const VGG = path.join(ROOT, 'fixtures/models/fmnist-vgg/model.json');
const N = 200;
const DROP = 30;
const FAST = ['--calibrate', 'fashion-mnist-train:64', '--calib-mode', 'lsq', '--no-data-aware', '--by', 'macs', '--timing-seconds', '0.3', '--max-points', '3'];
let tmp: string;
let data: FashionMnist;

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** model.json + its weight files from disk with plain tfjs. */
async function loadFromDisk(file: string): Promise<tf.LayersModel> {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelJson;
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(path.dirname(file), p))));
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: new Uint8Array(Buffer.concat(shards)).buffer }));
}

function predictions(model: tf.LayersModel): Int32Array {
  return tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(data.images.subarray(0, N * 784), [N, 28, 28, 1])) as tf.Tensor, -1).dataSync() as Int32Array);
}

beforeAll(async () => {
  await useWasm();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-accuracy-budget-'));
  data = loadFashionMnist({ split: 'test', limit: N });
});

describe('convert --max-drop / --min-agreement', () => {
  it('the written model, re-loaded with plain tfjs, keeps top-1 within --max-drop of the original on the validation images (or no faster point is refused in one line)', async () => {
    const out = path.join(tmp, 'drop');
    // A loose bound, so that a point measurably faster than the original meets it: on a 28×28 model
    // the runtime's overhead is a large share, and a pick not faster than the original is refused.
    const r = await cli('convert', VGG, '-o', out, '--max-drop', String(DROP), '--data', `fashion-mnist:${N}`, ...FAST, '--json');
    if (r.code !== 0) {
      expectCleanFailure(r, /is measurably faster than the original/, out);
      return;
    }
    const original = predictions(await loadFromDisk(VGG));
    const converted = predictions(await loadFromDisk(path.join(out, 'model.json')));
    let before = 0;
    let after = 0;
    for (let i = 0; i < N; i++) {
      before += Number(original[i] === data.labels[i]);
      after += Number(converted[i] === data.labels[i]);
    }
    expect(((before - after) / N) * 100).toBeLessThanOrEqual(DROP);

    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    const ab = report.accuracyBudget;
    expect(ab.points.length).toBeGreaterThan(0);
    const chosen = ab.points.filter((p: { chosen: boolean }) => p.chosen);
    expect(chosen).toHaveLength(1);
    expect(chosen[0].onFrontier).toBe(true);
    expect(chosen[0].passes).toBe(true);
    // No passing point was measured faster than the pick.
    for (const p of ab.points) if (p.passes) expect(p.measuredSpeedup).toBeLessThanOrEqual(chosen[0].measuredSpeedup);
    expect(ab.verified.passes).toBe(true);
    expect(JSON.parse(r.stdout).accuracyBudget.points).toHaveLength(ab.points.length);
    expect(fs.readFileSync(path.join(out, 'frontier.html'), 'utf8')).toMatch(/<svg/);
  }, 180_000);

  it('--data and --calibrate naming the same photos, or a folder and one inside it, or a copied photo, are refused in one line', async () => {
    const a = path.join(tmp, 'photos-a');
    const b = path.join(tmp, 'photos-b');
    fs.mkdirSync(path.join(a, 'inner'), { recursive: true });
    fs.mkdirSync(b);
    fs.copyFileSync(path.join(ROOT, 'fixtures/photos/astronaut.png'), path.join(a, 'astronaut.png'));
    fs.copyFileSync(path.join(ROOT, 'fixtures/photos/chelsea.png'), path.join(a, 'inner', 'chelsea.png'));
    fs.copyFileSync(path.join(ROOT, 'fixtures/photos/astronaut.png'), path.join(b, 'copy.png'));
    const cases: [string, string, RegExp][] = [
      [`images:${a}`, `images:${a}`, /same data/],
      [`images:${a}`, `images:${path.join(a, 'inner')}`, /overlap/],
      [`images:${a}`, `images:${b}`, /share a photo/],
    ];
    for (const [d, c, why] of cases) {
      const out = path.join(tmp, 'refused');
      expectCleanFailure(await cli('convert', VGG, '-o', out, '--min-agreement', '99', '--data', d, '--calibrate', c), why, out);
    }
  }, 60_000);

  it('a constraint no point meets fails in one line naming the best figure reached, and writes nothing', async () => {
    const out = path.join(tmp, 'unmet');
    // One point, the farthest target (every layer at its cheapest candidate), must agree on every image.
    const r = await cli('convert', VGG, '-o', out, '--min-agreement', '100', '--data', `fashion-mnist:${N}`, ...FAST.slice(0, -1), '1');
    expectCleanFailure(r, /no configuration meets .*agreement.*best reached was [\d.]+ % agreement/, out);
  }, 120_000);
});
