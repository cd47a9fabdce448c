/**
 * Rendering of sweep JSON: CSV quoting, the charts as SVG and PNG, report.html self-contained and
 * escaped, and the "best within tolerance" pick — on a hand-made report, no models run.
 */
import { describe, expect, it } from 'vitest';
import type { SweepReport, SweepRow } from '../../src/eval/sweep.js';
import { bestSetting } from '../../src/eval/sweep.js';
import { csvCell, sweepCsv, SWEEP_CSV_COLUMNS } from '../../src/report/csv.js';
import { accuracySpeedupSpec, kernelErrorSpec, renderPng, renderSvg, shortName, speedupRatioSpec } from '../../src/report/plots.js';
import { escapeHtml, inlineSvg, sweepHtml } from '../../src/report/html.js';
import { sweepFiles, SWEEP_FILES } from '../../src/report/sweep-files.js';

const timing = (ms: number) => ({ medianMs: ms, p10Ms: ms * 0.9, p90Ms: ms * 1.2, runs: 10, warmup: 3 });

function row(setting: string, rank: number | null, top1: number, ms: number, macs: number): SweepRow {
  return {
    setting, order: rank === null ? null : 'dw-pw', rank, energy: null, form: rank === null ? null : 'split', calibrated: false, replacedLayers: rank === null ? 0 : 2,
    macs, params: 1000, theoreticalSpeedup: 1000 / macs, latency: timing(ms), originalLatency: timing(10), measuredSpeedup: 10 / ms, speedupInterval: rank === null ? null : [9.5 / ms, 10.5 / ms], speedupRatio: (10 / ms) / (1000 / macs),
    top1, top5: 0.99, agreement: rank === null ? 1 : 0.97, top5Agreement: 1, meanKl: rank === null ? 0 : 0.01, logitRelL2: rank === null ? 0 : 0.05, psnrVsOriginalDb: null, psnrVsGroundTruthDb: null, meanKernelRelError: rank === null ? 0 : 0.1 / rank,
    layers: rank === null ? [] : [{ name: 'conv<2>', rank, maxRank: 9, retainedEnergy: 0.9, kernelRelError: 0.1 / rank }],
  };
}

const report: SweepReport = {
  tool: 'netdecouple', kind: 'sweep', model: 'models/a "quoted" <model>/model.json', data: 'fashion-mnist:100', task: 'classification', backend: 'ort', threads: 2,
  latency: { batchSize: 8, inputShape: [28, 28, 1], layout: 'NHWC', warmup: 3, runs: 10, input: 'random' },
  evaluation: { n: 100, method: 'p / 255' },
  calibration: null,
  baseline: row('original', null, 0.9, 10, 1000),
  rows: [row('dw-pw T=1', 1, 0.8, 4, 200), row('dw-pw T=2', 2, 0.897, 5, 400), row('dw-pw T=3', 3, 0.9, 7, 600)],
  kernelErrors: [1, 2, 3].map((rank) => ({ layer: 'conv<2>', order: 'dw-pw' as const, rank, kernelRelError: 0.1 / rank, retainedEnergy: 1 - 0.1 / rank })),
  seconds: 1,
};

describe('CSV', () => {
  it('quotes cells with commas, quotes or newlines and writes non-finite numbers by name', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(Infinity)).toBe('Infinity');
    expect(csvCell(null)).toBe('');
    expect(csvCell(0.5)).toBe('0.5');
  });

  it('has a header and one line per setting, the original first', () => {
    const lines = sweepCsv(report).trim().split('\n');
    expect(lines[0]).toBe(SWEEP_CSV_COLUMNS.join(','));
    expect(lines.map((l) => l.split(',')[0])).toEqual(['setting', 'original', 'dw-pw T=1', 'dw-pw T=2', 'dw-pw T=3']);
    const t2 = lines[3].split(',');
    expect(Number(t2[SWEEP_CSV_COLUMNS.indexOf('measured_speedup')])).toBe(2);
    expect(Number(t2[SWEEP_CSV_COLUMNS.indexOf('top1')])).toBe(0.897);
  });
});

describe('best setting within the tolerance', () => {
  it('is the fastest row within the top-1 drop, or null', () => {
    expect(bestSetting(report, { maxTop1Drop: 0.005 })?.setting).toBe('dw-pw T=2'); // 0.3 points down, 2× measured
    expect(bestSetting(report, { maxTop1Drop: 0.2 })?.setting).toBe('dw-pw T=1');
    expect(bestSetting(report, { maxTop1Drop: 0 })?.setting).toBe('dw-pw T=3');
    expect(bestSetting({ ...report, rows: [report.rows[0]] }, { maxTop1Drop: 0.005 })).toBeNull();
  });
});

describe('charts', () => {
  it('title models by a readable name', () => {
    expect(shortName('node_modules/@upscalerjs/esrgan-slim/models/x2/model.json')).toBe('esrgan-slim/models/x2');
    expect(shortName('fixtures/models/fmnist-vgg/model.json')).toBe('fmnist-vgg');
    expect(shortName('net.onnx')).toBe('net.onnx');
  });

  it('render to SVG with every setting and to PNG', async () => {
    const svg = await renderSvg(accuracySpeedupSpec(report, { threshold: 89.5 }));
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('T=2');
    expect(svg).toContain('top-1 accuracy (%)');
    expect(await renderSvg(speedupRatioSpec(report))).toContain('measured speedup');
    expect(await renderSvg(kernelErrorSpec(report))).toContain('conv&lt;2&gt;');
    const png = await renderPng(speedupRatioSpec(report));
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  });
});

describe('report.html', () => {
  it('is self-contained: inline SVG and CSS, no scripts, no URLs, names escaped', async () => {
    const html = await sweepHtml(report);
    expect(html.match(/<svg/g)?.length).toBe(3);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img/i);
    expect(html).toContain(escapeHtml(report.model));
    expect(html).not.toContain('<model>');
    expect(html).toMatch(/<tr class="best">\s*<td>dw-pw T=2<\/td>/);
  });

  it('inlineSvg drops namespace declarations only', () => {
    expect(inlineSvg('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="2"><g/></svg>')).toBe('<svg width="2"><g/></svg>');
  });

  it('sweepFiles gives every promised file', async () => {
    const files = await sweepFiles(report);
    expect(Object.keys(files).sort()).toEqual([...SWEEP_FILES].sort());
    expect(JSON.parse(files['sweep.json'] as string)).toEqual(report);
  });
});
