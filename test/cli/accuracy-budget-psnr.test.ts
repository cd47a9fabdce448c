/**
 * `convert --min-psnr` on esrgan-slim (a real pretrained super-resolution model): the written model
 * and the original, both loaded with plain tfjs, run here on box-downscaled validation crops; their
 * mean per-photo PSNR (0–255, raw outputs) meets the bound. Two 64×64 crops validate, two crops of
 * other photos calibrate, at most 2 points.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { useWasm } from '../helpers/tfjs.js';
import { cli, expectCleanFailure, ROOT } from '../helpers/cli.js';
import { esrgan } from '../../src/models/packaged.js';

const SIDE = 64;
const MIN_PSNR = 30;
let tmp: string;

/** The top-left SIDE×SIDE of a photo as RGB bytes, also written as a PNG into `dir`. */
function crop(photo: string, dir: string): Float32Array {
  const png = PNG.sync.read(fs.readFileSync(path.join(ROOT, 'fixtures/photos', photo)));
  const out = new PNG({ width: SIDE, height: SIDE });
  const rgb = new Float32Array(SIDE * SIDE * 3);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      for (let c = 0; c < 4; c++) out.data[(y * SIDE + x) * 4 + c] = c === 3 ? 255 : png.data[(y * png.width + x) * 4 + c];
      for (let c = 0; c < 3; c++) rgb[(y * SIDE + x) * 3 + c] = png.data[(y * png.width + x) * 4 + c];
    }
  }
  fs.writeFileSync(path.join(dir, photo), PNG.sync.write(out));
  return rgb;
}

/** Mean of each 2×2 block: the low-resolution input of a ×2 model. */
function halve(rgb: Float32Array): tf.Tensor4D {
  const h = SIDE / 2;
  const out = new Float32Array(h * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < h; x++) for (let c = 0; c < 3; c++) {
    let s = 0;
    for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) s += rgb[((2 * y + dy) * SIDE + 2 * x + dx) * 3 + c];
    out[(y * h + x) * 3 + c] = s / 4;
  }
  return tf.tensor4d(out, [1, h, h, 3]);
}

async function loadFromDisk(file: string): Promise<tf.LayersModel> {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const shards = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => fs.readFileSync(path.join(path.dirname(file), p))));
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights), weightData: new Uint8Array(Buffer.concat(shards)).buffer }));
}

beforeAll(async () => {
  await useWasm();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-accuracy-psnr-'));
});

describe('convert --min-psnr', () => {
  it('the written esrgan-slim, re-loaded with plain tfjs, stays within --min-psnr of the original on the validation crops', async () => {
    const val = path.join(tmp, 'val');
    const cal = path.join(tmp, 'cal');
    fs.mkdirSync(val);
    fs.mkdirSync(cal);
    const inputs = ['astronaut.png', 'chelsea.png'].map((p) => halve(crop(p, val)));
    for (const p of ['coffee.png', 'rocket.png']) crop(p, cal);
    const model = esrgan('slim', 2).modelJson;
    const out = path.join(tmp, 'out');
    const r = await cli('convert', model, '-o', out, '--min-psnr', String(MIN_PSNR), '--data', `images:${val}`, '--calibrate', `images:${cal}`,
      '--calib-samples', '4', '--calib-tile', '32', '--calib-mode', 'lsq', '--no-data-aware', '--sensitivity', 'layer', '--by', 'macs', '--timing-seconds', '0.3', '--max-points', '2');
    // Whether the pick runs measurably faster depends on the machine and its load: then the run must
    // refuse in one line and write nothing (the PSNR bound is checked whenever a model is written).
    if (r.code !== 0) {
      expectCleanFailure(r, /is measurably faster than the original/, out);
      return;
    }
    const original = await loadFromDisk(model);
    const converted = await loadFromDisk(path.join(out, 'model.json'));
    const psnrs = inputs.map((x) => {
      const a = (original.predict(x) as tf.Tensor).dataSync();
      const b = (converted.predict(x) as tf.Tensor).dataSync();
      let se = 0;
      for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
      return 10 * Math.log10((255 * 255) / (se / a.length));
    });
    expect(psnrs.reduce((s, v) => s + v, 0) / psnrs.length).toBeGreaterThanOrEqual(MIN_PSNR);
  }, 180_000);
});
