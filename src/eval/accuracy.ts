/**
 * Classification accuracy: top-k against labels, and agreement with a reference model (the
 * original, before conversion) — agreement isolates what the conversion changed from what the
 * original model already got wrong, and needs no labels:
 *   - top-1 agreement: same top class; top-5 agreement: the reference's top class is among the
 *     model's 5 best;
 *   - mean KL(p_ref ‖ p) of the softmax outputs (the rows as they are when the model already ends
 *     in a softmax), in nats;
 *   - logit rel L2 ‖z − z_ref‖₂ / ‖z_ref‖₂ over all raw outputs.
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
  /** null for unlabelled data. */
  top1: number | null;
  /** null without labels, or with 5 classes or fewer (top-5 would be trivially 1). */
  top5: number | null;
  /** Top-1 agreement with the reference model; null without one. */
  agreement: number | null;
  /** Share of examples whose reference top-1 class is in this model's top 5; null without a reference or with ≤ 5 classes. */
  top5Agreement: number | null;
  /** Mean over examples of KL(softmax_ref ‖ softmax), nats; null without a reference. */
  meanKl: number | null;
  /** ‖scores − reference scores‖₂ / ‖reference scores‖₂; null without a reference. */
  logitRelL2: number | null;
  /** What the outputs are: rows already summing to 1 are probabilities (KL uses them as they are). */
  outputs: 'logits' | 'probabilities';
}

export function classificationMetrics(scores: Float32Array, labels: ArrayLike<number> | null, classes: number, referenceScores?: Float32Array): ClassificationMetrics {
  const ref = referenceScores;
  if (ref && ref.length !== scores.length) throw new Error(`the model gives ${scores.length / classes} score rows, the reference ${ref.length / classes}`);
  return {
    n: scores.length / classes,
    classes,
    top1: labels ? topKAccuracy(scores, labels, classes, 1) : null,
    top5: labels && classes > 5 ? topKAccuracy(scores, labels, classes, 5) : null,
    agreement: ref ? agreement(argmaxRows(scores, classes), argmaxRows(ref, classes)) : null,
    top5Agreement: ref && classes > 5 ? topKAccuracy(scores, argmaxRows(ref, classes), classes, 5) : null,
    meanKl: ref ? meanKl(ref, scores, classes) : null,
    logitRelL2: ref ? relL2(scores, ref) : null,
    outputs: areProbabilities(scores, classes) ? 'probabilities' : 'logits',
  };
}

/** Rows that are non-negative and sum to 1 (± 1e-3): the model already ends in a softmax. */
export function areProbabilities(scores: ArrayLike<number>, classes: number): boolean {
  for (let r = 0; r < scores.length / classes; r++) {
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      const v = scores[r * classes + k];
      if (v < 0) return false;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return true;
}

/** log-probabilities of one row: the row's own logs when it is a distribution, else a stable log-softmax. */
function logProbs(row: ArrayLike<number>, probabilities: boolean): Float64Array {
  const out = new Float64Array(row.length);
  if (probabilities) {
    // A probability that underflowed to 0 is floored so KL stays finite.
    for (let k = 0; k < row.length; k++) out[k] = Math.log(Math.max(row[k], 1e-30));
    return out;
  }
  let max = -Infinity;
  for (let k = 0; k < row.length; k++) max = Math.max(max, row[k]);
  let sum = 0;
  for (let k = 0; k < row.length; k++) sum += Math.exp(row[k] - max);
  const lse = max + Math.log(sum);
  for (let k = 0; k < row.length; k++) out[k] = row[k] - lse;
  return out;
}

/** Mean over rows of KL(p ‖ q) = Σ p (log p − log q), p from `ref`, q from `scores`. */
export function meanKl(ref: Float32Array, scores: Float32Array, classes: number): number {
  const pRef = areProbabilities(ref, classes);
  const pOut = areProbabilities(scores, classes);
  const rows = ref.length / classes;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const lp = logProbs(ref.subarray(r * classes, (r + 1) * classes), pRef);
    const lq = logProbs(scores.subarray(r * classes, (r + 1) * classes), pOut);
    let kl = 0;
    for (let k = 0; k < classes; k++) kl += Math.exp(lp[k]) * (lp[k] - lq[k]);
    total += Math.max(0, kl);
  }
  return total / rows;
}

function relL2(a: Float32Array, ref: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return den === 0 ? (num === 0 ? 0 : Infinity) : Math.sqrt(num / den);
}

export interface ClassifyOptions {
  /** Examples per run; default 500. */
  batchSize?: number;
  onBatch?: (done: number, total: number) => void;
}

/** Floats per batch at most (64 MB): big photos stream in smaller batches than --batch asks for. */
const MAX_BATCH_FLOATS = 2 ** 24;

/** The batch classify() runs: --batch, or fewer where big photos would pass MAX_BATCH_FLOATS. */
export function classifyBatchSize(exampleShape: readonly number[], asked: number): number {
  return Math.max(1, Math.min(asked, Math.floor(MAX_BATCH_FLOATS / exampleShape.reduce((a, b) => a * b, 1))));
}

/** Scores of every example of the dataset, n × classes, in dataset order; examples are read batch by batch. */
export async function classify(model: PreparedModel, data: ClassificationData, layout: 'NHWC' | 'NCHW', opts: ClassifyOptions = {}): Promise<{ scores: Float32Array; classes: number }> {
  const asked = opts.batchSize ?? 500;
  if (!Number.isInteger(asked) || asked < 1) throw new Error(`--batch ${asked}: must be a positive integer`);
  const [h, w, c] = data.exampleShape;
  const bs = classifyBatchSize(data.exampleShape, asked);
  const ex = layout === 'NHWC' ? [h, w, c] : [c, h, w];
  let scores: Float32Array | null = null;
  let classes = 0;
  for (let start = 0; start < data.n; start += bs) {
    const m = Math.min(bs, data.n - start);
    const [y] = await model.run({ shape: [m, ...ex], data: await data.read(start, m) });
    if (!scores) {
      classes = y.data.length / m;
      scores = new Float32Array(data.n * classes);
    }
    scores.set(y.data, start * classes);
    opts.onBatch?.(start + m, data.n);
  }
  return { scores: scores as Float32Array, classes };
}
