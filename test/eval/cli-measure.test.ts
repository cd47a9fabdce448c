/**
 * `eval`, `bench` and `sweep` as a user runs them (`node dist/cli/main.js`, built by `npm test`):
 * a sweep on a small model writes every promised file and a self-contained report.html; bad
 * input — unknown dataset, data that does not fit the model, empty image folder, non-image
 * file — fails with one `netdecouple:` line and exit ≠ 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { saveLayersModel } from '../../src/models/tfjs/from-model.js';
import { tinyClassifier, tinyUpscaler } from './small-models.js';
import { runCli, expectCleanFailure, ROOT, type CliResult } from '../helpers/cli.js';

const cli = (...args: string[]): Promise<CliResult> => runCli(args, 110_000);

const PHOTOS = path.join(ROOT, 'fixtures', 'photos');

let tmp: string;
let cls: string;
let up: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-cli-measure-'));
  cls = path.join(tmp, 'cls');
  up = path.join(tmp, 'up');
  await saveLayersModel(tinyClassifier(), cls);
  await saveLayersModel(tinyUpscaler(), up);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('sweep', () => {
  it('writes sweep.json, sweep.csv, the SVG plots and a self-contained report.html', async () => {
    const out = path.join(tmp, 'sweep');
    const r = await cli('sweep', path.join(cls, 'model.json'), '--data', 'fashion-mnist:200', '--ranks', '1..2', '--orders', 'dw-pw,pw-dw', '--energies', '0.9',
      '--backend', 'ort', '--threads', '1', '--warmup', '1', '--latency-batch', '4', '--max-seconds', '2', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(''); // no progress bar when stdout is not a TTY
    expect(r.stdout).toMatch(/dw-pw T=2/);
    expect(fs.readdirSync(out).sort()).toEqual(['accuracy-vs-speedup.svg', 'kernel-error-vs-rank.svg', 'report.html', 'speedup-measured-vs-theoretical.svg', 'sweep.csv', 'sweep.json']);

    const report = JSON.parse(fs.readFileSync(path.join(out, 'sweep.json'), 'utf8'));
    expect(report.kind).toBe('sweep');
    expect(report.rows.map((x: { setting: string }) => x.setting)).toEqual(['dw-pw T=1', 'dw-pw T=2', 'dw-pw τ=0.9', 'pw-dw T=1', 'pw-dw T=2', 'pw-dw τ=0.9']);
    expect(report.baseline.top1).toBeGreaterThanOrEqual(0);
    expect(report.latency.runs).toBe(10);
    for (const row of report.rows) {
      expect(row.theoreticalSpeedup).toBeGreaterThan(0);
      expect(row.measuredSpeedup).toBeGreaterThan(0);
      expect(row.agreement).toBeGreaterThanOrEqual(0);
    }
    const csv = fs.readFileSync(path.join(out, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 1 + 6); // header, original, six settings
    expect(csv[0].split(',')).toContain('measured_speedup');

    for (const f of ['accuracy-vs-speedup.svg', 'kernel-error-vs-rank.svg', 'speedup-measured-vs-theoretical.svg']) {
      expect(fs.readFileSync(path.join(out, f), 'utf8')).toMatch(/^<svg[^>]*>/);
    }
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg/g)?.length).toBe(3); // the three charts, inline
    expect(html).not.toMatch(/https?:\/\//); // no external URLs (not even SVG namespaces)
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\(/i);
    expect(html).toMatch(/<style>/);
    for (const s of ['original', 'dw-pw T=1', 'pw-dw τ=0.9']) expect(html).toContain(`<td>${s}</td>`);
  });

  it('on a super-resolution model reports PSNR against the original and the ground truth', async () => {
    const r = await cli('sweep', up, '--data', `images:${PHOTOS}`, '--ranks', '2', '--backend', 'ort', '--threads', '1', '--warmup', '1', '--max-seconds', '2', '--json', '-o', path.join(tmp, 'sweep-sr'),
      '--calibrate', `images:${path.join(ROOT, 'fixtures', 'photos-calibration')}`, '--calib-samples', '4');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.task).toBe('super-resolution');
    expect(report.latency.inputShape).toEqual([96, 96, 3]);
    expect(report.baseline.psnrVsOriginalDb).toBe('Infinity');
    expect(report.rows.map((x: { setting: string; calibrated: boolean }) => [x.setting, x.calibrated])).toEqual([['dw-pw T=2', false], ['dw-pw T=2 +cal', true]]);
    expect(report.calibration).toMatchObject({ images: 4, mode: 'joint' });
    for (const row of report.rows) {
      expect(row.psnrVsOriginalDb).toBeGreaterThan(0);
      expect(row.psnrVsGroundTruthDb).toBeGreaterThan(0);
    }
    // Guards against a sweep whose "+cal" row is not the calibrated model (or a calibration that
    // does nothing): at the same setting, calibrated is closer to the original than plain.
    const [plain, calibrated] = report.rows;
    expect(calibrated.psnrVsOriginalDb).toBeGreaterThan(plain.psnrVsOriginalDb);
  });
});

describe('bad input', () => {
  it('unknown dataset name', async () => {
    expectCleanFailure(await cli('eval', cls, '--data', 'imagenet'), /--data "imagenet": unknown dataset; use one of fashion-mnist\[:N\], images:<folder>/);
  });

  it('data whose shape does not fit the model', async () => {
    const [a, b] = await Promise.all([cli('eval', up, '--data', 'fashion-mnist:10'), cli('sweep', cls, '--data', `images:${PHOTOS}`, '--preprocess', 'torch', '-o', path.join(tmp, 'never'))]);
    expectCleanFailure(a, /Fashion-MNIST images are 28×28×1, but model .* takes \[\?, \?, 3\]/);
    expectCleanFailure(b, /--mean has 3 values but model .* takes 1 channel/);
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
  });

  it('empty image folder and non-image file', async () => {
    const empty = path.join(tmp, 'empty');
    const mixed = path.join(tmp, 'mixed');
    fs.mkdirSync(empty);
    fs.mkdirSync(mixed);
    fs.copyFileSync(path.join(PHOTOS, 'rocket.png'), path.join(mixed, 'rocket.png'));
    fs.writeFileSync(path.join(mixed, 'weights.bin'), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const [a, b] = await Promise.all([cli('eval', up, '--data', `images:${empty}`), cli('eval', up, '--data', `images:${mixed}`)]);
    expectCleanFailure(a, /no image files in .*empty/);
    expectCleanFailure(b, /weights\.bin is not a PNG or JPEG image/);
  });

  it('sweep: calibrating on the evaluation photos is refused', async () => {
    expectCleanFailure(await cli('sweep', up, '--data', `images:${PHOTOS}`, '--calibrate', `images:${PHOTOS}/`, '-o', path.join(tmp, 'leak')), /would leak it into the measurement/);
  });

  it('bench: too few runs, and a model that needs --input-shape', async () => {
    const [a, b] = await Promise.all([cli('bench', cls, '--runs', '3', '--backend', 'ort'), cli('bench', up, '--backend', 'ort')]);
    expectCleanFailure(a, /--runs 3: at least 10 timed runs/);
    expectCleanFailure(b, /give --input-shape H,W/);
  });
});
