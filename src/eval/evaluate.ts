/**
 * A model on a dataset, optionally against a reference model (the original): the `eval` command
 * and each sweep setting. The reference's outputs are computed once and reused.
 */
import type { Graph } from '../models/ir.js';
import type { Engine } from './engine.js';
import type { Dataset } from './datasets.js';
import { classificationMetrics, classify, type ClassificationMetrics } from './accuracy.js';
import { superResolutionMetrics, upscaleAll, type SuperResolutionMetrics } from './super-resolution.js';
import type { Batch } from './tfjs-run.js';

export type ModelOutputs =
  | { task: 'classification'; scores: Float32Array; classes: number }
  | { task: 'super-resolution'; outputs: Batch[] };

export interface RunDatasetOptions {
  /** Classification examples per run; default 500. */
  batchSize?: number;
  onProgress?: (label: string) => void;
}

export async function runOnDataset(engine: Engine, graph: Graph, data: Dataset, opts: RunDatasetOptions = {}): Promise<ModelOutputs> {
  const model = await engine.prepare(graph);
  try {
    if (data.task === 'classification') {
      const { scores, classes } = await classify(model, data, graph.layout, { batchSize: opts.batchSize, onBatch: (d, t) => opts.onProgress?.(`${d}/${t} images`) });
      return { task: 'classification', scores, classes };
    }
    return { task: 'super-resolution', outputs: await upscaleAll(model, data, (n) => opts.onProgress?.(n)) };
  } finally {
    await model.dispose();
  }
}

export interface ClassificationResult extends ClassificationMetrics {
  /** The reference model's own accuracy on the same examples (labelled data). */
  reference: { top1: number | null; top5: number | null } | null;
  /** false: an unlabelled folder, only agreement with the reference is measured. */
  labelled: boolean;
  preprocessing: string;
}

export interface DatasetMetrics {
  classification: ClassificationResult | null;
  superResolution: SuperResolutionMetrics | null;
}

export function datasetMetrics(data: Dataset, outputs: ModelOutputs, reference?: ModelOutputs): DatasetMetrics {
  if (data.task === 'classification' && outputs.task === 'classification') {
    const ref = reference?.task === 'classification' ? reference : undefined;
    if (ref && ref.classes !== outputs.classes) throw new Error(`the model outputs ${outputs.classes} classes, the --against model ${ref.classes}`);
    const m = classificationMetrics(outputs.scores, data.labels, outputs.classes, ref?.scores);
    const r = ref && data.labels ? classificationMetrics(ref.scores, data.labels, ref.classes) : null;
    return { classification: { ...m, reference: r ? { top1: r.top1, top5: r.top5 } : null, labelled: data.labels !== null, preprocessing: data.preprocessing }, superResolution: null };
  }
  if (data.task === 'super-resolution' && outputs.task === 'super-resolution') {
    const ref = reference?.task === 'super-resolution' ? reference.outputs : undefined;
    return { classification: null, superResolution: superResolutionMetrics(data, outputs.outputs, ref) };
  }
  throw new Error(`outputs of a ${outputs.task} run do not fit ${data.task} data`);
}

export interface EvalReport extends DatasetMetrics {
  tool: 'netdecouple';
  kind: 'eval';
  model: string;
  against: string | null;
  data: string;
  task: Dataset['task'];
  backend: string;
  threads: number | null;
  seconds: number;
}

export async function evaluateModel(
  engine: Engine,
  graph: Graph,
  data: Dataset,
  opts: RunDatasetOptions & { reference?: Graph; model?: string; against?: string | null } = {},
): Promise<EvalReport> {
  const t0 = performance.now();
  const outputs = await runOnDataset(engine, graph, data, opts);
  const ref = opts.reference ? await runOnDataset(engine, opts.reference, data, opts) : undefined;
  return {
    tool: 'netdecouple',
    kind: 'eval',
    model: opts.model ?? graph.name,
    against: opts.against ?? null,
    data: data.name,
    task: data.task,
    backend: engine.name,
    threads: engine.threads,
    ...datasetMetrics(data, outputs, ref),
    seconds: (performance.now() - t0) / 1000,
  };
}
