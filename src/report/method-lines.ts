/** The convert command's lines under its table: what only some methods report, from report.json's layers. */
import type { ConversionReport } from './conversion-report.js';

/** What only some methods report (the table above shows every method's rank as T/max). */
export function methodLines(r: ConversionReport): string[] {
  const lines: string[] = [];
  for (const l of r.layers) {
    const g = l.ghost;
    if (g) lines.push(`${l.name}: ghost s = ${g.ratio}, d = ${g.kernelSize}, ${g.fit} fit: ${g.primaries} primaries (${g.promoted} promoted), mean ghost R² ${g.meanR2.toFixed(3)}${g.order ? `; channel order ${g.order}` : ''}`);
    const parts = [l.ranks && `ranks [R_out, R_in] = [${l.ranks.join(', ')}]`, l.factorRanks && `factor T = ${l.factorRanks.join('/')}`, l.fit !== undefined && `fit ${l.fit.toFixed(4)}`, l.iterations !== undefined && `${l.iterations} iterations`, l.rankRule && l.rankRule !== 'fixed' && `rank by ${l.rankRule}`].filter(Boolean);
    if ((l.method !== 'nd' && !g) || parts.length) lines.push(`${l.name}: ${l.method}${parts.length ? `, ${parts.join(', ')}` : ''}`);
    for (const w of l.warnings ?? []) lines.push(`  warning: ${w}`);
  }
  return lines;
}
