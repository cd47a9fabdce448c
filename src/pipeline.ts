/**
 * The whole job as one library call: load → convert → measure on a real input → report → save.
 * The CLI is a thin shell over this; library users call it directly.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
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

export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

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
  /** Where to write the converted model and report.json; nothing is written when absent. */
  outDir?: string;
}

export interface ConvertModelResult {
  original: Graph;
  conversion: Conversion;
  errors: ConversionErrors | null;
  input: InputSpec | null;
  report: ConversionReport;
}

export async function resolveInput(graph: Graph, opts: { inputShape?: string; inputImage?: string; seed?: number }): Promise<InputSpec> {
  if (opts.inputImage) return imageInput(graph, opts.inputImage);
  const shape = opts.inputShape ? Object.values(parseInputShape(opts.inputShape, graph))[0] : undefined;
  return randomInput(graph, shape, { seed: opts.seed });
}

export async function convertModel(modelPath: string, opts: ConvertModelOptions): Promise<ConvertModelResult> {
  validateRankOptions(opts);
  const original = await loadGraph(modelPath);
  const t0 = performance.now();
  let conversion = convertGraph(original, opts);
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
    const cal = await calibrate(engine, conversion, data.batches, { mode: opts.calibMode, seed: opts.seed });
    uncalibrated = conversion;
    conversion = { ...conversion, graph: cal.graph };
    calibration = { data: data.description, images: data.images, mode: cal.mode, backend: engine.name, seconds: (performance.now() - t2) / 1000, layers: cal.layers };
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
  if (opts.outDir) await saveConversion(opts.outDir, conversion.graph, report, modelPath);
  return { original, conversion, errors, input, report };
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

/** JSON has no Infinity: identical outputs report psnrDb as the string "Infinity". */
export function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
