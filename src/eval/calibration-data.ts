/**
 * Calibration inputs — unlabelled, and never the evaluation data:
 *   fashion-mnist-train[:N]  the committed 2 000-image subset of the official *training* split
 *                            (fixtures/fashion-mnist-calibration/), or the Debian package's full one
 *   images:<folder>          seeded random tiles of the photos in a folder (super-resolution models)
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Graph } from '../models/ir.js';
import { spatialOf } from '../models/shapes.js';
import { loadFashionMnist, fashionMnistFixtureDir } from './data/fashion-mnist.js';
import { readImage } from './datasets.js';
import { seededUniform } from './inputs.js';
import type { Batch } from './tfjs-run.js';

export interface CalibrationData {
  batches: Batch[];
  images: number;
  description: string;
}

export interface CalibrationDataOptions {
  /** Number of images (or tiles); default 256 for Fashion-MNIST, 16 tiles for photos. */
  samples?: number;
  /** Tile side for photo folders when the model takes any size; default 64. */
  tile?: number;
  seed?: number;
}

function chunk(data: Float32Array, n: number, shape: number[], per: number): Batch[] {
  const size = shape.reduce((a, b) => a * b, 1);
  const out: Batch[] = [];
  for (let i = 0; i < n; i += per) {
    const m = Math.min(per, n - i);
    out.push({ shape: [m, ...shape], data: data.slice(i * size, (i + m) * size) });
  }
  return out;
}

export async function loadCalibrationData(text: string, graph: Graph, opts: CalibrationDataOptions = {}): Promise<CalibrationData> {
  const input = graph.nodes.find((n) => n.name === graph.inputs[0]);
  if (!input || input.op !== 'input') throw new Error('the model has no input layer');
  const { h, w, c } = spatialOf(input.shape, graph.layout);
  const fm = text.match(/^fashion-mnist-train(?::(\d+))?$/);
  if (fm) {
    const n = Number(fm[1] ?? opts.samples ?? 256);
    if (!(n > 0)) throw new Error(`--calibrate ${text}: the number of images must be positive`);
    const committed = path.join(fashionMnistFixtureDir(), '..', 'fashion-mnist-calibration');
    const data = loadFashionMnist({ split: 'train', dir: n <= 2000 ? committed : undefined, limit: n });
    if (graph.layout !== 'NHWC' || h !== 28 || w !== 28 || c !== 1) {
      throw new Error(`--calibrate ${text}: Fashion-MNIST images are 28×28×1 NHWC, the model takes [${input.shape.map((d) => d ?? '?')}] (${graph.layout})`);
    }
    return { batches: chunk(data.images, data.n, [28, 28, 1], 64), images: data.n, description: `Fashion-MNIST training split, first ${data.n} images (${data.dir})` };
  }
  if (text === 'fashion-mnist' || text.startsWith('fashion-mnist:') || text.startsWith('fashion-mnist-test')) {
    throw new Error(`--calibrate ${text}: calibrating on the test split would leak into evaluation; use fashion-mnist-train[:N]`);
  }
  const im = text.match(/^images:(.+)$/);
  if (im) {
    const dir = im[1];
    const files = (await fs.readdir(dir).catch(() => {
      throw new Error(`--calibrate ${text}: folder not found`);
    })).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
    if (files.length === 0) throw new Error(`--calibrate ${text}: no PNG or JPEG images in ${dir}`);
    if (c !== null && c !== 3) throw new Error(`--calibrate ${text}: photo tiles need a model with 3 input channels, it takes ${c}`);
    const th = h ?? opts.tile ?? 64;
    const tw = w ?? opts.tile ?? 64;
    const n = opts.samples ?? 16;
    const photos = await Promise.all(files.map((f) => readImage(path.join(dir, f))));
    const rnd = seededUniform(2 * n, opts.seed ?? 1, 0, 1);
    const data = new Float32Array(n * th * tw * 3);
    for (let i = 0; i < n; i++) {
      const p = photos[i % photos.length];
      if (p.height < th || p.width < tw) throw new Error(`--calibrate ${text}: ${files[i % photos.length]} is smaller than the ${th}×${tw} tiles`);
      const y0 = Math.floor(rnd[2 * i] * (p.height - th + 1));
      const x0 = Math.floor(rnd[2 * i + 1] * (p.width - tw + 1));
      for (let y = 0; y < th; y++) data.set(p.data.subarray(((y0 + y) * p.width + x0) * 3, ((y0 + y) * p.width + x0 + tw) * 3), (i * th + y) * tw * 3);
    }
    const nchw = graph.layout === 'NCHW';
    return { batches: chunk(nchw ? toNchw(data, n, th, tw) : data, n, nchw ? [3, th, tw] : [th, tw, 3], 4), images: n, description: `${n} random ${th}×${tw} tiles of ${files.length} photos in ${dir} (seed ${opts.seed ?? 1})` };
  }
  throw new Error(`--calibrate "${text}": unknown calibration data; use fashion-mnist-train[:N] or images:<folder>`);
}

/** ONNX models take NCHW: tiles are cut as HWC, then transposed. */
function toNchw(data: Float32Array, n: number, h: number, w: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) out[((i * 3 + c) * h + y) * w + x] = data[((i * h + y) * w + x) * 3 + c];
  return out;
}
