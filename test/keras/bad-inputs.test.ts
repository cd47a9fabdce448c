/**
 * Every broken Keras file of ./bad-inputs.ts: one error line naming the file (and the layer where
 * there is one), nothing written. All cases run in-process through convertModel (the CLI's whole
 * job); two go through the built CLI too, for the "netdecouple: …" line and exit status 1.
 */
import { loadGraph } from '../../src/models/load.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { convertModel } from '../../src/pipeline.js';
import { inPairs, runCli } from '../helpers/cli.js';
import { KERAS_BAD_INPUTS } from './bad-inputs.js';

let dir: string;
const files = new Map<string, string>();

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nd-keras-bad-'));
  for (const c of KERAS_BAD_INPUTS) files.set(c.name, await c.make(dir));
});

describe('broken Keras files give one error line and write nothing', () => {
  it.each(KERAS_BAD_INPUTS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const file = files.get(c.name) as string;
    const out = path.join(dir, `out-${path.basename(file)}`);
    const error = await convertModel(file, { rank: 2, evaluate: false, outDir: out }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(path.basename(file));
    expect(message).toMatch(c.error);
    expect(existsSync(out)).toBe(false);
  });
});

describe('through the CLI', () => {
  const cases = ['malformed HDF5 (.h5 of random bytes)', 'NaN in a .keras weight'];
  it(`${cases.join('; ')}: exit 1, one "netdecouple:" line on stderr, no output folder`, async () => {
    const runs = await inPairs(cases, async (name) => {
      const file = files.get(name) as string;
      const out = path.join(dir, `cli-${path.basename(file)}`);
      return { out, run: await runCli(['convert', file, '-o', out, '--rank', '2', '--no-eval']) };
    });
    for (const { out, run } of runs) {
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^netdecouple: [^\n]+\n$/);
      expect(run.stdout).toBe('');
      expect(existsSync(out)).toBe(false);
    }
  });
});

// The relayout itself is checked for exactness against onnxruntime in test/models/relayout.test.ts.
it('an ONNX (NCHW) model is written as .keras through the NHWC relayout: same conv kernels, input shape permuted', async () => {
  const out = path.join(dir, 'out-onnx-keras');
  const onnx = path.join(__dirname, '../fixtures/onnx/tiny-cnn.onnx');
  await convertModel(onnx, { rank: 2, evaluate: false, outDir: out, formats: ['keras', 'onnx'] });
  const fromKeras = await loadGraph(path.join(out, 'model.keras'));
  const fromOnnx = await loadGraph(path.join(out, 'model.onnx'));
  expect(fromKeras.layout).toBe('NHWC');
  const inputOf = (g: typeof fromKeras) => g.nodes.find((n) => n.op === 'input') as { shape: (number | null)[] };
  const [c, h, w] = inputOf(fromOnnx).shape;
  expect(inputOf(fromKeras).shape).toEqual([h, w, c]);
  const kernels = (g: typeof fromKeras) => g.nodes.flatMap((n) => (n.op === 'conv2d' ? [Array.from(n.kernel.data)] : []));
  expect(kernels(fromKeras)).toEqual(kernels(fromOnnx));
});
