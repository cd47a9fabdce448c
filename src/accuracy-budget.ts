/**
 * `convert --max-drop / --min-agreement / --min-psnr`: the fastest model whose measured accuracy on
 * the validation data meets the constraint (eval/accuracy-search.ts searches, eval/accuracy-points.ts
 * measures one point). The pick is then verified end to end: its model files are produced, loaded
 * back with the stock loader and measured again (accuracy and speed), and only a pick that still
 * meets the constraint is written — the bytes verified are the bytes written.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Graph } from './models/ir.js';
import { loadGraph, formatOf, modelFiles, OUTPUT_FORMATS, type OutputFormat } from './models/io.js';
import { makeShape, parseInputShape, spatialOf, type Shape } from './models/shapes.js';
import { declaredInputRange } from './models/packaged.js';
import { writeFolderAtomically } from './models/atomic-dir.js';
import { describePreprocessing, resolvePreprocessing } from './eval/preprocess.js';
import { loadDataset, type Dataset } from './eval/datasets.js';
import { loadCalibrationData } from './eval/calibration-data.js';
import { createEngine, type Engine } from './eval/engine.js';
import { compareGraphs } from './eval/latency.js';
import { runOnDataset } from './eval/evaluate.js';
import { defaultCacheFile, openLatencyCache } from './eval/latency-cache.js';
import { checkDisjoint } from './eval/data-disjoint.js';
import { checkConstraint, measureAccuracy } from './eval/accuracy-constraint.js';
import { measurePoint, setUpAccuracySearch, type AccuracySetup, type MeasuredPoint } from './eval/accuracy-points.js';
import {
  betterPick, constrainedFigure, constraintText, meetsConstraint, paretoFrontier, pickFastest, searchTargets,
  type AccuracyConstraint, type AccuracySearchReport, type SearchPoint,
} from './eval/accuracy-search.js';
import { buildReport, type ConversionReport } from './report/conversion-report.js';
import { frontierHtml } from './report/frontier.js';
import { jsonSafe, VERSION, type ConvertModelOptions } from './pipeline.js';
import { checkSensitivity, resolveSensitivity } from './eval/sensitivity.js';

export interface AccuracyBudgetOptions extends ConvertModelOptions {
  accuracy: AccuracyConstraint;
  /** Validation data (--data), disjoint from --calibrate. */
  data: string;
  /** Class names file for a labelled image folder (--labels). */
  labels?: string;
  /** Points tried at most (default 8). */
  maxPoints?: number;
  /** A point was measured. */
  onPoint?: (p: SearchPoint, index: number, maxPoints: number) => void;
}

export interface AccuracyBudgetResult {
  report: ConversionReport & { accuracyBudget: AccuracySearchReport };
  search: AccuracySearchReport;
}

function refuseFixedRanks(opts: AccuracyBudgetOptions): void {
  const flag = { max: '--max-drop', ag: '--min-agreement', ps: '--min-psnr' };
  const name = opts.accuracy.kind === 'max-drop' ? flag.max : opts.accuracy.kind === 'min-agreement' ? flag.ag : flag.ps;
  if (opts.targetSpeedup !== undefined) throw new Error(`${name} searches the target speedup itself: drop --target-speedup`);
  if (opts.rank !== undefined || opts.energy !== undefined || opts.rankRule !== undefined || opts.tuckerRanks !== undefined || opts.ranks) {
    throw new Error(`${name} chooses every layer's method and rank; drop --rank / --energy / --rank-rule / --tucker-ranks`);
  }
}

/** The written formats; the first is verified, so it must be in the model's own layout (the data is read in it). */
function formatsFor(original: Graph, modelPath: string, asked: OutputFormat[] | undefined): OutputFormat[] {
  for (const f of asked ?? []) if (!OUTPUT_FORMATS.includes(f)) throw new Error(`--format "${String(f)}": choose from ${OUTPUT_FORMATS.join(', ')}`);
  const formats = asked?.length ? asked : [formatOf(modelPath) === 'onnx' ? ('onnx' as const) : ('tfjs' as const)];
  if ((formats[0] === 'onnx') !== (original.layout === 'NCHW')) {
    throw new Error(`--format ${formats.join(',')}: the first format is re-loaded and verified on the validation data, which is read in the model's own layout; put ${original.layout === 'NCHW' ? 'onnx' : 'tfjs'} first`);
  }
  return formats;
}

/** Costs and timings are counted at --input-shape, the declared input, or the validation data's first example. */
function searchInputShapes(original: Graph, inputShape: string | undefined, data: Dataset): Record<string, Shape> {
  if (inputShape) return parseInputShape(inputShape, original);
  const node = original.nodes.find((n) => n.name === original.inputs[0]) as { shape: Shape };
  if (node.shape.every((d) => d !== null)) return { [original.inputs[0]]: node.shape };
  const [h, w, c] = data.task === 'classification' ? data.exampleShape : [data.items[0].lowRes.height, data.items[0].lowRes.width, spatialOf(node.shape, original.layout).c ?? 3];
  return { [original.inputs[0]]: makeShape(h, w, c, original.layout) };
}

/** Loads the written bytes back from a scratch folder and measures them again, as a user would run them. */
async function verifyWritten(s: AccuracySetup, c: AccuracyConstraint, files: Record<string, Uint8Array | string>, format: OutputFormat): Promise<NonNullable<AccuracySearchReport['verified']>> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'netdecouple-verify-'));
  try {
    for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, name), content);
    const main = Object.keys(files).find((f) => /\.(json|onnx|keras|h5)$/.test(f)) as string;
    const written = await loadGraph(path.join(dir, main));
    const accuracy = measureAccuracy(c, s.validation, await runOnDataset(s.engine, written, s.validation), s.reference);
    const t = await compareGraphs(s.engine, s.original, written, s.timingInput, { maxSeconds: s.opts.timingSeconds ?? 4 });
    return { format, accuracy, passes: meetsConstraint(c, accuracy), measuredSpeedup: t.ratio, speedupInterval: [t.low, t.high], runs: t.a.runs, stoppedBy: t.stoppedBy, load: t.load };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function figureText(c: AccuracyConstraint, p: SearchPoint): string {
  const f = constrainedFigure(c, p.accuracy);
  return c.kind === 'max-drop' ? `a top-1 drop of ${f.toFixed(2)} points` : c.kind === 'min-agreement' ? `${f.toFixed(2)} % agreement` : `${f.toFixed(2)} dB`;
}

async function setUp(modelPath: string, opts: AccuracyBudgetOptions): Promise<{ setup: AccuracySetup; formats: OutputFormat[]; engine: Engine; seconds: number; preprocessing: string }> {
  const t0 = performance.now();
  const c = opts.accuracy;
  refuseFixedRanks(opts);
  checkSensitivity(opts.sensitivity, opts.calibrate);
  if (opts.calibrate) await checkDisjoint(opts.data, opts.calibrate);
  const original = await loadGraph(modelPath);
  const formats = formatsFor(original, modelPath, opts.formats);
  const preprocessing = resolvePreprocessing(original, opts.preprocess, declaredInputRange(modelPath));
  const validation = await loadDataset(opts.data, original, { preprocessing, labels: opts.labels });
  checkConstraint(c, validation);
  const engine = await createEngine(opts.backend ?? 'auto', original.layout, { threads: opts.threads });
  const calibration = opts.calibrate ? await loadCalibrationData(opts.calibrate, original, { samples: opts.calibSamples, tile: opts.calibTile, seed: opts.seed, preprocessing }) : null;
  const by = opts.by ?? 'latency';
  const inputShapes = searchInputShapes(original, opts.inputShape, validation);
  const sensitivity = resolveSensitivity(opts.sensitivity, original, inputShapes, calibration !== null);
  const setup = await setUpAccuracySearch(original, engine, validation, c, {
    convert: opts, methods: opts.methods ?? [opts.method ?? 'nd'], by, inputShapes,
    calibration: calibration?.batches ?? null, dataAware: opts.dataAware, sensitivity, sensitivityExamples: opts.sensitivityExamples, calibMode: opts.calibMode, refitRounds: opts.refitRounds, seed: opts.seed,
    cache: by === 'latency' ? openLatencyCache(opts.latencyCache === false ? null : (opts.latencyCache ?? defaultCacheFile())) : undefined,
    timingSeconds: opts.timingSeconds, onProgress: opts.onProgress,
  });
  return { setup, formats, engine, seconds: (performance.now() - t0) / 1000, preprocessing: describePreprocessing(preprocessing, original) };
}

export async function convertWithinAccuracy(modelPath: string, opts: AccuracyBudgetOptions): Promise<AccuracyBudgetResult> {
  const c = opts.accuracy;
  const budgetSeconds = opts.budgetSeconds ?? 300;
  if (!(budgetSeconds > 0)) throw new Error(`--budget-seconds ${budgetSeconds}: must be a positive number of seconds`);
  const t0 = performance.now();
  const { setup, formats, engine, seconds: setupSeconds, preprocessing } = await setUp(modelPath, opts);
  const t1 = performance.now();
  const kept: { best: MeasuredPoint | null } = { best: null };
  const search = await searchTargets({
    maxTarget: setup.maxTarget, maxPoints: opts.maxPoints, deadline: t0 + budgetSeconds * 1000, onPoint: opts.onPoint,
    evaluate: async (target) => {
      const m = await measurePoint(setup, c, target);
      // Only the best passing conversion is kept (a VGG16's weights per point add up).
      if (m.point.passes && betterPick(m.point, kept.best?.point ?? null)) kept.best = m;
      return m.point;
    },
  });
  const searchSeconds = (performance.now() - t1) / 1000;
  const chosen = pickFastest(search.points, c);
  const pick = kept.best;
  if (!chosen || !pick) {
    const closest = [...search.points].sort((a, b) => (c.kind === 'max-drop' ? constrainedFigure(c, a.accuracy) - constrainedFigure(c, b.accuracy) : b.accuracy.value - a.accuracy.value))[0];
    throw new Error(`no configuration meets ${constraintText(c)} on ${opts.data}: the best reached was ${closest ? `${figureText(c, closest)} (${closest.measuredSpeedup.toFixed(2)}× measured)` : 'nothing'} over ${search.points.length} points; loosen the constraint, or allow more methods (--methods) or time (--budget-seconds)`);
  }
  if (!(chosen.measuredSpeedup > 1)) {
    const iv = chosen.speedupInterval;
    throw new Error(`no configuration within ${constraintText(c)} is measurably faster than the original on ${engine.name}: the fastest that meets it ran at ${chosen.measuredSpeedup.toFixed(2)}× [95 % ${iv[0].toFixed(2)}–${iv[1].toFixed(2)}] over ${search.points.length} points, so the original is the fastest model within the budget; nothing written — try another --backend or --methods`);
  }
  const byFormat = await Promise.all(formats.map((f) => modelFiles(pick.conversion.graph, f)));
  const files: Record<string, Uint8Array | string> = Object.assign({}, ...byFormat);
  const verified = await verifyWritten(setup, c, byFormat[0], formats[0]);
  if (!verified.passes) {
    throw new Error(`the picked model, re-loaded from its ${formats[0]} files, measured ${figureText(c, { ...chosen, accuracy: verified.accuracy })}, outside ${constraintText(c)}; nothing written — try a tighter constraint`);
  }
  const frontier = new Set(paretoFrontier(search.points));
  const searchReport: AccuracySearchReport = {
    constraint: c, constraintText: constraintText(c), data: opts.data, calibration: opts.calibrate ?? null, by: setup.opts.by, methods: setup.opts.methods,
    backend: engine.name, threads: engine.threads, reference: setup.referenceAccuracy,
    points: search.points.map((p) => ({ ...p, onFrontier: frontier.has(p), chosen: p === chosen })),
    stoppedBy: search.stoppedBy, bracket: search.bracket, maxTarget: setup.maxTarget,
    seconds: { setup: setupSeconds, search: searchSeconds, budget: budgetSeconds }, verified,
  };
  const base = buildReport(setup.original, pick.conversion, null, {
    version: VERSION, model: modelPath, backend: engine.name, inputShapes: setup.opts.inputShapes, input: null, decomposeSeconds: chosen.seconds, preprocessing,
  });
  const report = Object.assign(base, { accuracyBudget: searchReport });
  if (opts.outDir) {
    const html = await frontierHtml(searchReport, modelPath);
    await writeFolderAtomically(opts.outDir, { 'report.json': JSON.stringify(report, jsonSafe, 2), 'frontier.html': html, ...files }, { protect: [modelPath, ...[opts.data, opts.calibrate].flatMap((d) => d?.match(/^images:(.+)$/)?.[1] ?? [])], force: opts.force });
  }
  return { report, search: searchReport };
}
