import { Option, type Command } from 'commander';
import { loadGraph } from '../../src/models/load.js';
import { RUNTIME_CHOICES } from '../../src/eval/runner.js';
import { createEngine } from '../../src/eval/engine.js';
import { loadDataset, DATASET_NAMES } from '../../src/eval/datasets.js';
import { evaluateModel } from '../../src/eval/evaluate.js';
import { classifyBatchSize } from '../../src/eval/accuracy.js';
import { evalText } from '../../src/report/measure-tables.js';
import { int, print } from '../options.js';
import { progress } from '../progress.js';
import { addPreprocessOptions, preprocessingFrom } from '../preprocess-options.js';

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('accuracy on a dataset: top-1/top-5 and agreement with the original (classifiers, on Fashion-MNIST or a folder of photos, labelled by class subfolders or not), PSNR vs the original and the ground truth (super-resolution)')
    .argument('<model>', 'model.json (TF.js LayersModel), its folder, or an .onnx file — usually the converted one')
    .requiredOption('--data <dataset>', `evaluation data: ${DATASET_NAMES.join(' | ')}`)
    .option('--against <original>', 'the original model: agreement (classifiers) and PSNR vs its output (super-resolution)')
    .addOption(new Option('--backend <b>', 'runtime: tfjs backends, or ort (onnxruntime)').choices(RUNTIME_CHOICES).default('auto'))
    .option('--threads <n>', 'onnxruntime intra-op threads', int, 2)
    .option('--batch <n>', 'images per run (classifiers)', int, 500)
    .option('--labels <labels.txt>', 'images:<folder> with class subfolders: class names one a line, in the model\'s class order (default: the sorted subfolder names)')
    .option('--json', 'print the report as JSON on stdout');
  addPreprocessOptions(cmd).action(async (model: string, o) => {
      const graph = await loadGraph(model);
      const reference = o.against ? await loadGraph(o.against) : undefined;
      const data = await loadDataset(o.data, graph, { preprocessing: preprocessingFrom(o, graph, model), labels: o.labels });
      if (reference) await loadDataset(o.data, reference, { preprocessing: preprocessingFrom(o, reference, o.against), labels: o.labels }); // the same shape checks for the --against model
      const engine = await createEngine(o.backend, graph.layout, { threads: o.threads });
      const perModel = data.task === 'classification' ? Math.ceil(data.n / classifyBatchSize(data.exampleShape, o.batch)) : data.n;
      const bar = progress(perModel * (reference ? 2 : 1), !o.json && process.stdout.isTTY === true);
      const report = await evaluateModel(engine, graph, data, { reference, batchSize: o.batch, model, against: o.against ?? null, onProgress: (l) => bar.step(l) });
      bar.done();
      print(o.json, report, evalText(report));
    });
}
