/**
 * `compare` (src/eval/compare.ts, src/report/compare.ts): on a two-layer graph whose kernels have known structure —
 * one exactly spatially separable at K = 2, one of Tucker-2 ranks [4, 3] — the method built for
 * each structure reaches ~0 error and wins at 4×; every method gets a point at
 * each of 2×, 3×, 4× it can reach; the exact curves (ND, spatial) never rise as MACs grow; output
 * errors run through a real runtime; the SVGs render.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasm } from '../helpers/tfjs.js';
import { compareGraph, type CompareReport } from '../../src/eval/compare.js';
import { compareFiles, compareSpec, compareTable } from '../../src/report/compare.js';
import { createRunner } from '../../src/eval/runner.js';
import { METHODS } from '../../src/convert/methods.js';
import type { Conv2DNode, Graph } from '../../src/models/ir.js';
import type { Tensor } from '../../src/decompose/tensor.js';
import { randomKernel, tuckerKernel } from '../decompose/synthetic.js';
import { randn } from '../onnx/helpers.js';

beforeAll(useWasm);

function spatialKernel(shape: [number, number, number, number], K: number, seed: number): Tensor {
  const [N, C, kh, kw] = shape;
  const v = randomKernel([K, C * kh], seed).data;
  const h = randomKernel([K, N * kw], seed + 1).data;
  const data = new Float32Array(N * C * kh * kw);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) {
          let x = 0;
          for (let k = 0; k < K; k++) x += v[k * C * kh + c * kh + i] * h[k * N * kw + n * kw + j];
          data[((n * C + c) * kh + i) * kw + j] = x;
        }
  return { shape, data };
}

const conv = (name: string, input: string, kernel: Tensor): Conv2DNode => ({
  op: 'conv2d', name, inputs: [input], kernel, bias: null, strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 1, activation: 'linear',
});

const graph: Graph = {
  name: 'structured', layout: 'NHWC', inputs: ['x'], outputs: ['tucker'],
  nodes: [
    { op: 'input', name: 'x', inputs: [], shape: [10, 10, 12], dtype: 'float32' },
    conv('sep', 'x', spatialKernel([12, 12, 3, 3], 2, 1)),
    conv('tucker', 'sep', tuckerKernel([16, 12, 3, 3], [4, 3], 2)),
  ],
};

describe('compare on kernels of known structure', () => {
  let report: CompareReport;
  beforeAll(async () => {
    report = await compareGraph(graph, { gridSize: 12 });
  });

  it('the spatially separable kernel is won by spatial, the Tucker one by tucker2, with ~0 error', () => {
    const [sep, tucker] = report.layers;
    for (const at of sep.atReduction) {
      // At 2× CP4 (R ≤ 2·3·3 is exact for this kernel) may tie at ~0; spatial must be exact everywhere.
      const w = at.byMethod[at.winner as keyof typeof at.byMethod];
      expect(w?.kernelRelError, `sep ${at.reduction}×`).toBeLessThan(1e-5);
      expect(at.byMethod.spatial?.kernelRelError).toBeLessThan(1e-5);
    }
    expect(sep.atReduction.find((a) => a.reduction === 4)?.winner).toBe('spatial');
    const at4 = tucker.atReduction.find((a) => a.reduction === 4);
    expect(at4?.winner).toBe('tucker2');
    expect(at4?.byMethod.tucker2?.kernelRelError).toBeLessThan(1e-5);
    expect(report.winnerBy).toBe('kernelRelError');
    expect(report.wins.find((w) => w.reduction === 4)?.counts).toEqual({ spatial: 1, tucker2: 1 });
  });

  it('every method is compared at each reduction it can reach, at no more than its MAC budget', () => {
    for (const l of report.layers) {
      for (const at of l.atReduction) {
        for (const m of METHODS) {
          const b = at.byMethod[m];
          if (b) expect(b.macs * at.reduction, `${l.name} ${m} ${at.reduction}×`).toBeLessThanOrEqual(l.macsBefore);
        }
        // CP and Tucker-2 reach 4× on these shapes.
        expect(at.byMethod.cp, `${l.name} cp ${at.reduction}×`).not.toBeNull();
        expect(at.byMethod.tucker2, `${l.name} tucker2 ${at.reduction}×`).not.toBeNull();
      }
    }
  });

  it('ND and spatial errors never rise as more MACs are kept', () => {
    for (const l of report.layers) {
      for (const m of ['nd', 'spatial'] as const) {
        const pts = l.points.filter((p) => p.method === m).sort((a, b) => a.macs - b.macs);
        for (let i = 1; i < pts.length; i++) expect(pts[i].kernelRelError, `${l.name} ${m}`).toBeLessThanOrEqual(pts[i - 1].kernelRelError + 1e-6);
      }
    }
  });

  it('renders a table and one SVG per layer', async () => {
    const t = compareTable(report);
    expect(t).toMatch(/sep .*2×/);
    expect(t).toMatch(/layers won: 2×: /);
    const files = await compareFiles(report, (r) => JSON.stringify(r));
    expect(Object.keys(files).sort()).toEqual(['compare.json', 'sep.svg', 'tucker.svg']);
    expect(files['sep.svg']).toMatch(/^<svg/);
    expect(JSON.stringify(compareSpec(report, report.layers[0]))).toContain('spatial');
  });
});

describe('compare with output errors', () => {
  it('measures every point on an input and picks winners by output error', async () => {
    const runner = await createRunner('wasm', 'NHWC');
    const input = { shape: [1, 10, 10, 12], data: randn(1200, 3) };
    const r = await compareGraph(graph, { methods: ['nd', 'spatial', 'tucker2'], gridSize: 6, layers: ['sep'], outputs: { runner, input, description: 'randn seed 3' } });
    expect(r.winnerBy).toBe('outputRelError');
    expect(r.backend).toBe('wasm');
    const l = r.layers[0];
    expect(l.points.every((p) => p.outputRelError !== null && Number.isFinite(p.outputRelError))).toBe(true);
    // The exact spatial point is exact on outputs too.
    expect(Math.min(...l.points.filter((p) => p.method === 'spatial').map((p) => p.outputRelError as number))).toBeLessThan(1e-5);
    expect(l.atReduction[0].winner).toBe('spatial');
  });
});
