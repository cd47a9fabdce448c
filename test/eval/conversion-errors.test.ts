/**
 * The per-layer error figures users read in report.json, checked against an independent computation:
 * `convertModel()` called as a library on a small ONNX model (onnxruntime), and every
 * outputRelError / accumulatedRelError / totals figure recomputed here with direct-loop convolutions
 * of the kernels nd.ts reconstructs (no runtime, no graph rewrite, no conversion-errors.ts), and MACs
 * counted by hand from the README's formula H_out·W_out·N·(C/groups)·kh·kw.
 * Also `--layers` globs and `--skip /regex/` as library options, and that the input file is left
 * byte-identical.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conv, convNodeRef, graph, input, map, rmDir, tmpDir, type T4 } from '../onnx/helpers.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import { convertModel, type ConvertModelResult } from '../../src/pipeline.js';
import { decouple, reconstruct } from '../../src/decompose/nd.js';
import type { Conv2DNode } from '../../src/models/ir.js';
import { relError } from '../helpers/output-error.js';

const dir = tmpDir();
afterAll(() => rmDir(dir));

const H = 8;
const W = 8;
// Three 3×3 convs, names chosen so globs and regexes can tell them apart.
const c1 = conv('blk1_conv', 'x', { cin: 4, cout: 8, k: [3, 3], padding: 'same', activation: 'relu', seed: 11 });
const c2 = conv('blk2_conv', 'blk1_conv', { cin: 8, cout: 8, k: [3, 3], padding: 'same', activation: 'relu', seed: 12 });
const c3 = conv('head', 'blk2_conv', { cin: 8, cout: 6, k: [3, 3], padding: 'same', seed: 13 });
const model = path.join(dir, 'three.onnx');
fs.writeFileSync(model, graphToOnnx(graph([input('x', [4, H, W]), c1, c2, c3], ['head'])));
const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const modelHash = sha(model);


const relu = (x: T4) => map(x, (v) => Math.max(v, 0));
/** The layer with its kernel replaced by ND's rank-T reconstruction Ŵ (nd.ts, Eckart–Young-tested on its own). */
const approx = (node: Conv2DNode, rank: number): Conv2DNode => ({ ...node, kernel: reconstruct(decouple(node.kernel, { order: 'dw-pw', rank }), node.kernel.shape) });
// ONNX stores Conv and Relu as two nodes, so a layer's output (where its errors are measured) is
// the conv's, before the ReLU; the next layer reads it after the ReLU.
const layer = (node: Conv2DNode, x: T4) => convNodeRef(x, { ...node, activation: 'linear' });
const next = (node: Conv2DNode, y: T4) => (node.activation === 'relu' ? relu(y) : y);

describe('convertModel() as a library: report.json per-layer errors against an independent computation', () => {
  const RANK = 2;
  const out = path.join(dir, 'out');
  let result: ConvertModelResult;
  let saved: { layers: { name: string; outputRelError: number; accumulatedRelError: number; macsBefore: number; macsAfter: number }[]; totals: { macsBefore: number; macsAfter: number }; output: { relL2: number; dataRange: number; psnrDb: number; maxAbsDiff: number } };
  // Converted on first use inside a test rather than in beforeAll, so the mutation run
  // (docs/testing.md) sees which test reaches which code.
  let done: Promise<void> | null = null;
  const converted = () =>
    (done ??= (async () => {
      result = await convertModel(model, { order: 'dw-pw', rank: RANK, backend: 'ort', threads: 1, outDir: out, seed: 4 });
      saved = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    })());

  // Guards against report figures that exist but are wrong: zeroed, swapped (local ↔ accumulated),
  // taken at the wrong layer or measured on the converted network's own input for the local figure.
  it('outputRelError (layer alone, reference input) and accumulatedRelError (through the converted net) match direct loops', async () => {
    await converted();
    const x = result.input?.batch as T4;
    expect(saved.layers.map((l) => l.name)).toEqual(['blk1_conv', 'blk2_conv', 'head']);
    let ref = x;
    let conv = x;
    for (const [i, node] of [c1, c2, c3].entries()) {
      const yRef = layer(node, ref);
      const local = layer(approx(node, RANK), ref);
      const yConv = layer(approx(node, RANK), conv);
      const l = saved.layers[i];
      expect(l.outputRelError, node.name).toBeGreaterThan(1e-3); // rank 2 of 9 is far from exact: a zero would be wrong
      expect(l.outputRelError, node.name).toBeCloseTo(relError(yRef.data, local.data), 4);
      expect(l.accumulatedRelError, node.name).toBeCloseTo(relError(yRef.data, yConv.data), 4);
      ref = next(node, yRef);
      conv = next(node, yConv);
    }
    // Past the first layer, the accumulated error is not the local one (the two are told apart).
    expect(Math.abs(saved.layers[2].accumulatedRelError - saved.layers[2].outputRelError)).toBeGreaterThan(1e-3);
    expect(saved.output.relL2).toBeCloseTo(relError(ref.data, conv.data), 4);
    // No --input image: PSNR is stated over the reference output's peak-to-peak range (not 255).
    const range = Math.max(...ref.data) - Math.min(...ref.data);
    expect(range).toBeLessThan(100);
    expect(saved.output.dataRange).toBeCloseTo(range, 4);
    const mse = ref.data.reduce((a, v, i) => a + (v - conv.data[i]) ** 2, 0) / ref.data.length;
    expect(saved.output.psnrDb).toBeCloseTo(10 * Math.log10(range ** 2 / mse), 3);
    expect(saved.output.maxAbsDiff).toBeCloseTo(Math.max(...ref.data.map((v, i) => Math.abs(v - conv.data[i]))), 4);
    // The report returned and the report written are the same figures.
    expect(result.report.layers.map((l) => l.outputRelError)).toEqual(saved.layers.map((l) => l.outputRelError));
  });

  // Guards against a wrong cost formula or totals that do not add up (the README's speedup column).
  it('MACs per layer and in total are the hand count: conv H·W·N·C·k², DW→PW H·W·C·T·k² + H·W·N·C·T', async () => {
    await converted();
    const convMacs = (C: number, N: number) => H * W * N * C * 9;
    const ndMacs = (C: number, N: number) => H * W * C * RANK * 9 + H * W * N * C * RANK;
    const dims = [[4, 8], [8, 8], [8, 6]];
    dims.forEach(([C, N], i) => {
      expect(saved.layers[i].macsBefore).toBe(convMacs(C, N));
      expect(saved.layers[i].macsAfter).toBe(ndMacs(C, N));
    });
    expect(saved.totals.macsBefore).toBe(dims.reduce((a, [C, N]) => a + convMacs(C, N), 0));
    expect(saved.totals.macsAfter).toBe(dims.reduce((a, [C, N]) => a + ndMacs(C, N), 0));
  });

  it('leaves the input model byte-identical', async () => {
    await converted();
    expect(sha(model)).toBe(modelHash);
  });
});

describe('--layers globs and --skip /regex/ (library options, as the CLI passes them)', () => {
  const replaced = async (opts: { layers?: string[]; skip?: string[] }) => {
    const r = await convertModel(model, { rank: 2, evaluate: false, ...opts });
    return { layers: r.conversion.layers.map((l) => l.name), kept: r.report.kept.map((k) => k.name) };
  };

  // Guards against globs taken as regexes ('blk?_conv' would then match 'blk_conv'/'blkconv' only)
  // or anchored wrongly (a substring match would let '*conv' pick up more than it says).
  it('`?` matches one character, `*` any run, and the match is on the whole name', async () => {
    expect((await replaced({ layers: ['blk?_conv'] })).layers).toEqual(['blk1_conv', 'blk2_conv']);
    expect((await replaced({ layers: ['*2*', 'he*'] })).layers).toEqual(['blk2_conv', 'head']);
    expect((await replaced({ layers: ['blk1'] }).catch((e: Error) => e.message))).toMatch(/--layers "blk1" matches no layer of the model/);
    expect((await replaced({ layers: ['blk1_con?'] })).layers).toEqual(['blk1_conv']);
  });

  // Guards against /…/ being read as a glob, its flags dropped, or --skip not overriding --layers.
  it('/regex/ is a regular expression with flags, unanchored; --skip wins over --layers', async () => {
    const skipped = await replaced({ skip: ['/^blk\\d_/'] });
    expect(skipped.layers).toEqual(['head']);
    expect(skipped.kept).toEqual(['blk1_conv', 'blk2_conv']);
    expect((await replaced({ skip: ['/HEAD|2_c/i'] })).layers).toEqual(['blk1_conv']);
    expect((await replaced({ layers: ['blk*'], skip: ['/2/'] })).layers).toEqual(['blk1_conv']);
    expect(sha(model)).toBe(modelHash);
  });
});
