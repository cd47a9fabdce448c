/**
 * Model I/O side by side (one ModelFormatError from every reader; modelFiles writes what loadGraph
 * reads back) and calibration on any photos: smaller or larger than the model's input, PNG or
 * JPEG, brought to a fixed-size model's input or tiled for an any-size one; only an unreadable
 * file fails, naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { createCanvas } from '@napi-rs/canvas';
import { graphFromLayersModel } from '../../src/models/tfjs/from-model.js';
import { loadGraph, modelFiles, ModelFormatError } from '../../src/models/io.js';
import { loadCalibrationData } from '../../src/eval/calibration-data.js';
import { resolvePreprocessing } from '../../src/eval/preprocess.js';
import { tinyClassifier, tinyUpscaler } from '../eval/small-models.js';
import type { Graph } from '../../src/models/ir.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
let tmp: string;
let classifier: Graph;
let upscaler: Graph;

function png(w: number, h: number): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h * 4; i++) p.data[i] = (i * 37) % 256;
  return PNG.sync.write(p);
}

function jpeg(w: number, h: number): Buffer {
  const c = createCanvas(w, h);
  const ctx = c.getContext('2d');
  ctx.fillStyle = 'rgb(200, 100, 50)';
  ctx.fillRect(0, 0, w, h);
  return c.toBuffer('image/jpeg');
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-io-calib-'));
  classifier = await graphFromLayersModel(tinyClassifier());
  upscaler = await graphFromLayersModel(tinyUpscaler());
  fs.mkdirSync(path.join(tmp, 'photos'));
  fs.writeFileSync(path.join(tmp, 'photos', 'tiny.jpg'), jpeg(9, 7));
  fs.writeFileSync(path.join(tmp, 'photos', 'wide.png'), png(120, 40));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('model I/O', () => {
  it('the TF.js and the ONNX reader throw the same ModelFormatError', async () => {
    const onnx = path.join(tmp, 'bad.onnx');
    fs.writeFileSync(onnx, 'not a protobuf at all');
    const json = path.join(tmp, 'bad', 'model.json');
    fs.mkdirSync(path.dirname(json));
    fs.writeFileSync(json, '{ "format": "layers-model" }');
    for (const f of [onnx, json]) {
      const e = await loadGraph(f).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ModelFormatError);
      expect((e as Error).message).toContain(path.basename(f));
    }
  });

  it('modelFiles writes what loadGraph reads back, in both formats', async () => {
    const onnxGraph = await loadGraph(path.join(ROOT, 'fixtures', 'onnx', 'fmnist-vgg.onnx'));
    for (const [g, format, file] of [[onnxGraph, 'onnx', 'model.onnx'], [classifier, 'tfjs', 'model.json']] as const) {
      const dir = path.join(tmp, `out-${format}`);
      fs.mkdirSync(dir);
      for (const [name, bytes] of Object.entries(await modelFiles(g, format))) fs.writeFileSync(path.join(dir, name), bytes);
      const back = await loadGraph(path.join(dir, file));
      expect(back.nodes.map((n) => n.op)).toEqual(g.nodes.map((n) => n.op));
    }
  });
});

describe('calibration on any photos', () => {
  it('a fixed-size grey classifier gets every photo, small or wide, JPEG or PNG, as a 28×28×1 example', async () => {
    const d = await loadCalibrationData(`images:${path.join(tmp, 'photos')}`, classifier);
    expect(d.images).toBe(2);
    expect(d.batches.map((b) => b.shape)).toEqual([[2, 28, 28, 1]]);
    expect(d.description).toMatch(/2 of 2 photos .* each brought to 28×28; preprocessing 0-1/);
    for (const v of d.batches[0].data) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('an any-size model is tiled; photos smaller than the tile are resized up instead of refused', async () => {
    const d = await loadCalibrationData(`images:${path.join(tmp, 'photos')}`, upscaler, { samples: 4, tile: 48, seed: 3 });
    expect(d.batches.map((b) => b.shape)).toEqual([[4, 48, 48, 3]]);
  });

  it('the preprocessing reaches the calibration values (tf: −1…1)', async () => {
    const p = resolvePreprocessing(upscaler, { preset: 'tf' });
    const d = await loadCalibrationData(`images:${path.join(tmp, 'photos')}`, upscaler, { samples: 2, tile: 16, preprocessing: p });
    const v = d.batches[0].data;
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    expect(Math.min(...v)).toBeLessThan(0);
  });

  it('only an unreadable file fails, naming it', async () => {
    const dir = path.join(tmp, 'with-broken');
    fs.cpSync(path.join(tmp, 'photos'), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'z.png'), 'not a png');
    await expect(loadCalibrationData(`images:${dir}`, classifier)).rejects.toThrow(/z\.png is not a PNG or JPEG image/);
  });
});
