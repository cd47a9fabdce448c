/**
 * `npm run bench`: the benchmark suite. Writes bench/results/*.json (plain JSON, the record),
 * docs/benchmarks.md (tables rendered from that JSON) and out/bench/<name>/report.html, and prints
 * the tables.
 *
 *   forms        merged vs split depthwise, T = 1…6: the 28²·256 layer and the VGG16 conv stack,
 *                on onnxruntime (2 threads) and tfjs-wasm (1 thread)          → forms.json
 *   nets         VGG16 conv stack and ResNet-18 at 224², dw-pw T = 1…6: whole model and per
 *                layer on ORT; whole model on tfjs-wasm                        → vgg16-convs.json, resnet18.json
 *   classifiers  fmnist-vgg / fmnist-resnet (fixtures/models/), ranks 1…9 × both orders, the full
 *                Fashion-MNIST test split, latency on ORT at batch 64           → fmnist-*.json
 *   wide         fmnist-vgg-wide / fmnist-resnet-wide (fixtures/models/), ranks 1…6 × both orders (+ calibrated),
 *                ORT at batch 1 and 32 on the full test split, tfjs-wasm at batch 1  → fmnist-*-wide.json
 *   esrgan       esrgan-slim / -medium x2 on fixtures/photos, ranks 1…6 × both orders (+ calibrated)
 *                on ORT, ranks 1…4 re-timed on tfjs-wasm, at the photos' 96×96 input → esrgan-*.json
 *
 *   zoo          every zoo model on ORT and tfjs-wasm at 224², VGG16/ResNet-18 decoupled at T = 1…3 → zoo.json
 * Flags: --only forms,nets,classifiers,wide,esrgan,zoo   --runs N (≥ 10, default 10)   --warmup N (default 2)
 * Budget: ~15 minutes on 2 cores when nothing else runs. Timings taken while other processes
 * load the machine are slower and noisier; the load average is recorded in every result file.
 */
import { promises as fs, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../src/models/ir.js';
import { loadGraph } from '../src/models/load.js';
import { esrgan } from '../src/models/packaged.js';
import { convertGraph } from '../src/convert/convert.js';
import { createEngine, type Engine } from '../src/eval/engine.js';
import { benchLatency, type LatencyReport } from '../src/eval/latency.js';
import { loadDataset } from '../src/eval/datasets.js';
import { loadCalibrationData } from '../src/eval/calibration-data.js';
import { bestSetting, runSweep, type SweepReport, type SweepRow, type Tolerance } from '../src/eval/sweep.js';
import { sweepFiles } from '../src/report/sweep-files.js';
import { jsonSafe } from '../src/report/json.js';
import { renderTable } from '../src/report/table.js';
import { formatCount } from '../src/models/cost.js';
import { writeFolderAtomically } from '../src/models/atomic-dir.js';
import { layer28x256, resnet18, vgg16ConvStack } from './nets.js';
import { measureForms, type FormsCase } from './forms.js';
import { runZooBench, zooTable, type ZooBenchResult } from './zoo.js';
import { machine } from './machine.js';

tf.env().set('PROD', true);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const OUT = path.join(ROOT, 'out', 'bench');

const SUITES = ['forms', 'nets', 'classifiers', 'wide', 'esrgan', 'zoo'] as const;
type Suite = (typeof SUITES)[number];

interface Args {
  only: Suite[];
  runs: number;
  warmup: number;
  /** Only re-render the tables and docs/benchmarks.md from bench/results/*.json. */
  reportOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { only: [...SUITES], runs: 10, warmup: 2, reportOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--only') {
      a.only = v.split(',').map((s) => s.trim()) as Suite[];
      for (const s of a.only) if (!SUITES.includes(s)) throw new Error(`--only ${s}: choose from ${SUITES.join(', ')}`);
      i++;
    } else if (argv[i] === '--report') {
      a.reportOnly = true;
    } else if (argv[i] === '--runs') {
      a.runs = Number(v);
      i++;
    } else if (argv[i] === '--warmup') {
      a.warmup = Number(v);
      i++;
    } else throw new Error(`unknown flag ${argv[i]}; flags: --only ${SUITES.join(',')} --runs N --warmup N --report`);
  }
  return a;
}


const fx = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '—' : !Number.isFinite(x) ? '∞' : x.toFixed(d));
const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);

function mdTable(headers: string[], rows: string[][]): string {
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** A table printed to the terminal and kept for docs/benchmarks.md. */
class Tables {
  md: string[] = [];
  section(title: string, text = ''): void {
    process.stdout.write(`\n== ${title} ==\n${text ? `${text}\n` : ''}`);
    this.md.push(`\n## ${title}\n${text ? `\n${text}\n` : ''}`);
  }
  table(headers: string[], rows: string[][], caption = ''): void {
    process.stdout.write(`${caption ? `${caption}\n` : ''}${renderTable(headers, rows, ['l'])}\n\n`);
    this.md.push(`${caption ? `\n${caption}\n` : ''}\n${mdTable(headers, rows)}\n`);
  }
  note(text: string): void {
    process.stdout.write(`${text}\n`);
    this.md.push(`\n${text}\n`);
  }
}

async function writeResult(name: string, data: unknown): Promise<void> {
  await fs.mkdir(RESULTS, { recursive: true });
  await fs.writeFile(path.join(RESULTS, `${name}.json`), JSON.stringify(data, jsonSafe, 1) + '\n');
}

function step(label: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r  … ${label.padEnd(60).slice(0, 60)}`);
}
function stepDone(): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${' '.repeat(70)}\r`);
}

// ---------------------------------------------------------------- forms
async function formsSuite(args: Args): Promise<void> {
  const ranks = [1, 2, 3, 4, 5, 6];
  const cases: FormsCase[] = [];
  const layer = layer28x256();
  const vgg = await vgg16ConvStack();
  for (const backend of ['ort', 'wasm'] as const) {
    const engine = await createEngine(backend, 'NHWC', { threads: 2 });
    for (const [g, scope] of [[layer, 'layer'], [vgg, 'model']] as const) {
      cases.push(await measureForms(engine, g, scope, { ranks, runs: args.runs, warmup: args.warmup, onStep: step }));
      stepDone();
    }
  }
  await writeResult('forms', { tool: 'netdecouple', kind: 'forms', machine: machine(), cases });
}

interface FormsResult {
  machine: Record<string, unknown>;
  cases: FormsCase[];
}

function renderForms(res: FormsResult, t: Tables): void {
  const ranks = [...new Set(res.cases[0].points.map((p) => p.rank))];
  const cases = res.cases;
  t.section('Merged vs split depthwise (T = 1…6)',
    'split = T multiplier-1 depthwise convs + Concatenate + 1×1; merged = one depthwise conv with depth_multiplier T + 1×1 (Keras SeparableConv2D). ' +
    'Batch 1, median of the timed runs; speedups against the regular conv (layer) or the original network (model). At T = 1 the two forms are the same graph.');
  for (const c of cases) {
    const rows = ranks.map((rank) => {
      const s = c.points.find((p) => p.rank === rank && p.form === 'split')!;
      const m = c.points.find((p) => p.rank === rank && p.form === 'merged')!;
      const f = c.faster.find((x) => x.rank === rank)!;
      return [String(rank), fx(s.timing.medianMs), fx(m.timing.medianMs), rank === 1 ? '=' : f.form, fx(s.theoreticalSpeedup), fx(s.measuredSpeedup), fx(m.measuredSpeedup), fx(s.ratio), fx(m.ratio)];
    });
    t.table(['T', 'split ms', 'merged ms', 'faster', 'theoretical ×', 'split ×', 'merged ×', 'split meas./theor.', 'merged meas./theor.'], rows,
      `${c.scope === 'layer' ? 'layer' : 'whole model'} ${c.case} on ${c.backend}${c.threads ? ` (${c.threads} threads)` : ' (1 thread)'}, input ${c.inputShape.join('×')} ${c.layout}; original ${fx(c.original.medianMs)} ms (p10–p90 ${fx(c.original.p10Ms)}–${fx(c.original.p90Ms)}), ${formatCount(c.macs)} MACs; load average ${res.machine.loadAverage1m}`);
  }
  const merged = cases.flatMap((c) => c.faster.filter((f) => f.rank > 1 && f.form === 'merged').map((f) => `${c.case}/${c.backend} T=${f.rank} (split/merged ${fx(f.splitOverMerged)})`));
  t.note(merged.length ? `Merged was faster for: ${merged.join('; ')}.` : 'Split was faster (or equal) for every T > 1 on every backend and case measured: the converter default (split) follows the measurement.');
}

// ---------------------------------------------------------------- nets
async function netsSuite(args: Args): Promise<void> {
  const ranks = [1, 2, 3, 4, 5, 6];
  for (const [name, build] of [['vgg16-convs', vgg16ConvStack], ['resnet18', resnet18]] as const) {
    const g: Graph = await build();
    const out: (LatencyReport & { rank: number })[] = [];
    for (const backend of ['ort', 'wasm'] as const) {
      // tfjs-wasm runs VGG16 at ~2 s per inference single-threaded: its whole-model figures are in the forms suite.
      if (backend === 'wasm' && name === 'vgg16-convs') continue;
      const engine = await createEngine(backend, g.layout, { threads: 2 });
      for (const rank of ranks) {
        step(`${name} ${backend} T=${rank}`);
        const conv = convertGraph(g, { rank }).graph;
        out.push({ rank, ...(await benchLatency(engine, g, conv, { runs: args.runs, warmup: args.warmup, perLayer: backend === 'ort', model: name, against: `dw-pw T=${rank} split` })) });
        stepDone();
      }
    }
    await writeResult(name, { tool: 'netdecouple', kind: 'latency-ranks', machine: machine(), model: name, runs: out });
  }
}

interface NetsResult {
  machine: Record<string, unknown>;
  model: string;
  runs: (LatencyReport & { rank: number })[];
}

function renderNets(results: NetsResult[], t: Tables): void {
  t.section('VGG16- and ResNet-18-shaped networks at 224² (random weights), dw-pw, split',
    'Batch 1. Whole model: original and converted timed in alternation in one process; per layer: each replaced conv alone vs its replacement on an input of its shape (ORT runs these as NCHW, so no layout transposes are timed). ' +
    'vgg16-convs is VGG16\'s 13 convs + 5 pools (no FC head); its tfjs-wasm figures are in the forms table above.');
  for (const res of results) {
    const name = res.model;
    for (const backend of [...new Set(res.runs.map((o) => o.backend))]) {
      const mine = res.runs.filter((o) => o.backend === backend);
      const r0 = mine[0];
      t.table(['T', 'MACs', 'median ms (p10–p90)', 'theoretical ×', 'measured ×', 'measured/theoretical', 'per-layer ratio (min–max)'],
        mine.map((r) => {
          const ratios = r.layers.map((l) => l.ratio);
          return [String(r.rank), formatCount(r.converted!.macs), `${fx(r.converted!.timing.medianMs)} (${fx(r.converted!.timing.p10Ms)}–${fx(r.converted!.timing.p90Ms)})`, fx(r.theoreticalSpeedup), fx(r.measuredSpeedup), fx(r.ratio),
            ratios.length ? `${fx(Math.min(...ratios))}–${fx(Math.max(...ratios))}` : '—'];
        }),
        `${name} on ${backend}${r0.threads ? ` (${r0.threads} threads)` : ' (1 thread)'}: original ${fx(r0.original.timing.medianMs)} ms (at T = 1's run), ${formatCount(r0.original.macs)} MACs; load average ${res.machine.loadAverage1m}`);
    }
    const ort = res.runs.filter((o) => o.backend === 'ort');
    if (!ort.length) continue;
    const best = ort.reduce((a, o) => ((o.ratio ?? 0) > (a.ratio ?? 0) ? o : a));
    if (best.layers.length) {
      t.table(['layer', 'kernel kh×kw×C×N', 'input', 'regular ms', 'replacement ms', 'theoretical ×', 'measured ×', 'ratio'],
        best.layers.map((l) => [l.name, l.kernel.join('×'), l.inputShape.join('×'), fx(l.original.medianMs), fx(l.converted.medianMs), fx(l.theoreticalSpeedup), fx(l.measuredSpeedup), fx(l.ratio)]),
        `${name}, ORT, T = ${best.rank} (the rank with the best whole-model ratio), per replaced layer:`);
    }
  }
}

// ---------------------------------------------------------------- sweeps
interface SweepPass {
  backend: 'ort' | 'wasm';
  latencyBatch: number;
  /** Ranks for this pass; default: the job's. */
  ranks?: number[];
  /** Evaluation data for this pass; default: the job's (a later pass may re-time on a subset: its accuracy is the same graphs'). */
  data?: string;
}

interface SweepJob {
  name: string;
  model: string;
  data: string;
  /** One sweep per pass; calibrated rows only in the first (same graph shapes, same latency). */
  passes: SweepPass[];
  /** The best-setting lines are stated for each (the first is the sweep reports' own). */
  tolerances: Tolerance[];
  ranks: number[];
  /** Calibration data (never the evaluation data). */
  calibrate?: string;
}

/** The classifier/esrgan jobs' shape: the first backend sweeps every rank, later ones re-time ranks ≤ 4 (the fast end, where the speedup question is). */
function passesFor(backends: ('ort' | 'wasm')[], latencyBatch: number): SweepPass[] {
  return backends.map((backend, i) => ({ backend, latencyBatch, ...(i > 0 ? { ranks: [1, 2, 3, 4] } : {}) }));
}

async function sweepSuite(jobs: SweepJob[], args: Args): Promise<void> {
  for (const job of jobs) {
    if (!existsSync(job.model)) {
      process.stdout.write(`${job.name}: ${path.relative(ROOT, job.model)} not found — skipped.\n`);
      continue;
    }
    const g = await loadGraph(job.model);
    const reports: SweepReport[] = [];
    for (const [i, pass] of job.passes.entries()) {
      const data = await loadDataset(pass.data ?? job.data, g);
      const engine: Engine = await createEngine(pass.backend, g.layout, { threads: 2 });
      const calibration = job.calibrate && i === 0 ? { data: await loadCalibrationData(job.calibrate, g, { seed: 1 }) } : undefined;
      const ranks = (pass.ranks ?? job.ranks).filter((r) => job.ranks.includes(r));
      const label = `${job.name} ${pass.backend} b${pass.latencyBatch}`;
      const r = await runSweep(engine, g, data, { ranks, orders: ['dw-pw', 'pw-dw'], latencyBatch: pass.latencyBatch, runs: args.runs, warmup: args.warmup, model: job.name, calibration, onStep: (l) => step(`${label} ${l}`) });
      stepDone();
      reports.push(r);
      const dir = i === 0 || pass.backend !== job.passes[0].backend ? `${job.name}-${pass.backend}` : `${job.name}-${pass.backend}-b${pass.latencyBatch}`;
      await writeFolderAtomically(path.join(OUT, dir), await sweepFiles(r, { tolerance: job.tolerances[0] }));
    }
    await writeResult(job.name, { tool: 'netdecouple', kind: 'sweeps', machine: machine(), model: job.name, tolerance: job.tolerances[0], ...(job.tolerances.length > 1 ? { tolerances: job.tolerances } : {}), sweeps: reports.map(slim) });
  }
}

interface SweepsResult {
  machine: Record<string, unknown>;
  model: string;
  tolerance: Tolerance;
  /** When more than one tolerance is stated (the wide classifiers: 1.0 and 0.5 points). */
  tolerances?: Tolerance[];
  sweeps: SweepReport[];
}

function renderSweeps(results: SweepsResult[], t: Tables, title: string, intro: string): void {
  if (!results.length) return;
  t.section(title, intro);
  for (const res of results) {
    for (const r of res.sweeps) {
      const cls = r.task === 'classification';
      res.tolerance ??= cls ? { maxTop1Drop: 0.005 } : { minPsnrDb: 40 };
      const rows = [r.baseline, ...r.rows].map((x) => [x.setting, String(x.replacedLayers), fx(x.theoreticalSpeedup), fx(x.measuredSpeedup), fx(x.speedupRatio),
        ...(cls ? [pct(x.top1), pct(x.top5), pct(x.agreement)] : [fx(num(x.psnrVsOriginalDb)), fx(x.psnrVsGroundTruthDb)])]);
      t.table(['setting', 'convs', 'theoretical ×', 'measured ×', 'meas./theor.', ...(cls ? ['top-1', 'top-5', 'agreement'] : ['PSNR vs original (dB)', 'PSNR vs ground truth (dB)'])], rows,
        `${res.model} on ${r.data.replace(ROOT + path.sep, '')} (${r.evaluation.n} ${cls ? 'images' : 'photos'}); latency ${r.backend}${r.threads ? ` (${r.threads} threads)` : ' (1 thread)'}, batch ${r.latency.batchSize}, input ${r.latency.inputShape.join('×')}; original ${fx(r.baseline.latency.medianMs)} ms; load average ${res.machine.loadAverage1m}`);
      for (const tol of res.tolerances ?? [res.tolerance]) stateBest(t, res, r, tol);
    }
  }
}

/** The fastest setting within a tolerance, plain and calibrated, as notes under a sweep's table. */
function stateBest(t: Tables, res: SweepsResult, r: SweepReport, tol: Tolerance): void {
  const cls = r.task === 'classification';
  const fix = { ...r, baseline: { ...r.baseline, psnrVsOriginalDb: num(r.baseline.psnrVsOriginalDb) }, rows: r.rows.map((x) => ({ ...x, psnrVsOriginalDb: num(x.psnrVsOriginalDb) })) };
  const line = (label: string, rows: SweepRow[]) => {
    const best = bestSetting({ ...fix, rows }, tol);
    return `${res.model}, ${r.backend}, ${label}: ${best ? `best measured speedup with ${describeTol(tol)}: **${fx(best.measuredSpeedup)}×** (${best.setting}; theoretical ${fx(best.theoreticalSpeedup)}×; ${cls ? `top-1 ${pct(best.top1)} vs ${pct(r.baseline.top1)}` : `PSNR ${fx(best.psnrVsOriginalDb)} dB`})` : `no setting with ${describeTol(tol)}`}.`;
  };
  t.note(line('plain decoupling', fix.rows.filter((x) => !x.calibrated)));
  if (fix.rows.some((x) => x.calibrated)) t.note(line('with calibration', fix.rows.filter((x) => x.calibrated)));
  else {
    // Calibration changes weights, not shapes: a calibrated setting runs as fast as the plain one. Pair this
    // backend's latency with the calibrated accuracy measured in the first sweep of the same model.
    const calRows = res.sweeps[0].rows.filter((x) => x.calibrated);
    const paired = fix.rows.flatMap((x) => {
      const c = calRows.find((y) => y.setting === `${x.setting} +cal`);
      return c ? [{ ...x, setting: `${x.setting} +cal`, calibrated: true, top1: c.top1, top5: c.top5, agreement: c.agreement, psnrVsOriginalDb: num(c.psnrVsOriginalDb), psnrVsGroundTruthDb: c.psnrVsGroundTruthDb }] : [];
    });
    if (paired.length) t.note(line(`with calibration (accuracy of the ${res.sweeps[0].backend} sweep's +cal rows, latency measured here)`, paired));
  }
}

/** JSON stores Infinity as the string "Infinity" (jsonSafe). */
function num(x: number | string | null): number | null {
  return x === null ? null : typeof x === 'string' ? Number(x) : x;
}

function describeTol(t: Tolerance): string {
  return t.maxTop1Drop !== undefined ? `top-1 drop ≤ ${(t.maxTop1Drop * 100).toFixed(1)} points` : `PSNR vs original ≥ ${t.minPsnrDb} dB`;
}

/** The committed record keeps per-row layer ranks but not the per-T kernel-error curves (they are in the HTML reports). */
function slim(r: SweepReport): Omit<SweepReport, 'kernelErrors'> {
  const { kernelErrors: _drop, ...rest } = r;
  return { ...rest, rows: rest.rows.map((x: SweepRow) => ({ ...x, layers: x.layers.map((l) => ({ ...l, kernelRelError: Number(l.kernelRelError.toPrecision(4)), retainedEnergy: Number(l.retainedEnergy.toPrecision(4)) })) })) };
}

async function readResult<T>(name: string): Promise<T | null> {
  const file = path.join(RESULTS, `${name}.json`);
  return existsSync(file) ? (JSON.parse(await fs.readFile(file, 'utf8')) as T) : null;
}

/**
 * Sections measured with the CLI rather than by this suite (each file states its commands), appended verbatim
 * in file-name order so re-rendering keeps them.
 */
async function measuredByHand(): Promise<string> {
  const dir = path.join(RESULTS, 'measured-by-hand');
  if (!existsSync(dir)) return '';
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.md')).sort();
  return (await Promise.all(files.map((f) => fs.readFile(path.join(dir, f), 'utf8')))).map((md) => `\n${md}`).join('');
}

/** Every table, from whatever result files exist: printed, and written to docs/benchmarks.md. */
async function renderAll(): Promise<void> {
  const t = new Tables();
  const forms = await readResult<FormsResult>('forms');
  const nets = (await Promise.all(['vgg16-convs', 'resnet18'].map((n) => readResult<NetsResult>(n)))).filter((x): x is NetsResult => x !== null);
  const cls = (await Promise.all(['fmnist-vgg', 'fmnist-resnet'].map((n) => readResult<SweepsResult>(n)))).filter((x): x is SweepsResult => x !== null);
  const wide = (await Promise.all(['fmnist-vgg-wide', 'fmnist-resnet-wide'].map((n) => readResult<SweepsResult>(n)))).filter((x): x is SweepsResult => x !== null);
  const sr = (await Promise.all(['esrgan-slim', 'esrgan-medium'].map((n) => readResult<SweepsResult>(n)))).filter((x): x is SweepsResult => x !== null);
  const m = (forms ?? nets[0] ?? cls[0] ?? sr[0])?.machine;
  if (m) t.note(`Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, onnxruntime-node ${m.onnxruntime}, tfjs ${m.tfjs}. ORT runs with 2 intra-op threads, tfjs-wasm with 1 (tfjs has no wasm threads in Node). Each figure: warm-up, then ≥ 10 timed runs, median; the 1-minute load average when each file was written is stated (other processes on the 2 cores slow and blur the timings).`);
  if (forms) renderForms(forms, t);
  renderNets(nets, t);
  renderSweeps(cls, t, 'Reference classifiers on Fashion-MNIST: accuracy vs measured speedup, no retraining',
    'Full official test split (10 000 images). Latency on onnxruntime at batch 64 (at batch 1 a 28×28 model is all per-call overhead), original and converted timed in alternation. BatchNorm folded; ranks above a layer\'s maximum are capped for that layer. Rows marked +cal: least-squares calibration on the first 256 training images (unlabelled; never the test split).');
  renderSweeps(wide, t, 'Wide reference classifiers (trained in PyTorch, exported by torch.onnx.export): accuracy vs measured speedup',
    'VGG-style 64-64|128-128|256-256 and ResNet-style 64/128/256 networks (scripts/train-torch.py), read as netdecouple reads any TF.js model. Full official test split on onnxruntime (2 threads) at batch 1 and 32; tfjs-wasm (1 thread) re-times ranks 1…4 at batch 1 on the first 1 000 test images. Rows marked +cal: calibration on the first 256 training images (unlabelled; never the test split).');
  renderSweeps(sr, t, 'esrgan-slim / -medium x2 on real photos: PSNR vs measured speedup',
    'fixtures/photos (4 CC0/public-domain 192² crops, box-downscaled ×2 to 96² inputs). PSNR over range 255, RGB: vs the original model\'s output (raw floats) and vs the ground-truth photo (output clipped to [0, 255]). Rows marked +cal: least-squares calibration on 16 tiles of fixtures/photos-calibration (other photos); calibrated graphs have the plain ones\' shapes, so they are timed on ORT only.');
  const zoo = await readResult<ZooBenchResult>('zoo');
  if (zoo) {
    const z = zooTable(zoo);
    t.section('Decoupled vs designed-separable (zoo, 224²)', z.caption);
    t.table(z.headers, z.rows);
  }
  const doc = `# Benchmarks\n\nGenerated by \`npm run bench\` (bench/run.ts) from bench/results/*.json; \`node dist/bench/run.js --report\` re-renders it without measuring. ` +
    `Measured speedup = median(original) / median(converted), same process, same backend, warm-up first; always beside the theoretical (MAC) speedup. ` +
    `Sweep reports with charts: out/bench/<model>-<backend>/report.html (not committed; rerun to get them).\n${t.md.join('')}${await measuredByHand()}`;
  await fs.mkdir(path.join(ROOT, 'docs'), { recursive: true });
  await fs.writeFile(path.join(ROOT, 'docs', 'benchmarks.md'), doc);
  process.stdout.write('\nwrote docs/benchmarks.md\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.reportOnly) {
    if (!Number.isInteger(args.runs) || args.runs < 10) throw new Error(`--runs ${args.runs}: at least 10`);
    const t0 = performance.now();
    const m = machine();
    process.stdout.write(`netdecouple benchmarks — ${m.cpu}, ${m.cores} cores; load average at start ${m.loadAverage1m}; ${args.warmup} warm-up + ${args.runs} timed runs per measurement; suites: ${args.only.join(', ')}\n`);
    if (args.only.includes('forms')) await formsSuite(args);
    if (args.only.includes('nets')) await netsSuite(args);
    if (args.only.includes('classifiers')) {
      await sweepSuite(['fmnist-vgg', 'fmnist-resnet'].map((name) => ({
        name, model: path.join(ROOT, 'fixtures', 'models', name, 'model.json'), data: 'fashion-mnist', passes: passesFor(['ort'], 64), ranks: [1, 2, 3, 4, 5, 6, 7, 8, 9], tolerances: [{ maxTop1Drop: 0.005 }], calibrate: 'fashion-mnist-train:256',
      })), args);
    }
    if (args.only.includes('wide')) {
      // The wide classifiers (issue 13's yardsticks): ORT at batch 1 and 32 on the full test split, tfjs-wasm at
      // batch 1 on the first 1 000 images (its accuracy is the same graphs'; wasm is ~8× slower than ORT here).
      await sweepSuite(['fmnist-vgg-wide', 'fmnist-resnet-wide'].map((name) => ({
        name, model: path.join(ROOT, 'fixtures', 'models', name, 'model.json'), data: 'fashion-mnist', ranks: [1, 2, 3, 4, 5, 6],
        passes: [{ backend: 'ort', latencyBatch: 1 }, { backend: 'ort', latencyBatch: 32 }, { backend: 'wasm', latencyBatch: 1, ranks: [1, 2, 3, 4], data: 'fashion-mnist:1000' }],
        tolerances: [{ maxTop1Drop: 0.01 }, { maxTop1Drop: 0.005 }], calibrate: 'fashion-mnist-train:256',
      })), args);
    }
    if (args.only.includes('esrgan')) {
      await sweepSuite((['slim', 'medium'] as const).map((v) => ({
        name: `esrgan-${v}`, model: esrgan(v, 2).modelJson, data: `images:${path.join(ROOT, 'fixtures', 'photos')}`, passes: passesFor(['ort', 'wasm'], 1), ranks: [1, 2, 3, 4, 5, 6], tolerances: [{ minPsnrDb: 40 }], calibrate: `images:${path.join(ROOT, 'fixtures', 'photos-calibration')}`,
      })), args);
    }
    if (args.only.includes('zoo')) {
      // Decoupled VGG16 / ResNet-18 beside the designed-separable networks (issue 7).
      const zoo = await runZooBench({ runs: args.runs, warmup: args.warmup, onStep: step });
      stepDone();
      await writeResult('zoo', zoo);
    }
    process.stdout.write(`measured in ${((performance.now() - t0) / 60000).toFixed(1)} min; load average at end ${os.loadavg()[0].toFixed(2)}; wrote ${path.relative(ROOT, RESULTS)}/*.json and ${path.relative(ROOT, OUT)}/*/report.html\n`);
  }
  await renderAll();
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
