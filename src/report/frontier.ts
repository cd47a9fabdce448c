/**
 * The accuracy search's points, rendered from report.json's `accuracyBudget` only: the Pareto
 * frontier of measured speedup against the constraint's figure with the pick marked (a vega-lite
 * chart, plots.ts), a page (frontier.html: inline CSS and SVG, no scripts, no URLs) and the CLI's
 * table.
 */
import type { AccuracySearchReport } from '../eval/accuracy-search.js';
import { base, renderSvg, shortName, type VegaLiteSpec } from './plots.js';
import { CSS, escapeHtml, inlineSvg } from './html.js';
import { renderTable } from './table.js';

const fx = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : x > 0 ? '∞' : '−∞');

/** The y axis: what the constraint is judged on, in its own units. */
function metricTitle(r: AccuracySearchReport): string {
  return r.constraint.kind === 'max-drop' ? 'top-1 (%)' : r.constraint.kind === 'min-agreement' ? 'top-1 agreement with the original (%)' : 'PSNR vs the original output (dB)';
}

/** Where the constraint's line sits on the y axis. */
function threshold(r: AccuracySearchReport): number {
  const c = r.constraint;
  return c.kind === 'max-drop' ? (r.reference.reference ?? r.reference.value) - c.points : c.kind === 'min-agreement' ? c.percent : c.db;
}

export function frontierSpec(r: AccuracySearchReport, model: string): VegaLiteSpec {
  const values = r.points.map((p) => ({
    speedup: p.measuredSpeedup, low: p.speedupInterval[0], high: p.speedupInterval[1], metric: p.accuracy.value,
    status: p.chosen ? 'chosen' : p.passes ? 'meets the constraint' : 'misses the constraint', frontier: p.onFrontier, label: `S=${fx(p.target)}`,
  }));
  const x = { field: 'speedup', type: 'quantitative', title: `measured speedup over the original (×), ${r.backend}`, scale: { zero: false } };
  const y = { field: 'metric', type: 'quantitative', title: metricTitle(r), scale: { zero: false } };
  const color = { field: 'status', type: 'nominal', title: '', scale: { domain: ['chosen', 'meets the constraint', 'misses the constraint'], range: ['#d62728', '#4e79a7', '#bab0ac'] } };
  return {
    ...base(`Accuracy vs measured speedup — ${shortName(model)}`, `${r.constraintText} on ${r.data}; line: Pareto frontier; bars: 95 % interval of the speedup`),
    width: 460, height: 300, data: { values },
    layer: [
      { mark: { type: 'rule', strokeWidth: 1 }, encoding: { x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' }, y, color } },
      { transform: [{ filter: 'datum.frontier' }], mark: { type: 'line', color: '#555', strokeDash: [4, 2] }, encoding: { x, y, order: { field: 'speedup', type: 'quantitative' } } },
      { mark: { type: 'point', filled: true }, encoding: { x, y, color, size: { condition: { test: "datum.status === 'chosen'", value: 160 }, value: 50 } } },
      { mark: { type: 'text', dx: 6, dy: -7, fontSize: 10, align: 'left' }, encoding: { x, y, text: { field: 'label' } } },
      { data: { values: [{ t: threshold(r) }] }, mark: { type: 'rule', color: '#b33', strokeDash: [2, 2] }, encoding: { y: { field: 't', type: 'quantitative' } } },
      // The original at 1×: its top-1, or 100 % agreement with itself (PSNR against itself is infinite: not drawn).
      ...(Number.isFinite(r.reference.value) ? [{ data: { values: [{ speedup: 1, metric: r.reference.value, label: 'original' }] }, layer: [
        { mark: { type: 'point', shape: 'diamond', size: 90, filled: true, color: 'black' }, encoding: { x, y } },
        { mark: { type: 'text', dx: 7, dy: 10, align: 'left', fontSize: 10 }, encoding: { x, y, text: { field: 'label' } } },
      ] }] : []),
    ],
  };
}

/** One row per point tried, in search order: * the pick, F on the Pareto frontier. */
export function frontierTable(r: AccuracySearchReport): string {
  const rows = r.points.map((p, i) => [
    String(i + 1), `${p.chosen ? '*' : ''}${p.onFrontier ? 'F' : ''}`, `${fx(p.target)}×`, `${fx(p.plannedSpeedup)}×`, `${fx(p.macsSpeedup)}×`,
    `${fx(p.measuredSpeedup)}× [${fx(p.speedupInterval[0])}–${fx(p.speedupInterval[1])}]`, fx(p.accuracy.value), p.passes ? 'yes' : 'no',
  ]);
  const lines = [
    `${r.constraintText} on ${r.data}${r.constraint.kind === 'max-drop' ? ` (original top-1 ${fx(r.reference.value)} %)` : ''}, budget by ${r.by} on ${r.backend}${r.threads ? ` (${r.threads} threads)` : ''}; search stopped by ${r.stoppedBy}`,
    renderTable(['#', 'pick', 'target', 'planned', 'MACs', 'measured [95 %]', metricTitle(r), 'meets'], rows, ['r', 'l']),
  ];
  const v = r.verified;
  if (v) lines.push(`written ${v.format} model re-loaded and measured: ${metricTitle(r)} ${fx(v.accuracy.value)}, ${fx(v.measuredSpeedup)}× [95 % ${fx(v.speedupInterval[0])}–${fx(v.speedupInterval[1])}], ${v.runs} interleaved runs, load ${fx(v.load.before)} → ${fx(v.load.after)} on ${v.load.cores} cores`);
  if (v && !(v.speedupInterval[0] > 1)) lines.push(`not measurably faster: the 95 % interval of the written model's speedup includes 1× (the machine's load blurs timings; re-run \`bench\` on a quiet machine)`);
  return lines.join('\n');
}

export async function frontierHtml(r: AccuracySearchReport, model: string, opts: { version?: string } = {}): Promise<string> {
  const svg = await renderSvg(frontierSpec(r, model));
  const head = ['#', 'target', 'planned', 'MACs', 'measured [95 %]', metricTitle(r), 'meets', 'plan'];
  const rows = r.points.map((p, i) => [
    String(i + 1), `${fx(p.target)}×`, `${fx(p.plannedSpeedup)}×`, `${fx(p.macsSpeedup)}×`, `${fx(p.measuredSpeedup)}× [${fx(p.speedupInterval[0])}–${fx(p.speedupInterval[1])}]`,
    fx(p.accuracy.value), p.passes ? 'yes' : 'no', escapeHtml(Object.entries(p.plan ?? {}).map(([k, v]) => `${k}: ${v}`).join('; ')),
  ].map((c, j) => (j === 0 && p.chosen ? `<b>${c} (pick)</b>` : c)));
  const table = `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((row) => `<tr>${row.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  const v = r.verified;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>netdecouple accuracy budget — ${escapeHtml(model)}</title><style>${CSS}</style></head>
<body>
<h1>Fastest within ${escapeHtml(r.constraintText)}: ${escapeHtml(model)}</h1>
<p class="meta">validation <b>${escapeHtml(r.data)}</b>${r.calibration ? `; calibration ${escapeHtml(r.calibration)} (disjoint)` : ''}; budget by ${escapeHtml(r.by)} (methods ${escapeHtml(r.methods.join(', '))}) on <b>${escapeHtml(r.backend)}</b>${r.threads ? ` (${r.threads} threads)` : ''}; search stopped by ${escapeHtml(r.stoppedBy)}</p>
<div class="chart">${inlineSvg(svg)}</div>
${v ? `<p>The written ${escapeHtml(v.format)} model, re-loaded from its files and measured again: ${escapeHtml(metricTitle(r))} ${fx(v.accuracy.value)}, speedup ${fx(v.measuredSpeedup)}× [95 % ${fx(v.speedupInterval[0])}–${fx(v.speedupInterval[1])}] (${v.runs} interleaved runs, load ${fx(v.load.before)} → ${fx(v.load.after)} on ${v.load.cores} cores)${v.speedupInterval[0] > 1 ? '' : ' — not measurably faster: the interval includes 1×'}.</p>` : ''}
<h2>Every point tried</h2>
${table}
<p class="note">netdecouple${opts.version ? ` ${escapeHtml(opts.version)}` : ''} — the same numbers are in report.json (accuracyBudget) beside this file.</p>
</body></html>
`;
}
