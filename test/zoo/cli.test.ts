/**
 * `netdecouple zoo list / build`, as a user runs it (`node dist/cli/main.js`, built by `npm test`):
 * the built folder is an ordinary TF.js LayersModel — it loads through loadGraph like any user
 * model, counts the same, and converts (exact at T = k²); bad requests fail with one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZOO } from '../../src/models/zoo/index.js';
import { loadGraph } from '../../src/models/load.js';
import { graphCosts, learnedParams, totalCost } from '../../src/models/cost.js';
import { convertGraph } from '../../src/convert/convert.js';
import { runGraph } from '../../src/eval/tfjs-run.js';
import { useBackend } from '../../src/eval/backend.js';
import { gaussianArray } from '../../src/decompose/random.js';
import { relL2 } from './helpers.js';
import { runCli, MAIN, ROOT } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  await useBackend('wasm');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zoo-cli-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});


/** One CLI run; resolves with stdout, rejects with the stderr text when the exit status is not 0. */
async function cli(...args: string[]): Promise<string> {
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('netdecouple zoo', () => {
  it('list names every architecture with its published figures', async () => {
    const text = await cli('zoo', 'list');
    for (const z of ZOO) expect(text).toContain(z.name);
    const json = JSON.parse(await cli('zoo', 'list', '--json')) as { name: string; publishedMacs: number }[];
    expect(json.map((z) => z.name)).toEqual(ZOO.map((z) => z.name));
  });

  it('build writes a LayersModel that loads, counts and converts like any other (ND at T = k² is exact)', async () => {
    const out = path.join(dir, 'r18');
    const report = JSON.parse(await cli('zoo', 'build', 'resnet18', '-o', out, '--resolution', '64', '--classes', '10', '--classifier', 'linear', '--json'));
    expect((await fs.readdir(out)).sort()).toEqual(['model.json', 'weights.bin']);
    const graph = await loadGraph(out);
    const totals = totalCost(graphCosts(graph));
    expect(report.macs).toBe(totals.macs);
    expect(report.params).toBe(totals.params);
    expect(report.learnedParams).toBe(learnedParams(graph));
    expect(report.published).toBeNull(); // not the native 224², 1000-class configuration

    const { graph: nd, layers } = convertGraph(graph, { order: 'dw-pw', rank: 9, keepUnprofitable: true });
    expect(layers.length).toBeGreaterThan(10);
    const x = { shape: [1, 64, 64, 3], data: gaussianArray(64 * 64 * 3, 2) };
    const [want] = await runGraph(graph, x);
    const [got] = await runGraph(nd, x);
    expect(got.shape).toEqual([1, 10]);
    expect(relL2(got.data, want.data)).toBeLessThan(1e-4);
  });

  it('build compares with the published figures at the native configuration', async () => {
    const out = path.join(dir, 'mnv3s');
    const text = await cli('zoo', 'build', 'mobilenet_v3_small', '-o', out);
    expect(text).toMatch(/mobilenet_v3_small: [\d.]+ M MACs \(published 56\.00 M, [+-][\d.]+%\)/);
  });

  it('build with --weights reuses a saved model\'s weights at another resolution', async () => {
    const src = path.join(dir, 'src');
    const copy = path.join(dir, 'copy');
    await cli('zoo', 'build', 'mobilenet_v2', '-o', src, '--alpha', '0.35', '--resolution', '96', '--seed', '3');
    await cli('zoo', 'build', 'mobilenet_v2', '-o', copy, '--alpha', '0.35', '--resolution', '128', '--weights', src);
    // Buffer.equals: vitest's deep toEqual walks megabytes one element at a time.
    expect((await fs.readFile(path.join(copy, 'weights.bin'))).equals(await fs.readFile(path.join(src, 'weights.bin')))).toBe(true);
  });

  it('refuses unknown architectures and options that do not apply, writing nothing', async () => {
    await expect(cli('zoo', 'build', 'alexnet', '-o', path.join(dir, 'x'))).rejects.toThrow(/^exit 1: netdecouple: unknown zoo model "alexnet"; choose one of [^\n]*\n$/);
    await expect(cli('zoo', 'build', 'resnet50', '-o', path.join(dir, 'x'), '--alpha', '0.5')).rejects.toThrow(/^exit 1: netdecouple: resnet50 has no width multiplier[^\n]*\n$/);
    await expect(fs.stat(path.join(dir, 'x'))).rejects.toThrow();
  });
});
