/** The speed budget as terminal text: its plan per layer, what it achieved, and how it was measured. */
import type { BudgetReport } from '../convert/budget-plan.js';
import { formatCount } from '../models/cost.js';
import { renderTable } from './table.js';

/** The plan's table and summary lines (from the BudgetReport in report.json). */
export function budgetText(b: BudgetReport): string {
  const ms = (x: number | undefined) => (x === undefined ? '' : x.toFixed(2));
  const rows = b.layers.map((l) => [
    l.name, `${l.method}${l.order && l.order !== 'dw-pw' ? ` ${l.order}` : ''}${l.form === 'merged' ? ' merged' : ''}`,
    l.method === 'keep' ? '' : l.tuckerRanks ? l.tuckerRanks.join('×') : `${l.rank}${l.factorRank !== undefined ? `/T${l.factorRank}` : ''}`,
    formatCount(l.macsBefore), formatCount(l.macsAfter),
    ...(b.by === 'latency' ? [ms(l.msBefore), ms(l.msAfter), l.speedupInterval ? `${ms(l.measuredSpeedup)}× [${ms(l.speedupInterval[0])}–${ms(l.speedupInterval[1])}]` : ''] : []),
    `${(l.kernelRelError * 100).toFixed(2)}%${l.errorKind === 'bound' ? ' (≤)' : ''}`,
  ]);
  const head = ['layer', 'method', 'rank', 'MACs before', 'after', ...(b.by === 'latency' ? ['ms before', 'after', 'layer speedup [95 %]'] : []), 'kernel err'];
  const lines = [
    '',
    `speed budget (${b.by}, methods ${b.methods.join(', ')}): target ${b.targetSpeedup}×, achieved ${b.achievedSpeedup.toFixed(3)}× ` +
      `(${b.unit === 'ms' ? `${b.totalBefore.toFixed(2)} → ${b.totalAfter.toFixed(2)} ms predicted` : `${formatCount(b.totalBefore)} → ${formatCount(b.totalAfter)} MACs`}), ` +
      `Σ kernel err² ${b.totalError.toExponential(3)}; MACs ${b.macs.speedup.toFixed(3)}×`,
    renderTable(head, rows, ['l', 'l', 'l']),
  ];
  if (b.search) lines.push(`search: ${b.search.candidateSeconds.toFixed(1)} s for candidates; ${b.search.cpLayers ? `${b.search.fitSeconds.toFixed(1)} s of ALS shared by ${b.search.cpLayers} CP layers (--budget-seconds ${b.search.budgetSeconds})` : 'no fits needed'}`);
  if (b.latencyCache) lines.push(`candidate timings: ${b.latencyCache.hits} from the cache, ${b.latencyCache.timed} timed, ${b.latencyCache.pruned} dropped untimed (a lower rank of the same realisation was already slower than the conv)${b.latencyCache.file ? ` (cache ${b.latencyCache.file})` : ''}`);
  if (b.measured) {
    const m = b.measured;
    lines.push(`measured on ${m.backend}${m.threads ? ` (${m.threads} threads)` : ''}: ${m.msBefore.toFixed(2)} → ${m.msAfter.toFixed(2)} ms, ${m.speedup.toFixed(2)}× [95 % ${m.speedupInterval[0].toFixed(2)}–${m.speedupInterval[1].toFixed(2)}], ` +
      `${m.runs} interleaved runs each, stopped by ${m.stoppedBy}; load average ${m.load.before.toFixed(2)} → ${m.load.after.toFixed(2)} on ${m.load.cores} cores; ` +
      `measured / MAC speedup ${(m.speedup / b.macs.speedup).toFixed(2)}`);
  }
  return lines.join('\n');
}
