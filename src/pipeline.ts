/**
 * The whole job as one library call: load → convert → measure on a real input → report → save.
 * The CLI is a thin shell over this; library users call it directly.
 */
import path from 'node:path';
import { projectVersion } from './project.js';
import { jsonSafe } from './report/json.js';

export { jsonSafe };
import type { Graph } from './models/ir.js';
import { loadGraph, formatOf } from './models/load.js';
import { parseInputShape, type Shape } from './models/shapes.js';
import { layersModelFiles } from './models/tfjs/load.js';
import { writeFolderAtomically } from './models/atomic-dir.js';
import { convertGraph, validateRankOptions, type Conversion, type ConvertOptions } from './convert/convert.js';
import { createRunner, type RuntimeChoice } from './eval/runner.js';
import { imageInput, randomInput, type InputSpec } from './eval/inputs.js';
import { measureConversion, type ConversionErrors } from './eval/conversion-errors.js';
import { buildReport, type ConversionReport, type CalibrationReport } from './report/conversion-report.js';
import { createEngine } from './eval/engine.js';
import { calibrate, type CalibrationMode } from './eval/calibrate.js';
import { loadCalibrationData } from './eval/calibration-data.js';
import { dataAwareCandidateErrors } from './eval/data-costs.js';
import { inferShapes } from './models/shapes.js';
import { budgetCandidates, budgetReport, toPlan, type BudgetCandidates, type BudgetReport } from './convert/budget-plan.js';
import { solveBudget, type BudgetBy } from './convert/budget.js';
import { planLayer, type Method } from './convert/methods.js';
import type { LayerPlan } from './convert/convert.js';
import type { Engine } from './eval/engine.js';
import { layerGraphsFor, randomBatch, timeGraph, timeGraphPair } from './eval/latency.js';
import type { Batch } from './eval/tfjs-run.js';

export const VERSION: string = projectVersion();

export interface ConvertModelOptions extends ConvertOptions {
  /** "H,W" for models with free spatial dimensions. */
  inputShape?: string;
  /** A PNG to measure the output error on (TF.js image models). */
  inputImage?: string;
  /** Skip the measurement on an input (costs and kernel errors only). */
  evaluate?: boolean;
  /** tfjs backend or 'ort'; 'auto' = tfjs (node → wasm → cpu) for TF.js models, ORT for ONNX. */
  backend?: RuntimeChoice;
  /** ORT threads. */
  threads?: number;
  seed?: number;
  /** Calibration data (fashion-mnist-train[:N], images:<folder>): refit each replaced layer's last 1×1 by least squares. */
  calibrate?: string;
  calibSamples?: number;
  calibTile?: number;
  calibMode?: CalibrationMode;
  /** Joint calibration also starts from the activation-whitened decomposition (default true). */
  dataAware?: boolean;
  /** Joint calibration: block-coordinate rounds per layer (default 8). */
  refitRounds?: number;
  /** Progress: the stage ('decompose', 'calibrate') and the layer being worked on. */
  onProgress?: (stage: string, layer: string, index: number, total: number) => void;
  /** Where to write the converted model and report.json; nothing is written when absent. */
  outDir?: string;
  /** Global speed budget: pick (method, rank) per layer to reach this speedup with the least total kernel error. */
  targetSpeedup?: number;
  /** What the budget counts: MACs (default) or per-layer latency measured on `backend`. */
  by?: BudgetBy;
  /** The budget's candidate methods (default: [method ?? 'nd']). */
  methods?: Method[];
}

export interface ConvertModelResult {
  original: Graph;
  conversion: Conversion;
  errors: ConversionErrors | null;
  input: InputSpec | null;
  report: ConversionReport;
  /** The speed budget's choices and figures (also in report.json as `budget`), with --target-speedup. */
  budget: BudgetReport | null;
}

export async function resolveInput(graph: Graph, opts: { inputShape?: string; inputImage?: string; seed?: number }): Promise<InputSpec> {
  if (opts.inputImage) return imageInput(graph, opts.inputImage);
  const shape = opts.inputShape ? Object.values(parseInputShape(opts.inputShape, graph))[0] : undefined;
  return randomInput(graph, shape, { seed: opts.seed });
}

export async function convertModel(modelPath: string, opts: ConvertModelOptions): Promise<ConvertModelResult> {
  if (opts.targetSpeedup === undefined) validateRankOptions(opts);
  const original = await loadGraph(modelPath);
  const budget = opts.targetSpeedup === undefined ? null : await planBudget(original, opts);
  const t0 = performance.now();
  const onLayer = (name: string, i: number, n: number) => opts.onProgress?.('decompose', name, i, n);
  let conversion = convertGraph(original, budget ? { ...opts, plan: budget.plan, onLayer } : { ...opts, onLayer });
  const decomposeSeconds = (performance.now() - t0) / 1000;

  let backend: string | null = null;
  let input: InputSpec | null = null;
  let errors: ConversionErrors | null = null;
  let uncalibratedErrors: ConversionErrors | null = null;
  let evaluateSeconds: number | null = null;
  let inputShapes: Record<string, Shape> | undefined = opts.inputShape ? parseInputShape(opts.inputShape, original) : undefined;
  let calibration: CalibrationReport | null = null;
  let uncalibrated: Conversion | null = null;
  if (opts.calibrate) {
    const data = await loadCalibrationData(opts.calibrate, original, { samples: opts.calibSamples, tile: opts.calibTile, seed: opts.seed });
    const engine = await createEngine(opts.backend ?? 'auto', original.layout, { threads: opts.threads });
    const t2 = performance.now();
    const cal = await calibrate(engine, conversion, data.batches, { mode: opts.calibMode, dataAware: opts.dataAware, rounds: opts.refitRounds, seed: opts.seed, onLayer: (name, i, n) => opts.onProgress?.('calibrate', name, i, n) });
    uncalibrated = conversion;
    conversion = { ...conversion, graph: cal.graph };
    calibration = { data: data.description, images: data.images, mode: cal.mode, backend: engine.name, seconds: (performance.now() - t2) / 1000, layers: cal.layers, ...(cal.outputCheck ? { outputCheck: cal.outputCheck } : {}) };
  }
  if (opts.evaluate !== false) {
    const runner = await createRunner(opts.backend ?? 'auto', original.layout, { threads: opts.threads });
    backend = runner.name;
    input = await resolveInput(original, opts);
    inputShapes = { [original.inputs[0]]: input.shape };
    const t1 = performance.now();
    const range = opts.inputImage ? 255 : undefined;
    errors = await measureConversion(runner, conversion, original, input.batch, range);
    if (uncalibrated) uncalibratedErrors = await measureConversion(runner, uncalibrated, original, input.batch, range);
    evaluateSeconds = (performance.now() - t1) / 1000;
  }
  const report = buildReport(original, conversion, errors, {
    version: VERSION, model: modelPath, backend, inputShapes, input: input?.description ?? null, decomposeSeconds, evaluateSeconds, calibration, uncalibratedErrors,
  });
  if (budget?.timing) {
    const [before, after] = await timeGraphPair(budget.timing.engine, original, conversion.graph, budget.timing.input);
    budget.report.measured = { backend: budget.timing.engine.name, msBefore: before.medianMs, msAfter: after.medianMs, speedup: before.medianMs / after.medianMs };
  }
  addMethodFields(report, conversion, budget?.report ?? null);
  if (opts.outDir) await saveConversion(opts.outDir, conversion.graph, report, modelPath);
  return { original, conversion, errors, input, report, budget: budget?.report ?? null };
}

export async function saveConversion(outDir: string, graph: Graph, report: ConversionReport, modelPath: string): Promise<void> {
  const files: Record<string, Uint8Array | string> = { 'report.json': JSON.stringify(report, jsonSafe, 2) };
  if (formatOf(modelPath) === 'onnx') {
    const { graphToOnnx } = await import('./models/onnx/write.js');
    files['model.onnx'] = graphToOnnx(graph);
  } else {
    Object.assign(files, layersModelFiles(graph));
  }
  await writeFolderAtomically(outDir, files, { protect: [path.dirname(path.resolve(modelPath))] });
}


/**
 * Fields only some methods have (Tucker-2 ranks, CP fit and iterations, spatial-nd factor ranks,
 * how the rank was chosen) and the speed budget, added to the report's JSON as they are.
 */
function addMethodFields(report: ConversionReport, conversion: Conversion, budget: BudgetReport | null): void {
  const byName = new Map(conversion.layers.map((l) => [l.name, l]));
  for (const layer of report.layers) {
    const l = byName.get(layer.name);
    if (!l || (l.method === 'nd' && (l.rankRule === undefined || l.rankRule === 'fixed' || l.rankRule.startsWith('energy')))) continue;
    const extra = { ranks: l.ranks, factorRanks: l.factorRanks, fit: l.fit, iterations: l.iterations, converged: l.converged, degenerate: l.degenerate, warnings: l.warnings, rankRule: l.rankRule };
    Object.assign(layer, Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)));
  }
  if (budget) Object.assign(report, { budget });
}

interface PlannedBudget {
  plan: Record<string, LayerPlan>;
  report: BudgetReport;
  /** --by latency: the engine and input the candidates were timed with (the whole models are timed after conversion). */
  timing?: { engine: Engine; input: Batch };
}

/** --target-speedup: candidates per layer, their measured times with --by latency, and the solver's plan. */
async function planBudget(original: Graph, opts: ConvertModelOptions): Promise<PlannedBudget> {
  if (opts.rank !== undefined || opts.energy !== undefined || opts.rankRule !== undefined || opts.tuckerRanks !== undefined || opts.ranks) {
    throw new Error("--target-speedup chooses every layer's method and rank; drop --rank / --energy / --rank-rule / --tucker-ranks");
  }
  const by = opts.by ?? 'macs';
  if (by !== 'macs' && by !== 'latency') throw new Error(`--by "${String(by)}": choose macs or latency`);
  const inputShapes = opts.inputShape
    ? parseInputShape(opts.inputShape, original)
    : opts.inputImage
      ? { [original.inputs[0]]: (await imageInput(original, opts.inputImage)).shape }
      : undefined;
  const bc = budgetCandidates(original, {
    layers: opts.layers, skip: opts.skip, minInChannels: opts.minInChannels, foldBatchNorm: opts.foldBatchNorm, inputShapes,
    methods: opts.methods ?? [opts.method ?? 'nd'], order: opts.order, cpIterations: opts.maxIterations,
    // Each candidate is timed with ≥ 10 runs: keep the grid small.
    gridSize: by === 'latency' ? 8 : undefined,
  });
  const target = opts.targetSpeedup as number;
  if (opts.calibrate && opts.dataAware !== false) {
    // Rank allocation by data: ND candidates cost their output error on the calibration data.
    const data = await loadCalibrationData(opts.calibrate, original, { samples: opts.calibSamples, tile: opts.calibTile, seed: opts.seed });
    const engine = await createEngine(opts.backend ?? 'auto', original.layout, { threads: opts.threads });
    await dataAwareCandidateErrors(engine, bc, data.batches, { order: opts.order, seed: opts.seed });
  }
  if (by === 'macs') {
    const result = solveBudget({ layers: bc.layers, totalBefore: bc.macsBefore, fixedCost: bc.fixedMacs }, { targetSpeedup: target });
    return { plan: toPlan(result), report: budgetReport(bc, result) };
  }
  const engine = await createEngine(opts.backend ?? 'auto', original.layout, { threads: opts.threads });
  const shape = Object.values(inputShapes ?? {})[0] ?? (bc.graph.nodes.find((n) => n.name === bc.graph.inputs[0]) as { shape: Shape }).shape;
  if (shape.some((d) => d === null)) throw new Error('--by latency needs the input size: give --input-shape H,W');
  const input = randomBatch(shape as number[], 1, opts.seed ?? 1, [0, 1]);
  const t = await timeBudgetCandidates(engine, bc, input, opts);
  const result = solveBudget({ layers: bc.layers, totalBefore: t.totalMs, fixedCost: t.fixedMs }, { targetSpeedup: target, by: 'latency' });
  return { plan: toPlan(result), report: budgetReport(bc, result), timing: { engine, input } };
}

/**
 * The measured-latency table of --by latency: each candidate layer's regular conv and every
 * candidate replacement, timed alone on a random input of the layer's input shape (the mini graphs
 * of src/eval/latency.ts), and the whole network; what the layers do not account for is the fixed
 * cost. Each candidate is timed interleaved with the regular conv (2 shared cores: a load change
 * then hits both alike), its time taken as its ratio to the conv times the median of the conv's
 * times over all pairs. Fills `msBefore` and each candidate's `ms` in place.
 */
export async function timeBudgetCandidates(engine: Engine, bc: BudgetCandidates, input: Batch, opts: Pick<ConvertModelOptions, 'order' | 'form' | 'maxIterations' | 'seed'> = {}): Promise<{ totalMs: number; fixedMs: number }> {
  const shapes = inferShapes(bc.graph, { [bc.graph.inputs[0]]: input.shape.slice(1) });
  const settings = { order: opts.order ?? 'dw-pw', form: opts.form ?? 'split', layout: bc.graph.layout, maxIterations: opts.maxIterations, seed: opts.seed } as const;
  const totalMs = (await timeGraph(engine, bc.graph, input)).medianMs;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  let layersMs = 0;
  for (const l of bc.layers) {
    const inShape = shapes.get(l.conv.inputs[0]) as number[];
    const regularMs: number[] = [];
    const ratios = new Map<(typeof l.candidates)[number], number>();
    for (const c of l.candidates) {
      if (c.method === 'keep') continue;
      const rep = planLayer(l.conv, c.method, { rank: c.rank, tuckerRanks: c.tuckerRanks, factorRank: c.factorRank }, settings).decompose().replacement;
      const [regular, replaced] = layerGraphsFor(engine, { conv: l.conv, nodes: rep.nodes, input: l.conv.inputs[0], output: rep.output }, inShape, bc.graph.layout);
      const x = randomBatch(regular.nodes[0].op === 'input' ? (regular.nodes[0].shape as number[]) : inShape, 1, (opts.seed ?? 1) + 1, [-1, 1]);
      const [ta, tb] = await timeGraphPair(engine, regular, replaced, x);
      regularMs.push(ta.medianMs);
      ratios.set(c, tb.medianMs / ta.medianMs);
    }
    // A layer without candidates keeps its time in the fixed cost.
    l.msBefore = regularMs.length ? median(regularMs) : 0;
    for (const c of l.candidates) c.ms = c.method === 'keep' ? l.msBefore : (ratios.get(c) as number) * l.msBefore;
    layersMs += l.msBefore;
  }
  // Timed apart, the layers can add up to more than the whole (load changes, per-call overhead):
  // the total is then their sum, so the solver's units stay consistent.
  const fixedMs = Math.max(0, totalMs - layersMs);
  return { totalMs: layersMs + fixedMs, fixedMs };
}
