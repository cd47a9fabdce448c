/**
 * External-data initializers: read from files inside the model folder only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Conv2DNode } from '../../src/models/ir.js';
import { onnxToGraph, readOnnx } from '../../src/models/onnx/read.js';
import { writeOnnx } from '../../src/models/onnx/write.js';
import { buildModel, floatInit, onnxNode, randn, rmDir, run, tmpDir, valueInfo, convNodeRef, expectClose } from './helpers.js';
import type { ITensorProto } from '../../src/models/onnx/proto.js';

const W = randn(2 * 3 * 3 * 3, 5);

function externalWeight(location: string, offset = 16): ITensorProto {
  return {
    name: 'W',
    dims: [2, 3, 3, 3],
    dataType: 1,
    dataLocation: 1,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(W.byteLength) },
    ],
  };
}

function model(weight: ITensorProto): Uint8Array {
  return buildModel({
    inputs: [valueInfo('x', ['N', 3, 5, 5])],
    outputs: [valueInfo('y', ['N', 2, 3, 3])],
    initializers: [weight],
    nodes: [onnxNode('Conv', ['x', 'W'], ['y'], {}, 'conv')],
  });
}

/** Weight bytes after a 16-byte header, as a data file with several tensors would hold them. */
function dataFile(): Buffer {
  return Buffer.concat([Buffer.alloc(16, 0xab), Buffer.from(W.buffer, W.byteOffset, W.byteLength)]);
}

let dir: string;
beforeEach(() => {
  dir = tmpDir();
});
afterEach(() => rmDir(dir));

describe('external data', () => {
  it('reads weights from a file in the model folder (offset honoured); writing inlines them', async () => {
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'data', 'w.bin'), dataFile());
    const file = path.join(dir, 'model.onnx');
    fs.writeFileSync(file, model(externalWeight('data/w.bin')));
    const g = await readOnnx(file);
    const c = g.nodes.find((n) => n.op === 'conv2d') as Conv2DNode;
    expect(Array.from(c.kernel.data)).toEqual(Array.from(W));

    const out = path.join(dir, 'out', 'inline.onnx');
    await writeOnnx(g, out);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['inline.onnx']); // no temp file left behind
    const xin = { shape: [1, 3, 5, 5], data: randn(75, 6) };
    expectClose(await run(fs.readFileSync(out), xin), convNodeRef(xin, c));
  });

  it('rejects a location escaping the folder with ..', () => {
    fs.writeFileSync(path.join(dir, 'x.bin'), dataFile());
    const sub = path.join(dir, 'model');
    fs.mkdirSync(sub);
    expect(() => onnxToGraph(model(externalWeight('../x.bin')), { baseDir: sub })).toThrow(
      /initializer "W": external data location "..\/x.bin" points outside the model folder/,
    );
    expect(() => onnxToGraph(model(externalWeight('a/../../x.bin')), { baseDir: sub })).toThrow(/points outside the model folder/);
  });

  it('rejects an absolute location', () => {
    const abs = path.join(dir, 'w.bin');
    fs.writeFileSync(abs, dataFile());
    expect(() => onnxToGraph(model(externalWeight(abs)), { baseDir: dir })).toThrow(/external data location ".*w.bin" is an absolute path/);
  });

  it('rejects a symlink inside the folder that points outside it', () => {
    const outside = tmpDir();
    try {
      fs.writeFileSync(path.join(outside, 'w.bin'), dataFile());
      fs.symlinkSync(path.join(outside, 'w.bin'), path.join(dir, 'w.bin'));
      expect(() => onnxToGraph(model(externalWeight('w.bin')), { baseDir: dir })).toThrow(/is a link to .*, outside the model folder/);
    } finally {
      rmDir(outside);
    }
  });

  it('reports a missing or short data file, and a model given as bytes without its folder', () => {
    expect(() => onnxToGraph(model(externalWeight('nope.bin')), { baseDir: dir })).toThrow(/external data file "nope.bin" not found/);
    fs.writeFileSync(path.join(dir, 'short.bin'), Buffer.alloc(40));
    expect(() => onnxToGraph(model(externalWeight('short.bin')), { baseDir: dir })).toThrow(/the data file is truncated/);
    expect(() => onnxToGraph(model(externalWeight('w.bin')))).toThrow(/no model folder is known; load it with readOnnx\(path\)/);
  });

  it('a raw-data tensor and the same tensor as external data decode identically', () => {
    fs.writeFileSync(path.join(dir, 'w.bin'), dataFile());
    const ext = onnxToGraph(model(externalWeight('w.bin')), { baseDir: dir });
    const raw = onnxToGraph(model(floatInit('W', [2, 3, 3, 3], W)));
    const k = (g: typeof ext) => Array.from((g.nodes.find((n) => n.op === 'conv2d') as Conv2DNode).kernel.data);
    expect(k(ext)).toEqual(k(raw));
  });
});
