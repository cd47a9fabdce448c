import { Option, type Command } from 'commander';
import { ZOO, zooEntry, readWeightsFile } from '../../src/models/zoo/index.js';
import { graphFromLayersModel, saveLayersModel } from '../../src/models/tfjs/from-model.js';
import { graphCosts, learnedParams, totalCost, formatCount } from '../../src/models/cost.js';
import { useBackend } from '../../src/eval/backend.js';
import { renderTable } from '../../src/report/table.js';
import { FORCE_HELP, int, num, prepareOut, print } from '../options.js';
import { VERSION } from '../../src/pipeline.js';

const pct = (got: number | null, want: number) => (got === null ? '?' : `${got >= want ? '+' : ''}${(((got - want) / want) * 100).toFixed(2)}%`);

export function registerZoo(program: Command): void {
  const zoo = program.command('zoo').description('reference architectures (VGG16, ResNet, MobileNets, EfficientNet-B0, GhostNet) as TF.js models');

  zoo
    .command('list')
    .description('the architectures, with the MACs and parameters their papers publish (224², 1000 classes)')
    .option('--json', 'print JSON')
    .action((o) => {
      const data = ZOO.map((z) => ({ name: z.name, description: z.description, paper: z.paper, alpha: z.alpha, publishedMacs: z.publishedMacs, publishedParams: z.publishedParams, figures: z.figures }));
      const rows = data.map((z) => [z.name, formatCount(z.publishedMacs), formatCount(z.publishedParams), z.alpha ? 'yes' : '', z.description]);
      const text = renderTable(['name', 'MACs', 'params', '--alpha', 'architecture'], rows, ['l', 'r', 'r', 'l', 'l']) +
        '\n\nnetdecouple zoo build <name> -o <dir> writes a TF.js LayersModel with seeded random weights.';
      print(o.json, data, text);
    });

  zoo
    .command('build')
    .description('build an architecture with seeded random (or given) weights and write model.json + weights.bin')
    .argument('<name>', 'architecture (netdecouple zoo list)')
    .requiredOption('-o, --out <dir>', 'output folder (written atomically)')
    .option('--alpha <α>', 'width multiplier (MobileNets, GhostNet)', num)
    .option('--resolution <px>', 'input height = width (default 224; MobileNetV1 ρ = px/224)', int)
    .option('--classes <n>', 'classifier outputs', int, 1000)
    .option('--seed <n>', 'seed of the random weights', int, 0)
    .addOption(new Option('--classifier <a>', 'activation on the logits').choices(['softmax', 'linear']).default('softmax'))
    .option('--weights <model.json>', 'take the weights from this saved TF.js model (same layer names and shapes) instead of random ones')
    .option('--json', 'print JSON')
    .option('--force', FORCE_HELP)
    .action(async (name: string, o) => {
      const entry = zooEntry(name);
      prepareOut(o.out, o, [o.weights]);
      // Building and counting run on whichever backend loads; the saved files do not depend on it.
      await useBackend('auto');
      const weights = o.weights ? await readWeightsFile(o.weights) : undefined;
      const options = { alpha: o.alpha, resolution: o.resolution, classes: o.classes, seed: o.seed, classifierActivation: o.classifier, weights };
      const model = entry.build(options);
      try {
        await saveLayersModel(model, o.out, {}, { convertedBy: `netdecouple ${VERSION} zoo build`, force: o.force });
        const graph = await graphFromLayersModel(model);
        const totals = totalCost(graphCosts(graph));
        const learned = learnedParams(graph);
        const native = (o.alpha ?? 1) === 1 && (o.resolution ?? 224) === 224 && o.classes === 1000;
        const data = {
          model: entry.name,
          out: o.out,
          options: { alpha: o.alpha ?? 1, resolution: o.resolution ?? 224, classes: o.classes, seed: o.seed, classifier: o.classifier, weights: o.weights ?? null },
          macs: totals.macs,
          params: totals.params,
          learnedParams: learned,
          published: native ? { macs: entry.publishedMacs, params: entry.publishedParams, figures: entry.figures } : null,
        };
        const vs = (got: number | null, want: number) => (native ? ` (published ${formatCount(want)}, ${pct(got, want)})` : '');
        const text = [
          `${entry.name}: ${formatCount(totals.macs)} MACs${vs(totals.macs, entry.publishedMacs)}, ${formatCount(learned)} learned params${vs(learned, entry.publishedParams)}, ${formatCount(totals.params)} stored (with BN statistics)`,
          `wrote ${o.out}/ (model.json + weights.bin)`,
        ].join('\n');
        print(o.json, data, text);
      } finally {
        model.dispose();
      }
    });
}
