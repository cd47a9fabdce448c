/**
 * The latency harness: what it times and reports, not how fast anything is. The replaced layers
 * of an in-process conversion and of a converted model read back from disk (names `conv__dw…`)
 * are paired with their convs; MAC counts and ratios are consistent; the run-count floor holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { graphFromLayersModel } from '../../src/models/tfjs/from-model.js';
import { loadGraph } from '../../src/models/load.js';
import { layersModelFiles } from '../../src/models/tfjs/load.js';
import type { Graph } from '../../src/models/ir.js';
import { convertGraph } from '../../src/convert/convert.js';
import { createEngine } from '../../src/eval/engine.js';
import { benchLatency, copiesFor, layerGraphs, randomBatch, replacedLayers, replicate } from '../../src/eval/latency.js';
import { createRunner } from '../../src/eval/runner.js';
import { inputNodeOf } from '../../src/eval/inputs.js';
import { tinyClassifier, tinyUpscaler } from './small-models.js';

let original: Graph;
let tmp: string;

beforeAll(async () => {
  original = await graphFromLayersModel(tinyClassifier());
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-latency-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('replacedLayers', () => {
  it('pairs every decoupled conv with its replacement, in memory and read back from model.json', async () => {
    const conv = convertGraph(original, { rank: 2 });
    const inMemory = replacedLayers(original, conv.graph);
    expect(inMemory.map((p) => p.conv.name)).toEqual(conv.layers.map((l) => l.name));
    expect(inMemory.map((p) => p.nodes.map((n) => n.name))).toEqual(conv.layers.map((l) => l.replacedBy));

    const dir = path.join(tmp, 'converted');
    fs.mkdirSync(dir);
    for (const [f, c] of Object.entries(layersModelFiles(conv.graph))) fs.writeFileSync(path.join(dir, f), c);
    const saved = replacedLayers(original, await loadGraph(path.join(dir, 'model.json')));
    expect(saved.map((p) => p.conv.name)).toEqual(conv.layers.map((l) => l.name));
    expect(saved.map((p) => p.nodes.length)).toEqual(inMemory.map((p) => p.nodes.length));
    expect(saved.every((p) => p.nodes.every((n) => n.name.startsWith(`${p.conv.name}__`)))).toBe(true);
  });
});

describe('replicate', () => {
  it('r copies of a layer in one graph give r outputs, each the single layer\'s output', async () => {
    const conv = convertGraph(original, { rank: 2 });
    const [pair] = replacedLayers(original, conv.graph);
    // The first replaced layer runs at the input resolution (28²) on its C input channels.
    const [, b] = layerGraphs(pair, [28, 28, pair.conv.kernel.shape[1]], original.layout);
    const runner = await createRunner('ort', original.layout, { threads: 1 });
    const x = randomBatch(inputNodeOf(b).shape as number[], 1, 2, [-1, 1]);
    const [one] = await runner.run(b, x);
    const three = await runner.run(replicate(b, 3), x);
    expect(three).toHaveLength(3);
    for (const y of three) expect(Array.from(y.data)).toEqual(Array.from(one.data));
    expect(copiesFor(1e9)).toBe(1);
    expect(copiesFor(1e3)).toBe(4);
  });
});

describe('benchLatency', () => {
  it('on ORT: whole model and per layer, theoretical speedup from MACs, ratio = measured / theoretical', async () => {
    const engine = await createEngine('ort', original.layout, { threads: 1 });
    const conv = convertGraph(original, { rank: 1 });
    const r = await benchLatency(engine, original, conv.graph, { batchSize: 2, runs: 10, warmup: 1, maxSeconds: 2 });
    expect(r.backend).toBe('ort');
    expect(r.batchSize).toBe(2);
    expect(r.inputShape).toEqual([28, 28, 1]);
    // At least the requested runs, more until the speedup's interval is narrow enough (or the cap).
    expect(r.original.timing.runs).toBeGreaterThanOrEqual(10);
    expect(r.converted!.timing.runs).toBe(r.original.timing.runs);
    const [lo, hi] = r.speedupInterval as [number, number];
    expect(lo).toBeLessThanOrEqual(r.measuredSpeedup as number);
    expect(hi).toBeGreaterThanOrEqual(r.measuredSpeedup as number);
    expect(r.original.timing.p10Ms).toBeLessThanOrEqual(r.original.timing.medianMs);
    expect(r.original.timing.medianMs).toBeLessThanOrEqual(r.original.timing.p90Ms);
    expect(r.theoreticalSpeedup).toBeCloseTo((r.original.macs as number) / (r.converted!.macs as number), 12);
    expect(r.ratio).toBeCloseTo((r.measuredSpeedup as number) / (r.theoreticalSpeedup as number), 12);
    expect(r.layers.map((l) => l.name)).toEqual(conv.layers.map((l) => l.name));
    for (const l of r.layers) {
      const [kh, kw, c, n] = l.kernel;
      const [h, w] = l.inputShape; // 'same', stride 1: output size = input size
      expect(l.macsBefore).toBe(h * w * n * c * kh * kw);
      expect(l.macsAfter).toBe(h * w * (c * kh * kw + c * n)); // dw-pw, T = 1
      expect(l.theoreticalSpeedup).toBeCloseTo(l.macsBefore / l.macsAfter, 12);
      expect(l.ratio).toBeCloseTo(l.measuredSpeedup / l.theoreticalSpeedup, 12);
      expect(l.speedupInterval[0]).toBeLessThanOrEqual(l.measuredSpeedup);
      expect(l.speedupInterval[1]).toBeGreaterThanOrEqual(l.measuredSpeedup);
    }
    expect(r.layerLayout).toBe('NCHW'); // ORT per-layer graphs carry no layout transposes
    expect(JSON.parse(JSON.stringify(r))).toEqual(r); // plain JSON
  });

  it('on tfjs-wasm: times the model alone when there is nothing to compare', async () => {
    const engine = await createEngine('wasm', original.layout);
    const r = await benchLatency(engine, original, null, { runs: 10, warmup: 1 });
    expect(r.backend).toBe('wasm');
    expect(r.threads).toBeNull();
    expect(r.converted).toBeNull();
    expect(r.measuredSpeedup).toBeNull();
    expect(r.original.timing.medianMs).toBeGreaterThan(0);
  });

  it('refuses fewer than 10 timed runs and free input sizes without --input-shape', async () => {
    const engine = await createEngine('ort', original.layout, { threads: 1 });
    await expect(benchLatency(engine, original, null, { runs: 5 })).rejects.toThrow(/--runs 5: at least 10 timed runs/);
    const upscaler = await graphFromLayersModel(tinyUpscaler());
    await expect(benchLatency(engine, upscaler, null)).rejects.toThrow(/free dimensions: give --input-shape H,W/);
    const r = await benchLatency(engine, upscaler, convertGraph(upscaler, { rank: 2 }).graph, { inputShape: [16, 16, 3], runs: 10, warmup: 1 });
    expect(r.inputShape).toEqual([16, 16, 3]);
    expect(r.input).toMatch(/\[0, 255\]/); // RGB inputs are timed on pixel-range values
  });
});
