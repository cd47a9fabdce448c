/**
 * Bad files fail at the boundary with one clear line each, before anything large is allocated.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnxToGraph, readOnnx } from '../../src/models/onnx/read.js';
import { mulberry32 } from '../../src/decompose/random.js';
import { buildModel, floatInit, onnxNode, randn, rmDir, tmpDir, valueInfo } from './helpers.js';
import type { ITensorProto } from '../../src/models/onnx/proto.js';

function convModel(o: { weight?: ITensorProto | null; opset?: number; extraNodes?: ReturnType<typeof onnxNode>[]; inputType?: number } = {}): Uint8Array {
  const w = o.weight === undefined ? floatInit('W', [2, 3, 3, 3], randn(54, 1)) : o.weight;
  return buildModel({
    opset: o.opset,
    inputs: [valueInfo('x', ['N', 3, 6, 6], o.inputType)],
    outputs: [valueInfo('y', ['N', 2, 4, 4])],
    initializers: w ? [w] : [],
    nodes: [...(o.extraNodes ?? []), onnxNode('Conv', ['x', 'W'], ['y'], { kernel_shape: [3, 3] }, 'conv1')],
  });
}

/** Runs `f`, returns the error message; fails the test when nothing is thrown or it spans lines. */
function message(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    const msg = (err as Error).message;
    expect(msg.includes('\n'), `multi-line message: ${msg}`).toBe(false);
    return msg;
  }
  throw new Error('expected an error');
}

describe('refuses bad ONNX input with one clear line', () => {
  it('a valid model loads (control)', () => {
    const g = onnxToGraph(convModel());
    expect(g.nodes.map((n) => n.op)).toEqual(['input', 'conv2d']);
  });

  it('random bytes: not an ONNX model', () => {
    const rand = mulberry32(42);
    for (let trial = 0; trial < 20; trial++) {
      const bytes = Uint8Array.from({ length: 64 + trial * 50 }, () => Math.floor(rand() * 256));
      expect(message(() => onnxToGraph(bytes))).toMatch(/^(not an ONNX model|truncated or corrupt ONNX file|not a usable ONNX model)/);
    }
  });

  it('an empty file', () => {
    expect(message(() => onnxToGraph(new Uint8Array(0)))).toMatch(/not an ONNX model: the file is empty/);
  });

  it('a truncated file', () => {
    const bytes = convModel();
    for (const frac of [0.3, 0.5, 0.9]) {
      expect(message(() => onnxToGraph(bytes.subarray(0, Math.floor(bytes.length * frac))))).toMatch(/truncated/);
    }
  });

  it('a Conv whose weight initializer is missing', () => {
    expect(message(() => onnxToGraph(convModel({ weight: null })))).toMatch(
      /Conv node "conv1": weight "W" is not an initializer in the model; dynamic conv weights are unsupported/,
    );
  });

  it('a Conv whose weight is computed by another node', () => {
    const bytes = buildModel({
      inputs: [valueInfo('x', ['N', 3, 6, 6])],
      outputs: [valueInfo('y', ['N', 2, 4, 4])],
      initializers: [floatInit('W0', [2, 3, 3, 3], randn(54, 1))],
      nodes: [onnxNode('Neg', ['W0'], ['W'], {}, 'neg'), onnxNode('Conv', ['x', 'W'], ['y'], {}, 'conv1')],
    });
    expect(message(() => onnxToGraph(bytes))).toMatch(/weight "W" is computed by another node; dynamic conv weights are unsupported/);
  });

  it('a 10⁹-element declared tensor fails on its header, without allocating it', () => {
    const huge: ITensorProto = { name: 'W', dims: [1000, 1000, 1000], dataType: 1, rawData: new Uint8Array(16) };
    const before = process.memoryUsage().arrayBuffers;
    expect(message(() => onnxToGraph(convModel({ weight: huge })))).toMatch(
      /initializer "W": declares 1000000000 elements \(\[1000, 1000, 1000\]\), over the 268435456 limit/,
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
  });

  it('a dims product that overflows 2^53 is refused the same way', () => {
    const huge: ITensorProto = { name: 'W', dims: [2 ** 40, 2 ** 40], dataType: 1, rawData: new Uint8Array(4) };
    expect(message(() => onnxToGraph(convModel({ weight: huge })))).toMatch(/over the 268435456 limit/);
  });

  it('raw_data whose byte count does not match the dims', () => {
    const bad: ITensorProto = { name: 'W', dims: [2, 3, 3, 3], dataType: 1, rawData: new Uint8Array(8) };
    expect(message(() => onnxToGraph(convModel({ weight: bad })))).toMatch(/initializer "W": raw_data has 8 bytes but shape \[2, 3, 3, 3\] of FLOAT needs 216/);
    const short: ITensorProto = { name: 'W', dims: [2, 3, 3, 3], dataType: 1, floatData: [1, 2, 3] };
    expect(message(() => onnxToGraph(convModel({ weight: short })))).toMatch(/has 3 stored values but shape \[2, 3, 3, 3\] needs 54/);
  });

  it('opset 9', () => {
    expect(message(() => onnxToGraph(convModel({ opset: 9 })))).toMatch(/ONNX opset 9 is too old: netdecouple reads opset ≥ 11/);
  });

  it('NaN and Inf weights', () => {
    for (const bad of [NaN, Infinity]) {
      const data = randn(54, 1);
      data[7] = bad;
      expect(message(() => onnxToGraph(convModel({ weight: floatInit('W', [2, 3, 3, 3], data) })))).toMatch(
        new RegExp(`Conv node "conv1": weight "W": value ${bad} at index 7; weights must be finite`),
      );
    }
  });

  it('an unsupported weight dtype (INT8)', () => {
    const q: ITensorProto = { name: 'W', dims: [2, 3, 3, 3], dataType: 3, rawData: new Uint8Array(54) };
    expect(message(() => onnxToGraph(convModel({ weight: q })))).toMatch(/weight "W": data type INT8 is unsupported for weights; netdecouple reads float32 weights/);
  });

  it('a non-float graph input', () => {
    expect(message(() => onnxToGraph(convModel({ inputType: 7 })))).toMatch(/graph input "x" has element type INT64/);
  });

  it('readOnnx names the file in its errors', async () => {
    const dir = tmpDir();
    try {
      const file = path.join(dir, 'junk.onnx');
      fs.writeFileSync(file, 'this is not a protobuf, just text');
      await expect(readOnnx(file)).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (not an ONNX model|truncated)`));
    } finally {
      rmDir(dir);
    }
  });
});
