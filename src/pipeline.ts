/**
 * The whole job as one library call: load → convert → measure on a real input → report → save.
 * The CLI is a thin shell over this; library users call it directly.
 */
import { projectVersion } from './project.js';
import { jsonSafe } from './report/json.js';

export { jsonSafe };
import type { Graph } from './models/ir.js';
import { loadGraph, formatOf, modelFiles, OUTPUT_FORMATS, type OutputFormat } from './models/io.js';
import { toNhwc } from './models/relayout.js';
import { parseInputShape, type Shape } from './models/shapes.js';
import { declaredInputRange } from './models/packaged.js';
import { describePreprocessing, resolvePreprocessing, type Preprocessing, type PreprocessOptions } from './eval/preprocess.js';
import { writeFolderAtomically } from './models/atomic-dir.js';
import { convertGraph, foldGhostOrders, validateRankOptions, type Conversion, type ConvertOptions } from './convert/convert.js';
import { createRunner, type RuntimeChoice } from './eval/runner.js';
import { imageInput, randomInput, type InputSpec } from './eval/inputs.js';
import { measureConversion, type ConversionErrors } from './eval/conversion-errors.js';
import { buildReport, type ConversionReport, type CalibrationReport } from './report/conversion-report.js';
import { createEngine } from './eval/engine.js';
import { calibrate, type CalibrationMode } from './eval/calibrate.js';
import { loadCalibrationData } from './eval/calibration-data.js';
import { inferShapes } from './models/shapes.js';
import { checkActivations } from './models/activation-memory.js';
import { budgetReport, toPlan, type BudgetCandidates, type BudgetReport } from './convert/budget-plan.js';
import { setUpBudget } from './eval/budget-problem.js';
import { checkSensitivity, resolveSensitivity, type Sensitivity } from './eval/sensitivity.js';
import { solveBudget, type BudgetBy } from './convert/budget.js';
import { shareFitSeconds } from './convert/budget-fits.js';
import type { Method } from './convert/methods.js';
import type { LayerPlan } from './convert/convert.js';
import type { Engine } from './eval/engine.js';
import { compareGraphs } from './eval/latency.js';
import { defaultCacheFile, openLatencyCache } from './eval/latency-cache.js';
import type { Batch } from './eval/tfjs-run.js';

export const VERSION: string = projectVersion();

export interface ConvertModelOptions extends ConvertOptions {
  /** "H,W" for models with free spatial dimensions. */
  inputShape?: string;
  /** A photo (PNG or JPEG) to measure the output error on, brought to the model's input by the preprocessing. */
  inputImage?: string;
  /** How the model expects its input (preprocess.ts); default: the model's declared range or the default rule. */
  preprocess?: PreprocessOptions;
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
  /**
   * --target-speedup with --calibrate: cost each candidate by its layer's output error ('layer') or
   * by the network's final output ('e2e', sensitivity.ts). Default: defaultSensitivity (e2e for
   * image-to-image models, layer for classifiers).
   */
  sensitivity?: Sensitivity;
  /** --sensitivity e2e: calibration examples measured on, at most (default 64). */
  sensitivityExamples?: number;
  /** Joint calibration: block-coordinate rounds per layer (default 8). */
  refitRounds?: number;
  /** Progress: the stage ('decompose', 'calibrate') and the layer being worked on. */
  onProgress?: (stage: string, layer: string, index: number, total: number) => void;
  /** Where to write the converted model and report.json; nothing is written when absent. */
  outDir?: string;
  /** Replace a non-empty outDir this tool did not write. */
  force?: boolean;
  /** Formats of the written model (default: ONNX for ONNX input, else a TF.js LayersModel). */
  formats?: OutputFormat[];
  /** Global speed budget: pick (method, rank) per layer to reach this speedup with the least total kernel error. */
  targetSpeedup?: number;
  /** What the budget counts: MACs (default) or per-layer latency measured on `backend`. */
  by?: BudgetBy;
  /** The budget's candidate methods (default: [method ?? 'nd']). */
  methods?: Method[];
  /**
   * --target-speedup: seconds for the whole search, candidates and final fits (default 60). CP
   * candidates cost one spectrum per layer; what remains is shared out as ALS time among the
   * layers the plan gives to CP, in proportion to their size (budget-fits.ts).
   */
  budgetSeconds?: number;
  /**
   * --by latency: the file measured candidate latencies are kept in (default under the user's cache
   * folder, latency-cache.ts); false keeps nothing.
   */
  latencyCache?: string | false;
  /** --by latency: seconds at most per candidate comparison (default 4; the interval target is ±5 %). */
  timingSeconds?: number;
  /** Progress of --by latency's candidate timings. */
  onTiming?: (label: string, index: number, total: number) => void;
}

export interface ConvertModelResult {
  original: Graph;
  conversion: Conversion;
  errors: ConversionErrors | null;
  input: InputSpec | null;
  preprocessing: Preprocessing;
  report: ConversionReport;
  /** The speed budget's choices and figures (also in report.json as `budget`), with --target-speedup. */
  budget: BudgetReport | null;
}

export async function resolveInput(graph: Graph, opts: { inputShape?: string; inputImage?: string; seed?: number; preprocessing?: Preprocessing }): Promise<InputSpec> {
  const shape = opts.inputShape ? Object.values(parseInputShape(opts.inputShape, graph))[0] : undefined;
  if (shape) checkActivations(graph, { [graph.inputs[0]]: shape });
  const spec = opts.inputImage
    ? await imageInput(graph, opts.inputImage, { preprocessing: opts.preprocessing, shape })
    : randomInput(graph, shape, { seed: opts.seed, preprocessing: opts.preprocessing });
  checkActivations(graph, { [graph.inputs[0]]: spec.shape }, { what: opts.inputImage ? `the ${spec.shape.slice(0, 2).join('×')} image ${opts.inputImage}` : undefined });
  return spec;
}

/**
 * The input, worked out once: the measurement input (a photo, or seeded random pixels, through the
 * preprocessing) when the models will run, and the per-example shape costs are counted at.
 */
async function workOutInput(original: Graph, opts: ConvertModelOptions, preprocessing: Preprocessing): Promise<{ input: InputSpec | null; inputShapes: Record<string, Shape> | undefined }> {
  const needsInput = opts.evaluate !== false || opts.inputImage !== undefined;
  const input = needsInput ? await resolveInput(original, { ...opts, preprocessing }) : null;
  const inputShapes = input ? { [original.inputs[0]]: input.shape } : opts.inputShape ? parseInputShape(opts.inputShape, original) : undefined;
  if (!input && inputShapes) checkActivations(original, inputShapes);
  return { input, inputShapes };
}

export async function convertModel(modelPath: string, opts: ConvertModelOptions): Promise<ConvertModelResult> {
  if (opts.targetSpeedup === undefined) validateRankOptions(opts);
  checkSensitivity(opts.sensitivity, opts.calibrate);
  const original = await loadGraph(modelPath);
  const preprocessing = resolvePreprocessing(original, opts.preprocess, declaredInputRange(modelPath));
  checkOutputFormats(original, modelPath, opts.formats);
  const { input, inputShapes } = await workOutInput(original, opts, preprocessing);
  // Read once, with the model's preprocessing: the budget's data-driven costs and the calibration see the same inputs.
  const calData = opts.calibrate ? await loadCalibrationData(opts.calibrate, original, { samples: opts.calibSamples, tile: opts.calibTile, seed: opts.seed, preprocessing }) : null;
  const budget = opts.targetSpeedup === undefined ? null : await planBudget(original, opts, inputShapes, calData?.batches ?? null);
  const t0 = performance.now();
  const onLayer = (name: string, i: number, n: number) => opts.onProgress?.('decompose', name, i, n);
  // With calibration the Ghost layers' channel order is folded after their data fit (a data fit may re-pick primaries).
  const foldOrders = !opts.calibrate;
  if (opts.ghost?.fit === 'data' && !opts.calibrate) throw new Error('--ghost-fit data fits the ghosts on calibration outputs: add --calibrate <data> (or use --ghost-fit weights)');
  let conversion = convertGraph(original, budget ? { ...opts, plan: budget.plan, pointwise: budget.pointwise, onLayer, foldOrders } : { ...opts, onLayer, foldOrders });
  const decomposeSeconds = (performance.now() - t0) / 1000;

  let backend: string | null = null;
  let errors: ConversionErrors | null = null;
  let uncalibratedErrors: ConversionErrors | null = null;
  let evaluateSeconds: number | null = null;
  let calibration: CalibrationReport | null = null;
  let uncalibrated: Conversion | null = null;
  if (calData) {
    const data = calData;
    const engine = await createEngine(opts.backend ?? 'auto', original.layout, { threads: opts.threads });
    const t2 = performance.now();
    const cal = await calibrate(engine, conversion, data.batches, { mode: opts.calibMode, dataAware: opts.dataAware, rounds: opts.refitRounds, seed: opts.seed, onLayer: (name, i, n) => opts.onProgress?.('calibrate', name, i, n) });
    uncalibrated = foldGhostOrders(conversion);
    conversion = foldGhostOrders({ ...conversion, graph: cal.graph, layers: cal.conversionLayers ?? conversion.layers });
    calibration = { data: data.description, images: data.images, mode: cal.mode, backend: engine.name, seconds: (performance.now() - t2) / 1000, layers: cal.layers, ...(cal.outputCheck ? { outputCheck: cal.outputCheck } : {}) };
  }
  if (opts.evaluate !== false && input) {
    const runner = await createRunner(opts.backend ?? 'auto', original.layout, { threads: opts.threads });
    backend = runner.name;
    const t1 = performance.now();
    // A photo fed as 0-255 pixels to an image-to-image model: its output is an image of range 255.
    const range = opts.inputImage && preprocessing.name === '0-255' ? 255 : undefined;
    errors = await measureConversion(runner, conversion, original, input.batch, range);
    if (uncalibrated) uncalibratedErrors = await measureConversion(runner, uncalibrated, original, input.batch, range);
    evaluateSeconds = (performance.now() - t1) / 1000;
  }
  if (budget?.timing) {
    const t = await compareGraphs(budget.timing.engine, original, conversion.graph, budget.timing.input);
    budget.report.measured = {
      backend: budget.timing.engine.name, threads: budget.timing.engine.threads, msBefore: t.a.medianMs, msAfter: t.b.medianMs, speedup: t.ratio,
      speedupInterval: [t.low, t.high], runs: t.a.runs, stoppedBy: t.stoppedBy, load: t.load,
    };
  }
  const report = buildReport(original, conversion, errors, {
    version: VERSION, model: modelPath, backend, inputShapes, input: input?.description ?? null, decomposeSeconds, evaluateSeconds, calibration, uncalibratedErrors,
    preprocessing: describePreprocessing(preprocessing, original), budget: budget?.report ?? null,
  });
  if (opts.outDir) await saveConversion(opts.outDir, conversion.graph, report, modelPath, { force: opts.force, formats: opts.formats });
  return { original, conversion, errors, input, preprocessing, report, budget: budget?.report ?? null };
}

export { OUTPUT_FORMATS, type OutputFormat };

/** Refuses, before any work, an output format the model cannot be written in. */
function checkOutputFormats(graph: Graph, modelPath: string, formats: OutputFormat[] = []): void {
  for (const f of formats) {
    if (!OUTPUT_FORMATS.includes(f)) throw new Error(`--format "${String(f)}": choose from ${OUTPUT_FORMATS.join(', ')}`);
    if (f === 'onnx' || graph.layout === 'NHWC') continue;
    // TF.js and Keras hold NHWC models: an ONNX (NCHW) model is relaid out, which only some layer kinds allow.
    try {
      toNhwc(graph);
    } catch (e) {
      throw new Error(`--format ${f}: ${modelPath} is an NCHW (ONNX) model that cannot be relaid out for TF.js/Keras: ${(e as Error).message}; write onnx`);
    }
  }
}

export async function saveConversion(
  outDir: string,
  graph: Graph,
  report: ConversionReport,
  modelPath: string,
  opts: { force?: boolean; extra?: Record<string, Uint8Array>; formats?: OutputFormat[] } = {},
): Promise<void> {
  const files: Record<string, Uint8Array | string> = { 'report.json': JSON.stringify(report, jsonSafe, 2), ...opts.extra };
  // Without --format: ONNX stays ONNX, everything else (TF.js, Keras) becomes a TF.js LayersModel.
  const formats = opts.formats?.length ? opts.formats : [formatOf(modelPath) === 'onnx' ? ('onnx' as const) : ('tfjs' as const)];
  for (const format of formats) Object.assign(files, await modelFiles(graph, format));
  await writeFolderAtomically(outDir, files, { protect: [modelPath], force: opts.force });
}


interface PlannedBudget {
  plan: Record<string, LayerPlan>;
  report: BudgetReport;
  /** --by latency: the engine and input the candidates were timed with (the whole models are timed after conversion). */
  timing?: { engine: Engine; input: Batch };
  /** The candidates included 1×1 convs (low-rank pairs). */
  pointwise?: boolean;
}

/** --target-speedup: candidates per layer, their measured times with --by latency, and the solver's plan. */
async function planBudget(original: Graph, opts: ConvertModelOptions, inputShapes: Record<string, Shape> | undefined, calBatches: Batch[] | null): Promise<PlannedBudget> {
  if (opts.rank !== undefined || opts.energy !== undefined || opts.rankRule !== undefined || opts.tuckerRanks !== undefined || opts.ranks) {
    throw new Error("--target-speedup chooses every layer's method and rank; drop --rank / --energy / --rank-rule / --tucker-ranks");
  }
  const by = opts.by ?? 'macs';
  if (by !== 'macs' && by !== 'latency') throw new Error(`--by "${String(by)}": choose macs or latency`);
  const t0 = performance.now();
  const sensitivity = resolveSensitivity(opts.sensitivity, original, inputShapes, calBatches !== null);
  const e2e = sensitivity === 'e2e';
  const dataDriven = calBatches !== null && (opts.dataAware !== false || e2e);
  // Rank allocation by data: candidates cost their output error on the calibration data.
  const calibration = dataDriven ? calBatches : null;
  const engine = dataDriven || by === 'latency' ? await createEngine(opts.backend ?? 'auto', original.layout, { threads: opts.threads }) : null;
  const cache = by === 'latency' ? openLatencyCache(opts.latencyCache === false ? null : (opts.latencyCache ?? defaultCacheFile())) : undefined;
  const s = await setUpBudget(original, engine, {
    convert: opts, methods: opts.methods ?? [opts.method ?? 'nd'], by, inputShapes, calibration, seed: opts.seed, cache, timingSeconds: opts.timingSeconds,
    sensitivity, sensitivityExamples: opts.sensitivityExamples,
    onCandidates: (name, i, n) => opts.onProgress?.('candidates', name, i, n), onTiming: opts.onTiming,
    onSensitivity: (label, i, n) => opts.onProgress?.('sensitivity', label, i, n),
  });
  const result = solveBudget(s.problem, { targetSpeedup: opts.targetSpeedup as number, ...(by === 'latency' ? { by } : {}) });
  const planned = withFitTimes({ plan: toPlan(result), report: budgetReport(s.bc, result) }, s.bc, t0, opts.budgetSeconds);
  planned.report.sensitivity = !calibration ? 'kernel' : e2e ? 'e2e' : 'layer';
  if (s.timing) {
    planned.timing = { engine: engine as Engine, input: s.timing.input };
    planned.report.latencyCache = { ...s.timing.result.cache, pruned: s.timing.result.pruned };
    planned.pointwise = s.pointwise;
  }
  return planned;
}

/** Gives the plan's CP layers their share of what remains of --budget-seconds (budget-fits.ts). */
function withFitTimes(p: PlannedBudget, bc: BudgetCandidates, t0: number, budgetSeconds = 60): PlannedBudget {
  if (!(budgetSeconds > 0)) throw new Error(`--budget-seconds ${budgetSeconds}: must be a positive number of seconds`);
  const spent = (performance.now() - t0) / 1000;
  const shares = shareFitSeconds(bc.layers, p.plan, Math.max(0, budgetSeconds - spent));
  for (const [name, seconds] of shares) p.plan[name] = { ...p.plan[name], cpSeconds: seconds };
  p.report.search = { budgetSeconds, candidateSeconds: spent, fitSeconds: Math.max(0, budgetSeconds - spent), cpLayers: shares.size };
  return p;
}

export { timeBudgetCandidates } from './eval/candidate-latency.js';
