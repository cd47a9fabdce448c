import { Option, type Command } from 'commander';
import { loadGraph } from '../../src/models/load.js';
import { parseInputShape } from '../../src/models/shapes.js';
import { writeFolderAtomically } from '../../src/models/atomic-dir.js';
import { jsonSafe, resolveInput, VERSION } from '../../src/pipeline.js';
import { createRunner, RUNTIME_CHOICES } from '../../src/eval/runner.js';
import { createEngine } from '../../src/eval/engine.js';
import { METHODS, type Method } from '../../src/convert/methods.js';
import { compareGraph } from '../../src/eval/compare.js';
import { compareFiles, compareTable } from '../../src/report/compare.js';
import { FORCE_HELP, int, list, num, prepareOut, print } from '../options.js';
import { loadCalibrationData } from '../../src/eval/calibration-data.js';
import { progress } from '../progress.js';
import { UsageError } from '../../src/usage-error.js';

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('every method on every eligible layer: error vs MACs kept, the winner at 2×, 3×, 4× fewer MACs; writes compare.json and an SVG per layer')
    .argument('<model>', 'model.json (TF.js LayersModel), its folder, or an .onnx file')
    .requiredOption('-o, --out <dir>', 'output folder (written atomically; never the input folder)')
    .option('--methods <list>', `methods to compare (default all: ${METHODS.join(', ')})`, list)
    .addOption(new Option('--order <o>', 'network-decoupling ordering (nd, spatial-nd)').choices(['dw-pw', 'pw-dw']).default('dw-pw'))
    .option('--layers <names>', 'only these layers (names, globs with *, or /regex/; comma-separated)', list)
    .option('--skip <names>', 'leave these layers out (same syntax)', list)
    .option('--min-in-channels <n>', 'convs with at most this many inputs are left out', int, 3)
    .option('--no-fold-bn', 'do not fold BatchNormalization into the preceding conv')
    .option('--grid <n>', 'rank grid points per method for spatial and Tucker-2 (CP and spatial-nd: a third, at least 4)', int, 16)
    .option('--cp-iters <n>', 'ALS iterations per CP point', int, 25)
    .option('--input-shape <H,W>', 'spatial size for MACs (models that take any size) and the random input of --output-error')
    .option('--input <image.png>', 'measure each point\'s output error on this image')
    .option('--output-error', 'measure each point\'s output error (on --input, else a seeded random input of --input-shape)')
    .option('--calibrate <data>', 'unlabelled images (fashion-mnist-train[:N] or images:<folder>): beside each ND, Tucker-2, spatial and CP point\'s plain decomposition, its data-aware variant (activation-aware start + joint refit, as convert --calibrate), both scored by layer output error on these images; with --output-error (or --input) also the ghosts\' data fit')
    .option('--calib-samples <n>', 'images (or photo tiles) of --calibrate / --ghost-data', int)
    .option('--refit-rounds <n>', '--calibrate: block-coordinate rounds of the joint refit (default 8 for nd, 6 for the others)', int)
    .option('--ghost-data <data>', 'ghost: fit the ghosts on these unlabelled images instead of --calibrate\'s and measure those points too (needs --output-error or --input)')
    .option('--ghost-samples <n>', 'images (or photo tiles) of --ghost-data (default --calib-samples)', int)
    .option('--ghost-kernel <d>', 'ghost: depthwise filter size d, odd (default 3)', int)
    .option('--ghost-min-r2 <r>', 'ghost: channels whose fit explains less than this share of their variance stay primary (default 0)', num)
    .addOption(new Option('--backend <b>', 'runtime for output errors: tfjs backends, or ort (onnxruntime)').choices(RUNTIME_CHOICES).default('auto'))
    .option('--threads <n>', 'onnxruntime intra-op threads', int, 2)
    .option('--seed <n>', 'seed of the random input', int, 1)
    .option('--json', 'print compare.json on stdout')
    .option('--force', FORCE_HELP)
    .action(async (model: string, o) => {
      prepareOut(o.out, o, [model, o.input, o.ghostData, o.calibrate]);
      const graph = await loadGraph(model);
      const methods = o.methods as Method[] | undefined;
      for (const m of methods ?? []) if (!METHODS.includes(m)) throw new UsageError(`--methods "${m}": choose from ${METHODS.join(', ')}`);
      const measure = o.outputError || o.input !== undefined;
      const input = measure ? await resolveInput(graph, { inputShape: o.inputShape, inputImage: o.input, seed: o.seed }) : null;
      const inputShapes = input ? { [graph.inputs[0]]: input.shape } : o.inputShape ? parseInputShape(o.inputShape, graph) : undefined;
      const runner = measure ? await createRunner(o.backend, graph.layout, { threads: o.threads }) : null;
      if (o.ghostData && !measure) throw new Error('--ghost-data: the data-fit ghost points are measured by output error; add --output-error (or --input image.png)');
      const calibration = o.calibrate ? await loadCalibrationData(o.calibrate, graph, { samples: o.calibSamples, seed: o.seed }) : null;
      // --ghost-data names the ghosts' own images; else they are fit on --calibrate's (when output errors are measured).
      const ghostData = o.ghostData ? await loadCalibrationData(o.ghostData, graph, { samples: o.ghostSamples ?? o.calibSamples, seed: o.seed }) : measure ? calibration : null;
      const engine = calibration ? await createEngine(o.backend, graph.layout, { threads: o.threads }) : null;
      let live = progress(1, false);
      const report = await compareGraph(graph, {
        methods, order: o.order, layers: o.layers, skip: o.skip, minInChannels: o.minInChannels, foldBatchNorm: o.foldBn, gridSize: o.grid, cpIterations: o.cpIters,
        ghost: { kernelSize: o.ghostKernel, minR2: o.ghostMinR2 }, ghostData: ghostData ? { batches: ghostData.batches, description: ghostData.description } : undefined,
        calibration: calibration && engine ? { engine, batches: calibration.batches, description: calibration.description, rounds: o.refitRounds } : undefined,
        inputShapes, outputs: runner && input ? { runner, input: input.batch, description: input.description } : undefined, version: VERSION, model,
        onLayer: (name, i, total) => {
          if (i === 0) live = progress(total, !o.json);
          live.step(name);
        },
      });
      live.done();
      await writeFolderAtomically(o.out, await compareFiles(report, (r) => JSON.stringify(r, jsonSafe, 2)), { protect: [model, ...(o.input ? [o.input] : [])], force: o.force });
      print(o.json, report, `${compareTable(report)}\nwrote ${o.out}/ (compare.json + one SVG per layer)`);
    });
}
