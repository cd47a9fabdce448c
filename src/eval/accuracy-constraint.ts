/**
 * An accuracy constraint's figure measured on validation data: top-1 (labelled classification),
 * top-1 agreement with the original (any classification data) or mean PSNR against the original's
 * output (super-resolution photos). The data is checked against the constraint once, up front.
 */
import type { Dataset } from './datasets.js';
import { datasetMetrics, type ModelOutputs } from './evaluate.js';
import type { AccuracyConstraint, MeasuredAccuracy } from './accuracy-search.js';

const FLAG = { 'max-drop': '--max-drop', 'min-agreement': '--min-agreement', 'min-psnr': '--min-psnr' } as const;

/** Refuses data the constraint cannot be measured on, and nonsensical bounds. */
export function checkConstraint(c: AccuracyConstraint, data: Dataset): void {
  const flag = FLAG[c.kind];
  const bound = c.kind === 'max-drop' ? c.points : c.kind === 'min-agreement' ? c.percent : c.db;
  if (!Number.isFinite(bound)) throw new Error(`${flag} ${bound}: must be a number`);
  if (c.kind === 'max-drop' && !(c.points >= 0 && c.points <= 100)) throw new Error(`--max-drop ${c.points}: top-1 points, 0 to 100`);
  if (c.kind === 'min-agreement' && !(c.percent > 0 && c.percent <= 100)) throw new Error(`--min-agreement ${c.percent}: a percentage, above 0 and at most 100`);
  if (c.kind === 'min-psnr' && data.task !== 'super-resolution') throw new Error(`--min-psnr: --data ${data.name} is classification data; use --max-drop (labelled) or --min-agreement`);
  if (c.kind !== 'min-psnr' && data.task !== 'classification') throw new Error(`${flag}: --data ${data.name} is super-resolution data (the model outputs images); use --min-psnr`);
  if (c.kind === 'max-drop' && data.task === 'classification' && !data.labels) throw new Error(`--max-drop: --data ${data.name} has no labels (one subfolder per class); use --min-agreement for unlabelled data`);
}

/** The constraint's figure of `outputs` against the original's `reference` outputs on the same data. */
export function measureAccuracy(c: AccuracyConstraint, data: Dataset, outputs: ModelOutputs, reference: ModelOutputs): MeasuredAccuracy {
  const m = datasetMetrics(data, outputs, reference);
  if (c.kind === 'min-psnr') return { value: m.superResolution?.psnrVsOriginalDb as number };
  const k = m.classification;
  if (!k) throw new Error(`${FLAG[c.kind]}: no classification metrics for --data ${data.name}`);
  if (c.kind === 'min-agreement') return { value: (k.agreement as number) * 100 };
  return { value: (k.top1 as number) * 100, reference: (k.reference?.top1 as number) * 100 };
}
