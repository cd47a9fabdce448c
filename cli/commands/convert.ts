import { Option, type Command } from 'commander';
import { convertModel } from '../../src/pipeline.js';
import { conversionTable } from '../../src/report/table.js';
import { RUNTIME_CHOICES } from '../../src/eval/runner.js';
import { int, list, num, print } from '../options.js';

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('decompose every eligible conv and write the converted model + report.json')
    .argument('<model>', 'model.json (TF.js LayersModel), its folder, or an .onnx file')
    .requiredOption('-o, --out <dir>', 'output folder (written atomically; never the input folder)')
    .addOption(new Option('--method <m>', 'decomposition method').choices(['nd']).default('nd'))
    .addOption(new Option('--order <o>', 'network-decoupling ordering').choices(['dw-pw', 'pw-dw']).default('dw-pw'))
    .option('--rank <T>', 'components kept per channel (1..k²)', int)
    .option('--energy <τ>', 'keep the smallest T whose channel-averaged retained energy ≥ τ, τ ∈ (0, 1]', num)
    .addOption(new Option('--form <f>', 'how T > 1 depthwise components are laid out').choices(['split', 'merged']).default('split'))
    .option('--layers <names>', 'only these layers (names, globs with *, or /regex/; comma-separated)', list)
    .option('--skip <names>', 'leave these layers regular (same syntax)', list)
    .option('--min-in-channels <n>', 'convs with at most this many inputs stay regular (3 keeps the RGB layer)', int, 3)
    .option('--keep-unprofitable', 'also replace convs whose decomposition would cost more MACs than they do')
    .option('--no-fold-bn', 'do not fold BatchNormalization into the preceding conv')
    .option('--input-shape <H,W>', 'spatial size for costs and the measurement input')
    .option('--input <image.png>', 'measure output error on this image (default: seeded random input)')
    .option('--calibrate <data>', 'refit each replaced layer\'s last 1×1 conv by least squares on unlabelled data: fashion-mnist-train[:N] or images:<folder>')
    .option('--calib-samples <n>', 'calibration images (or photo tiles)', int)
    .option('--calib-tile <px>', 'photo tile side for models that take any size (default 64)', int)
    .addOption(new Option('--calib-mode <m>', 'lsq refits weights + bias; bias only shifts the bias').choices(['lsq', 'bias']).default('lsq'))
    .option('--no-eval', 'skip running the models (costs and kernel errors only)')
    .addOption(new Option('--backend <b>', 'runtime for the measurement: tfjs backends, or ort (onnxruntime)').choices(RUNTIME_CHOICES).default('auto'))
    .option('--threads <n>', 'onnxruntime intra-op threads', int, 2)
    .option('--seed <n>', 'seed of the random measurement input', int, 1)
    .option('--json', 'print the report as JSON on stdout')
    .action(async (model: string, o) => {
    const { report } = await convertModel(model, {
      method: o.method, order: o.order, rank: o.rank, energy: o.energy, form: o.form, layers: o.layers, skip: o.skip,
      minInChannels: o.minInChannels, foldBatchNorm: o.foldBn, keepUnprofitable: o.keepUnprofitable, inputShape: o.inputShape, inputImage: o.input,
      evaluate: o.eval, calibrate: o.calibrate, calibSamples: o.calibSamples, calibTile: o.calibTile, calibMode: o.calibMode, backend: o.backend, threads: o.threads, seed: o.seed, outDir: o.out,
    });
    print(o.json, report, `${conversionTable(report)}\nwrote ${o.out}/ (model + report.json)`);
  });
}
