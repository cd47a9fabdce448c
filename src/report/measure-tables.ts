/** Terminal tables for latency, evaluation and sweep reports, rendered from their JSON. */
import { formatCount } from '../models/cost.js';
import type { LatencyReport } from '../eval/latency.js';
import type { EvalReport } from '../eval/evaluate.js';
import type { SweepReport } from '../eval/sweep.js';
import type { TimingStats } from '../eval/timing.js';
import type { ModelProfile } from '../eval/profile.js';
import { renderTable } from './table.js';

const fx = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '—' : !Number.isFinite(x) ? '∞' : x.toFixed(d));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)}%`);
const ci = (x: number | null, iv: [number, number] | null | undefined) => (x === null ? '—' : iv ? `${fx(x)}× [${fx(iv[0])}–${fx(iv[1])}]` : `${fx(x)}×`);
const ms = (t: TimingStats) => `${fx(t.medianMs)} (${fx(t.p10Ms)}–${fx(t.p90Ms)})`;

export function latencyText(r: LatencyReport): string {
  const head = `${r.model}${r.against ? ` vs ${r.against}` : ''}\nbackend ${r.backend}${r.threads ? ` (${r.threads} threads)` : ''}, batch ${r.batchSize}, input ${r.inputShape.join('×')} (${r.layout}), ` +
    `${r.original.timing.warmup} warm-up + ${r.original.timing.runs} timed runs, median ms (p10–p90)` +
    (r.comparison ? `\nmeasured speedup: ${Math.round(r.comparison.confidence * 100)} % interval by ${r.comparison.interval}; stopped by ${r.comparison.stoppedBy} after ${fx(r.comparison.seconds, 1)} s; ` +
      `load average ${fx(r.comparison.load.before)} → ${fx(r.comparison.load.after)} on ${r.comparison.load.cores} cores` : '') +
    (outliers(r) ? `\n${outliers(r)} timed runs are outliers (beyond Q1 − 3·IQR … Q3 + 3·IQR): kept, the median is robust to them` : '');
  const rows = [['original', formatCount(r.original.macs), ms(r.original.timing), '', '', '']];
  if (r.converted) rows.push(['converted', formatCount(r.converted.macs), ms(r.converted.timing), `${fx(r.theoreticalSpeedup)}×`, ci(r.measuredSpeedup, r.speedupInterval), fx(r.ratio)]);
  const out = [head, '', renderTable(['model', 'MACs', 'median ms (p10–p90)', 'theoretical', 'measured [95 % interval]', 'measured/theoretical'], rows, ['l'])];
  if (r.layers.length) {
    out.push('', `per replaced layer (alone, random input of its shape${r.layerLayout === 'NCHW' && r.layout === 'NHWC' ? ', run as NCHW so no layout transposes are timed' : ''}):`);
    out.push(renderTable(['layer', 'kernel kh×kw×C×N', 'input', 'regular ms', 'replacement ms', 'theoretical', 'measured', 'ratio'],
      r.layers.map((l) => [l.name, l.kernel.join('×'), l.inputShape.join('×'), ms(l.original), ms(l.converted), `${fx(l.theoreticalSpeedup)}×`, ci(l.measuredSpeedup, l.speedupInterval) + (l.stoppedBy === 'interval' ? '' : ` (${l.stoppedBy})`), fx(l.ratio)]), ['l', 'l', 'l']));
  }
  if (r.profile) out.push('', profileText(r.profile));
  return out.join('\n');
}

/** Per operator kind: ms per run and share of kernel time, original beside converted. */
export function profileText(p: NonNullable<LatencyReport['profile']>): string {
  const kinds = [...new Set([...p.original.kinds, ...(p.converted?.kinds ?? [])].map((k) => k.kind))];
  const cell = (m: ModelProfile | null, kind: string) => {
    const k = m?.kinds.find((x) => x.kind === kind);
    return k ? `${fx(k.ms)} (${(k.share * 100).toFixed(0)}%)` : '—';
  };
  const rows = kinds.map((k) => [k, cell(p.original, k), cell(p.converted, k)]);
  rows.push(['all kernels', fx(p.original.kernelMs), p.converted ? fx(p.converted.kernelMs) : '—']);
  return [`where the time goes (${p.original.tool}, mean of ${p.original.runs} runs, ms per run and share of kernel time):`,
    renderTable(['operator kind', 'original', 'converted'], rows, ['l'])].join('\n');
}

function outliers(r: LatencyReport): number {
  const all = [r.original.timing, r.converted?.timing, ...r.layers.flatMap((l) => [l.original, l.converted])];
  return all.reduce((a, t) => a + (t?.outliers ?? 0), 0);
}

export function evalText(r: EvalReport): string {
  const head = `${r.model} on ${r.data}${r.against ? `, against ${r.against}` : ''} (backend ${r.backend})`;
  if (r.classification) {
    const c = r.classification;
    const vs = r.against ? [pct(c.agreement), pct(c.top5Agreement), fx(c.meanKl, 5), fx(c.logitRelL2, 5)] : [];
    const vsHead = r.against ? ['top-1 agreement', 'top-5 agreement', `mean KL (nats)`, `${c.outputs === 'logits' ? 'logit' : 'output'} rel L2`] : [];
    const rows = [['model', ...(c.labelled ? [pct(c.top1), pct(c.top5)] : []), ...vs]];
    if (c.reference && c.labelled) rows.push(['--against', pct(c.reference.top1), pct(c.reference.top5), ...vs.map(() => '')]);
    const what = c.labelled ? `${c.n} labelled images, ${c.classes} classes` : `${c.n} unlabelled images, ${c.classes} classes${r.against ? '' : ' (give --against <original> to measure agreement)'}`;
    return [head, `${what}; preprocessing: ${c.preprocessing}`, '', renderTable(['', ...(c.labelled ? ['top-1', 'top-5'] : []), ...vsHead], rows, ['l'])].join('\n');
  }
  const s = r.superResolution!;
  const rows = s.photos.map((p) => [p.name, p.size.join('×'), fx(p.psnrVsOriginalDb), fx(p.psnrVsGroundTruthDb), fx(p.originalPsnrVsGroundTruthDb)]);
  rows.push(['mean', '', fx(s.psnrVsOriginalDb), fx(s.psnrVsGroundTruthDb), fx(s.originalPsnrVsGroundTruthDb)]);
  return [head, `${s.n} photos, ×${s.scale}; input: ${s.downscale}; PSNR over range 255, RGB (vs ground truth: output clipped to [0, 255])`, '',
    renderTable(['photo', 'size', 'PSNR vs --against (dB)', 'PSNR vs ground truth (dB)', '--against vs ground truth (dB)'], rows, ['l', 'l'])].join('\n');
}

export function sweepText(r: SweepReport): string {
  const cls = r.task === 'classification';
  const rows = [r.baseline, ...r.rows].map((x) => [
    x.setting, String(x.replacedLayers), formatCount(x.macs), `${fx(x.theoreticalSpeedup)}×`, ms(x.latency), ci(x.measuredSpeedup, x.speedupInterval), fx(x.speedupRatio),
    ...(cls ? [pct(x.top1), pct(x.top5), pct(x.agreement), fx(x.meanKl, 4)] : [fx(x.psnrVsOriginalDb), fx(x.psnrVsGroundTruthDb)]),
  ]);
  return [
    `${r.model} on ${r.data} (${r.evaluation.n} ${cls ? 'images' : 'photos'}); latency: ${r.backend}${r.threads ? ` (${r.threads} threads)` : ''}, batch ${r.latency.batchSize}, input ${r.latency.inputShape.join('×')}, ${r.latency.runs} runs`,
    '',
    renderTable(['setting', 'convs', 'MACs', 'theoretical', 'median ms (p10–p90)', 'measured', 'ratio', ...(cls ? ['top-1', 'top-5', 'agreement', 'mean KL'] : ['PSNR vs orig (dB)', 'PSNR vs GT (dB)'])], rows, ['l']),
  ].join('\n');
}
