import { Option, type Command } from 'commander';
import { loadGraph } from '../../src/models/load.js';
import { parseInputShape } from '../../src/models/shapes.js';
import { convertGraph } from '../../src/convert/convert.js';
import { RUNTIME_CHOICES } from '../../src/eval/runner.js';
import { createEngine } from '../../src/eval/engine.js';
import { benchLatency, replacedLayers } from '../../src/eval/latency.js';
import { latencyText } from '../../src/report/measure-tables.js';
import { int, num, print } from '../options.js';
import { checkActivations } from '../../src/models/activation-memory.js';
import { inputNodeOf } from '../../src/eval/inputs.js';
import { UsageError } from '../../src/usage-error.js';
import { progress } from '../progress.js';
import { addPreprocessOptions, preprocessingFrom } from '../preprocess-options.js';
import { latencyHtml } from '../../src/report/latency-html.js';
import { VERSION } from '../../src/pipeline.js';
import { writeFileAtomically } from '../../src/models/atomic-file.js';

export function registerBench(program: Command): void {
  const cmd = program
    .command('bench')
    .description('time a model (and a converted one) in one process on one backend: whole model and per replaced layer, measured vs theoretical speedup')
    .argument('<model>', 'model.json (TF.js LayersModel), its folder, or an .onnx file')
    .option('--against <converted>', 'a converted model to time against the original (its replaced layers are timed alone too)')
    .option('--rank <T>', 'no --against: convert in-process at this rank and time that', int)
    .option('--energy <τ>', 'no --against: convert in-process at this energy threshold', num)
    .addOption(new Option('--order <o>', 'ordering for the in-process conversion').choices(['dw-pw', 'pw-dw']).default('dw-pw'))
    .addOption(new Option('--form <f>', 'depthwise layout for the in-process conversion').choices(['split', 'merged']).default('split'))
    .addOption(new Option('--backend <b>', 'runtime: tfjs backends, or ort (onnxruntime)').choices(RUNTIME_CHOICES).default('auto'))
    .option('--threads <n>', 'onnxruntime intra-op threads', int, 2)
    .option('--input-shape <H,W>', 'input size (required for models that accept any size)')
    .option('--batch <n>', 'images per timed run', int, 1)
    .option('--runs <n>', 'least timed runs (at least 10); more run until the 95 % interval of the speedup is within ±5 %', int, 10)
    .option('--max-seconds <s>', 'cap on the timed runs of one comparison (default 30 for the whole model, 10 per layer); reported when it stops the timing', num)
    .option('--profile', "also profile both models with the runtime's own profiler (onnxruntime's, or tf.profile) per operator kind")
    .option('--html <file>', 'also write the report as a self-contained HTML page')
    .option('--warmup <n>', 'untimed warm-up runs', int, 3)
    .option('--no-per-layer', 'skip timing each replaced layer alone')
    .option('--seed <n>', 'seed of the random inputs', int, 1)
    .option('--json', 'print the report as JSON on stdout');
  addPreprocessOptions(cmd).action(async (model: string, o) => {
      if (o.against && (o.rank !== undefined || o.energy !== undefined)) throw new UsageError('give either --against <converted model> or --rank/--energy, not both');
      const original = await loadGraph(model);
      const inputShape = o.inputShape ? Object.values(parseInputShape(o.inputShape, original))[0] : undefined;
      checkActivations(original, { [original.inputs[0]]: inputShape ?? inputNodeOf(original).shape }, { batch: o.batch });
      let converted = null;
      if (o.against) {
        converted = await loadGraph(o.against);
        if (converted.layout !== original.layout) throw new Error(`--against ${o.against} is ${converted.layout}, ${model} is ${original.layout}: compare models of the same format`);
      } else if (o.rank !== undefined || o.energy !== undefined) {
        converted = convertGraph(original, { order: o.order, form: o.form, rank: o.rank, energy: o.energy }).graph;
      }
      const engine = await createEngine(o.backend, original.layout, { threads: o.threads });
      const steps = converted ? 1 + (o.perLayer ? replacedLayers(original, converted).length : 0) : 1;
      const bar = progress(steps, !o.json && process.stdout.isTTY === true);
      const report = await benchLatency(engine, original, converted, {
        preprocessing: preprocessingFrom(o, original, model), batchSize: o.batch, inputShape, runs: o.runs, warmup: o.warmup, maxSeconds: o.maxSeconds, profile: o.profile, seed: o.seed, perLayer: o.perLayer, onStep: (l) => bar.step(l),
        model, against: o.against ?? (converted ? `in-process ${o.order} ${o.rank !== undefined ? `T=${o.rank}` : `τ=${o.energy}`} (${o.form})` : null),
      });
      bar.done();
      if (o.html) writeFileAtomically(o.html, latencyHtml(report, { version: VERSION }), (why) => `--html ${o.html}: cannot write it (${why})`);
      print(o.json, report, latencyText(report) + (o.html ? `\nwrote ${o.html}` : ''));
    });
}
