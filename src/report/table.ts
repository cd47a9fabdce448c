/** Plain-text tables for the terminal, rendered from report JSON. */
import { formatCount } from '../models/cost.js';
import type { ConversionReport } from './conversion-report.js';

export function renderTable(headers: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => ((align[i] ?? 'r') === 'l' ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(x < 0.001 ? 4 : 2)}%`);

export function conversionTable(r: ConversionReport): string {
  const rows = r.layers.map((l) => [
    l.name, l.kernel.join('×'), `${l.stride[0]}`, `${l.rank}/${l.maxRank}${l.rankCapped ? '*' : ''}`, pct(l.retainedEnergy),
    formatCount(l.macsBefore), formatCount(l.macsAfter), formatCount(l.paramsBefore), formatCount(l.paramsAfter),
    pct(l.kernelRelError), pct(l.outputRelError), pct(l.accumulatedRelError),
  ]);
  const t = r.totals;
  const lines = [
    renderTable(['layer', 'kernel kh×kw×C×N', 'stride', 'T/max', 'energy', 'MACs before', 'after', 'params before', 'after', 'kernel err', 'output err', 'accum. err'], rows, ['l', 'l']),
    '',
    `model MACs ${formatCount(t.macsBefore)} → ${formatCount(t.macsAfter)}, params ${formatCount(t.paramsBefore)} → ${formatCount(t.paramsAfter)}, ` +
      `theoretical speedup ${t.theoreticalSpeedup === null ? '? (give --input-shape)' : `${t.theoreticalSpeedup.toFixed(2)}×`}`,
  ];
  const capped = r.layers.filter((l) => l.rankCapped);
  if (capped.length) lines.push(`* rank capped at the layer's maximum (exact there): ${capped.map((l) => `${l.name} (${l.rankCapped})`).join(', ')}`);
  if (r.preprocessing) lines.push(`preprocessing: ${r.preprocessing}`);
  if (r.kept.length) lines.push(`kept regular: ${r.kept.map((k) => `${k.name} (${k.reason})`).join('; ')}`);
  if (r.foldedBatchNorms.length) lines.push(`folded BatchNorm: ${r.foldedBatchNorms.map((f) => `${f.batchNorm}→${f.conv}`).join(', ')}`);
  if (r.calibration) {
    const c = r.calibration;
    lines.push(`calibrated (${c.mode}) on ${c.data}, ${c.seconds.toFixed(1)} s: ` + c.layers.map((l) => (l.relErrorBefore === null ? `${l.name} skipped` : `${l.name} ${pct(l.relErrorBefore)}→${pct(l.relErrorAfter)}${l.skipped ? ' (refit discarded, decomposition kept)' : ''}`)).join(', '));
    if (c.outputCheck) lines.push(`calibration-data output rel L2: joint refit ${c.outputCheck.joint.toExponential(3)}, last-factor refit ${c.outputCheck.lastFactor.toExponential(3)}; kept ${c.outputCheck.kept}`);
    if (c.uncalibratedOutput) lines.push(`without calibration: rel L2 ${c.uncalibratedOutput.relL2.toExponential(3)}, PSNR ${c.uncalibratedOutput.psnrDb.toFixed(2)} dB`);
  }
  if (r.output) {
    lines.push(`output vs original (${r.input ?? 'input'}, backend ${r.backend}): max |Δ| ${r.output.maxAbsDiff.toExponential(3)}, rel L2 ${r.output.relL2.toExponential(3)}, PSNR ${Number.isFinite(r.output.psnrDb) ? r.output.psnrDb.toFixed(2) : '∞'} dB (range ${r.output.dataRange})`);
  }
  return lines.join('\n');
}
