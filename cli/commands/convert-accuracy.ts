/**
 * convert's accuracy budget: `--max-drop X` / `--min-agreement A` / `--min-psnr P` with `--data`
 * (validation) and `--calibrate` (calibration), searched by src/accuracy-budget.ts.
 */
import type { Command } from 'commander';
import { convertWithinAccuracy } from '../../src/accuracy-budget.js';
import type { AccuracyConstraint } from '../../src/eval/accuracy-search.js';
import { DATASET_NAMES } from '../../src/eval/datasets.js';
import { frontierTable } from '../../src/report/frontier.js';
import { UsageError } from '../../src/usage-error.js';
import { int, num, prepareOut, print } from '../options.js';
import { progress } from '../progress.js';
import { preprocessFlags } from '../preprocess-options.js';
import type { Method } from '../../src/convert/methods.js';

export function addAccuracyOptions(cmd: Command): Command {
  return cmd
    .option('--max-drop <X>', 'the fastest model whose top-1 on --data (labelled) is at most X points below the original\'s, measured; see docs/accuracy-budget.md', num)
    .option('--min-agreement <A>', 'the fastest model whose top-1 agrees with the original\'s on at least A % of --data (unlabelled data)', num)
    .option('--min-psnr <P>', 'image-to-image models: the fastest model whose output is at least P dB PSNR from the original\'s on --data photos', num)
    .option('--data <dataset>', `--max-drop / --min-agreement / --min-psnr: validation data, ${DATASET_NAMES.join(' | ')}; never the --calibrate data`)
    .option('--labels <labels.txt>', '--data images:<folder> with class subfolders: class names one a line, in the model\'s class order')
    .option('--max-points <n>', '--max-drop / --min-agreement / --min-psnr: configurations tried at most (default 8)', int);
}

/** The constraint the flags ask for; null without one. */
export function accuracyConstraint(o: { maxDrop?: number; minAgreement?: number; minPsnr?: number }): AccuracyConstraint | null {
  const asked = [o.maxDrop !== undefined && '--max-drop', o.minAgreement !== undefined && '--min-agreement', o.minPsnr !== undefined && '--min-psnr'].filter(Boolean);
  if (asked.length > 1) throw new UsageError(`${asked.join(' and ')}: give one accuracy constraint`);
  if (o.maxDrop !== undefined) return { kind: 'max-drop', points: o.maxDrop };
  if (o.minAgreement !== undefined) return { kind: 'min-agreement', percent: o.minAgreement };
  if (o.minPsnr !== undefined) return { kind: 'min-psnr', db: o.minPsnr };
  return null;
}

// `o`: commander's parsed options of convert, untyped as in convert.ts.
export async function runAccuracyBudget(cmd: Command, model: string, accuracy: AccuracyConstraint, o: any): Promise<void> {
  if (!o.data) throw new UsageError('--max-drop / --min-agreement / --min-psnr measure on validation data: add --data <dataset> (and --calibrate <other data>)');
  prepareOut(o.out, o, [model, o.data, o.calibrate, o.labels]);
  const bars = new Map<string, ReturnType<typeof progress>>();
  let current = '';
  const onProgress = (stage: string, layer: string, i: number, n: number) => {
    // One bar per stage run: a stage that starts again (each point decomposes anew) gets a fresh bar.
    if (stage !== current || i === 0) {
      bars.get(current)?.done();
      bars.set(stage, progress(n, !o.json));
      current = stage;
    }
    bars.get(stage)?.step(`${stage} ${layer}`);
  };
  const maxPoints = o.maxPoints ?? 8;
  const { report, search } = await convertWithinAccuracy(model, {
    accuracy, data: o.data, labels: o.labels, maxPoints, onProgress,
    onPoint: (p, i) => {
      bars.get(current)?.done();
      if (!o.json && process.stderr.isTTY) process.stderr.write(`point ${i + 1}/${maxPoints}: target ${p.target.toFixed(2)}× → measured ${p.measuredSpeedup.toFixed(2)}×, ${p.accuracy.value.toFixed(2)} ${p.passes ? 'meets' : 'misses'}\n`);
    },
    method: o.method, order: o.order, form: o.form, layers: o.layers, skip: o.skip, maxIterations: o.maxIter, methods: o.methods as Method[] | undefined,
    ghost: { ratio: o.ghostRatio, kernelSize: o.ghostKernel, fit: o.ghostFit ?? (o.calibrate ? 'data' : 'weights'), minR2: o.ghostMinR2 },
    rank: o.rank, energy: o.energy, rankRule: o.rankRule, tuckerRanks: o.tuckerRanks, targetSpeedup: o.targetSpeedup,
    // The search is about measured speed: the budget counts measured latency unless --by is given.
    by: cmd.getOptionValueSource('by') === 'cli' ? o.by : 'latency',
    budgetSeconds: o.budgetSeconds, latencyCache: o.latencyCache === true ? undefined : o.latencyCache, timingSeconds: o.timingSeconds,
    minInChannels: o.minInChannels, foldBatchNorm: o.foldBn, keepUnprofitable: o.keepUnprofitable, inputShape: o.inputShape,
    preprocess: preprocessFlags(o), formats: o.format, calibrate: o.calibrate, calibSamples: o.calibSamples, calibTile: o.calibTile, calibMode: o.calibMode,
    dataAware: o.dataAware, sensitivity: o.sensitivity, sensitivityExamples: o.sensitivityExamples, refitRounds: o.refitRounds, backend: o.backend, threads: o.threads, seed: o.seed, outDir: o.out, force: o.force,
  });
  for (const b of bars.values()) b.done();
  print(o.json, report, [frontierTable(search), `wrote ${o.out}/ (model, report.json, frontier.html)`].join('\n'));
}
