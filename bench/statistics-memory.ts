/**
 * Issue goal: the activation statistics of every eligible conv of the VGG16 zoo model at 224²,
 * whole C·k² covariances where they fit, stay under 2 GB resident memory. One streaming pass
 * (src/eval/activation-statistics.ts) over seeded random 224² inputs: memory depends on shapes,
 * not on content. Prints peak RSS, the statistics' bytes and the layers that used per-channel blocks.
 *   node dist/bench/statistics-memory.js [--batches 4] [--rows 256]
 */
import { useBackend } from '../src/eval/backend.js';
import { zooEntry } from '../src/models/zoo/index.js';
import { graphFromLayersModel } from '../src/models/tfjs/from-model.js';
import { foldBatchNorms } from '../src/convert/fold-batchnorm.js';
import { selectLayers } from '../src/convert/select.js';
import { createEngine } from '../src/eval/engine.js';
import { collectStatistics } from '../src/eval/activation-statistics.js';
import { seededUniform } from '../src/eval/inputs.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main(): Promise<void> {
  const batches = arg('batches', 4);
  const rows = arg('rows', 256);
  await useBackend('auto');
  const model = zooEntry('vgg16').build({ seed: 1, classifierActivation: 'linear' });
  const { graph } = foldBatchNorms(await graphFromLayersModel(model));
  model.dispose();
  const convs = selectLayers(graph, {});
  const engine = await createEngine('ort', graph.layout);
  const inputs = Array.from({ length: batches }, (_, i) => ({ shape: [2, 224, 224, 3], data: seededUniform(2 * 224 * 224 * 3, i + 1, 0, 1) }));
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const t0 = performance.now();
  const stats = await collectStatistics(engine, graph, convs, inputs, { rowsPerBatch: rows, onBatch: () => (peak = Math.max(peak, process.memoryUsage().rss)) });
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const bytes = stats.reduce((a, s) => a + s.accumulator.bytes, 0);
  const blocks = stats.filter((s) => s.accumulator.form === 'blocks').map((s) => s.name);
  console.log(JSON.stringify({
    model: 'vgg16 (zoo, seeded random weights), 224², batches of 2', layers: stats.length, batches, rowsPerLayerAndBatch: rows,
    statisticsMiB: +(bytes / 2 ** 20).toFixed(1), peakRssMiB: +(peak / 2 ** 20).toFixed(1), blockLayers: blocks,
    full: stats.map((s) => `${s.name}: F=${s.accumulator.features}, ${s.accumulator.form}, ${s.accumulator.count} rows`), seconds: +((performance.now() - t0) / 1000).toFixed(1),
  }, null, 2));
}

main().catch((e) => {
  console.error(`netdecouple: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
