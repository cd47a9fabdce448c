/**
 * The Ghost data fit (src/eval/calibrate-ghost.ts) reports the real errors of the layer it rebuilds:
 * with every pixel sampled, its before / after figures equal the layer's pre-activation error
 * against the original conv, computed independently (direct-loop convolution for the target,
 * onnxruntime on the graph before and after); the rebuilt layer is kept only when lower, and its
 * report (primaries, mean R²) describes the new layer. Small NCHW graph, onnxruntime, in process.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { conv, convNodeRef, graph, input, type T4 } from '../onnx/helpers.js';
import { convertGraph } from '../../src/convert/convert.js';
import { createEngine, type Engine } from '../../src/eval/engine.js';
import { calibrate } from '../../src/eval/calibrate.js';
import { gaussianArray } from '../../src/decompose/random.js';
import { RidgeAccumulator } from '../../src/decompose/least-squares.js';
import type { Graph, Node } from '../../src/models/ir.js';
import type { Batch } from '../../src/eval/tfjs-run.js';
import { relError } from '../helpers/output-error.js';

const c1 = conv('a', 'x', { cin: 4, cout: 8, k: [3, 3], padding: 'same', activation: 'relu', seed: 31 });
const c2 = conv('b', 'a', { cin: 8, cout: 8, k: [3, 3], padding: 'same', activation: 'relu', seed: 32 });
const g = graph([input('x', [4, 8, 8]), c1, c2], ['b']);
// 2 batches × 2 images × 64 pixels: fewer than the rows a layer samples, so every pixel is used.
const batches: Batch[] = [1, 2].map((s) => ({ shape: [2, 4, 8, 8], data: gaussianArray(2 * 4 * 8 * 8, 200 + s, 1) }));
let engine: Engine;

beforeAll(async () => {
  engine = await createEngine('ort', 'NCHW', { threads: 1 });
});

const cat = (xs: ArrayLike<number>[]) => Float32Array.from(xs.flatMap((x) => Array.from(x)));

/** The layer's pre-activation output: the node before its activation, or its last conv made linear. */
async function preActivation(gr: Graph, output: string, x: Batch): Promise<Float32Array> {
  const out = gr.nodes.find((n) => n.name === output) as Node;
  const name = out.op === 'activation' ? out.inputs[0] : output;
  const nodes = gr.nodes.map((n) => (n.name === name && n.op === 'conv2d' ? { ...n, activation: 'linear' as const } : n));
  const p = await engine.prepare({ ...gr, nodes }, [name]);
  const [y] = await p.run(x);
  await p.dispose();
  return y.data;
}

/** Regular filters in a layer's replacement: its primary and solo convs. */
function regularFilters(gr: Graph, names: string[]): number {
  return gr.nodes.filter((n) => names.includes(n.name) && /\/(primary|solo)$/.test(n.name)).reduce((s, n) => s + (n.op === 'conv2d' ? n.kernel.shape[0] : 0), 0);
}

/** The original network's output at layer b before its activation (direct loops). */
const target = cat(batches.map((x) => {
  const a = convNodeRef(x as T4, c1);
  return convNodeRef({ ...a, data: a.data.map((v) => Math.max(v, 0)) }, c2).data;
}));

async function outputs(gr: Graph, name: string): Promise<Float32Array> {
  const p = await engine.prepare(gr, [name]);
  const ys = await Promise.all(batches.map(async (x) => (await p.run(x))[0].data));
  await p.dispose();
  return cat(ys);
}

describe('Ghost data fit: the figures are the rebuilt layer\'s', () => {
  // Both layers converted: the second one's input is the converted first layer's output, so its
  // primaries' refit is not exact and every term of its error counts. Ghosts explaining less than
  // 20 % of their variance are promoted to solo primaries, so the layers have both kinds.
  const cv = convertGraph(g, { method: 'ghost', ghost: { fit: 'data', minR2: 0.2 }, keepUnprofitable: true, minInChannels: 0 });

  // Guards against an error measured after the activation, on other rows, without the primaries'
  // residual, or of the weight-space primaries instead of the refit ones; against a report that
  // describes the old layer; and against a rebuilt layer that lost the conv's activation.
  it('before / after are layer b\'s pre-activation errors before and after; lower; the report and the ReLU are the new layer\'s', async () => {
    const cal = await calibrate(engine, cv, batches, { seed: 1 });
    const report = cal.layers.find((l) => l.name === 'b');
    const [aBefore, before] = cv.layers;
    const [aAfter, after] = cal.conversionLayers;
    expect(report?.skipped).toBeUndefined();
    // "Before" is measured on the graph calibration had reached: layer a rebuilt, layer b as converted.
    const rewire = (i: string) => (i === aBefore.output ? aAfter.output : i);
    const bNodes = cv.graph.nodes.filter((n) => before.replacedBy.includes(n.name)).map((n) => ({ ...n, inputs: n.inputs.map(rewire) }) as Node);
    const atB = { ...cal.graph, nodes: [...cal.graph.nodes.filter((n) => !after.replacedBy.includes(n.name)), ...bNodes], outputs: [before.output] };
    const yBefore = cat(await Promise.all(batches.map((x) => preActivation(atB, before.output, x))));
    const yAfter = cat(await Promise.all(batches.map((x) => preActivation(cal.graph, after.output, x))));
    expect(report?.relErrorBefore).toBeCloseTo(relError(target, yBefore), 4);
    expect(report?.relErrorAfter).toBeCloseTo(relError(target, yAfter), 4);
    expect(report?.relErrorAfter as number).toBeLessThan(report?.relErrorBefore as number);
    expect(after.ghost?.fit).toBe('data');
    expect(after.ghost?.primaries).toBe(regularFilters(cal.graph, after.replacedBy));
    expect(cal.graph.nodes.some((n) => n.name === 'b/solo') && cal.graph.nodes.some((n) => n.name === 'b/primary')).toBe(true);
    const r2 = after.ghost?.meanR2 as number;
    expect(r2).toBeGreaterThan(0);
    expect(r2).toBeLessThanOrEqual(1);
    await expectRelu(cal.graph, [aAfter.output, after.output]);
  });

  // Guards against an error measured after a fused activation: with every ghost promoted (minimum
  // R² 0.95 here) each layer is the original conv, ReLU fused, and its pre-activation error is 0.
  it('a layer that is one conv with its activation fused: errors measured before the activation', async () => {
    const solo = convertGraph(g, { method: 'ghost', ghost: { fit: 'data', minR2: 0.95 }, keepUnprofitable: true, minInChannels: 0 });
    expect(solo.graph.nodes.map((n) => n.name)).toEqual(['x', 'a/solo', 'b/solo']);
    const cal = await calibrate(engine, solo, batches, { seed: 1 });
    for (const l of cal.layers) expect(l.relErrorBefore as number, l.name).toBeLessThan(1e-6);
    expect(cal.graph).toEqual(solo.graph);
    await expectRelu(cal.graph, ['a/solo', 'b/solo']);
  });

  // Guards against keeping a rebuilt layer that is worse than the one it replaces.
  it('a data fit that makes the layer worse is reported as worse, flagged, and not kept', async () => {
    // A fault injected on purpose: the primaries' refit returns −3 × the current weights.
    vi.spyOn(RidgeAccumulator.prototype, 'solve').mockImplementation((w0: Float64Array, b0: Float64Array) => ({ weight: w0.map((v) => -3 * v), bias: b0 }));
    const cal = await calibrate(engine, cv, batches, { seed: 1 });
    vi.restoreAllMocks();
    for (const l of cal.layers) {
      expect(l.relErrorAfter as number, l.name).toBeGreaterThan(l.relErrorBefore as number);
      expect(l.skipped, l.name).toMatch(/did not lower the error; kept the weight-space fit/);
    }
    expect(cal.graph).toEqual(cv.graph);
    expect(cal.conversionLayers).toEqual(cv.layers);
  });
});

/** Each named layer output is the ReLU of its pre-activation output. */
async function expectRelu(gr: Graph, names: string[]): Promise<void> {
  for (const name of names) {
    const pre = cat(await Promise.all(batches.map((x) => preActivation(gr, name, x))));
    const out = await outputs(gr, name);
    expect(Array.from(out), name).toEqual(Array.from(pre, (v) => Math.max(v, 0)));
  }
}
