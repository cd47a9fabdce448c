/**
 * Evaluation data by name — what `--data` accepts:
 *   - `fashion-mnist`, `fashion-mnist:N`  the official Fashion-MNIST test split (committed in
 *     fixtures/fashion-mnist/), all 10 000 images or the first N, for 28×28×1 classifiers;
 *   - `images:<folder>`  photos (PNG or JPEG). For a classifier (a model that outputs a vector):
 *     a labelled folder (one subfolder per class) or an unlabelled one, streamed in batches
 *     through the preprocessing (image-folder.ts, preprocess.ts). For a super-resolution model:
 *     each photo is the ground-truth high-resolution image, cropped at the top-left to a multiple
 *     of the model's scale s, and the model is fed it downscaled by s with a box filter (each
 *     low-resolution pixel = mean of an s×s block).
 * Shapes are checked against the model here, once, so evaluation code can trust them.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Graph } from '../models/ir.js';
import { inferShapes, spatialOf, type Shape } from '../models/shapes.js';
import { loadFashionMnist, FASHION_MNIST_PREPROCESSING } from './data/fashion-mnist.js';
import { inputNodeOf } from './inputs.js';
import type { RgbImage } from './image.js';
import { readImageFile } from './image-decode.js';
import { DOC_FILE, exampleSizeFor, listImageFolder, readExamples } from './image-folder.js';
import { describePreprocessing, normaliseTensor, resolvePreprocessing, type Preprocessing } from './preprocess.js';

export const DATASET_NAMES = ['fashion-mnist[:N]', 'images:<folder>'];

export type DatasetSpec = { kind: 'fashion-mnist'; limit?: number } | { kind: 'images'; dir: string };

export interface ClassificationData {
  task: 'classification';
  /** The --data text. */
  name: string;
  n: number;
  /** Per-example shape, NHWC. */
  exampleShape: [number, number, number];
  /** n × H × W × C floats, preprocessed, when the whole set is in memory (Fashion-MNIST). */
  images?: Float32Array;
  /** Class index per example; null for an unlabelled image folder. */
  labels: ArrayLike<number> | null;
  classNames: readonly string[] | null;
  preprocessing: string;
  /** Examples [start, start + count), preprocessed, in the model's layout: image folders stream through it. */
  read(start: number, count: number): Promise<Float32Array>;
}

export interface ImagePair {
  name: string;
  /** The model input: `highRes` downscaled by `scale`. */
  lowRes: RgbImage;
  /** Ground truth: the photo, cropped to a multiple of `scale`. */
  highRes: RgbImage;
}

export interface SuperResolutionData {
  task: 'super-resolution';
  name: string;
  n: number;
  scale: number;
  /** How `lowRes` was made, stated in every report. */
  downscale: string;
  items: ImagePair[];
}

export type Dataset = ClassificationData | SuperResolutionData;

export function parseDatasetSpec(text: string): DatasetSpec {
  const t = text.trim();
  const fm = t.match(/^fashion-mnist(?::(.*))?$/);
  if (fm) {
    if (fm[1] === undefined) return { kind: 'fashion-mnist' };
    const n = Number(fm[1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--data "${text}": the subset size after "fashion-mnist:" must be a positive integer, e.g. fashion-mnist:2000`);
    return { kind: 'fashion-mnist', limit: n };
  }
  const im = t.match(/^images:(.+)$/);
  if (im) return { kind: 'images', dir: im[1] };
  throw new Error(`--data "${text}": unknown dataset; use one of ${DATASET_NAMES.join(', ')}`);
}

export interface LoadDatasetOptions {
  /** How photos become model inputs (default: the model's, preprocess.ts). */
  preprocessing?: Preprocessing;
  /** Class names, one a line, in the model's class order (labelled image folders). */
  labels?: string;
}

/** Loads the named dataset and checks that it fits the model's input (and output, for super-resolution). */
export async function loadDataset(text: string, graph: Graph, opts: LoadDatasetOptions = {}): Promise<Dataset> {
  const spec = parseDatasetSpec(text);
  if (spec.kind === 'fashion-mnist') return fashionMnistFor(text, spec.limit, graph, opts.preprocessing);
  if (isClassifier(graph)) return classifierImagesFor(text, spec.dir, graph, opts);
  const p = opts.preprocessing;
  // PSNR against the ground-truth photo is over 0–255 pixels: the model must take and give those.
  if (p && (p.divisor !== 1 || p.mean.some((m) => m !== 0) || p.std.some((x) => x !== 1) || p.channels !== 'rgb' || p.resize || p.crop)) {
    throw new Error(`--data ${text}: super-resolution evaluation feeds RGB photos as 0–255 pixels and compares 0–255 outputs; drop --preprocess ${p.name} (or use 0-255)`);
  }
  return imagesFor(text, spec.dir, graph);
}

/** A model whose output is one vector per example (class scores). */
export function isClassifier(graph: Graph): boolean {
  const input = inputNodeOf(graph);
  if (input.shape.length !== 3) return false;
  const { h, w, c } = spatialOf(input.shape, graph.layout);
  const probe = graph.layout === 'NHWC' ? [h ?? 64, w ?? 64, c ?? 3] : [c ?? 3, h ?? 64, w ?? 64];
  const out = inferShapes(graph, { [input.name]: probe }).get(graph.outputs[0]) as Shape;
  return out.length === 1;
}

async function classifierImagesFor(text: string, dir: string, graph: Graph, opts: LoadDatasetOptions): Promise<ClassificationData> {
  const what = `--data ${text}`;
  const p = opts.preprocessing ?? resolvePreprocessing(graph);
  const shape = exampleSizeFor(graph, p, what);
  const classes = classifierOutput(graph, text, shape);
  const folder = await listImageFolder(dir, what, opts.labels);
  if (folder.classNames && folder.classNames.length !== classes) {
    throw new Error(opts.labels
      ? `--labels ${opts.labels} names ${folder.classNames.length} classes, but model "${graph.name}" outputs ${classes} scores`
      : `${what}: ${folder.classNames.length} class folders, but model "${graph.name}" outputs ${classes} scores; give --labels labels.txt with the model's ${classes} class names in order`);
  }
  return {
    task: 'classification', name: text, n: folder.files.length, exampleShape: shape, labels: folder.labels, classNames: folder.classNames,
    preprocessing: describePreprocessing(p, graph),
    read: (start, count) => readExamples(folder.files, start, count, { graph, preprocessing: p, shape }),
  };
}

const shapeText = (s: Shape) => `[${s.map((d) => d ?? '?').join(', ')}]`;

function fashionMnistFor(text: string, limit: number | undefined, graph: Graph, p?: Preprocessing): ClassificationData {
  const input = inputNodeOf(graph);
  const { h, w, c } = spatialOf(input.shape, graph.layout);
  if ((h !== null && h !== 28) || (w !== null && w !== 28) || (c !== null && c !== 1) || input.shape.length !== 3) {
    throw new Error(`--data ${text}: Fashion-MNIST images are 28×28×1, but model "${graph.name}" takes ${shapeText(input.shape)} (${graph.layout}); use a model trained on Fashion-MNIST`);
  }
  const out = classifierOutput(graph, text, [28, 28, 1]);
  if (out !== 10) throw new Error(`--data ${text}: Fashion-MNIST has 10 classes, but model "${graph.name}" outputs ${out} values`);
  const d = loadFashionMnist({ split: 'test', limit });
  // Other preprocessing than the dataset's own p / 255 is applied to the 8-bit pixels it came from.
  const images = !p || p.name === '0-1' ? d.images : normaliseTensor(d.images.map((v) => Math.round(v * 255)), [28, 28, 1], graph.layout, p);
  const per = 28 * 28;
  // 28×28×1 in NHWC and 1×28×28 in NCHW are the same bytes, so one array serves both layouts.
  return {
    task: 'classification', name: text, n: d.n, exampleShape: [28, 28, 1], images, labels: d.labels, classNames: d.classNames,
    preprocessing: !p || p.name === '0-1' ? FASHION_MNIST_PREPROCESSING : describePreprocessing(p, graph),
    read: async (start, count) => images.slice(start * per, (start + count) * per),
  };
}

/** Number of classes of a model whose output is a vector per example; errors otherwise. */
export function classifierOutput(graph: Graph, text: string, nhwc: number[]): number {
  const shape = graph.layout === 'NHWC' ? nhwc : [nhwc[2], nhwc[0], nhwc[1]];
  const shapes = inferShapes(graph, { [graph.inputs[0]]: shape });
  const out = shapes.get(graph.outputs[0]) as Shape;
  if (out.length !== 1 || out[0] === null) throw new Error(`--data ${text}: model "${graph.name}" outputs ${shapeText(out)} per example, not a vector of class scores`);
  return out[0];
}

/** The integer upscaling factor of an image-to-image model (output size / input size). */
export function modelScale(graph: Graph): number {
  const input = inputNodeOf(graph);
  const { h, w, c } = spatialOf(input.shape, graph.layout);
  if (graph.layout !== 'NHWC') throw new Error('images:<folder> evaluation supports NHWC (TF.js) image models');
  if (c !== null && c !== 3) throw new Error(`images:<folder> holds RGB photos, but model "${graph.name}" takes ${c} channel(s) (input ${shapeText(input.shape)}); use fashion-mnist for classifiers`);
  const probe = [h ?? 16, w ?? 16, 3];
  const out = inferShapes(graph, { [input.name]: probe }).get(graph.outputs[0]) as Shape;
  const o = spatialOf(out, graph.layout);
  if (out.length !== 3 || o.h === null || o.w === null || o.c !== 3) {
    throw new Error(`images:<folder> is for image-to-image models, but model "${graph.name}" outputs ${shapeText(out)} per example; use fashion-mnist for classifiers`);
  }
  const s = o.h / probe[0];
  if (!Number.isInteger(s) || s < 1 || o.w / probe[1] !== s) throw new Error(`model "${graph.name}" maps ${probe[0]}×${probe[1]} to ${o.h}×${o.w}: not an integer upscaling`);
  return s;
}


async function imagesFor(text: string, dir: string, graph: Graph): Promise<SuperResolutionData> {
  const scale = modelScale(graph);
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => {
    throw new Error(`--data ${text}: folder not found: ${dir}`);
  });
  const files = entries.filter((e) => e.isFile() && !DOC_FILE.test(e.name)).map((e) => e.name).sort();
  if (!files.length) throw new Error(`--data ${text}: no image files in ${dir} (expected PNG or JPEG photos)`);
  const input = inputNodeOf(graph);
  const fixed = spatialOf(input.shape, graph.layout);
  const items: ImagePair[] = [];
  for (const f of files) {
    const photo = await readImage(path.join(dir, f));
    const h = Math.floor(photo.height / scale) * scale;
    const w = Math.floor(photo.width / scale) * scale;
    if (h === 0 || w === 0) throw new Error(`${path.join(dir, f)}: ${photo.height}×${photo.width} is smaller than the model's scale ${scale}`);
    const highRes = crop(photo, h, w);
    const lowRes = boxDownscale(highRes, scale);
    if ((fixed.h !== null && fixed.h !== lowRes.height) || (fixed.w !== null && fixed.w !== lowRes.width)) {
      throw new Error(`${path.join(dir, f)}: downscaled to ${lowRes.height}×${lowRes.width}, but model "${graph.name}" takes ${fixed.h}×${fixed.w} inputs`);
    }
    items.push({ name: f, lowRes, highRes });
  }
  return { task: 'super-resolution', name: text, n: items.length, scale, downscale: `box filter ×1/${scale} (mean of ${scale}×${scale} blocks), photo cropped at the top-left to a multiple of ${scale}`, items };
}

/** PNG or JPEG, recognised by content (not extension), as float RGB in [0, 255] (image-decode.ts). */
export async function readImage(file: string): Promise<RgbImage> {
  try {
    return await readImageFile(file);
  } catch (e) {
    if (!/is not a PNG or JPEG image$/.test((e as Error).message)) throw e;
    throw new Error(`${(e as Error).message}; an images:<folder> dataset may hold only photos (README/LICENCE files and dotfiles are skipped)`);
  }
}

export function crop(img: RgbImage, height: number, width: number): RgbImage {
  if (height === img.height && width === img.width) return img;
  const data = new Float32Array(height * width * 3);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(y * img.width * 3, (y * img.width + width) * 3), y * width * 3);
  return { height, width, data };
}

/** Box filter: each output pixel is the mean of an s×s block (dimensions must be multiples of s). */
export function boxDownscale(img: RgbImage, s: number): RgbImage {
  if (img.height % s || img.width % s) throw new Error(`boxDownscale: ${img.height}×${img.width} is not a multiple of ${s}`);
  const h = img.height / s;
  const w = img.width / s;
  const data = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) sum += img.data[((y * s + dy) * img.width + x * s + dx) * 3 + c];
        data[(y * w + x) * 3 + c] = sum / (s * s);
      }
  return { height: h, width: w, data };
}
