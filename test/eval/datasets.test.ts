/**
 * `--data` names: what loads, and the clear error for each bad input — unknown name, malformed
 * subset size, data whose shape does not fit the model, missing or empty folder, non-image file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCanvas } from '@napi-rs/canvas';
import { graphFromLayersModel } from '../../src/models/tfjs/from-model.js';
import type { Graph } from '../../src/models/ir.js';
import { loadDataset, modelScale, parseDatasetSpec, readImage } from '../../src/eval/datasets.js';
import { tinyClassifier, tinyUpscaler } from './small-models.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PHOTOS = path.join(ROOT, 'fixtures', 'photos');

let classifier: Graph;
let upscaler: Graph;
let tmp: string;

beforeAll(async () => {
  classifier = await graphFromLayersModel(tinyClassifier());
  upscaler = await graphFromLayersModel(tinyUpscaler());
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-datasets-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function folder(name: string, files: Record<string, Buffer | string>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, c] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), c);
  return dir;
}

function jpeg(w: number, h: number): Buffer {
  const c = createCanvas(w, h);
  const ctx = c.getContext('2d');
  ctx.fillStyle = 'rgb(200, 100, 50)';
  ctx.fillRect(0, 0, w, h);
  return c.toBuffer('image/jpeg');
}

describe('dataset names', () => {
  it('parses fashion-mnist, a subset, and an image folder', () => {
    expect(parseDatasetSpec('fashion-mnist')).toEqual({ kind: 'fashion-mnist' });
    expect(parseDatasetSpec('fashion-mnist:2000')).toEqual({ kind: 'fashion-mnist', limit: 2000 });
    expect(parseDatasetSpec('images:fixtures/photos')).toEqual({ kind: 'images', dir: 'fixtures/photos' });
  });

  it('rejects an unknown name, listing the known ones', () => {
    expect(() => parseDatasetSpec('cifar10')).toThrow(/--data "cifar10": unknown dataset; use one of fashion-mnist\[:N\], images:<folder>/);
  });

  it('rejects a malformed subset size', () => {
    expect(() => parseDatasetSpec('fashion-mnist:abc')).toThrow(/positive integer, e\.g\. fashion-mnist:2000/);
    expect(() => parseDatasetSpec('fashion-mnist:0')).toThrow(/positive integer/);
  });
});

describe('fashion-mnist', () => {
  it('loads the first N test images as [0, 1] floats with labels', async () => {
    const d = await loadDataset('fashion-mnist:50', classifier);
    expect(d.task).toBe('classification');
    if (d.task !== 'classification') return;
    expect(d.n).toBe(50);
    expect(d.images!.length).toBe(50 * 28 * 28);
    expect(d.labels!.length).toBe(50);
    expect(Math.max(...d.images!)).toBeLessThanOrEqual(1);
    expect(d.classNames).toHaveLength(10);
  });

  it('refuses a model whose input is not 28×28×1', async () => {
    await expect(loadDataset('fashion-mnist', upscaler)).rejects.toThrow(/Fashion-MNIST images are 28×28×1, but model .* takes \[\?, \?, 3\]/);
  });
});

describe('images:<folder>', () => {
  it('reads the committed photos as ground truth and feeds the box-downscaled version', async () => {
    expect(modelScale(upscaler)).toBe(2);
    const d = await loadDataset(`images:${PHOTOS}`, upscaler);
    if (d.task !== 'super-resolution') throw new Error('expected super-resolution data');
    expect(d.items.map((i) => i.name)).toEqual(['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.png']);
    expect(d.scale).toBe(2);
    expect(d.downscale).toMatch(/box filter/);
    for (const it of d.items) {
      expect([it.highRes.height, it.highRes.width]).toEqual([192, 192]);
      expect([it.lowRes.height, it.lowRes.width]).toEqual([96, 96]);
    }
  });

  it('reads JPEG too, crops odd sizes to a multiple of the scale, and skips README and dotfiles', async () => {
    const dir = folder('jpeg', { 'a.jpg': jpeg(9, 7), 'README.md': '# photos', '.hidden': 'x' });
    const d = await loadDataset(`images:${dir}`, upscaler);
    if (d.task !== 'super-resolution') throw new Error('expected super-resolution data');
    expect(d.items).toHaveLength(1);
    expect([d.items[0].highRes.height, d.items[0].highRes.width]).toEqual([6, 8]);
    expect([d.items[0].lowRes.height, d.items[0].lowRes.width]).toEqual([3, 4]);
    const img = await readImage(path.join(dir, 'a.jpg'));
    expect(img.data[0]).toBeGreaterThan(190); // red ≈ 200 after JPEG
  });

  it('fails clearly on a missing folder', async () => {
    await expect(loadDataset(`images:${path.join(tmp, 'nope')}`, upscaler)).rejects.toThrow(/folder not found: .*nope/);
  });

  it('fails clearly on an empty folder', async () => {
    const dir = folder('empty', { 'README.md': 'only docs' });
    await expect(loadDataset(`images:${dir}`, upscaler)).rejects.toThrow(/no image files in .*empty \(expected PNG or JPEG photos\)/);
  });

  it('fails clearly on a non-image file, naming it', async () => {
    const dir = folder('mixed', { 'a.jpg': jpeg(8, 8), 'notes.txt': 'not a photo' });
    await expect(loadDataset(`images:${dir}`, upscaler)).rejects.toThrow(/notes\.txt is not a PNG or JPEG image/);
    const fake = folder('fake', { 'photo.png': 'text pretending to be a png' });
    await expect(loadDataset(`images:${fake}`, upscaler)).rejects.toThrow(/photo\.png is not a PNG or JPEG image/);
    const broken = folder('broken', { 'cut.png': fs.readFileSync(path.join(PHOTOS, 'rocket.png')).subarray(0, 200) });
    await expect(loadDataset(`images:${broken}`, upscaler)).rejects.toThrow(/cut\.png: damaged PNG/);
  });

  it('gives a classifier the photos as unlabelled grey 28×28 examples (its subfolders are not classes)', async () => {
    const d = await loadDataset(`images:${PHOTOS}`, classifier);
    if (d.task !== 'classification') throw new Error('expected classification data');
    expect(d.labels).toBeNull();
    expect(d.n).toBe(4);
    expect(d.exampleShape).toEqual([28, 28, 1]);
    expect((await d.read(0, 2)).length).toBe(2 * 28 * 28);
  });
});
