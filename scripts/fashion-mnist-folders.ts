/**
 * Fashion-MNIST as photo folders, the way a user's own data looks: the test split (or its first N)
 * as PNGs in one subfolder per class (ImageFolder layout, folders named so their sorted order is
 * the class index), and the committed training subset as a flat folder of unlabelled PNGs for
 * calibration. Used to show `eval --data images:` and `--calibrate images:` on the reference models.
 *
 *   node dist/scripts/fashion-mnist-folders.js <out-dir> [N]
 *   → <out-dir>/test/<k>-<class>/<i>.png, <out-dir>/calibration/<i>.png
 */
import { mkdirSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { loadFashionMnist, fashionMnistFixtureDir, FASHION_MNIST_CLASS_NAMES } from '../src/eval/data/fashion-mnist.js';

/** A 28×28 grey PNG from the loader's p / 255 values (p / 255 in float32 rounds back to p exactly). */
export function fashionMnistPng(pixels: Float32Array): Buffer {
  const png = new PNG({ width: 28, height: 28 });
  for (let i = 0; i < 784; i++) {
    const p = Math.round(pixels[i] * 255);
    png.data[i * 4] = png.data[i * 4 + 1] = png.data[i * 4 + 2] = p;
    png.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: 0 });
}

export const classFolder = (k: number) => `${k}-${FASHION_MNIST_CLASS_NAMES[k].replace(/\W+/g, '_')}`;

function main(): void {
  const [out, n] = process.argv.slice(2);
  if (!out) throw new Error('usage: fashion-mnist-folders.js <out-dir> [N]');
  if (existsSync(out)) throw new Error(`${out} exists; give a new folder (nothing is overwritten)`);
  const test = loadFashionMnist({ split: 'test', limit: n ? Number(n) : undefined });
  for (let k = 0; k < 10; k++) mkdirSync(path.join(out, 'test', classFolder(k)), { recursive: true });
  for (let i = 0; i < test.n; i++) {
    writeFileSync(path.join(out, 'test', classFolder(test.labels[i]), `${String(i).padStart(5, '0')}.png`), fashionMnistPng(test.images.subarray(i * 784, (i + 1) * 784)));
  }
  const calib = loadFashionMnist({ split: 'train', dir: path.join(fashionMnistFixtureDir(), '..', 'fashion-mnist-calibration'), limit: 256 });
  mkdirSync(path.join(out, 'calibration'));
  for (let i = 0; i < calib.n; i++) writeFileSync(path.join(out, 'calibration', `${String(i).padStart(5, '0')}.png`), fashionMnistPng(calib.images.subarray(i * 784, (i + 1) * 784)));
  process.stdout.write(`wrote ${test.n} test images in ${out}/test/<class>/ and ${calib.n} calibration images in ${out}/calibration/\n`);
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) main();
