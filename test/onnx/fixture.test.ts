/**
 * The committed fixture is exactly what its generator produces, reads into the expected IR, and
 * writes back to a model with the same outputs. Regenerate with UPDATE_FIXTURES=1.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { readOnnx } from '../../src/models/onnx/read.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import { TINY_CNN_FILE, tinyCnnOnnx } from './fixture-model.js';
import { expectClose, randn, run } from './helpers.js';

describe('test/fixtures/onnx/tiny-cnn.onnx', () => {
  it('matches its generator byte for byte', () => {
    const bytes = tinyCnnOnnx();
    if (process.env.UPDATE_FIXTURES === '1') fs.writeFileSync(TINY_CNN_FILE, bytes);
    expect(Buffer.from(fs.readFileSync(TINY_CNN_FILE)).equals(Buffer.from(bytes)), 'stale fixture: rerun with UPDATE_FIXTURES=1').toBe(true);
    expect(bytes.length).toBeLessThan(8 * 1024);
  });

  it('reads into IR ops and writes back with identical outputs', async () => {
    const g = await readOnnx(TINY_CNN_FILE);
    expect(g.name).toBe('g');
    expect(g.nodes.map((n) => n.op)).toEqual([
      'input', 'conv2d', 'batchNorm', 'activation', 'conv2d', 'activation', 'conv2d', 'add', 'activation', 'globalAvgPool', 'flatten', 'dense',
    ]);
    expect(g.nodes.filter((n) => n.op === 'conv2d').map((n) => n.name)).toEqual(['/conv1/Conv', '/conv2/Conv', '/conv3/Conv']);
    const x = { shape: [2, 3, 16, 16], data: randn(2 * 768, 9) };
    expectClose(await run(graphToOnnx(g), x), await run(fs.readFileSync(TINY_CNN_FILE), x), 1e-6);
  });
});
