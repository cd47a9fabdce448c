/** sweep.csv: one row per setting (the original first), rendered from the sweep JSON (RFC 4180 quoting). */
import type { SweepReport, SweepRow } from '../eval/sweep.js';

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(headers: string[], rows: unknown[][]): string {
  return [headers, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

export const SWEEP_CSV_COLUMNS = [
  'setting', 'order', 'rank', 'energy', 'form', 'calibrated', 'replaced_layers', 'macs', 'params', 'theoretical_speedup',
  'median_ms', 'p10_ms', 'p90_ms', 'runs', 'original_median_ms', 'measured_speedup', 'speedup_ratio',
  'top1', 'top5', 'agreement', 'psnr_vs_original_db', 'psnr_vs_ground_truth_db', 'mean_kernel_rel_error',
  'top5_agreement', 'mean_kl', 'logit_rel_l2',
  'measured_speedup_low', 'measured_speedup_high',
] as const;

function cells(r: SweepRow): unknown[] {
  return [
    r.setting, r.order, r.rank, r.energy, r.form, r.calibrated, r.replacedLayers, r.macs, r.params, r.theoreticalSpeedup,
    r.latency.medianMs, r.latency.p10Ms, r.latency.p90Ms, r.latency.runs, r.originalLatency.medianMs, r.measuredSpeedup, r.speedupRatio,
    r.top1, r.top5, r.agreement, r.psnrVsOriginalDb, r.psnrVsGroundTruthDb, r.meanKernelRelError,
    r.top5Agreement, r.meanKl, r.logitRelL2,
    r.speedupInterval?.[0], r.speedupInterval?.[1],
  ];
}

export function sweepCsv(report: SweepReport): string {
  return toCsv([...SWEEP_CSV_COLUMNS], [report.baseline, ...report.rows].map(cells));
}
