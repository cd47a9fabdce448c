/**
 * A classifier evaluated on a folder of photos: 200 Fashion-MNIST test images written as PNG into
 * one subfolder per class reproduce, through `eval --data images:`, exactly the top-1 that
 * `--data fashion-mnist:200` gives (same images, same preprocessing p / 255 → the same tensors);
 * --labels maps folders of any name; an unlabelled folder gives agreement with --against: 100 %
 * and KL ≈ 0 for a full-rank conversion, lower agreement and larger KL at low rank.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadFashionMnist } from '../../src/eval/data/fashion-mnist.js';
import { classFolder as folderName, fashionMnistPng as png } from '../../scripts/fashion-mnist-folders.js';
import { runCli, expectCleanFailure, ROOT, type CliResult } from '../helpers/cli.js';

const cli = (...args: string[]): Promise<CliResult> => runCli(args, 120_000);
const VGG = path.join(ROOT, 'fixtures', 'onnx', 'fmnist-vgg.onnx');
const N = 200;

let tmp: string;
let labelled: string;
let unlabelled: string;
/** top-1 of --data fashion-mnist:200, from the first test. */
let idxTop1: number;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-folder-eval-'));
  labelled = path.join(tmp, 'labelled');
  unlabelled = path.join(tmp, 'unlabelled');
  const d = loadFashionMnist({ split: 'test', limit: N });
  for (let k = 0; k < 10; k++) fs.mkdirSync(path.join(labelled, folderName(k)), { recursive: true });
  fs.mkdirSync(unlabelled);
  for (let i = 0; i < N; i++) {
    const bytes = png(d.images.subarray(i * 784, (i + 1) * 784));
    fs.writeFileSync(path.join(labelled, folderName(d.labels[i]), `${String(i).padStart(4, '0')}.png`), bytes);
    if (i < 60) fs.writeFileSync(path.join(unlabelled, `${String(i).padStart(4, '0')}.png`), bytes);
  }
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const json = (r: CliResult) => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

describe('eval --data images:<folder> on a classifier', () => {
  it('a labelled folder of 200 Fashion-MNIST PNGs reproduces the top-1 of --data fashion-mnist:200', async () => {
    const [a, b] = await Promise.all([
      cli('eval', VGG, '--data', `images:${labelled}`, '--json'),
      cli('eval', VGG, '--data', `fashion-mnist:${N}`, '--json'),
    ]);
    const fromFolder = json(a).classification;
    const fromIdx = json(b).classification;
    expect(fromFolder.n).toBe(N);
    expect(fromFolder.labelled).toBe(true);
    expect(fromFolder.top1).toBe(fromIdx.top1);
    expect(fromFolder.top5).toBe(fromIdx.top5);
    idxTop1 = fromIdx.top1;
    expect(fromIdx.top1).toBeGreaterThan(0.8); // the images really are classified, not a constant
    expect(fromFolder.preprocessing).toMatch(/^0-1: grey .* pixel \/ 255; NCHW/);
  });

  it('--labels maps folders named in any order to the model\'s class order', async () => {
    const renamed = path.join(tmp, 'renamed');
    fs.cpSync(labelled, renamed, { recursive: true });
    // Reverse-alphabetical names: sorted subfolder order would now be wrong without --labels.
    const names = Array.from({ length: 10 }, (_, k) => `${String.fromCharCode(106 - k)}-class`);
    for (let k = 0; k < 10; k++) fs.renameSync(path.join(renamed, folderName(k)), path.join(renamed, names[k]));
    fs.writeFileSync(path.join(tmp, 'labels.txt'), names.join('\n') + '\n');
    const [withLabels, without] = await Promise.all([
      cli('eval', VGG, '--data', `images:${renamed}`, '--labels', path.join(tmp, 'labels.txt'), '--json'),
      cli('eval', VGG, '--data', `images:${renamed}`, '--json'),
    ]);
    const ref = idxTop1;
    expect(json(withLabels).classification.top1).toBe(ref);
    expect(json(without).classification.top1).toBeLessThan(ref / 2);
  });

  it('an unlabelled folder: agreement 100 % and KL ≈ 0 at full rank; at T = 1 agreement falls and KL grows', async () => {
    const full = path.join(tmp, 'full');
    const low = path.join(tmp, 'low');
    const conv = await Promise.all([
      cli('convert', VGG, '-o', full, '--rank', '9', '--no-eval'),
      cli('convert', VGG, '-o', low, '--rank', '1', '--no-eval'),
    ]);
    for (const r of conv) expect(r.code, r.stderr).toBe(0);
    const [f, l] = (await Promise.all([full, low].map((d) => cli('eval', path.join(d, 'model.onnx'), '--data', `images:${unlabelled}`, '--against', VGG, '--json')))).map(json);
    expect(f.classification.labelled).toBe(false);
    expect(f.classification.top1).toBeNull();
    expect(f.classification.n).toBe(60);
    expect(f.classification.agreement).toBe(1);
    expect(f.classification.top5Agreement).toBe(1);
    expect(f.classification.meanKl).toBeLessThan(1e-6);
    expect(f.classification.logitRelL2).toBeLessThan(1e-4);
    expect(l.classification.agreement).toBeLessThan(f.classification.agreement);
    expect(l.classification.meanKl).toBeGreaterThan(100 * f.classification.meanKl + 1e-6);
    expect(l.classification.logitRelL2).toBeGreaterThan(f.classification.logitRelL2);
  });

  it('fails in one line on a class-count mismatch and an unreadable photo; loose photos beside subfolders are an unlabelled set', async () => {
    const three = path.join(tmp, 'three');
    for (const c of ['a', 'b', 'c']) fs.cpSync(path.join(labelled, folderName(0)), path.join(three, c), { recursive: true });
    const mixed = path.join(tmp, 'mixed');
    fs.cpSync(three, mixed, { recursive: true });
    fs.writeFileSync(path.join(mixed, 'loose.png'), fs.readFileSync(path.join(unlabelled, '0000.png')));
    const broken = path.join(tmp, 'broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'x.png'), 'not an image');
    const [a, b, c] = await Promise.all([[three], [mixed, '--json'], [broken]].map(([d, ...more]) => cli('eval', VGG, '--data', `images:${d}`, ...more)));
    expectCleanFailure(a, /3 class folders, but model .* outputs 10 scores; give --labels labels\.txt/);
    expect(json(b).classification).toMatchObject({ labelled: false, n: 1 });
    expectCleanFailure(c, /x\.png is not a PNG or JPEG image/);
  });
});
