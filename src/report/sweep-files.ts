/**
 * The files a sweep writes: sweep.json (the report), sweep.csv, the charts as SVG (and PNG on
 * request), and report.html — all rendered from the one SweepReport.
 */
import { jsonSafe } from './json.js';
import type { SweepReport, Tolerance } from '../eval/sweep.js';
import { sweepCsv } from './csv.js';
import { sweepHtml } from './html.js';
import { renderPng, renderSvg, sweepCharts } from './plots.js';

export const SWEEP_FILES = ['sweep.json', 'sweep.csv', 'accuracy-vs-speedup.svg', 'speedup-measured-vs-theoretical.svg', 'kernel-error-vs-rank.svg', 'report.html'];


export async function sweepFiles(report: SweepReport, opts: { tolerance?: Tolerance; png?: boolean; version?: string } = {}): Promise<Record<string, string | Uint8Array>> {
  const threshold = report.task === 'classification'
    ? (report.baseline.top1 !== null ? (report.baseline.top1 - (opts.tolerance?.maxTop1Drop ?? 0.005)) * 100 : undefined)
    : (opts.tolerance?.minPsnrDb ?? 40);
  const charts = sweepCharts(report, { threshold });
  const named: [string, keyof typeof charts][] = [['accuracy-vs-speedup', 'accuracy'], ['speedup-measured-vs-theoretical', 'ratio'], ['kernel-error-vs-rank', 'kernelError']];
  const files: Record<string, string | Uint8Array> = {
    'sweep.json': JSON.stringify(report, jsonSafe, 2) + '\n',
    'sweep.csv': sweepCsv(report),
  };
  for (const [file, key] of named) {
    files[`${file}.svg`] = await renderSvg(charts[key]);
    if (opts.png) files[`${file}.png`] = await renderPng(charts[key]);
  }
  files['report.html'] = await sweepHtml(report, { tolerance: opts.tolerance, version: opts.version });
  return files;
}
