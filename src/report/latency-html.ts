/**
 * bench --html: the latency report as one self-contained page (inline CSS, no scripts, no URLs),
 * rendered from the bench JSON only — the measured speedups with their intervals, the per-layer
 * table, and with --profile where the time goes per operator kind as stacked bars.
 */
import { formatCount } from '../models/cost.js';
import type { LatencyReport } from '../eval/latency.js';
import type { ModelProfile } from '../eval/profile.js';
import { CSS, escapeHtml } from './html.js';

const fx = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '—' : !Number.isFinite(x) ? '∞' : x.toFixed(d));
const ci = (x: number | null, iv: [number, number] | null | undefined) => (x === null ? '—' : iv ? `${fx(x)}× <span class="note">[${fx(iv[0])}–${fx(iv[1])}]</span>` : `${fx(x)}×`);
const COLOURS: Record<string, string> = { conv: '#4e79a7', pointwise: '#76b7b2', depthwise: '#e15759', concat: '#f28e2b', 'transpose/reorder': '#edc948', activation: '#59a14f', other: '#bab0ac' };

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** One bar per model, its width ∝ kernel ms, split by operator kind. */
function bars(p: NonNullable<LatencyReport['profile']>): string {
  const models: [string, ModelProfile][] = [['original', p.original], ...(p.converted ? [['converted', p.converted] as [string, ModelProfile]] : [])];
  const max = Math.max(...models.map(([, m]) => m.kernelMs));
  const bar = ([name, m]: [string, ModelProfile]) => {
    const parts = m.kinds.map((k) => `<div title="${escapeHtml(`${k.kind}: ${fx(k.ms)} ms (${(k.share * 100).toFixed(0)} %)`)}" style="width:${((k.ms / max) * 100).toFixed(2)}%;background:${COLOURS[k.kind]};height:1.4rem"></div>`).join('');
    return `<div style="display:flex;align-items:center;gap:.5rem;margin:.3rem 0"><div style="width:6rem">${name}</div><div style="display:flex;flex:1">${parts}</div><div style="width:6rem">${fx(m.kernelMs)} ms</div></div>`;
  };
  const legend = Object.entries(COLOURS).map(([k, c]) => `<span style="display:inline-block;width:.8rem;height:.8rem;background:${c};margin:0 .2rem 0 .8rem"></span>${escapeHtml(k)}`).join('');
  return `${models.map(bar).join('')}<p class="note">${legend}</p>`;
}

function profileTable(p: NonNullable<LatencyReport['profile']>): string {
  const kinds = [...new Set([...p.original.kinds, ...(p.converted?.kinds ?? [])].map((k) => k.kind))];
  const cell = (m: ModelProfile | null, kind: string) => {
    const k = m?.kinds.find((x) => x.kind === kind);
    return k ? `${fx(k.ms)} (${(k.share * 100).toFixed(0)} %)` : '—';
  };
  return table(['operator kind', 'original ms (share)', 'converted ms (share)'], [...kinds.map((k) => [escapeHtml(k), cell(p.original, k), cell(p.converted, k)]), ['all kernels', fx(p.original.kernelMs), fx(p.converted?.kernelMs)]]);
}

export function latencyHtml(r: LatencyReport, opts: { version?: string } = {}): string {
  const c = r.comparison;
  const meta = [
    `backend <b>${escapeHtml(r.backend)}</b>${r.threads ? ` (${r.threads} threads)` : ''}, batch ${r.batchSize}, input ${r.inputShape.join('×')} (${r.layout}), ${escapeHtml(r.input)}`,
    ...(c ? [`speedup interval: ${Math.round(c.confidence * 100)} % ${escapeHtml(c.interval)}; timing stopped by ${escapeHtml(c.stoppedBy)} after ${fx(c.seconds, 1)} s; load average ${fx(c.load.before)} → ${fx(c.load.after)} on ${c.load.cores} cores`] : []),
  ];
  const whole = [['original', formatCount(r.original.macs), `${fx(r.original.timing.medianMs)} (${fx(r.original.timing.p10Ms)}–${fx(r.original.timing.p90Ms)})`, '', '', '', String(r.original.timing.runs)]];
  if (r.converted) whole.push(['converted', formatCount(r.converted.macs), `${fx(r.converted.timing.medianMs)} (${fx(r.converted.timing.p10Ms)}–${fx(r.converted.timing.p90Ms)})`, `${fx(r.theoreticalSpeedup)}×`, ci(r.measuredSpeedup, r.speedupInterval), fx(r.ratio), String(r.converted.timing.runs)]);
  const layers = r.layers.map((l) => [escapeHtml(l.name), l.kernel.join('×'), l.inputShape.join('×'), fx(l.original.medianMs), fx(l.converted.medianMs), `${fx(l.theoreticalSpeedup)}×`, ci(l.measuredSpeedup, l.speedupInterval), fx(l.ratio), escapeHtml(l.stoppedBy)]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>netdecouple bench — ${escapeHtml(r.model)}</title><style>${CSS}</style></head>
<body>
<h1>Latency: ${escapeHtml(r.model)}${r.against ? ` vs ${escapeHtml(r.against)}` : ''}</h1>
<p class="meta">${meta.join('<br>')}</p>
<h2>Whole model</h2>
${table(['model', 'MACs', 'median ms (p10–p90)', 'theoretical', 'measured [95 %]', 'measured / theoretical', 'runs'], whole)}
${layers.length ? `<h2>Per replaced layer</h2><p class="note">Each layer alone on a random input of its shape, timed in alternation with its replacement.</p>${table(['layer', 'kernel kh×kw×C×N', 'input', 'regular ms', 'replacement ms', 'theoretical', 'measured [95 %]', 'ratio', 'stopped by'], layers)}` : ''}
${r.profile ? `<h2>Where the time goes</h2><p class="note">${escapeHtml(r.profile.original.tool)}, mean of ${r.profile.original.runs} runs: kernel time per operator kind (the runtime's overhead between kernels is not included).</p>${bars(r.profile)}${profileTable(r.profile)}` : ''}
<p class="note">netdecouple${opts.version ? ` ${escapeHtml(opts.version)}` : ''} — the same numbers are in the bench JSON (--json).</p>
</body></html>
`;
}
