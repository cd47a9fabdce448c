/**
 * `compare --calibrate` through the CLI: the JSON carries each point's plain and data-aware layer
 * output error (never worse) and the calibration data's description; the help names the option;
 * the test split is refused with one `netdecouple:` line and no output folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cli, expectCleanFailure, MAIN } from '../helpers/cli.js';
import type { CompareReport } from '../../src/eval/compare.js';

let root: string;
beforeAll(() => {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npm run build; npm test does it)`);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'netdecouple-compare-cal-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const MODEL = 'fixtures/models/fmnist-vgg';

describe('compare --calibrate (CLI)', () => {
  it('reports plain and data-aware output errors per point, data-aware never above plain', async () => {
    const out = path.join(root, 'ok');
    const r = await cli('compare', MODEL, '-o', out, '--layers', 'conv2_1', '--methods', 'nd,spatial', '--grid', '2', '--calibrate', 'fashion-mnist-train:8', '--refit-rounds', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as CompareReport;
    expect(report.calibration).toMatch(/Fashion-MNIST training split, first 8 images/);
    const points = report.layers.flatMap((l) => l.points);
    expect(points.length).toBeGreaterThan(0);
    for (const p of points) {
      expect(p.dataAware, p.label).toBeTruthy();
      expect(p.dataAware?.relError as number).toBeLessThanOrEqual(p.dataAware?.plainRelError as number);
    }
    // A second winner by the data-aware error on every layer and reduction, counted like `wins`.
    for (const l of report.layers) for (const at of l.atReduction) expect(at, `${l.name} ${at.reduction}×`).toHaveProperty('dataAwareWinner');
    expect(report.dataAwareWins?.map((w) => w.reduction)).toEqual(report.wins.map((w) => w.reduction));
    expect(JSON.parse(fs.readFileSync(path.join(out, 'compare.json'), 'utf8')).calibration).toBe(report.calibration);
  }, 60_000);

  it('names the option in its help and refuses the test split cleanly', async () => {
    const help = await cli('compare', '--help');
    expect(help.stdout).toContain('--calibrate <data>');
    const out = path.join(root, 'bad');
    expectCleanFailure(await cli('compare', MODEL, '-o', out, '--calibrate', 'fashion-mnist:8'), /--calibrate fashion-mnist:8: .*test split/, out);
  }, 60_000);
});
