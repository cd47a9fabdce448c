/**
 * The preprocessing spec: presets give Keras' / torchvision's values, the imagenet geometry equals
 * torchvision's transform (derived by hand on a linear ramp, and against statistics torchvision
 * itself computed: fixtures/preprocess/imagenet-reference.json, written by
 * scripts/imagenet-reference.py), grey pixels stay exact, and bad flags fail in one line.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Graph } from '../../src/models/ir.js';
import type { RgbImage } from '../../src/eval/image.js';
import { readImage } from '../../src/eval/datasets.js';
import { declaredInputRange, esrgan } from '../../src/models/packaged.js';
import { centreCrop, fitGeometry, normalisePixels, photoToExample, resizeBilinear, resolvePreprocessing, shorterSideSize } from '../../src/eval/preprocess.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A graph of just an input: preprocessing only looks at the input node. */
function inputGraph(shape: (number | null)[], layout: 'NHWC' | 'NCHW' = 'NHWC'): Graph {
  return { name: 'm', layout, nodes: [{ op: 'input', name: 'x', inputs: [], shape, dtype: 'float32' }], inputs: ['x'], outputs: ['x'] } as Graph;
}

function image(h: number, w: number, f: (y: number, x: number, c: number) => number): RgbImage {
  const data = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(y, x, c);
  return { height: h, width: w, data };
}

describe('presets', () => {
  const rgb = inputGraph([224, 224, 3]);
  const px = image(1, 3, (_, x, c) => [0, 255, 127.5][x] + 0 * c);
  const first = (name: string) => Array.from(normalisePixels(px, resolvePreprocessing(rgb, { preset: name }), 3));

  it('tf maps 0, 255 to −1, 1 (Keras preprocess_input mode "tf": x / 127.5 − 1)', () => {
    expect(first('tf').filter((_, i) => i % 3 === 0)).toEqual([-1, 1, 0]);
  });

  it('torch is x / 255 normalised by the ImageNet mean and std per channel', () => {
    const v = first('torch');
    expect(v[0]).toBeCloseTo(-0.485 / 0.229, 6);
    expect(v[4]).toBeCloseTo((1 - 0.456) / 0.224, 6);
  });

  it('caffe is BGR with the B, G, R means subtracted, no scaling', () => {
    const img = image(1, 1, (_, __, c) => [10, 20, 30][c]);
    const v = normalisePixels(img, resolvePreprocessing(rgb, { preset: 'caffe' }), 3);
    expect(Array.from(v)).toEqual([30 - 103.939, 20 - 116.779, 10 - 123.68].map(Math.fround));
  });

  it('a grey pixel stays exactly p / 255 on a 1-channel model, for every 8-bit value', () => {
    const grey = inputGraph([28, 28, 1]);
    const p = resolvePreprocessing(grey, {});
    expect(p.name).toBe('0-1');
    const img = image(1, 256, (_, x) => x);
    expect(Array.from(normalisePixels(img, p, 1))).toEqual(Array.from({ length: 256 }, (_, x) => Math.fround(x / 255)));
  });

  it('--scale 1/255 is the exact divisor, and flags over a preset are named', () => {
    const p = resolvePreprocessing(rgb, { preset: 'tf', scale: '1/255', mean: [0.5] });
    expect(p.divisor).toBe(255);
    expect(p.name).toBe('tf + --scale --mean');
  });

  it('defaults to the range the model\'s package declares (esrgan: inputRange [0, 255]), else by channel count', () => {
    const declared = declaredInputRange(esrgan('slim').modelJson);
    expect(declared).toEqual([0, 255]);
    const p = resolvePreprocessing(inputGraph([null, null, 3]), {}, declared);
    expect(p.name).toBe('0-255');
    expect(p.source).toMatch(/package declares input range \[0, 255\]/);
    expect(declaredInputRange(path.join(ROOT, 'fixtures', 'models', 'fmnist-vgg', 'model.json'))).toBeNull();
    expect(resolvePreprocessing(inputGraph([28, 28, 1]), {}).name).toBe('0-1');
  });

  it('rejects an unknown preset, bad channels, and a 3-value mean for a grey model, in one line', () => {
    expect(() => resolvePreprocessing(rgb, { preset: 'keras' })).toThrow(/--preprocess "keras": unknown preset; choose one of 0-1, 0-255, tf, torch, caffe, imagenet/);
    expect(() => resolvePreprocessing(rgb, { channels: 'rbg' })).toThrow(/--channels "rbg": choose rgb or bgr/);
    expect(() => resolvePreprocessing(inputGraph([28, 28, 1]), { preset: 'torch' })).toThrow(/--mean has 3 values but model "m" takes 1 channel/);
  });
});

describe('geometry', () => {
  it('resize keeps a constant image constant and an image of its own size unchanged', () => {
    const c = image(37, 53, () => 99);
    for (const v of resizeBilinear(c, 20, 70).data) expect(v).toBeCloseTo(99, 4);
    const x = image(5, 6, (y, xx, k) => y * 7 + xx + k);
    expect(resizeBilinear(x, 5, 6)).toBe(x);
  });

  it('upscaling ×2 is bilinear interpolation at pixel centres (align_corners = False)', () => {
    // Output i sits at input coordinate (i + ½)/2 − ½: 0.25 → ¾·p0 + ¼·p1, 0.75 → ¼·p0 + ¾·p1.
    const x = image(1, 4, (_, xx) => [0, 8, 16, 40][xx]);
    const y = resizeBilinear(x, 1, 8).data.filter((_, i) => i % 3 === 0);
    expect(Array.from(y)).toEqual([0, 2, 6, 10, 14, 22, 34, 40]);
  });

  it('shorter side 256 and the centre crop follow torchvision (int() truncation, round-half-even offsets)', () => {
    expect(shorterSideSize(300, 451, 256)).toEqual([256, 384]);
    expect(shorterSideSize(451, 300, 256)).toEqual([384, 256]);
    // (5 − 2) / 2 = 1.5 → 2; (4 − 1) / 2 = 1.5 → 2 as well, (6 − 1) / 2 = 2.5 → 2.
    const x = image(5, 6, (y, xx) => y * 10 + xx);
    const c = centreCrop(x, 2, 1);
    expect([c.data[0], c.data[3]]).toEqual([22, 32]);
  });

  it('imagenet on a linear ramp: shorter side 512 → 256 (×½) and centre-crop 224 give the ramp at the window centres', () => {
    // A ramp f(y, x) = a·y + b·x + c. Downscaling ×½ averages with a symmetric triangle of support 2
    // about input coordinate 2i + ½ (pixel-index units), which a linear function passes through
    // unchanged away from the edges; the crop then removes (256 − 224)/2 = 16 rows and
    // (384 − 224)/2 = 80 columns, so output (i, j) = f(2(i + 16) + ½, 2(j + 80) + ½), then
    // (v / 255 − mean) / std. The crop keeps us 32 input pixels from every edge.
    const f = (y: number, x: number, k: number) => 0.2 * y + 0.1 * x + 10 * k;
    const graph = inputGraph([3, 224, 224], 'NCHW');
    const p = resolvePreprocessing(graph, { preset: 'imagenet' });
    const out = photoToExample(image(512, 768, f), p, graph);
    expect([out.h, out.w, out.c]).toEqual([224, 224, 3]);
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    let worst = 0;
    for (let k = 0; k < 3; k++)
      for (let i = 0; i < 224; i += 13)
        for (let j = 0; j < 224; j += 11) {
          const expected = (f(2 * (i + 16) + 0.5, 2 * (j + 80) + 0.5, k) / 255 - mean[k]) / std[k];
          worst = Math.max(worst, Math.abs(out.data[(k * 224 + i) * 224 + j] - expected));
        }
    expect(worst).toBeLessThan(1e-5);
  });

  it('a fixed-size model without --resize/--crop gets the photo covered and centre-cropped to its size', () => {
    const g = inputGraph([32, 32, 3]);
    const fitted = fitGeometry(image(20, 40, () => 1), resolvePreprocessing(g, {}), { h: 32, w: 32 });
    expect([fitted.height, fitted.width]).toEqual([32, 32]);
  });
});

describe('imagenet preset against torchvision', () => {
  const ref = JSON.parse(fs.readFileSync(path.join(ROOT, 'fixtures', 'preprocess', 'imagenet-reference.json'), 'utf8'));
  const graph = inputGraph([3, 224, 224], 'NCHW');
  const p = resolvePreprocessing(graph, { preset: 'imagenet' });

  async function photos(): Promise<Record<string, RgbImage>> {
    const one = await readImage(path.join(ROOT, 'fixtures', 'photos', 'chelsea.png'));
    const tiled = image(one.height * 2, one.width * 3, (y, x, c) => one.data[((y % one.height) * one.width + (x % one.width)) * 3 + c]);
    return { chelsea: one, 'chelsea-tiled-2x3': tiled };
  }

  function stats(x: Float32Array): { mean: number[]; std: number[] } {
    const n = 224 * 224;
    const mean = [0, 1, 2].map((k) => x.subarray(k * n, (k + 1) * n).reduce((a, v) => a + v, 0) / n);
    const std = [0, 1, 2].map((k) => Math.sqrt(x.subarray(k * n, (k + 1) * n).reduce((a, v) => a + (v - mean[k]) ** 2, 0) / n));
    return { mean, std };
  }

  it('equals torchvision on tensors (antialias=True) to float precision, upscaling and downscaling', async () => {
    for (const [name, img] of Object.entries(await photos())) {
      const r = ref.images[name].tensorAntialias;
      const out = photoToExample(img, p, graph).data;
      const s = stats(out);
      for (let k = 0; k < 3; k++) {
        expect(Math.abs(s.mean[k] - r.mean[k])).toBeLessThan(1e-4);
        expect(Math.abs(s.std[k] - r.std[k])).toBeLessThan(1e-4);
      }
      (ref.points as [number, number][]).forEach(([y, x], i) => {
        for (let k = 0; k < 3; k++) expect(Math.abs(out[(k * 224 + y) * 224 + x] - r.samples[i][k])).toBeLessThan(1e-3);
      });
    }
  });

  it('is within one 8-bit level of torchvision on PIL images (PIL rounds to 8 bits after resizing)', async () => {
    const level = 1 / 255 / 0.224;
    for (const [name, img] of Object.entries(await photos())) {
      const r = ref.images[name].pil;
      const out = photoToExample(img, p, graph).data;
      const s = stats(out);
      for (let k = 0; k < 3; k++) expect(Math.abs(s.mean[k] - r.mean[k])).toBeLessThan(level);
      (ref.points as [number, number][]).forEach(([y, x], i) => {
        for (let k = 0; k < 3; k++) expect(Math.abs(out[(k * 224 + y) * 224 + x] - r.samples[i][k])).toBeLessThan(1.01 * level);
      });
    }
  });
});
