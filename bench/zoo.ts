/**
 * Decoupled vs designed-separable: every zoo architecture at 224² (batch 1, seeded random weights —
 * speed does not depend on values) timed on onnxruntime (2 threads) and tfjs-wasm (1 thread), and
 * VGG16 / ResNet-18 decoupled by ND (dw-pw, split form) at T = 1, 2, 3 beside them: MACs, learned
 * parameters and measured median ms, side by side. Writes bench/results/zoo.json.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/zoo.js [--models vgg16,resnet18,…] [--ranks 1,2,3]
 *                                                       [--runs N (≥ 10)] [--warmup N] [--no-wasm]
 *
 * Budget on 2 idle cores: ~6 minutes, most of it VGG16 on tfjs-wasm (~4 s per inference, single
 * threaded, 10 runs for each of its 4 variants). Timings taken while other processes load the
 * machine are slower and noisier; the load average is recorded in the result.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ZOO, zooEntry } from '../src/models/zoo/index.js';
import { graphFromLayersModel } from '../src/models/tfjs/from-model.js';
import { graphCosts, learnedParams, totalCost, formatCount } from '../src/models/cost.js';
import type { Graph } from '../src/models/ir.js';
import { convertGraph } from '../src/convert/convert.js';
import { createEngine, type Engine } from '../src/eval/engine.js';
import type { TimingStats } from '../src/eval/timing.js';
import { gaussianArray } from '../src/decompose/random.js';
import { renderTable } from '../src/report/table.js';
import { machine } from './machine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULT = path.join(ROOT, 'bench', 'results', 'zoo.json');

/** regular = built from full convs; designed-separable = the architecture's own depthwise blocks; decoupled = ND of a regular one. */
export type ZooBenchKind = 'regular' | 'designed-separable' | 'decoupled';

export interface ZooBenchRow {
  model: string;
  kind: ZooBenchKind;
  /** ND rank T for decoupled rows, else null. */
  rank: number | null;
  macs: number;
  learnedParams: number;
  /** Convs replaced by ND (decoupled rows). */
  replacedConvs: number | null;
  ort: TimingStats;
  wasm: TimingStats | null;
  /** MACs of the original over MACs of this row (decoupled rows). */
  theoreticalSpeedup: number | null;
  /** median(original) / median(this row), per runtime (decoupled rows). */
  measuredSpeedupOrt: number | null;
  measuredSpeedupWasm: number | null;
}

export interface ZooBenchResult {
  tool: 'netdecouple';
  kind: 'zoo-latency';
  machine: Record<string, unknown>;
  resolution: number;
  batchSize: 1;
  order: 'dw-pw';
  form: 'split';
  ortThreads: number;
  rows: ZooBenchRow[];
}

export interface ZooBenchOptions {
  models?: string[];
  /** ND ranks for the decoupled VGG16 / ResNet-18 rows; default 1, 2, 3. */
  ranks?: number[];
  runs?: number;
  warmup?: number;
  /** Also time on tfjs-wasm (default true). */
  wasm?: boolean;
  onStep?: (label: string) => void;
}

/** The regular-conv models the decoupled rows are made from. */
const DECOUPLE = new Set(['vgg16', 'resnet18']);
const REGULAR = new Set(['vgg16', 'resnet18', 'resnet50']);


async function timeOn(engine: Engine, graph: Graph, input: { shape: number[]; data: Float32Array }, o: { runs: number; warmup: number }): Promise<TimingStats> {
  const prepared = await engine.prepare(graph);
  try {
    return await prepared.time(input, o);
  } finally {
    await prepared.dispose();
  }
}

export async function runZooBench(opts: ZooBenchOptions = {}): Promise<ZooBenchResult> {
  const models = (opts.models ?? ZOO.map((z) => z.name)).map((m) => zooEntry(m).name);
  const ranks = opts.ranks ?? [1, 2, 3];
  const timing = { runs: opts.runs ?? 10, warmup: opts.warmup ?? 2 };
  const step = opts.onStep ?? (() => undefined);
  const resolution = 224;
  const input = { shape: [1, resolution, resolution, 3], data: gaussianArray(resolution * resolution * 3, 1) };
  const ort = await createEngine('ort', 'NHWC', { threads: 2 });
  // Engines share one tfjs backend per process: wasm for timing, and for building the models.
  const wasm = opts.wasm === false ? null : await createEngine('wasm', 'NHWC');
  const result: ZooBenchResult = { tool: 'netdecouple', kind: 'zoo-latency', machine: machine(), resolution, batchSize: 1, order: 'dw-pw', form: 'split', ortThreads: 2, rows: [] };

  for (const name of models) {
    step(`${name}: build`);
    const model = zooEntry(name).build({ seed: 1, classifierActivation: 'linear' });
    let graph: Graph;
    try {
      graph = await graphFromLayersModel(model);
    } finally {
      model.dispose();
    }
    const macsOf = (g: Graph) => totalCost(graphCosts(g)).macs as number;
    const measure = async (label: string, g: Graph) => {
      step(`${label}: onnxruntime`);
      const o = await timeOn(ort, g, input, timing);
      step(`${label}: tfjs-wasm`);
      const w = wasm ? await timeOn(wasm, g, input, timing) : null;
      return { o, w };
    };
    const base = await measure(name, graph);
    const original: ZooBenchRow = {
      model: name, kind: REGULAR.has(name) ? 'regular' : 'designed-separable', rank: null, macs: macsOf(graph), learnedParams: learnedParams(graph), replacedConvs: null,
      ort: base.o, wasm: base.w, theoreticalSpeedup: null, measuredSpeedupOrt: null, measuredSpeedupWasm: null,
    };
    result.rows.push(original);
    if (!DECOUPLE.has(name)) continue;
    for (const rank of ranks) {
      const conv = convertGraph(graph, { order: 'dw-pw', rank, form: 'split' });
      const t = await measure(`${name} ND T=${rank}`, conv.graph);
      const macs = macsOf(conv.graph);
      result.rows.push({
        model: name, kind: 'decoupled', rank, macs, learnedParams: learnedParams(conv.graph), replacedConvs: conv.layers.length,
        ort: t.o, wasm: t.w, theoreticalSpeedup: original.macs / macs,
        measuredSpeedupOrt: base.o.medianMs / t.o.medianMs, measuredSpeedupWasm: base.w && t.w ? base.w.medianMs / t.w.medianMs : null,
      });
    }
  }
  return result;
}

const fx = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '—' : x.toFixed(d));
const ms = (t: TimingStats | null) => (t ? `${fx(t.medianMs, t.medianMs < 100 ? 1 : 0)} (${fx(t.p10Ms, 0)}–${fx(t.p90Ms, 0)})` : '—');

/** The table, rendered from the result JSON: decoupled rows sit under the model they come from. */
export function zooTable(r: ZooBenchResult): { headers: string[]; rows: string[][]; caption: string } {
  const headers = ['model', 'kind', 'MACs', 'params', 'ORT ms (p10–p90)', 'wasm ms (p10–p90)', 'theoretical ×', 'ORT ×', 'wasm ×', 'ORT MACs/µs'];
  const rows = [...r.rows]
    .sort((a, b) => b.macs - a.macs)
    .map((x) => [
      x.kind === 'decoupled' ? `${x.model} ND T=${x.rank}` : x.model,
      x.kind,
      formatCount(x.macs),
      formatCount(x.learnedParams),
      ms(x.ort),
      ms(x.wasm),
      fx(x.theoreticalSpeedup),
      fx(x.measuredSpeedupOrt),
      fx(x.measuredSpeedupWasm),
      fx(x.macs / (x.ort.medianMs * 1000), 0),
    ]);
  const m = r.machine;
  const caption = `Zoo at ${r.resolution}², batch 1, random weights; ORT ${r.ortThreads} threads, tfjs-wasm 1 thread; ND ${r.order}, ${r.form}; ` +
    `median of ${r.rows[0]?.ort.runs ?? '?'} runs after ${r.rows[0]?.ort.warmup ?? '?'} warm-up. ${String(m.cpu)}, ${String(m.cores)} cores, load average ${String(m.loadAverage1m)} at start. ` +
    '× = median(original) / median(decoupled); MACs/µs = how much of the MAC count the runtime turns into speed.';
  return { headers, rows, caption };
}

function parseArgs(argv: string[]): ZooBenchOptions {
  const o: ZooBenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    const nums = () => v.split(',').map((s) => Number(s.trim()));
    if (argv[i] === '--models') {
      o.models = v.split(',').map((s) => s.trim());
      i++;
    } else if (argv[i] === '--ranks') {
      o.ranks = nums();
      i++;
    } else if (argv[i] === '--runs') {
      o.runs = Number(v);
      i++;
    } else if (argv[i] === '--warmup') {
      o.warmup = Number(v);
      i++;
    } else if (argv[i] === '--no-wasm') {
      o.wasm = false;
    }
    else throw new Error(`unknown flag ${argv[i]}; flags: --models a,b --ranks 1,2,3 --runs N --warmup N --no-wasm`);
  }
  for (const r of o.ranks ?? []) if (!Number.isInteger(r) || r < 1 || r > 9) throw new Error(`--ranks ${r}: ranks are 1…9 for 3×3 convs`);
  return o;
}

async function main(): Promise<void> {
  tf.env().set('PROD', true);
  const opts = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const result = await runZooBench({ ...opts, onStep: (l) => process.stderr.isTTY && process.stderr.write(`\r  … ${l.padEnd(50).slice(0, 50)}`) });
  if (process.stderr.isTTY) process.stderr.write(`\r${' '.repeat(60)}\r`);
  await fs.mkdir(path.dirname(RESULT), { recursive: true });
  await fs.writeFile(RESULT, JSON.stringify({ ...result, minutes: Number(((performance.now() - t0) / 60000).toFixed(1)), loadAverageAtEnd: Number(os.loadavg()[0].toFixed(2)) }, null, 1) + '\n');
  const t = zooTable(result);
  process.stdout.write(`${t.caption}\n${renderTable(t.headers, t.rows, ['l', 'l'])}\nwrote ${path.relative(ROOT, RESULT)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench zoo: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
