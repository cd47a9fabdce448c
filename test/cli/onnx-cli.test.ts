/**
 * The CLI on .onnx files, as a user runs it (`node dist/cli/main.js`, built by `npm test`):
 * `inspect` and `convert` work on ONNX, `convert` writes model.onnx + report.json measured on
 * onnxruntime; bad files fail with exactly one `netdecouple:` line on stderr, exit ≠ 0, and leave
 * no output folder (nor its hidden temp sibling) behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DenseNode, Graph } from '../../src/models/ir.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import { onnxToGraph } from '../../src/models/onnx/read.js';
import { onnx, type ITensorProto } from '../../src/models/onnx/proto.js';
import { mulberry32 } from '../../src/decompose/random.js';
import { buildModel, conv, floatInit, graph, input, onnxNode, randn, rmDir, run, tmpDir, valueInfo } from '../onnx/helpers.js';
import { cli, expectCleanFailure, inPairs, MAIN, ROOT, type CliResult } from '../helpers/cli.js';


let dir: string;
let modelFile: string;
const model: Graph = graph(
  [
    input('x', [8, 12, 12]),
    conv('conv1', 'x', { cin: 8, cout: 16, k: [3, 3], padding: 'same', activation: 'relu', seed: 1 }),
    conv('conv2', 'conv1', { cin: 16, cout: 16, k: [3, 3], strides: [2, 2], padding: 'same', seed: 2 }),
  ],
  ['conv2'],
);

beforeAll(() => {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npm run build; npm test does it)`);
  dir = tmpDir();
  modelFile = path.join(dir, 'x.onnx');
  fs.writeFileSync(modelFile, graphToOnnx(model));
});
afterAll(() => rmDir(dir));

describe('netdecouple CLI on ONNX models', () => {
  it('inspect x.onnx lists the convs, their MACs and whether they can be decoupled', async () => {
    const [text, r] = await Promise.all([cli('inspect', modelFile), cli('inspect', modelFile, '--json')]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/conv1\s+conv2d\s+3×3×8×16/);
    expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(r.stdout) as { layout: string; layers: { name: string; op: string; decouplable: boolean; macs: number }[] };
    expect(data.layout).toBe('NCHW');
    const convs = data.layers.filter((l) => l.op === 'conv2d');
    expect(convs.map((l) => [l.name, l.decouplable])).toEqual([['conv1', true], ['conv2', true]]);
    expect(convs[0].macs).toBe(12 * 12 * 16 * 8 * 9);
  });

  it('convert x.onnx -o dir --rank 2 --json writes a runnable model.onnx and report.json measured on ORT', async () => {
    const out = path.join(dir, 'converted');
    const r = await cli('convert', modelFile, '-o', out, '--rank', '2', '--threads', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['model.onnx', 'report.json']);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(JSON.parse(r.stdout)).toEqual(report);
    expect(report.backend).toBe('ort');
    expect(report.layers.map((l: { name: string; rank: number }) => [l.name, l.rank])).toEqual([['conv1', 2], ['conv2', 2]]);
    expect(report.totals.theoreticalSpeedup).toBeGreaterThan(1);
    expect(report.output.relL2).toBeGreaterThan(0);
    expect(report.output.relL2).toBeLessThan(1);

    // The written file: stock ORT runs it, netdecouple reads it, names stay traceable.
    const bytes = fs.readFileSync(path.join(out, 'model.onnx'));
    const names = onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.name);
    expect(names).toEqual(expect.arrayContaining(['conv1/dw0', 'conv1/dw1', 'conv1/pw', 'conv2/dw0', 'conv2/pw']));
    expect(onnxToGraph(bytes).outputs).toHaveLength(1);
    const y = await run(bytes, { shape: [1, 8, 12, 12], data: randn(8 * 144, 3) });
    expect(y.shape).toEqual([1, 16, 6, 6]);
  });

  it('eval, bench and sweep take .onnx too (a Fashion-MNIST-shaped NCHW classifier, measured on ORT)', async () => {
    // NCHW [1, 28, 28]: the same bytes as the NHWC images, so the Fashion-MNIST loader feeds it as is.
    const head: DenseNode = { op: 'dense', name: 'logits', inputs: ['gap'], weight: { shape: [10, 16], data: randn(160, 4, 0.3) }, bias: null, activation: 'linear' };
    const classifier = graph(
      [
        input('input', [1, 28, 28]),
        conv('c1', 'input', { cin: 1, cout: 8, k: [3, 3], strides: [2, 2], padding: { pads: [1, 1, 1, 1] }, activation: 'relu', seed: 5 }),
        conv('c2', 'c1', { cin: 8, cout: 16, k: [3, 3], padding: { pads: [1, 1, 1, 1] }, activation: 'relu', seed: 6 }),
        { op: 'globalAvgPool', name: 'gap', inputs: ['c2'], keepDims: false },
        head,
      ],
      ['logits'],
    );
    const file = path.join(dir, 'fm.onnx');
    fs.writeFileSync(file, graphToOnnx(classifier));
    const exact = path.join(dir, 'fm-exact');
    const sweepOut = path.join(dir, 'fm-sweep');
    const [converted, bench, sweep] = await Promise.all([
      cli('convert', file, '-o', exact, '--energy', '1', '--keep-unprofitable', '--threads', '1', '--json'),
      cli('bench', file, '--rank', '2', '--runs', '10', '--warmup', '1', '--threads', '1', '--max-seconds', '2', '--json'),
      cli('sweep', file, '--data', 'fashion-mnist:100', '-o', sweepOut, '--ranks', '2', '--orders', 'dw-pw', '--runs', '10', '--warmup', '1', '--threads', '1', '--max-seconds', '2', '--json'),
    ]);
    expect(converted.code, converted.stderr).toBe(0);
    const ev = await cli('eval', path.join(exact, 'model.onnx'), '--data', 'fashion-mnist:100', '--against', file, '--threads', '1', '--json');
    expect(ev.code, ev.stderr).toBe(0);
    const evReport = JSON.parse(ev.stdout);
    expect(evReport.backend).toBe('ort');
    expect(evReport.classification.n).toBe(100);
    expect(evReport.classification.agreement).toBe(1); // τ = 1 is exact: same predictions

    expect(bench.code, bench.stderr).toBe(0);
    const b = JSON.parse(bench.stdout);
    expect(b.backend).toBe('ort');
    expect(b.threads).toBe(1);
    expect(b.theoreticalSpeedup).toBeGreaterThan(1);
    expect(b.measuredSpeedup).toBeGreaterThan(0);
    expect(b.layers.map((l: { name: string }) => l.name)).toEqual(['c2']);

    expect(sweep.code, sweep.stderr).toBe(0);
    expect(JSON.parse(sweep.stdout).backend).toBe('ort');
    expect(fs.readdirSync(sweepOut)).toEqual(expect.arrayContaining(['sweep.json', 'sweep.csv', 'report.html']));
  });

  describe('bad input: one line on stderr, exit ≠ 0, nothing written', () => {
    const convModel = (o: { weight?: ITensorProto | null } = {}): Uint8Array => {
      const w = o.weight === undefined ? floatInit('W', [4, 4, 3, 3], randn(144, 1)) : o.weight;
      return buildModel({
        inputs: [valueInfo('x', ['N', 4, 6, 6])],
        outputs: [valueInfo('y', ['N', 4, 4, 4])],
        initializers: w ? [w] : [],
        nodes: [onnxNode('Conv', ['x', 'W'], ['y'], { kernel_shape: [3, 3] }, 'conv1')],
      });
    };

    const cases: { name: string; write: (d: string) => string; message: RegExp }[] = [
      {
        name: 'random bytes named .onnx',
        write: (d) => {
          const rand = mulberry32(7);
          const f = path.join(d, 'random.onnx');
          fs.writeFileSync(f, Uint8Array.from({ length: 512 }, () => Math.floor(rand() * 256)));
          return f;
        },
        message: /random\.onnx: (not an ONNX model|truncated or corrupt ONNX file|not a usable ONNX model)/,
      },
      {
        name: 'a truncated file',
        write: (d) => {
          const bytes = graphToOnnx(model);
          const f = path.join(d, 'truncated.onnx');
          fs.writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
          return f;
        },
        message: /truncated\.onnx: truncated/,
      },
      {
        name: 'a Conv whose weight initializer is missing',
        write: (d) => {
          const f = path.join(d, 'noweight.onnx');
          fs.writeFileSync(f, convModel({ weight: null }));
          return f;
        },
        message: /Conv node "conv1": weight "W" is not an initializer/,
      },
      {
        name: 'external data pointing outside the model folder (../x.bin)',
        write: (d) => {
          fs.writeFileSync(path.join(d, 'x.bin'), Buffer.alloc(4 * 144));
          const sub = path.join(d, 'model');
          fs.mkdirSync(sub);
          const f = path.join(sub, 'external.onnx');
          const w: ITensorProto = {
            name: 'W',
            dims: [4, 4, 3, 3],
            dataType: 1,
            dataLocation: 1,
            externalData: [{ key: 'location', value: '../x.bin' }],
          };
          fs.writeFileSync(f, convModel({ weight: w }));
          return f;
        },
        message: /external data location "\.\.\/x\.bin" points outside the model folder/,
      },
      {
        name: 'a 10⁹-element declared tensor',
        write: (d) => {
          const f = path.join(d, 'huge.onnx');
          fs.writeFileSync(f, convModel({ weight: { name: 'W', dims: [1000, 1000, 1000], dataType: 1, rawData: new Uint8Array(16) } }));
          return f;
        },
        message: /declares 1000000000 elements/,
      },
    ];

    // All runs first, two at a time; each case then checks its own. `inspect` goes through the
    // same reader, so one bad file shows it fails the same way (each CLI start costs ~0.7 s of CPU).
    const results = new Map<string, { convert: CliResult; inspect?: CliResult; out: string }>();
    beforeAll(async () => {
      const files = cases.map((c) => {
        const d = fs.mkdtempSync(path.join(dir, 'bad-'));
        return { file: c.write(d), out: path.join(d, 'out') };
      });
      const runs = await inPairs([...files.map(({ file, out }) => ['convert', file, '-o', out, '--rank', '2']), ['inspect', files[0].file]], (args) => cli(...args));
      cases.forEach((c, i) => results.set(c.name, { convert: runs[i], out: files[i].out, ...(i === 0 ? { inspect: runs[cases.length] } : {}) }));
    });

    for (const c of cases) {
      it(c.name, () => {
        const { convert, inspect, out } = results.get(c.name)!;
        expectCleanFailure(convert, c.message, out);
        if (inspect) {
          expect(inspect.code).not.toBe(0);
          expect(inspect.stderr).toMatch(new RegExp(`^netdecouple: .*${c.message.source}.*\n$`));
        }
      });
    }
  });
});
