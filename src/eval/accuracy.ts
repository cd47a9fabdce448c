/**
 * Classification accuracy: top-k against labels, and agreement of top-1 with a reference model
 * (the original, before conversion) — agreement isolates what the conversion changed from what
 * the original model already got wrong.
 */
import type { PreparedModel } from './engine.js';
import type { ClassificationData } from './datasets.js';

/**
 * Indices of the k largest scores of each row, best first. Ties go to the lower class index
 * (the rule argmax uses everywhere), so results do not depend on sort stability.
 */
export function topK(scores: ArrayLike<number>, classes: number, k: number): Int32Array {
  if (!Number.isInteger(classes) || classes < 1 || scores.length % classes) throw new Error(`topK: ${scores.length} scores do not split into rows of ${classes} classes`);
  if (!Number.isInteger(k) || k < 1 || k > classes) throw new Error(`topK: k = ${k} must be in 1..${classes}`);
  const rows = scores.length / classes;
  const out = new Int32Array(rows * k);
  const idx = Array.from({ length: classes }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const order = idx.slice().sort((a, b) => scores[base + b] - scores[base + a] || a - b);
    for (let j = 0; j < k; j++) out[r * k + j] = order[j];
  }
  return out;
}

export function argmaxRows(scores: ArrayLike<number>, classes: number): Int32Array {
  return topK(scores, classes, 1);
}

/** Share of rows whose label is among the k best scores. */
export function topKAccuracy(scores: ArrayLike<number>, labels: ArrayLike<number>, classes: number, k: number): number {
  const rows = scores.length / classes;
  if (rows !== labels.length) throw new Error(`topKAccuracy: ${rows} score rows for ${labels.length} labels`);
  if (rows === 0) throw new Error('topKAccuracy: no examples');
  const top = topK(scores, classes, k);
  let hit = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      if (top[r * k + j] === labels[r]) {
        hit++;
        break;
      }
    }
  }
  return hit / rows;
}

/** Share of examples on which two models' top-1 predictions are the same class. */
export function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`agreement: ${a.length} and ${b.length} predictions`);
  if (a.length === 0) throw new Error('agreement: no predictions');
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

export interface ClassificationMetrics {
  n: number;
  classes: number;
  top1: number;
  /** null when there are 5 classes or fewer (top-5 would be trivially 1). */
  top5: number | null;
  /** Top-1 agreement with the reference model; null without one. */
  agreement: number | null;
}

export function classificationMetrics(scores: Float32Array, labels: ArrayLike<number>, classes: number, referenceScores?: Float32Array): ClassificationMetrics {
  return {
    n: labels.length,
    classes,
    top1: topKAccuracy(scores, labels, classes, 1),
    top5: classes > 5 ? topKAccuracy(scores, labels, classes, 5) : null,
    agreement: referenceScores ? agreement(argmaxRows(scores, classes), argmaxRows(referenceScores, classes)) : null,
  };
}

export interface ClassifyOptions {
  /** Examples per run; default 500. */
  batchSize?: number;
  onBatch?: (done: number, total: number) => void;
}

/** Scores of every example of the dataset, n × classes, in dataset order. */
export async function classify(model: PreparedModel, data: ClassificationData, layout: 'NHWC' | 'NCHW', opts: ClassifyOptions = {}): Promise<{ scores: Float32Array; classes: number }> {
  const bs = opts.batchSize ?? 500;
  if (!Number.isInteger(bs) || bs < 1) throw new Error(`--batch ${bs}: must be a positive integer`);
  const [h, w, c] = data.exampleShape;
  const per = h * w * c;
  // NCHW needs a transpose unless there is one channel (then both layouts are the same bytes).
  if (layout === 'NCHW' && c !== 1) throw new Error('classify: NCHW models are supported for single-channel datasets only');
  const ex = layout === 'NHWC' ? [h, w, c] : [c, h, w];
  let scores: Float32Array | null = null;
  let classes = 0;
  for (let start = 0; start < data.n; start += bs) {
    const m = Math.min(bs, data.n - start);
    const [y] = await model.run({ shape: [m, ...ex], data: data.images.slice(start * per, (start + m) * per) });
    if (!scores) {
      classes = y.data.length / m;
      scores = new Float32Array(data.n * classes);
    }
    scores.set(y.data, start * classes);
    opts.onBatch?.(start + m, data.n);
  }
  return { scores: scores as Float32Array, classes };
}
