/**
 * `compare`'s renderings: a terminal table, one Vega-Lite spec (SVG) per layer, and the files
 * written — all from the plain JSON that src/eval/compare.ts measures (compare.json).
 */
import { REDUCTIONS, type CompareLayer, type ComparePoint, type CompareReport, type ReductionResult, type WinCounts } from '../eval/compare.js';
import { renderTable } from './table.js';
import { renderSvg, type VegaLiteSpec } from './plots.js';

/** Line style per error kind: solid kernel, dashed output, dotted data-aware output. */
const DASH: Record<string, number[]> = { kernel: [1, 0], output: [6, 3], 'data-aware': [1, 2] };

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(x < 0.001 ? 3 : 1)}%`);

const winsLine = (wins: WinCounts[]) => wins.map((w) => `${w.reduction}×: ${Object.entries(w.counts).map(([m, n]) => `${m} ${n}`).join(', ') || '—'}`).join('; ');

/** "cp 23.5% R=87": the winner by data-aware error, its error and point. */
const dataAwareWinnerCell = (at: ReductionResult) => (at.dataAwareWinner && at.dataAwareWinnerPoint ? `${at.dataAwareWinner} ${pct(at.dataAwareWinnerPoint.relError)} ${at.dataAwareWinnerPoint.label}` : '—');

/** Per layer and reduction: each method's best error (and its rank) and the winner. */
export function compareTable(r: CompareReport): string {
  const rows: string[][] = [];
  const byOutput = r.winnerBy === 'outputRelError';
  for (const l of r.layers) {
    for (const at of l.atReduction) {
      rows.push([
        at.reduction === REDUCTIONS[0] ? l.name : '', at.reduction === REDUCTIONS[0] ? l.kernel.join('×') : '', `${at.reduction}×`,
        ...r.methods.map((m) => {
          const b = at.byMethod[m];
          return b ? `${pct(byOutput ? b.outputRelError : b.kernelRelError)} ${b.label}` : '—';
        }),
        at.winner ?? '—',
      ]);
    }
  }
  const what = byOutput ? `output error on ${r.input} (${r.backend})` : 'kernel error ‖W − Ŵ‖/‖W‖';
  const wins = winsLine(r.wins);
  return [
    `best ${what} per method with at least 2×, 3×, 4× fewer MACs (— = the method's grid does not reach it)`,
    renderTable(['layer', 'kernel kh×kw×C×N', 'MACs ÷', ...r.methods, 'winner'], rows, ['l', 'l', 'r', ...r.methods.map(() => 'l' as const), 'l']),
    '',
    `layers won: ${wins}`,
    ...(r.calibration ? ['', dataAwareTable(r)] : []),
  ].join('\n');
}

/** With calibration data: the same points' layer output error on it, plain → data-aware (same rank, same MACs). */
function dataAwareTable(r: CompareReport): string {
  const rows: string[][] = [];
  for (const l of r.layers) {
    for (const at of l.atReduction) {
      rows.push([
        at.reduction === REDUCTIONS[0] ? l.name : '', `${at.reduction}×`,
        ...r.methods.map((m) => {
          const d = at.byMethod[m]?.dataAware;
          return d ? `${pct(d.plainRelError)} → ${pct(d.relError)}` : '—';
        }),
        dataAwareWinnerCell(at),
      ]);
    }
  }
  return [
    `output error, plain → data-aware (activation-aware start + joint refit), of the points above, on ${r.calibration} (— = no joint refit for the method);`,
    'winner by data-aware error: the least over every point with at least that reduction',
    renderTable(['layer', 'MACs ÷', ...r.methods, 'winner by data-aware'], rows, ['l', 'r', ...r.methods.map(() => 'l' as const), 'l']),
    ...(r.dataAwareWins ? ['', `layers won by data-aware error: ${winsLine(r.dataAwareWins)}`] : []),
  ].join('\n');
}

/** Error against MACs kept for one layer, one curve per method (its Pareto front; dashed: output error, when measured; dotted: data-aware output error, with calibration data). */
export function compareSpec(r: CompareReport, layer: CompareLayer): VegaLiteSpec {
  // Each method's best error at each MAC count (its Pareto front): spatial-nd's grid mixes several
  // factor ranks T, and a point another beats with fewer MACs is no choice anyone would make.
  const values: Record<string, unknown>[] = [];
  const measured = layer.points.some((p) => p.outputRelError !== null);
  const calibrated = layer.points.some((p) => p.dataAware);
  const kinds = ['kernel', ...(measured ? ['output'] : []), ...(calibrated ? ['data-aware'] : [])];
  const errOf: Record<string, (p: ComparePoint) => number> = { kernel: (p) => p.kernelRelError, output: (p) => p.outputRelError ?? Infinity, 'data-aware': (p) => p.dataAware?.relError ?? Infinity };
  for (const m of r.methods) {
    for (const kind of kinds) {
      const err = errOf[kind];
      let best = Infinity;
      for (const p of layer.points.filter((x) => x.method === m).sort((a, b) => a.macs - b.macs || err(a) - err(b))) {
        if (!(err(p) < best)) continue;
        best = err(p);
        values.push({ method: m, kind, macsKept: p.macsKept * 100, error: err(p) * 100, label: p.label });
      }
    }
  }
  const x = { field: 'macsKept', type: 'quantitative', title: 'MACs kept (% of the conv)', scale: { domain: [0, 100] } };
  const y = { field: 'error', type: 'quantitative', title: 'relative error (%)', scale: { domainMin: 0 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: `${layer.name} (${layer.kernel.join('×')}, stride ${layer.stride[0]}) — error vs MACs kept`,
      subtitle: r.input || calibrated
        ? [
            ...(r.input ? ['solid: kernel error ‖W − Ŵ‖/‖W‖; dashed: output error (layer alone)', `on ${r.input}; grey: 2×, 3×, 4× fewer MACs`] : ['kernel error ‖W − Ŵ‖/‖W‖; grey: 2×, 3×, 4× fewer MACs']),
            ...(calibrated ? [`dotted: data-aware output error (activation-aware + joint refit) on ${r.calibration}`, winnersLine(layer)] : []),
          ]
        : 'kernel error ‖W − Ŵ‖/‖W‖; grey: 2×, 3×, 4× fewer MACs',
    },
    config: { font: 'DejaVu Sans, Verdana, sans-serif', view: { stroke: null }, axis: { gridColor: '#e6e6e6' }, title: { anchor: 'start' } },
    background: 'white',
    width: 460,
    height: 300,
    layer: [
      { data: { values: REDUCTIONS.map((rd) => ({ x: 100 / rd })) }, mark: { type: 'rule', color: '#aaa', strokeDash: [2, 3] }, encoding: { x: { field: 'x', type: 'quantitative' } } },
      {
        data: { values },
        mark: { type: 'line', point: { size: 25, filled: true }, strokeWidth: 1.6 },
        encoding: {
          x, y,
          color: { field: 'method', type: 'nominal', title: 'method', sort: r.methods },
          ...(kinds.length > 1 ? { strokeDash: { field: 'kind', type: 'nominal', title: 'error', sort: kinds, ...(calibrated ? { scale: { domain: kinds, range: kinds.map((k) => DASH[k]) } } : {}), legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 400 } } } : {}),
          detail: [{ field: 'method' }, { field: 'kind' }],
          order: { field: 'macsKept', type: 'quantitative' },
          tooltip: [{ field: 'method' }, { field: 'label' }, { field: 'error', format: '.2f' }],
        },
      },
    ],
  };
}

/** "winners by plain → data-aware error: 2× nd → cp, …" for a chart's subtitle. */
function winnersLine(layer: CompareLayer): string {
  return `winners by plain → data-aware error: ${layer.atReduction.map((at) => `${at.reduction}× ${at.winner ?? '—'} → ${at.dataAwareWinner ?? '—'}`).join(', ')}`;
}

/** compare.json and one SVG per layer, as files for writeFolderAtomically. */
export async function compareFiles(r: CompareReport, json: (report: CompareReport) => string): Promise<Record<string, string>> {
  const files: Record<string, string> = { 'compare.json': json(r) };
  const used = new Set<string>();
  for (const l of r.layers) {
    let base = l.name.replace(/[^A-Za-z0-9_.-]+/g, '_');
    while (used.has(base)) base += '_';
    used.add(base);
    files[`${base}.svg`] = await renderSvg(compareSpec(r, l));
  }
  return files;
}
