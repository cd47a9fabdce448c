/**
 * Fashion-MNIST (Zalando Research, MIT), official split, as model-ready float arrays.
 *
 * Where the files come from:
 *   - test split: committed in `fixtures/fashion-mnist/` (t10k-*-idx?-ubyte.gz, copied unchanged
 *     from the Debian package dataset-fashion-mnist), so tests and benchmarks need no apt install.
 *   - train split: not committed (26 MB); read from the Debian package's install folder. Only the
 *     reference-model training script and calibration use it.
 *
 * Preprocessing — the one place it is defined; training and evaluation both go through
 * `pixelsToInput`: uint8 pixel p → p / 255 as float32 in [0, 1], no mean/std normalisation,
 * layout NHWC [N, 28, 28, 1] (TF.js LayersModel input). A model trained on other inputs would
 * silently lose accuracy, so nothing else in the project should rescale these images.
 */
import { projectRoot } from '../../project.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readIdxFile, type IdxArray } from './idx.js';

export type FashionMnistSplit = 'train' | 'test';

/** Label index → name, from the dataset's README. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const FASHION_MNIST_HEIGHT = 28;
export const FASHION_MNIST_WIDTH = 28;

/** Where `apt-get install dataset-fashion-mnist` puts the idx files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Human-readable statement of `pixelsToInput`, for reports and metrics files. */
export const FASHION_MNIST_PREPROCESSING = 'uint8 pixel / 255 → float32 in [0, 1]; NHWC [N, 28, 28, 1]; no mean/std normalisation';

export interface FashionMnist {
  split: FashionMnistSplit;
  /** n × 28 × 28 × 1 floats in [0, 1] (see `pixelsToInput`). */
  images: Float32Array;
  /** n labels in 0..9. */
  labels: Uint8Array;
  n: number;
  height: number;
  width: number;
  classNames: readonly string[];
  /** Folder the files were read from. */
  dir: string;
}

export interface LoadFashionMnistOptions {
  split: FashionMnistSplit;
  /** Folder holding the idx files. Default: fixtures/fashion-mnist/ (test), the Debian folder (train). */
  dir?: string;
  /** Keep only the first `limit` examples (file order). */
  limit?: number;
}

/** The one preprocessing step shared by training and evaluation: p / 255. */
export function pixelsToInput(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}

/** The committed test-split folder. */
export function fashionMnistFixtureDir(): string {
  return join(projectRoot(), 'fixtures', 'fashion-mnist');
}

function filePrefix(split: FashionMnistSplit): string {
  return split === 'train' ? 'train' : 't10k';
}

/** Prefers the .gz file, accepts the uncompressed one. */
function findIdx(dir: string, base: string): string | undefined {
  for (const candidate of [`${base}.gz`, base]) {
    const p = join(dir, candidate);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function missingFilesError(split: FashionMnistSplit, dir: string, missing: string): Error {
  if (split === 'train') {
    return new Error(
      `Fashion-MNIST train split: ${missing}(.gz) not found in ${dir}; install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), which puts it in ${DEBIAN_FASHION_MNIST_DIR}, or pass dir`,
    );
  }
  return new Error(`Fashion-MNIST test split: ${missing}(.gz) not found in ${dir}; the committed copy lives in fixtures/fashion-mnist/, or pass dir`);
}

/** Loads one split of Fashion-MNIST with validated shapes and labels. */
export function loadFashionMnist(options: LoadFashionMnistOptions): FashionMnist {
  const { split } = options;
  if (split !== 'train' && split !== 'test') {
    throw new Error(`Fashion-MNIST: unknown split "${String(split)}"; use 'train' or 'test'`);
  }
  const dir = options.dir ?? (split === 'test' ? fashionMnistFixtureDir() : DEBIAN_FASHION_MNIST_DIR);
  const prefix = filePrefix(split);
  const imagesBase = `${prefix}-images-idx3-ubyte`;
  const labelsBase = `${prefix}-labels-idx1-ubyte`;
  const imagesPath = findIdx(dir, imagesBase);
  if (imagesPath === undefined) throw missingFilesError(split, dir, imagesBase);
  const labelsPath = findIdx(dir, labelsBase);
  if (labelsPath === undefined) throw missingFilesError(split, dir, labelsBase);

  const images: IdxArray = readIdxFile(imagesPath, { ndims: 3 });
  const labels: IdxArray = readIdxFile(labelsPath, { ndims: 1 });
  const [count, h, w] = images.dims;
  if (h !== FASHION_MNIST_HEIGHT || w !== FASHION_MNIST_WIDTH) {
    throw new Error(`${imagesPath}: images are ${h}×${w}, Fashion-MNIST images are 28×28`);
  }
  if (labels.dims[0] !== count) {
    throw new Error(`${labelsPath}: ${labels.dims[0]} labels for ${count} images in ${imagesPath}; the two files must come from the same split`);
  }
  for (let i = 0; i < labels.data.length; i++) {
    if (labels.data[i] >= FASHION_MNIST_CLASS_NAMES.length) {
      throw new Error(`${labelsPath}: label ${labels.data[i]} at index ${i} is outside 0..9`);
    }
  }
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0)) {
    throw new Error(`Fashion-MNIST: limit must be a positive integer, got ${options.limit}`);
  }
  const n = Math.min(count, options.limit ?? count);
  const pixels = images.data.subarray(0, n * h * w);
  return {
    split,
    images: pixelsToInput(pixels),
    labels: labels.data.slice(0, n),
    n,
    height: h,
    width: w,
    classNames: FASHION_MNIST_CLASS_NAMES,
    dir,
  };
}
