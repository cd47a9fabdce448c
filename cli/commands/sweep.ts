import path from 'node:path';
import { Option, type Command } from 'commander';
import { loadGraph } from '../../src/models/load.js';
import { parseInputShape } from '../../src/models/shapes.js';
import { writeFolderAtomically } from '../../src/models/atomic-dir.js';
import { VERSION } from '../../src/pipeline.js';
import { RUNTIME_CHOICES } from '../../src/eval/runner.js';
import { createEngine } from '../../src/eval/engine.js';
import { loadDataset, DATASET_NAMES } from '../../src/eval/datasets.js';
import { loadCalibrationData } from '../../src/eval/calibration-data.js';
import { bestSetting, parseEnergies, parseRanks, runSweep, type Tolerance } from '../../src/eval/sweep.js';
import { sweepFiles } from '../../src/report/sweep-files.js';
import { sweepText } from '../../src/report/measure-tables.js';
import { FORCE_HELP, int, list, num, prepareOut, print } from '../options.js';
import { progress } from '../progress.js';
import { checkActivations } from '../../src/models/activation-memory.js';
import { addPreprocessOptions, preprocessingFrom } from '../preprocess-options.js';

export function registerSweep(program: Command): void {
  const cmd = program
    .command('sweep')
    .description('convert at every rank/order (and energy) setting, measure accuracy or PSNR and latency; write sweep.json, sweep.csv, SVG plots and report.html')
    .argument('<model>', 'model.json (TF.js LayersModel), its folder, or an .onnx file')
    .requiredOption('--data <dataset>', `evaluation data: ${DATASET_NAMES.join(' | ')}`)
    .requiredOption('-o, --out <dir>', 'output folder (written atomically)')
    .option('--ranks <list>', 'ranks T to try, e.g. 1..9 or 1,2,4 (default 1..9 unless only --energies is given)')
    .option('--orders <list>', 'orderings, comma-separated: dw-pw, pw-dw (default dw-pw)', list)
    .option('--energies <list>', 'energy thresholds τ to try as well, e.g. 0.9,0.95,0.99')
    .addOption(new Option('--form <f>', 'how T > 1 depthwise components are laid out').choices(['split', 'merged']).default('split'))
    .option('--layers <names>', 'only these layers (names, globs with *, or /regex/; comma-separated)', list)
    .option('--skip <names>', 'leave these layers regular (same syntax)', list)
    .option('--min-in-channels <n>', 'convs with at most this many inputs stay regular', int, 3)
    .option('--keep-unprofitable', 'also replace convs whose decomposition would cost more MACs than they do')
    .addOption(new Option('--backend <b>', 'runtime for evaluation and timing: tfjs backends, or ort (onnxruntime)').choices(RUNTIME_CHOICES).default('auto'))
    .option('--threads <n>', 'onnxruntime intra-op threads', int, 2)
    .option('--latency-batch <n>', 'images per timed run', int, 1)
    .option('--input-shape <H,W>', 'input size for timing (default: the dataset\'s)')
    .option('--runs <n>', 'least timed runs per setting (at least 10); more until the 95 % interval of the speedup is within ±5 %', int, 10)
    .option('--max-seconds <s>', 'cap on the timed runs of one setting (default 30); reported when it stops the timing', num)
    .option('--warmup <n>', 'untimed warm-up runs per setting', int, 3)
    .option('--batch <n>', 'images per evaluation run (classifiers)', int, 500)
    .option('--max-top1-drop <points>', 'classifiers: the report marks settings within this top-1 drop, in percentage points', num, 0.5)
    .option('--min-psnr <dB>', 'super-resolution: the report marks settings with at least this PSNR vs the original', num, 40)
    .option('--calibrate <data>', 'also calibrate every setting (least squares, no labels) on fashion-mnist-train[:N] or images:<folder> — never the evaluation data')
    .option('--calib-samples <n>', 'calibration images (or photo tiles)', int)
    .addOption(new Option('--calib-mode <m>', 'joint refits every factor of ND layers; lsq refits weights and bias of the last factor; bias only re-centres biases').choices(['joint', 'lsq', 'bias']).default('joint'))
    .option('--png', 'also write the charts as PNG')
    .option('--seed <n>', 'seed of the random timing input', int, 1)
    .option('--labels <labels.txt>', 'images:<folder> with class subfolders: class names one a line, in the model\'s class order')
    .option('--json', 'print sweep.json on stdout')
    .option('--force', FORCE_HELP);
  addPreprocessOptions(cmd).action(async (model: string, o) => {
      prepareOut(o.out, o, [model, o.data, o.calibrate]);
      const graph = await loadGraph(model);
      const ranks = o.ranks ? parseRanks(o.ranks) : undefined;
      const energies = o.energies ? parseEnergies(o.energies) : undefined;
      const preprocessing = preprocessingFrom(o, graph, model);
      const data = await loadDataset(o.data, graph, { preprocessing, labels: o.labels });
      const inputShape = o.inputShape ? (Object.values(parseInputShape(o.inputShape, graph))[0] as number[]) : undefined;
      if (inputShape) checkActivations(graph, { [graph.inputs[0]]: inputShape }, { batch: o.latencyBatch });
      const folderOf = (t: string) => (t.startsWith('images:') ? path.resolve(t.slice(7)) : null);
      if (o.calibrate && folderOf(o.calibrate) !== null && folderOf(o.calibrate) === folderOf(o.data)) throw new Error(`--calibrate ${o.calibrate}: calibrating on the evaluation data would leak it into the measurement; use other photos`);
      const calibration = o.calibrate ? { data: await loadCalibrationData(o.calibrate, graph, { samples: o.calibSamples, seed: o.seed, preprocessing }), mode: o.calibMode } : undefined;
      const engine = await createEngine(o.backend, graph.layout, { threads: o.threads });
      let live = progress(1, false);
      const report = await runSweep(engine, graph, data, {
        ranks, energies, orders: o.orders, form: o.form, layers: o.layers, skip: o.skip, minInChannels: o.minInChannels, keepUnprofitable: o.keepUnprofitable,
        latencyBatch: o.latencyBatch, inputShape, calibration, preprocessing, runs: o.runs, warmup: o.warmup, maxSeconds: o.maxSeconds, evalBatch: o.batch, seed: o.seed, model,
        onPlan: (n) => { live = progress(n, !o.json && process.stdout.isTTY === true); },
        onStep: (l) => live.step(l),
      });
      live.done();
      const tolerance: Tolerance = data.task === 'classification' ? { maxTop1Drop: o.maxTop1Drop / 100 } : { minPsnrDb: o.minPsnr };
      await writeFolderAtomically(o.out, await sweepFiles(report, { tolerance, png: o.png, version: VERSION }), { protect: [model], force: o.force });
      const best = bestSetting(report, tolerance);
      const bestLine = best
        ? `best within ${data.task === 'classification' ? `${o.maxTop1Drop} points top-1` : `${o.minPsnr} dB PSNR`}: ${best.setting}, measured ${best.measuredSpeedup.toFixed(2)}× (theoretical ${best.theoreticalSpeedup.toFixed(2)}×)`
        : 'no setting within the tolerance';
      print(o.json, report, `${sweepText(report)}\n\n${bestLine}\nwrote ${o.out}/: sweep.json, sweep.csv, *.svg${o.png ? ', *.png' : ''}, report.html`);
    });
}
