/**
 * Calibration inputs — unlabelled, and never the evaluation data:
 *   fashion-mnist-train[:N]  the committed 2 000-image subset of the official *training* split
 *                            (fixtures/fashion-mnist-calibration/), or the Debian package's full one
 *   images:<folder>          photos of any size: brought to a fixed-size model's input by the
 *                            preprocessing, or seeded random tiles for models that take any size
 */
import path from 'node:path';
import type { Graph } from '../models/ir.js';
import { spatialOf } from '../models/shapes.js';
import { loadFashionMnist, fashionMnistFixtureDir } from './data/fashion-mnist.js';
import { readImage } from './datasets.js';
import type { RgbImage } from './image.js';
import { exampleSizeFor, listImageFolder, readExamples } from './image-folder.js';
import { describePreprocessing, fitGeometry, fixedInputSize, hwcToChw, inputChannels, normalisePixels, normaliseTensor, resizeBilinear, resolvePreprocessing, type Preprocessing } from './preprocess.js';
import { seededUniform } from './inputs.js';
import type { Batch } from './tfjs-run.js';

export interface CalibrationData {
  batches: Batch[];
  images: number;
  description: string;
}

export interface CalibrationDataOptions {
  /** Number of images (or tiles); default 256 for Fashion-MNIST and for photos at a fixed-size model's input, 16 tiles for any-size models. */
  samples?: number;
  /** Tile side for photo folders when the model takes any size; default 64. */
  tile?: number;
  seed?: number;
  /** How photos become model inputs (default: the model's, preprocess.ts). */
  preprocessing?: Preprocessing;
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
    if (h !== 28 || w !== 28 || c !== 1) {
      throw new Error(`--calibrate ${text}: Fashion-MNIST images are 28×28×1, the model takes [${input.shape.map((d) => d ?? '?')}] (${graph.layout})`);
    }
    const p = opts.preprocessing;
    const images = !p || p.name === '0-1' ? data.images : normaliseTensor(data.images.map((v) => Math.round(v * 255)), [28, 28, 1], graph.layout, p);
    return { batches: chunk(images, data.n, graph.layout === 'NCHW' ? [1, 28, 28] : [28, 28, 1], 64), images: data.n, description: `Fashion-MNIST training split, first ${data.n} images (${n <= 2000 ? 'the committed subset fixtures/fashion-mnist-calibration' : 'the Debian package dataset-fashion-mnist'})${p && p.name !== '0-1' ? `; preprocessing ${describePreprocessing(p, graph)}` : ''}` };
  }
  if (text === 'fashion-mnist' || text.startsWith('fashion-mnist:') || text.startsWith('fashion-mnist-test')) {
    throw new Error(`--calibrate ${text}: calibrating on the test split would leak into evaluation; use fashion-mnist-train[:N]`);
  }
  const im = text.match(/^images:(.+)$/);
  if (im) return photoCalibration(text, im[1], graph, opts);
  throw new Error(`--calibrate "${text}": unknown calibration data; use fashion-mnist-train[:N] or images:<folder>`);
}

/**
 * Photos, any size, PNG or JPEG (a folder, or a labelled one: its class subfolders are walked and
 * the labels ignored), through the model's preprocessing: a fixed-size model gets each photo
 * resized/cropped to its input (--resize/--crop, else cover and centre-crop), one example per photo;
 * a model that takes any size gets seeded random tiles (--calib-tile, default 64) of the photos,
 * each photo first resized up when it is smaller than a tile.
 */
async function photoCalibration(text: string, dir: string, graph: Graph, opts: CalibrationDataOptions): Promise<CalibrationData> {
  const what = `--calibrate ${text}`;
  const files = (await listImageFolder(dir, what)).files;
  const p = opts.preprocessing ?? resolvePreprocessing(graph);
  const fixed = fixedInputSize(graph);
  const c = (inputChannels(graph) ?? 3) === 1 ? 1 : 3;
  const how = `preprocessing ${describePreprocessing(p, graph)}`;
  if (fixed) {
    // 256 photos by default (as for Fashion-MNIST): a few hundred suffice, and memory stays bounded on big folders.
    const n = Math.min(opts.samples ?? 256, files.length);
    const shape = exampleSizeFor(graph, p, what);
    const data = await readExamples(files, 0, n, { graph, preprocessing: p, shape });
    const ex = graph.layout === 'NCHW' ? [c, shape[0], shape[1]] : shape;
    return { batches: chunk(data, n, ex, 4), images: n, description: `${n} of ${files.length} photos in ${dir} (sorted by name), each brought to ${shape[0]}×${shape[1]}; ${how}` };
  }
  const th = opts.tile ?? 64;
  const tw = opts.tile ?? 64;
  const n = opts.samples ?? 16;
  const rnd = seededUniform(2 * n, opts.seed ?? 1, 0, 1);
  const per = th * tw * c;
  const data = new Float32Array(n * per);
  const photos = new Map<number, RgbImage>();
  for (let i = 0; i < n; i++) {
    const f = i % files.length;
    if (!photos.has(f)) photos.set(f, coverTile(fitGeometry(await readImage(files[f]), p, null), th, tw));
    const img = photos.get(f) as RgbImage;
    const y0 = Math.floor(rnd[2 * i] * (img.height - th + 1));
    const x0 = Math.floor(rnd[2 * i + 1] * (img.width - tw + 1));
    const tile = centreCropAt(img, y0, x0, th, tw);
    const hwc = normalisePixels(tile, p, c);
    data.set(graph.layout === 'NCHW' ? hwcToChw(hwc, th, tw, c) : hwc, i * per);
  }
  const ex = graph.layout === 'NCHW' ? [c, th, tw] : [th, tw, c];
  return { batches: chunk(data, n, ex, 4), images: n, description: `${n} random ${th}×${tw} tiles of ${files.length} photos in ${dir} (seed ${opts.seed ?? 1}); ${how}` };
}

/** A photo smaller than the tile is resized up (aspect kept) until the tile fits. */
function coverTile(img: RgbImage, th: number, tw: number): RgbImage {
  if (img.height >= th && img.width >= tw) return img;
  const s = Math.max(th / img.height, tw / img.width);
  return resizeBilinear(img, Math.max(th, Math.ceil(img.height * s)), Math.max(tw, Math.ceil(img.width * s)));
}

function centreCropAt(img: RgbImage, y0: number, x0: number, h: number, w: number): RgbImage {
  const data = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + w) * 3), y * w * 3);
  return { height: h, width: w, data };
}
