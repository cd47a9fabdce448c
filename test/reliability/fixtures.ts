/**
 * The inputs every corpus case starts from, built once and copied into each case's working folder:
 * three tiny TF.js models (free-size, fixed 8×8 input, image-to-image), the tiny ONNX fixture, a PNG and a JPEG,
 * a folder of photos, and other people's files (notes.txt, src/app.py) that must survive every run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { saveLayersModel } from '../../src/models/tfjs/from-model.js';
import { ROOT } from '../helpers/cli.js';
import type { Work } from './harness.js';

export function png(w: number, h: number, seed = 1): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h * 4; i++) p.data[i] = i % 4 === 3 ? 255 : (i * 37 + seed * 11) % 256;
  return PNG.sync.write(p);
}

export function jpg(w: number, h: number): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : (i * 53) % 256;
  return Buffer.from(jpeg.encode({ width: w, height: h, data }, 90).data);
}

async function tinyModel(dir: string, shape: (number | null)[], out = { filters: 6, padding: 'valid' as 'valid' | 'same' }): Promise<void> {
  const x = tf.input({ shape, name: 'x' });
  const h = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.conv2d({ filters: out.filters, kernelSize: 3, padding: out.padding, name: 'conv2', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: y, name: 'tiny' });
  await saveLayersModel(model, dir);
  model.dispose();
}

export async function buildBase(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await tinyModel(path.join(dir, 'model'), [null, null, 3]);
  await tinyModel(path.join(dir, 'fixed'), [8, 8, 3]);
  // Image in, image out (scale 1): what images:<folder> datasets are for.
  await tinyModel(path.join(dir, 'sr'), [null, null, 3], { filters: 3, padding: 'same' });
  fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'onnx', 'tiny-cnn.onnx'), path.join(dir, 'm.onnx'));
  fs.writeFileSync(path.join(dir, 'photo.png'), png(8, 8));
  fs.writeFileSync(path.join(dir, 'photo.jpg'), jpg(8, 8));
  fs.mkdirSync(path.join(dir, 'photos'));
  fs.writeFileSync(path.join(dir, 'photos', 'a.png'), png(16, 16, 2));
  fs.writeFileSync(path.join(dir, 'photos', 'b.png'), png(16, 16, 3));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'someone else\'s notes\n');
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'app.py'), 'print("not ours")\n');
}

/** A fresh case folder: work/ (a copy of the base, the cwd) and tmp/ (TMPDIR). */
export function freshWork(base: string, caseRoot: string): Work {
  const dir = path.join(caseRoot, 'work');
  const tmp = path.join(caseRoot, 'tmp');
  fs.cpSync(base, dir, { recursive: true });
  fs.mkdirSync(tmp);
  return { dir, tmp, at: (rel: string) => path.join(dir, rel) };
}
