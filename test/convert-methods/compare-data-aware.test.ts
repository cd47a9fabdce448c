/**
 * `compare` with calibration data (src/eval/compare-data-aware.ts) on fmnist-vgg, 32 images of the
 * Fashion-MNIST training split: per layer, method and point the data-aware layer output error is
 * never above the plain one; at full rank both are ~0; methods without a joint refit get null;
 * each reduction's winner by data-aware error is the least over the points; without calibration
 * data the report has none of the new fields and the same points.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadGraph } from '../../src/models/load.js';
import type { Conv2DNode, Graph } from '../../src/models/ir.js';
import { compareGraph, type CompareOptions, type CompareReport } from '../../src/eval/compare.js';
import { compareFiles, compareSpec, compareTable } from '../../src/report/compare.js';
import { candidateDataAware, layerStatistics, sampleLayerOutputs } from '../../src/eval/compare-data-aware.js';
import { createEngine, type Engine } from '../../src/eval/engine.js';
import { loadCalibrationData, type CalibrationData } from '../../src/eval/calibration-data.js';
import { convertGraph, type ConvertOptions } from '../../src/convert/convert.js';
import { foldBatchNorms } from '../../src/convert/fold-batchnorm.js';

const VGG = path.resolve(__dirname, '../../fixtures/models/fmnist-vgg');
const REFIT = ['nd', 'tucker2', 'spatial', 'cp'] as const;
let engine: Engine;
let graph: Graph;
let data: CalibrationData;

beforeAll(async () => {
  engine = await createEngine('ort', 'NHWC');
  graph = await loadGraph(VGG);
  // Training split only: the evaluation data stays unseen.
  data = await loadCalibrationData('fashion-mnist-train:32', graph);
});

describe('compare --calibrate on fmnist-vgg', () => {
  const base: CompareOptions = { layers: ['conv2_1'], methods: [...REFIT, 'spatial-nd'], gridSize: 4, cpIterations: 5 };
  let plain: CompareReport;
  let aware: CompareReport;
  beforeAll(async () => {
    plain = await compareGraph(graph, base);
    aware = await compareGraph(graph, { ...base, calibration: { engine, batches: data.batches, description: data.description, rounds: 2 } });
  }, 120_000);

  it('per layer, method and point the data-aware output error is never above the plain one', () => {
    const points = aware.layers.flatMap((l) => l.points);
    for (const m of REFIT) expect(points.some((p) => p.method === m), m).toBe(true);
    for (const p of points) {
      if (p.method === 'spatial-nd') {
        expect(p.dataAware).toBeNull();
        continue;
      }
      const d = p.dataAware;
      expect(d, `${p.method} ${p.label}`).toBeTruthy();
      if (!d) continue;
      expect(d.plainRelError).toBeGreaterThan(0);
      expect(d.relError, `${p.method} ${p.label}`).toBeLessThanOrEqual(d.plainRelError);
    }
    // The data buys something somewhere: a low-rank point's refit lowers its error.
    expect(points.some((p) => p.dataAware && p.dataAware.relError < p.dataAware.plainRelError)).toBe(true);
    // The winners' rows carry the same figures as their points.
    for (const l of aware.layers) {
      for (const at of l.atReduction) {
        for (const m of REFIT) {
          const b = at.byMethod[m];
          if (b) expect(b.dataAware).toEqual(l.points.find((p) => p.method === m && p.label === b.label)?.dataAware);
        }
      }
    }
    expect(aware.calibration).toContain('Fashion-MNIST training split');
    expect(compareTable(aware)).toContain('data-aware');
  });

  it('each layer and reduction has a winner by data-aware error: the least over the points that reach it, counted in dataAwareWins', () => {
    for (const l of aware.layers) {
      expect(l.atReduction.map((at) => at.reduction)).toEqual([2, 3, 4]);
      for (const at of l.atReduction) {
        expect(at, `${l.name} ${at.reduction}×`).toHaveProperty('dataAwareWinner');
        // Recomputed from the points: per method, its least data-aware error among points with ≥ the reduction.
        const least = new Map<string, number>();
        for (const p of l.points) {
          if (!p.dataAware || p.macs * at.reduction > l.macsBefore) continue;
          least.set(p.method, Math.min(least.get(p.method) ?? Infinity, p.dataAware.relError));
        }
        const lowest = Math.min(...least.values());
        if (least.size === 0) {
          expect(at.dataAwareWinner).toBeNull();
          continue;
        }
        expect(least.get(at.dataAwareWinner as string), `${l.name} ${at.reduction}×`).toBe(lowest);
        expect(at.dataAwareWinnerPoint?.relError).toBe(lowest);
        const point = l.points.find((p) => p.method === at.dataAwareWinner && p.label === at.dataAwareWinnerPoint?.label);
        expect(point?.macs as number).toBeLessThanOrEqual(l.macsBefore / at.reduction);
      }
    }
    for (const w of aware.dataAwareWins ?? []) {
      const won = aware.layers.map((l) => l.atReduction.find((at) => at.reduction === w.reduction)?.dataAwareWinner).filter((m) => m);
      expect(Object.values(w.counts).reduce((a, b) => a + b, 0)).toBe(won.length);
      for (const [m, n] of Object.entries(w.counts)) expect(won.filter((x) => x === m).length).toBe(n);
    }
    expect(aware.dataAwareWins?.map((w) => w.reduction)).toEqual([2, 3, 4]);
    expect(aware.layers.every((l) => l.atReduction.every((at) => at.dataAwareWinner))).toBe(true);
    expect(compareTable(aware)).toContain('winner by data-aware');
    // The plain winners are unchanged by the calibration data.
    expect(aware.layers.map((l) => l.atReduction.map((at) => at.winner))).toEqual(plain.layers.map((l) => l.atReduction.map((at) => at.winner)));
  });

  it('the chart adds the data-aware curves and still renders', async () => {
    const spec = JSON.stringify(compareSpec(aware, aware.layers[0]));
    expect(spec).toContain('"kind":"data-aware"');
    expect(spec).toContain('winners by plain → data-aware error');
    expect(JSON.stringify(compareSpec(plain, plain.layers[0]))).not.toContain('data-aware');
    const files = await compareFiles(aware, (r) => JSON.stringify(r));
    expect(files['conv2_1.svg']).toContain('<svg');
  });

  it('without calibration data the report has no new fields and the same points', () => {
    expect(plain).not.toHaveProperty('calibration');
    expect(JSON.stringify(plain)).not.toContain('dataAware');
    expect(compareTable(plain)).not.toContain('data-aware');
    const strip = (r: CompareReport) => r.layers.map((l) => l.points.map((p) => [p.method, p.label, p.macs, p.kernelRelError]));
    expect(strip(aware)).toEqual(strip(plain));
  });
});

describe('data-aware errors at full rank', () => {
  const FULL: ConvertOptions[] = [
    { method: 'nd', order: 'dw-pw', rank: 9, layers: ['conv2_2'], keepUnprofitable: true },
    { method: 'tucker2', tuckerRanks: [32, 32], layers: ['conv2_2'], keepUnprofitable: true },
  ];
  for (const opts of FULL) {
    it(`${opts.method}: an exact decomposition has ~0 output error, plain and data-aware`, async () => {
      const ref = foldBatchNorms(graph).graph;
      const conv = ref.nodes.find((n) => n.name === 'conv2_2') as Conv2DNode;
      const converted = convertGraph(graph, opts);
      const layer = converted.layers[0];
      const nodes = converted.graph.nodes.filter((n) => layer.replacedBy.includes(n.name));
      const s = { engine, graph: ref, inputs: data.batches, rounds: 1 };
      const samples = (await sampleLayerOutputs(s, [conv])).get(conv.name);
      if (!samples) throw new Error('no samples');
      const moments = await layerStatistics(s, conv, samples);
      const candidate = { method: layer.method, rank: layer.rank, order: layer.order, form: layer.form, macs: 0, error: 0, errorKind: 'exact' as const, replacement: { nodes, output: layer.output } };
      const d = await candidateDataAware(s, { conv, samples, moments, candidate, order: layer.order });
      expect(d).toBeTruthy();
      expect(d?.plainRelError).toBeLessThan(1e-3);
      expect(d?.relError).toBeLessThan(1e-3);
    }, 60_000);
  }
});
