/**
 * The sweep's charts as vega-lite specs, rendered from sweep JSON to SVG (`vega`, pure JS) or PNG
 * (the SVG rasterised by @napi-rs/canvas). One module so report.html and notebooks show the same
 * charts. vega and vega-lite are ESM with top-level await: loaded with `await import()` so this
 * module also works where imports become require() (tslab notebooks, docs/notebooks.md).
 */
import type { SweepReport, SweepRow } from '../eval/sweep.js';

export type VegaLiteSpec = Record<string, unknown>;

const FONT = 'DejaVu Sans, Verdana, sans-serif';
const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  title: { fontSize: 14, anchor: 'start' },
};

export function base(title: string, subtitle?: string): VegaLiteSpec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title: subtitle ? { text: title, subtitle } : title, config: CONFIG, background: 'white' };
}

/** Line identity in the charts: the ordering, and whether the setting was calibrated. */
function series(r: SweepRow): string {
  return `${r.order}${r.calibrated ? ' + calibration' : ''}`;
}

function rowLabel(r: SweepRow): string {
  return r.rank !== null ? `T=${r.rank}` : r.energy !== null ? `τ=${r.energy}` : r.setting;
}

/** What the y axis of the accuracy chart shows for a report's task. */
export function metricOf(report: SweepReport): { field: 'top1' | 'psnrVsOriginalDb'; title: string; scale: number } {
  return report.task === 'classification'
    ? { field: 'top1', title: 'top-1 accuracy (%)', scale: 100 }
    : { field: 'psnrVsOriginalDb', title: 'PSNR vs original model output (dB)', scale: 1 };
}

/**
 * Accuracy (or PSNR) against speedup: measured speedup as solid lines, the theoretical (MAC)
 * speedup of the same settings dashed beside them, so the gap is the runtime's shortfall.
 */
export function accuracySpeedupSpec(report: SweepReport, opts: { threshold?: number } = {}): VegaLiteSpec {
  const m = metricOf(report);
  const values: Record<string, unknown>[] = [];
  for (const r of report.rows) {
    const y = r[m.field];
    if (y === null || !Number.isFinite(y)) continue;
    for (const kind of ['measured', 'theoretical (MACs)'] as const) {
      values.push({ order: series(r), kind, speedup: kind === 'measured' ? r.measuredSpeedup : r.theoreticalSpeedup, theoretical: r.theoreticalSpeedup, metric: y * m.scale, label: kind === 'measured' ? rowLabel(r) : '' });
    }
  }
  const layers: VegaLiteSpec[] = [
    {
      mark: { type: 'line', strokeWidth: 2 },
      encoding: {
        x: { field: 'speedup', type: 'quantitative', title: `speedup over the original (×), ${report.backend}, batch ${report.latency.batchSize}`, scale: { zero: false } },
        y: { field: 'metric', type: 'quantitative', title: m.title, scale: { zero: false } },
        color: { field: 'order', type: 'nominal', title: 'setting', legend: { symbolType: 'stroke', symbolStrokeWidth: 3 } },
        strokeDash: { field: 'kind', type: 'nominal', title: 'speedup', sort: ['measured', 'theoretical (MACs)'], legend: { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 400 } },
        detail: [{ field: 'order' }, { field: 'kind' }],
        order: { field: 'theoretical', type: 'quantitative' },
      },
    },
    { mark: { type: 'point', filled: true, size: 45 }, encoding: { x: { field: 'speedup', type: 'quantitative' }, y: { field: 'metric', type: 'quantitative' }, color: { field: 'order', type: 'nominal' } } },
    { mark: { type: 'text', dx: 6, dy: -7, fontSize: 10, align: 'left' }, encoding: { x: { field: 'speedup', type: 'quantitative' }, y: { field: 'metric', type: 'quantitative' }, text: { field: 'label' }, color: { field: 'order', type: 'nominal' } } },
  ];
  const base0 = report.baseline[m.field];
  if (base0 !== null && Number.isFinite(base0)) {
    layers.push({ data: { values: [{ speedup: 1, metric: base0 * m.scale, label: 'original' }] }, layer: [
      { mark: { type: 'point', shape: 'diamond', size: 90, filled: true, color: 'black' }, encoding: { x: { field: 'speedup', type: 'quantitative' }, y: { field: 'metric', type: 'quantitative' } } },
      { mark: { type: 'text', dx: 7, dy: 10, align: 'left', fontSize: 10 }, encoding: { x: { field: 'speedup', type: 'quantitative' }, y: { field: 'metric', type: 'quantitative' }, text: { field: 'label' } } },
    ] });
  }
  if (opts.threshold !== undefined) {
    layers.push({ data: { values: [{ y: opts.threshold }] }, mark: { type: 'rule', color: '#b33', strokeDash: [2, 2] }, encoding: { y: { field: 'y', type: 'quantitative' } } });
  }
  const subtitle = report.task === 'classification'
    ? `${report.data} (${report.evaluation.n} images); solid: measured, dashed: theoretical (MACs)`
    : `${report.data} (${report.evaluation.n} photos); solid: measured, dashed: theoretical (MACs)`;
  return { ...base(`${m.title.replace(/ \(.*\)$/, '')} vs speedup — ${shortName(report.model)}`, subtitle), width: 460, height: 300, data: { values }, layer: layers };
}

/** Measured against theoretical speedup per setting, with the y = x line a perfect runtime would reach. */
export function speedupRatioSpec(report: SweepReport): VegaLiteSpec {
  const values = report.rows.map((r) => ({ order: series(r), label: rowLabel(r), theoretical: r.theoreticalSpeedup, measured: r.measuredSpeedup }));
  const hi = Math.max(1, ...values.map((v) => Math.max(v.theoretical, v.measured)));
  return {
    ...base(`Measured vs theoretical speedup — ${shortName(report.model)}`, `${report.backend}${report.threads ? `, ${report.threads} threads` : ''}, batch ${report.latency.batchSize}, input ${report.latency.inputShape.join('×')}; grey line: measured = theoretical`),
    width: 360,
    height: 300,
    layer: [
      { data: { values: [{ x: 1, y: 1 }, { x: hi, y: hi }] }, mark: { type: 'line', color: '#999', strokeDash: [4, 3] }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
      {
        data: { values },
        layer: [
          { mark: { type: 'line', point: { filled: true, size: 45 } }, encoding: { x: { field: 'theoretical', type: 'quantitative', title: 'theoretical speedup (MACs, ×)' }, y: { field: 'measured', type: 'quantitative', title: 'measured speedup (×)' }, color: { field: 'order', type: 'nominal', title: 'setting' }, order: { field: 'theoretical', type: 'quantitative' } } },
          { mark: { type: 'text', dx: 6, dy: -7, fontSize: 10, align: 'left' }, encoding: { x: { field: 'theoretical', type: 'quantitative' }, y: { field: 'measured', type: 'quantitative' }, text: { field: 'label' }, color: { field: 'order', type: 'nominal' } } },
        ],
      },
    ],
  };
}

/** Per-layer kernel error ‖W − Ŵ‖/‖W‖ against T, one panel per order. */
export function kernelErrorSpec(report: SweepReport): VegaLiteSpec {
  return {
    ...base(`Kernel error vs rank T, per layer — ${shortName(report.model)}`, '‖W − Ŵ‖_F / ‖W‖_F of each decoupled layer (BatchNorm folded)'),
    data: { values: report.kernelErrors.map((p) => ({ ...p, kernelRelErrorPct: p.kernelRelError * 100 })) },
    facet: { column: { field: 'order', type: 'nominal', title: null } },
    spec: {
      width: 300,
      height: 220,
      mark: { type: 'line', point: { size: 20 }, strokeWidth: 1.5 },
      encoding: {
        x: { field: 'rank', type: 'quantitative', title: 'rank T', axis: { tickMinStep: 1 } },
        y: { field: 'kernelRelErrorPct', type: 'quantitative', title: 'kernel error (%)' },
        color: { field: 'layer', type: 'nominal', title: 'layer', sort: null },
      },
    },
  };
}

/** A readable model name for titles: "esrgan-slim/models/x2" rather than "x2" or "model.json". */
export function shortName(model: string): string {
  const parts = model.split(/[\\/]/).filter(Boolean);
  if (parts[parts.length - 1]?.endsWith('.json')) parts.pop();
  const out = [parts.pop() ?? model];
  while (parts.length && /^(x\d+|models?|\d+)$/i.test(out[0])) out.unshift(parts.pop() as string);
  return out.join('/');
}

/** SVG text of a vega-lite spec (no scripts, no external references; fonts by family name). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of a vega-lite spec at `scale` × its CSS size (notebooks show PNG, docs/notebooks.md). */
export async function renderPng(spec: VegaLiteSpec, scale = 2): Promise<Buffer> {
  const svg = await renderSvg(spec);
  const { createCanvas, Image } = await import('@napi-rs/canvas');
  const img = new Image();
  img.src = Buffer.from(svg);
  const canvas = createCanvas(Math.ceil(img.width * scale), Math.ceil(img.height * scale));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return canvas.toBuffer('image/png');
}

export interface SweepCharts {
  accuracy: VegaLiteSpec;
  ratio: VegaLiteSpec;
  kernelError: VegaLiteSpec;
}

export function sweepCharts(report: SweepReport, opts: { threshold?: number } = {}): SweepCharts {
  return { accuracy: accuracySpeedupSpec(report, opts), ratio: speedupRatioSpec(report), kernelError: kernelErrorSpec(report) };
}
