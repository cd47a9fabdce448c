/**
 * "The input is never modified" (README), for successful runs of every command through the built
 * CLI: every file a command reads — models (TF.js and ONNX), converted models given to eval /
 * bench --against, zoo --weights, calibration and evaluation data — is hashed before and
 * after, and each run must succeed. The inputs are copies in a temporary folder, so a command that
 * wrote beside its input would show up as a new file there too.
 * `demo` reads the packaged esrgan model and the project's photos: its path is run in process on a
 * small input by test/convert/demo-path.test.ts, which hashes those same files.
 * The convert runs also exercise `--layers` globs and `--skip /regex/` as the shell passes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cli, inPairs, ROOT } from '../helpers/cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netdecouple-inputs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const inp = path.join(dir, 'in');
const out = (name: string) => path.join(dir, 'out', name);

/** Every file under the given roots, relative path → sha256. */
function snapshot(roots: string[]): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (p: string) => {
    if (fs.statSync(p).isDirectory()) for (const f of fs.readdirSync(p)) walk(path.join(p, f));
    else files[p] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  };
  roots.forEach(walk);
  return files;
}

const vgg = path.join(inp, 'fmnist-vgg', 'model.json');
const onnx = path.join(inp, 'fmnist-vgg.onnx');
const DATA = ['fashion-mnist', 'fashion-mnist-calibration'].map((d) => path.join(ROOT, 'fixtures', d));
let before: Record<string, string>;

beforeAll(async () => {
  fs.cpSync(path.join(ROOT, 'fixtures', 'models', 'fmnist-vgg'), path.dirname(vgg), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'fixtures', 'onnx', 'fmnist-vgg.onnx'), onnx);
  // A converted model and a zoo model to feed eval / bench --against / zoo --weights: made first,
  // then treated as inputs like the rest.
  const [conv, zoo] = await Promise.all([
    cli('convert', onnx, '-o', path.join(inp, 'converted'), '--rank', '2', '--no-eval', '--threads', '1'),
    cli('zoo', 'build', 'mobilenet_v2', '-o', path.join(inp, 'zoo'), '--alpha', '0.35', '--resolution', '32', '--classes', '10', '--seed', '3'),
  ]);
  expect(conv.code, conv.stderr).toBe(0);
  expect(zoo.code, zoo.stderr).toBe(0);
  before = snapshot([inp, ...DATA]);
});

describe('every command leaves its inputs byte-identical', () => {
  it('inspect, convert (--layers glob, --skip /regex/, --calibrate), compare, bench, eval, sweep, zoo build --weights', async () => {
    const runs: [string, string[]][] = [
      ['inspect', ['inspect', vgg, '--json']],
      ['convert tfjs', ['convert', vgg, '-o', out('c1'), '--rank', '2', '--layers', 'conv?_2,conv3*', '--skip', '/^CONV3_2$/i', '--calibrate', 'fashion-mnist-train:32', '--json']],
      ['convert onnx', ['convert', onnx, '-o', out('c2'), '--rank', '1', '--skip', '/_1$/', '--threads', '1', '--json']],
      ['compare', ['compare', onnx, '-o', out('cmp'), '--methods', 'nd,spatial', '--layers', 'conv3_*', '--grid', '3']],
      ['bench', ['bench', onnx, '--against', path.join(inp, 'converted', 'model.onnx'), '--runs', '10', '--warmup', '1', '--threads', '1', '--no-per-layer', '--json']],
      ['eval', ['eval', path.join(inp, 'converted', 'model.onnx'), '--data', 'fashion-mnist:20', '--against', onnx, '--threads', '1', '--json']],
      ['sweep', ['sweep', vgg, '--data', 'fashion-mnist:20', '--ranks', '1', '--orders', 'dw-pw', '--layers', 'conv3_1', '--runs', '10', '--warmup', '1', '-o', out('sw')]],
      ['zoo build --weights', ['zoo', 'build', 'mobilenet_v2', '-o', out('zoo2'), '--alpha', '0.35', '--resolution', '48', '--classes', '10', '--weights', path.join(inp, 'zoo')]],
    ];
    const results = await inPairs(runs, ([, args]) => cli(...args));
    results.forEach((r, i) => expect(r.code, `${runs[i][0]}: ${r.stderr}`).toBe(0));
    expect(snapshot([inp, ...DATA])).toEqual(before);

    // `--layers conv?_2,conv3*` picks conv1_2, conv2_2, conv3_1, conv3_2; `--skip /^CONV3_2$/i` drops
    // conv3_2 (the i flag makes the upper-case pattern match); conv1_1 (C = 1) stays regular anyway.
    const tfjsReport = JSON.parse(results[1].stdout);
    expect(tfjsReport.layers.map((l: { name: string }) => l.name)).toEqual(['conv1_2', 'conv2_2', 'conv3_1']);
    expect(tfjsReport.calibration.layers).toHaveLength(3);
    const onnxReport = JSON.parse(results[2].stdout);
    expect(onnxReport.layers.map((l: { name: string }) => l.name)).toEqual(['conv1_2', 'conv2_2', 'conv3_2']);
  });
});
