import { describe, it, expect, beforeAll } from 'vitest';
import { useWasm } from '../helpers/tfjs.js';
import { esrgan } from '../../src/models/packaged.js';
import { loadGraph } from '../../src/models/load.js';
import { convertGraph } from '../../src/convert/convert.js';
import { runGraph } from '../../src/eval/tfjs-run.js';
import { readPng } from '../../src/eval/image.js';
import { compareOutputs } from '../../src/eval/metrics.js';
import type { Graph } from '../../src/models/ir.js';

let graph: Graph;
let input: { shape: number[]; data: Float32Array };

beforeAll(async () => {
  await useWasm();
  const m = esrgan('slim', 2);
  graph = await loadGraph(m.modelJson);
  const img = await readPng(m.fixture);
  // A 64×64 crop of the package's photo keeps the test fast.
  const data = new Float32Array(64 * 64 * 3);
  for (let y = 0; y < 64; y++) data.set(img.data.subarray((y + 32) * img.width * 3 + 32 * 3, (y + 32) * img.width * 3 + 96 * 3), y * 64 * 3);
  input = { shape: [1, 64, 64, 3], data };
});

describe('esrgan-slim, a real pretrained model', () => {
  for (const order of ['dw-pw', 'pw-dw'] as const) {
    it(`${order} at full rank reproduces the original output (max |Δ| ≤ 1e-2 on 0–255, PSNR > 80 dB)`, async () => {
      const conv = convertGraph(graph, { order, energy: 1, keepUnprofitable: true });
      expect(conv.layers.map((l) => l.name)).toEqual(['F_0', 'F_1_1', 'F_2_1', 'GFF_2', 'UPN1', 'UPN2', 'UPN3', 'SR']);
      for (const l of conv.layers) expect(l.kernelRelError).toBeLessThan(1e-5);
      const [y] = await runGraph(graph, input);
      const [z] = await runGraph(conv.graph, input);
      const cmp = compareOutputs(y.data, z.data, 255);
      expect(cmp.maxAbsDiff).toBeLessThanOrEqual(1e-2);
      expect(cmp.psnrDb).toBeGreaterThan(80);
    });
  }

  it('kernel error falls monotonically as T grows, on every decoupled layer, both orders', () => {
    for (const order of ['dw-pw', 'pw-dw'] as const) {
      const errs = new Map<string, number[]>();
      for (let t = 1; t <= 9; t++) {
        const conv = convertGraph(graph, { order, rank: t, keepUnprofitable: true, layers: ['F_0', 'GFF_2', 'UPN1', 'UPN2'] });
        for (const l of conv.layers) errs.set(l.name, [...(errs.get(l.name) ?? []), l.kernelRelError]);
      }
      expect(errs.size).toBe(4);
      for (const [name, e] of errs) {
        for (let i = 1; i < e.length; i++) expect(e[i], `${order} ${name} T=${i + 1}`).toBeLessThan(e[i - 1]);
      }
    }
  });

  it('model output error falls as T grows (dw-pw, T = 2, 5, 9)', async () => {
    const [y] = await runGraph(graph, input);
    const errs: number[] = [];
    for (const t of [2, 5, 9]) {
      const [z] = await runGraph(convertGraph(graph, { rank: t, keepUnprofitable: true }).graph, input);
      errs.push(compareOutputs(y.data, z.data, 255).relL2);
    }
    expect(errs[1]).toBeLessThan(errs[0]);
    expect(errs[2]).toBeLessThan(errs[1]);
  });

  it('keeps convs whose decomposition would cost more MACs, and says why', () => {
    const conv = convertGraph(graph, { rank: 4 });
    const kept = new Map(conv.kept.map((k) => [k.name, k.reason]));
    expect(kept.get('F_m1')).toMatch(/input channels/);
    expect(kept.get('LFF_1')).toMatch(/1×1/);
    expect(kept.get('F_1_1')).toMatch(/would cost 1\.44×/); // N = 4: (64·4·9 + 64·4·4) / (4·64·9)
    expect(conv.layers.map((l) => l.name)).toContain('F_0');
  });
});
