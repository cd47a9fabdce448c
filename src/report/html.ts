/**
 * report.html for a sweep: one self-contained file — inline CSS, charts as inline SVG, no
 * scripts, no external URLs — so it opens the same from a CI artefact, a mail attachment or
 * offline. Everything on it is rendered from the sweep JSON.
 */
import { formatCount } from '../models/cost.js';
import { bestSetting, type SweepReport, type SweepRow, type Tolerance } from '../eval/sweep.js';
import { metricOf, renderSvg, sweepCharts } from './plots.js';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Inline SVG needs no namespace declarations in HTML5; dropping them leaves the file free of URLs. */
export function inlineSvg(svg: string): string {
  return svg.replace(/\s+xmlns(:\w+)?="[^"]*"/g, '').replace(/^<\?xml[^>]*>\s*/, '');
}

export const CSS = `
body{font-family:"DejaVu Sans",Verdana,system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta{color:#555;font-size:.9rem}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.7rem 1rem;min-width:14rem;background:#fafafa}
.card .big{font-size:1.6rem;font-weight:bold}.card .sub{color:#555;font-size:.85rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{padding:.25rem .6rem;text-align:right;border-bottom:1px solid #eee}
th{background:#f3f3f3;position:sticky;top:0}td:first-child,th:first-child{text-align:left}
tr.ok td{background:#eef8ee}tr.best td{background:#d5efd5;font-weight:bold}tr.base td{background:#f0f0f8}
.chart{margin:1rem 0;overflow-x:auto}.note{color:#555;font-size:.85rem}details{margin:.5rem 0}summary{cursor:pointer}
`;

const fx = (x: number | null, d = 2) => (x === null ? '—' : !Number.isFinite(x) ? '∞' : x.toFixed(d));
const pct = (x: number | null, d = 2) => (x === null ? '—' : `${(x * 100).toFixed(d)}%`);

function toleranceOf(report: SweepReport, tol?: Tolerance): Tolerance {
  return tol ?? (report.task === 'classification' ? { maxTop1Drop: 0.005 } : { minPsnrDb: 40 });
}

function toleranceText(t: Tolerance): string {
  return t.maxTop1Drop !== undefined ? `top-1 drop ≤ ${(t.maxTop1Drop * 100).toFixed(2)} points` : `PSNR vs original ≥ ${t.minPsnrDb} dB`;
}

function within(report: SweepReport, r: SweepRow, t: Tolerance): boolean {
  if (t.maxTop1Drop !== undefined && r.top1 === null) return r.agreement !== null && 1 - r.agreement <= t.maxTop1Drop + 1e-12; // unlabelled: changed predictions
  if (t.maxTop1Drop !== undefined) return r.top1 !== null && report.baseline.top1 !== null && report.baseline.top1 - r.top1 <= t.maxTop1Drop + 1e-12;
  return r.psnrVsOriginalDb !== null && r.psnrVsOriginalDb >= (t.minPsnrDb ?? Infinity);
}

function metricCells(report: SweepReport, r: SweepRow): string[] {
  if (report.task === 'classification') return [pct(r.top1), pct(r.top5), pct(r.agreement), pct(r.top5Agreement), fx(r.meanKl, 4)];
  return [fx(r.psnrVsOriginalDb), fx(r.psnrVsGroundTruthDb)];
}

function metricHeaders(report: SweepReport): string[] {
  return report.task === 'classification' ? ['top-1', 'top-5', 'agreement with original', 'top-5 agreement', 'mean KL (nats)'] : ['PSNR vs original (dB)', 'PSNR vs ground truth (dB)'];
}

/** The measured speedup with its 95 % interval (timing.ts), so a reader sees how sure it is. */
function measuredCell(r: SweepRow): string {
  return r.speedupInterval ? `${fx(r.measuredSpeedup)} [${fx(r.speedupInterval[0])}–${fx(r.speedupInterval[1])}]` : fx(r.measuredSpeedup);
}

function table(report: SweepReport, tol: Tolerance, best: SweepRow | null): string {
  const head = ['setting', 'replaced convs', 'MACs', 'theoretical ×', 'measured × [95 % interval]', 'measured / theoretical', 'median ms (p10–p90)', ...metricHeaders(report)];
  const line = (r: SweepRow, cls: string) => `<tr class="${cls}">${[
    escapeHtml(r.setting), String(r.replacedLayers), formatCount(r.macs), fx(r.theoreticalSpeedup), measuredCell(r), fx(r.speedupRatio),
    `${fx(r.latency.medianMs)} (${fx(r.latency.p10Ms)}–${fx(r.latency.p90Ms)})`, ...metricCells(report, r),
  ].map((c) => `<td>${c}</td>`).join('')}</tr>`;
  const rows = [line(report.baseline, 'base'), ...report.rows.map((r) => line(r, r === best ? 'best' : within(report, r, tol) ? 'ok' : ''))];
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function layerDetails(report: SweepReport): string {
  const parts = report.rows.map((r) => {
    const rows = r.layers.map((l) => `<tr><td>${escapeHtml(l.name)}</td><td>${l.rank}/${l.maxRank}</td><td>${pct(l.retainedEnergy)}</td><td>${pct(l.kernelRelError)}</td></tr>`).join('');
    return `<details><summary>${escapeHtml(r.setting)}: ${r.replacedLayers} convs decoupled, mean kernel error ${pct(r.meanKernelRelError)}</summary><table><thead><tr><th>layer</th><th>T / max</th><th>retained energy</th><th>kernel error</th></tr></thead><tbody>${rows}</tbody></table></details>`;
  });
  return parts.join('\n');
}

function cards(report: SweepReport, tol: Tolerance, best: SweepRow | null): string {
  const m = metricOf(report);
  const show = (r: SweepRow) => (report.task === 'classification' ? (r.top1 === null ? `agreement ${pct(r.agreement)}` : `top-1 ${pct(r.top1)}`) : `PSNR vs original ${fx(r.psnrVsOriginalDb)} dB, vs ground truth ${fx(r.psnrVsGroundTruthDb)} dB`);
  const base = report.baseline;
  const fastest = report.rows.reduce<SweepRow | null>((a, r) => (a === null || r.measuredSpeedup > a.measuredSpeedup ? r : a), null);
  const card = (title: string, big: string, sub: string) => `<div class="card"><div>${escapeHtml(title)}</div><div class="big">${big}</div><div class="sub">${sub}</div></div>`;
  const out = [
    card('original model', `${fx(base.latency.medianMs)} ms`, `${formatCount(base.macs)} MACs; ${report.task === 'classification' ? `top-1 ${pct(base.top1)}` : `PSNR vs ground truth ${fx(base.psnrVsGroundTruthDb)} dB`}`),
    best
      ? card(`best within ${toleranceText(tol)}`, `${fx(best.measuredSpeedup)}× measured`, `${escapeHtml(best.setting)}: theoretical ${fx(best.theoreticalSpeedup)}×; ${show(best)}`)
      : card(`best within ${toleranceText(tol)}`, 'none', `no setting kept ${escapeHtml(m.title)} within the tolerance`),
  ];
  if (fastest) out.push(card('fastest setting', `${fx(fastest.measuredSpeedup)}× measured`, `${escapeHtml(fastest.setting)}: theoretical ${fx(fastest.theoreticalSpeedup)}×; ${show(fastest)}`));
  return `<div class="cards">${out.join('')}</div>`;
}

export interface HtmlOptions {
  tolerance?: Tolerance;
  version?: string;
}

export async function sweepHtml(report: SweepReport, opts: HtmlOptions = {}): Promise<string> {
  const tol = toleranceOf(report, opts.tolerance);
  const best = bestSetting(report, tol);
  const threshold = tol.maxTop1Drop !== undefined && report.baseline.top1 !== null ? (report.baseline.top1 - tol.maxTop1Drop) * 100 : tol.minPsnrDb;
  const charts = sweepCharts(report, { threshold });
  const [acc, ratio, kerr] = await Promise.all([renderSvg(charts.accuracy), renderSvg(charts.ratio), renderSvg(charts.kernelError)]);
  const l = report.latency;
  const meta = [
    `data <b>${escapeHtml(report.data)}</b> (${report.evaluation.n} ${report.task === 'classification' ? 'images' : 'photos'}; ${escapeHtml(report.evaluation.method)})`,
    ...(report.calibration ? [`rows marked <b>+cal</b>: least-squares calibration (${escapeHtml(report.calibration.mode)}) on ${escapeHtml(report.calibration.data)} — unlabelled, not the evaluation data`] : []),
    `latency on <b>${escapeHtml(report.backend)}</b>${report.threads ? ` (${report.threads} threads)` : ''}, batch ${l.batchSize}, input ${l.inputShape.join('×')} (${l.layout}), at least ${l.warmup} warm-up + ${l.runs} timed runs per setting, interleaved with the original, more until the 95 % interval of the speedup is within ±5 % (or a time cap), median`,
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>netdecouple sweep — ${escapeHtml(report.model)}</title><style>${CSS}</style></head>
<body>
<h1>Accuracy vs speedup: ${escapeHtml(report.model)}</h1>
<p class="meta">${meta.join('<br>')}</p>
${cards(report, tol, best)}
<h2>${escapeHtml(metricOf(report).title.replace(/ \(.*\)$/, ''))} against speedup</h2>
<p class="note">Each point is one conversion setting, no retraining. Solid lines: speedup measured in this process on ${escapeHtml(report.backend)}; dashed: the theoretical speedup from MAC counts for the same settings.${threshold !== undefined ? ` Red dotted line: ${escapeHtml(toleranceText(tol))}.` : ''}</p>
<div class="chart">${inlineSvg(acc)}</div>
<h2>Does the runtime deliver the MAC savings?</h2>
<div class="chart">${inlineSvg(ratio)}</div>
<h2>Every setting</h2>
<p class="note">Green rows keep ${escapeHtml(toleranceText(tol))}; the bold row is the fastest of them. Measured speedup = median(original) / median(converted).</p>
${table(report, tol, best)}
<h2>Kernel error per layer</h2>
<div class="chart">${inlineSvg(kerr)}</div>
<details><summary>Ranks and kernel errors per layer, every setting</summary>${layerDetails(report)}</details>
<p class="note">netdecouple${opts.version ? ` ${escapeHtml(opts.version)}` : ''} — sweep of ${report.rows.length} settings in ${report.seconds.toFixed(0)} s. The same numbers are in sweep.json and sweep.csv beside this file.</p>
</body></html>
`;
}
