import { Option, type Command } from 'commander';
import { convertModel, OUTPUT_FORMATS, type OutputFormat } from '../../src/pipeline.js';
import { conversionTable } from '../../src/report/table.js';
import { RUNTIME_CHOICES } from '../../src/eval/runner.js';
import { asUsage, FORCE_HELP, int, list, num, prepareOut, print } from '../options.js';
import { validateRankOptions } from '../../src/convert/convert.js';
import { progress } from '../progress.js';
import { addPreprocessOptions, preprocessFlags } from '../preprocess-options.js';
import { UsageError } from '../../src/usage-error.js';
import { METHODS, REGISTRY, type Method } from '../../src/convert/methods.js';
import { methodLines } from '../../src/report/method-lines.js';
import { budgetText } from '../../src/report/budget-text.js';
import { accuracyConstraint, addAccuracyOptions, runAccuracyBudget } from './convert-accuracy.js';

export function registerConvert(program: Command): void {
  const cmd = program
    .command('convert')
    .description('decompose every eligible conv and write the converted model + report.json')
    .argument('<model>', 'model.json (TF.js LayersModel), its folder, an .onnx file, or a Keras .keras / .h5 file')
    .requiredOption('-o, --out <dir>', 'output folder (written atomically; never the input folder)')
    .addOption(new Option('--method <m>', `decomposition method: ${METHODS.map((m) => `${m} (${REGISTRY[m].summary})`).join('; ')}`).choices([...METHODS]).default('nd'))
    .addOption(new Option('--order <o>', 'network-decoupling ordering').choices(['dw-pw', 'pw-dw']).default('dw-pw'))
    .option('--rank <T>', 'components kept per channel (1..k²)', int)
    .option('--energy <τ>', 'keep the smallest T whose channel-averaged retained energy ≥ τ, τ ∈ (0, 1]', num)
    .addOption(new Option('--rank-rule <rule>', "choose each layer's rank by EVBMF (empirical variational Bayesian matrix factorisation)").choices(['vbmf']))
    .option('--tucker-ranks <Rout,Rin>', 'tucker2: ranks of the core (each capped at the layer\'s N and C)', (v: string) => v.split(',').map((x) => int(x.trim())))
    .option('--factor-rank <T>', 'spatial-nd: components per channel of the ND on each spatial factor (default 1)', int)
    .option('--max-iter <n>', 'cp / cp4: ALS iterations at most (default 200); tucker2: HOOI iterations (default 50)', int)
    .option('--ghost-ratio <s>', 'ghost: 1/s of the output channels stay a regular conv (primaries), the rest are d×d depthwise ghosts of them (default 2)', int)
    .option('--ghost-kernel <d>', 'ghost: depthwise filter size d, odd (default 3)', int)
    .addOption(new Option('--ghost-fit <f>', 'ghost: fit the ghosts on calibration outputs (data: the default with --calibrate; also refits the primaries) or in weight space (weights: the default without)').choices(['data', 'weights']))
    .option('--ghost-min-r2 <r>', 'ghost: channels whose fit explains less than this share of their variance stay primary (default 0)', num)
    .option('--target-speedup <S>', 'global budget: pick (method, rank) per layer to reach S× with the least total kernel error (with --calibrate: output error on the calibration data)', num)
    .addOption(new Option('--by <what>', 'what --target-speedup counts: MACs, or per-layer latency measured on --backend').choices(['macs', 'latency']).default('macs'))
    .option('--budget-seconds <s>', '--target-speedup: seconds for the search and the final CP fits (default 60); CP fits stop early from a start whose error the plan already assumed', num)
    .option('--latency-cache <file>', '--by latency: keep measured candidate latencies in this file (default: $XDG_CACHE_HOME/netdecouple/latency-cache.json or ~/.cache/netdecouple/…)')
    .option('--timing-seconds <s>', '--by latency: at most this long per candidate timing (default 4; stops earlier once the 95 % interval is within ±5 %)', num)
    .option('--no-latency-cache', '--by latency: time every candidate afresh and keep nothing')
    .option('--methods <list>', 'candidate methods for --target-speedup (default: --method); cp, cp4 and spatial-nd fit every candidate and are slow on big layers', list)
    .addOption(new Option('--form <f>', 'how T > 1 depthwise components are laid out').choices(['split', 'merged']).default('split'))
    .option('--layers <names>', 'only these layers (names, globs with *, or /regex/; comma-separated)', list)
    .option('--skip <names>', 'leave these layers regular (same syntax)', list)
    .option('--min-in-channels <n>', 'convs with at most this many inputs stay regular (3 keeps the RGB layer)', int, 3)
    .option('--keep-unprofitable', 'also replace convs whose decomposition would cost more MACs than they do')
    .option('--no-fold-bn', 'do not fold BatchNormalization into the preceding conv')
    .option('--input-shape <H,W>', 'spatial size for costs and the measurement input')
    .option('--input <photo>', 'measure output error on this PNG/JPEG photo, preprocessed (default: seeded random pixels, preprocessed)')
    .option('--calibrate <data>', 'refit each replaced layer\'s last 1×1 conv by least squares on unlabelled data: fashion-mnist-train[:N] or images:<folder>')
    .option('--calib-samples <n>', 'calibration images (or photo tiles)', int)
    .option('--calib-tile <px>', 'photo tile side for models that take any size (default 64)', int)
    .addOption(new Option('--calib-mode <m>', 'joint refits every factor of ND, Tucker-2, spatial and CP layers against the layer output (others: last factor); lsq refits only the last factor; bias only shifts the bias').choices(['joint', 'lsq', 'bias']).default('joint'))
    .option('--refit-rounds <n>', 'joint calibration: block-coordinate rounds per layer (default 8 for nd, 6 for tucker2, spatial, cp, cp4)', int)
    .addOption(new Option('--sensitivity <s>', "--target-speedup with --calibrate: cost each candidate by its layer's output error (layer), or by the network's final output with only that layer replaced (e2e: softmax KL for classifiers, MSE for image models; one network run per candidate, so the grid is capped to 8 ranks per method per layer as with --by latency; default: e2e for image-to-image models, layer for classifiers)").choices(['layer', 'e2e']))
    .option('--sensitivity-examples <n>', '--sensitivity e2e: calibration examples each candidate is measured on, at most (default 64)', int)
    .option('--no-data-aware', 'joint calibration: do not also try the activation-whitened decomposition (plain start only)')
    .option('--no-eval', 'skip running the models (costs and kernel errors only)')
    .addOption(new Option('--backend <b>', 'runtime for the measurement: tfjs backends, or ort (onnxruntime)').choices(RUNTIME_CHOICES).default('auto'))
    .option('--threads <n>', 'onnxruntime intra-op threads', int, 2)
    .option('--seed <n>', 'seed of the random measurement input', int, 1)
    .option('--format <list>', `model format(s) written: ${OUTPUT_FORMATS.join(', ')} (comma-separated; default tfjs, onnx for ONNX input)`, list)
    .option('--json', 'print the report as JSON on stdout')
    .option('--force', FORCE_HELP);
  addAccuracyOptions(addPreprocessOptions(cmd)).action(async (model: string, o) => {
    const accuracy = accuracyConstraint(o);
    if (accuracy) return runAccuracyBudget(cmd, model, accuracy, o);
    if (o.targetSpeedup === undefined) asUsage(() => validateRankOptions({ method: o.method, rank: o.rank, energy: o.energy, rankRule: o.rankRule, tuckerRanks: o.tuckerRanks, factorRank: o.factorRank }));
    prepareOut(o.out, o, [model, o.input, o.calibrate]);
    const bars = new Map<string, ReturnType<typeof progress>>();
    const onProgress = (stage: string, layer: string, i: number, n: number) => {
      if (!bars.has(stage)) {
        for (const b of bars.values()) b.done();
        bars.set(stage, progress(n, !o.json));
      }
      (bars.get(stage) as ReturnType<typeof progress>).step(`${stage} ${layer}`);
    };
    const { report, budget } = await convertModel(model, {
      onProgress,
      method: o.method, order: o.order, rank: o.rank, energy: o.energy, form: o.form, layers: o.layers, skip: o.skip,
      rankRule: o.rankRule, tuckerRanks: o.tuckerRanks, factorRank: o.factorRank, maxIterations: o.maxIter,
      ghost: { ratio: o.ghostRatio, kernelSize: o.ghostKernel, fit: o.ghostFit ?? (o.calibrate ? 'data' : 'weights'), minR2: o.ghostMinR2 },
      targetSpeedup: o.targetSpeedup, by: o.by, budgetSeconds: o.budgetSeconds, latencyCache: o.latencyCache === true ? undefined : o.latencyCache, timingSeconds: o.timingSeconds,
      onTiming: (label: string, i: number, n: number) => onProgress('timing', label, i, n), methods: o.methods ? checkMethods(o.methods) : undefined,
      minInChannels: o.minInChannels, foldBatchNorm: o.foldBn, keepUnprofitable: o.keepUnprofitable, inputShape: o.inputShape, inputImage: o.input,
      preprocess: preprocessFlags(o), formats: o.format ? checkFormats(o.format) : undefined, evaluate: o.eval, calibrate: o.calibrate, calibSamples: o.calibSamples, calibTile: o.calibTile, calibMode: o.calibMode, dataAware: o.dataAware, sensitivity: o.sensitivity, sensitivityExamples: o.sensitivityExamples, refitRounds: o.refitRounds, backend: o.backend, threads: o.threads, seed: o.seed, outDir: o.out, force: o.force,
    });
    for (const b of bars.values()) b.done();
    print(o.json, report, [conversionTable(report), ...methodLines(report), ...(budget ? [budgetText(budget)] : []), `wrote ${o.out}/ (model + report.json)`].join('\n'));
  });
}

function checkFormats(names: string[]): OutputFormat[] {
  for (const f of names) if (!OUTPUT_FORMATS.includes(f as OutputFormat)) throw new UsageError(`--format "${f}": choose from ${OUTPUT_FORMATS.join(', ')}`);
  return names as OutputFormat[];
}

function checkMethods(names: string[]): Method[] {
  for (const m of names) if (!METHODS.includes(m as Method)) throw new UsageError(`--methods "${m}": choose from ${METHODS.join(', ')}`);
  return names as Method[];
}
