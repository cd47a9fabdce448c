/**
 * Fashion-MNIST data path and the committed reference classifiers.
 *
 * - the IDX reader accepts well-formed files (raw or gzipped) and rejects bad ones by name;
 * - the committed official test split loads as 10 000 balanced, [0, 1]-scaled images;
 * - each committed model loads with plain @tensorflow/tfjs (wasm backend, no project code),
 *   has the layer structure the converter is meant to exercise, and re-measures on the full
 *   test split to the top-1 recorded in its metrics.json (within 0.1 %), which is ≥ 92 %.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { parseIdx, readIdxFile } from '../../src/eval/data/idx.js';
import {
  FASHION_MNIST_CLASS_NAMES,
  fashionMnistFixtureDir,
  loadFashionMnist,
  pixelsToInput,
  type FashionMnist,
} from '../../src/eval/data/fashion-mnist.js';

/** Builds an unsigned-byte IDX buffer: magic 0x0000 08 d, d big-endian sizes, data. */
function idx(dims: number[], data: number[], typeByte = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header[2] = typeByte;
  header[3] = dims.length;
  const view = new DataView(header.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

describe('parseIdx', () => {
  const good = idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);

  it('reads dims and row-major data of a well-formed file', () => {
    const a = parseIdx(good);
    expect(a.dims).toEqual([2, 2, 3]);
    expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
  });

  it('reads the same values from the gzipped file', () => {
    const a = parseIdx(gzipSync(good));
    expect(a.dims).toEqual([2, 2, 3]);
    expect(Array.from(a.data)).toEqual(Array.from(parseIdx(good).data));
  });

  it('rejects a bad magic number, naming the file and the value', () => {
    const bad = good.slice();
    bad[0] = 0x12;
    expect(() => parseIdx(bad, { name: 'x.idx' })).toThrow(/x\.idx: bad magic number 0x12000803/);
  });

  it('rejects element types other than unsigned byte', () => {
    expect(() => parseIdx(idx([2], [0, 0, 0, 0, 0, 0, 0, 0], 0x0d))).toThrow(/element type 0x0d \(float32\); only unsigned-byte/);
  });

  it('rejects truncated data with expected and actual byte counts', () => {
    expect(() => parseIdx(good.subarray(0, good.length - 1), { name: 't.idx' })).toThrow(
      /t\.idx: truncated: header 16 B \+ 2×2×3 data = 28 B expected, got 27 B/,
    );
  });

  it('rejects a truncated header and trailing bytes', () => {
    expect(() => parseIdx(good.subarray(0, 10))).toThrow(/truncated header: 3 dimensions need 16 header bytes, file has 10/);
    expect(() => parseIdx(new Uint8Array([...good, 0]))).toThrow(/has trailing bytes/);
  });

  it('rejects a corrupt gzip stream and a wrong dimension count', () => {
    const gz = gzipSync(good);
    expect(() => parseIdx(gz.subarray(0, gz.length - 12), { name: 'c.gz' })).toThrow(/c\.gz: gzip stream is corrupt or truncated/);
    expect(() => parseIdx(good, { ndims: 1 })).toThrow(/expected 1 dimension\(s\), the header .* declares 3/);
  });

  it('names the path when reading a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idx-'));
    try {
      const p = join(dir, 'short-idx1-ubyte');
      writeFileSync(p, idx([5], [1, 2, 3]));
      expect(() => readIdxFile(p)).toThrow(new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('loadFashionMnist', () => {
  it('loads the committed official test split: 10 000 images, 10 classes of 1 000, scaled to [0, 1]', () => {
    const t = loadFashionMnist({ split: 'test' });
    expect(t.n).toBe(10_000);
    expect(t.images.length).toBe(10_000 * 28 * 28);
    expect(t.labels.length).toBe(10_000);
    expect(t.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
    const counts = new Array(10).fill(0);
    for (const l of t.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(1000));
    let min = Infinity;
    let max = -Infinity;
    for (const v of t.images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  it('scales pixels by exactly 1/255', () => {
    const raw = readIdxFile(join(fashionMnistFixtureDir(), 't10k-images-idx3-ubyte.gz'));
    const t = loadFashionMnist({ split: 'test', limit: 3 });
    expect(t.n).toBe(3);
    expect(Array.from(t.images)).toEqual(Array.from(pixelsToInput(raw.data.subarray(0, 3 * 784))));
  });

  it('tells how to install the train split when it is missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'fmnist-'));
    try {
      expect(() => loadFashionMnist({ split: 'train', dir: empty })).toThrow(
        /train-images-idx3-ubyte\(\.gz\) not found in .*install the Debian package dataset-fashion-mnist \(apt-get install dataset-fashion-mnist\)/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('rejects image and label files of different lengths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmnist-'));
    try {
      writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx([2, 28, 28], new Array(2 * 784).fill(0)));
      writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx([3], [0, 1, 2]));
      expect(() => loadFashionMnist({ split: 'test', dir })).toThrow(/3 labels for 2 images/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Committed reference models

interface ModelJson {
  modelTopology: { model_config?: unknown; config?: unknown } & Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

interface Metrics {
  top1: number;
  testSamples: number;
}

const MODELS_DIR = join(fashionMnistFixtureDir(), '..', 'models');

/** Loads model.json + its weight files from disk with plain tfjs (no project loader involved). */
async function loadFromDisk(name: string): Promise<tf.LayersModel> {
  const dir = join(MODELS_DIR, name);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelJson;
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
  const weightData = new Uint8Array(Buffer.concat(shards)).buffer;
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData,
    }),
  );
}

async function top1(model: tf.LayersModel, data: FashionMnist, batchSize = 1000): Promise<number> {
  let correct = 0;
  for (let start = 0; start < data.n; start += batchSize) {
    const n = Math.min(batchSize, data.n - start);
    const pred = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(start * 784, (start + n) * 784), [n, 28, 28, 1]);
      return tf.argMax(model.predict(x) as tf.Tensor, -1);
    });
    const p = await pred.data();
    pred.dispose();
    for (let i = 0; i < n; i++) if (p[i] === data.labels[start + i]) correct++;
  }
  return correct / data.n;
}

function convKernelSizes(model: tf.LayersModel): number[][] {
  return model.layers
    .filter((l) => l.getClassName() === 'Conv2D')
    .map((l) => (l.getConfig() as { kernelSize: number[] }).kernelSize);
}

describe('committed reference models', () => {
  let test: FashionMnist;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    test = loadFashionMnist({ split: 'test' });
  });

  it('fmnist-vgg has ≥ 6 regular 3×3 convs, separate BatchNormalization layers and max-pooling', async () => {
    const model = await loadFromDisk('fmnist-vgg');
    const classes = model.layers.map((l) => l.getClassName());
    expect(convKernelSizes(model).filter((k) => k[0] === 3 && k[1] === 3).length).toBeGreaterThanOrEqual(6);
    expect(classes.filter((c) => c === 'BatchNormalization').length).toBeGreaterThanOrEqual(6);
    expect(classes).toContain('MaxPooling2D');
    expect(model.inputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(model.outputs[0].shape).toEqual([null, 10]);
    model.dispose();
  });

  it('fmnist-resnet has residual Adds, stride-2 3×3 convs, 1×1 projections and global average pooling', async () => {
    const model = await loadFromDisk('fmnist-resnet');
    const classes = model.layers.map((l) => l.getClassName());
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.getConfig() as { kernelSize: number[]; strides: number[] });
    expect(classes.filter((c) => c === 'Add').length).toBeGreaterThanOrEqual(2);
    expect(convs.some((c) => c.kernelSize[0] === 3 && c.strides[0] === 2)).toBe(true);
    expect(convs.some((c) => c.kernelSize[0] === 1 && c.strides[0] === 2)).toBe(true);
    expect(classes).toContain('BatchNormalization');
    expect(classes).toContain('GlobalAveragePooling2D');
    model.dispose();
  });

  for (const name of ['fmnist-vgg', 'fmnist-resnet']) {
    it(`${name} re-measures ≥ 92 % top-1 on the full official test split, matching metrics.json within 0.1 %`, async () => {
      const metrics = JSON.parse(readFileSync(join(MODELS_DIR, name, 'metrics.json'), 'utf8')) as Metrics;
      expect(metrics.testSamples).toBe(test.n);
      const model = await loadFromDisk(name);
      const acc = await top1(model, test);
      model.dispose();
      expect(acc).toBeGreaterThanOrEqual(0.92);
      expect(Math.abs(acc - metrics.top1)).toBeLessThanOrEqual(0.001);
    });
  }
});
