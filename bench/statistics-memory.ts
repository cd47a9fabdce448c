/**
 * Issue goal: the activation statistics of every eligible conv of the VGG16 zoo model at 224²,
 * whole C·k² covariances where they fit, stay under 2 GB resident memory. One streaming pass
 * (src/eval/activation-statistics.ts) over seeded random 224² inputs: memory depends on shapes,
 * not on content. Prints peak RSS, the statistics' bytes and the layers that used per-channel blocks.
 * The model is built beforehand, so tfjs's own memory for building it is not counted:
 *   node dist/cli/main.js zoo build vgg16 -o <dir> && node --expose-gc dist/bench/statistics-memory.js <dir> [--batches 4] [--rows 256]
 */
import { loadGraph } from '../src/models/load.js';
import { prune, type Graph } from '../src/models/ir.js';
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
  const dir = process.argv[2];
  if (!dir || dir.startsWith('--')) throw new Error('give the VGG16 folder: netdecouple zoo build vgg16 -o <dir> first');
  let full: Graph | null = foldBatchNorms(await loadGraph(dir)).graph;
  // Only the convs' inputs are needed: the classifier's 124 M weights are dropped before the pass,
  // and the conv weights copied out of the file's buffer so that it can be freed.
  const copy = <N extends Graph['nodes'][number]>(n: N): N => (n.op === 'conv2d' ? { ...n, kernel: { shape: n.kernel.shape, data: n.kernel.data.slice() }, bias: n.bias ? n.bias.slice() : null } : n);
  const convs = selectLayers(full, {}).map(copy);
  const pruned = prune({ ...full, outputs: [...new Set(convs.map((c) => c.inputs[0]))] });
  const graph: Graph = { ...pruned, nodes: pruned.nodes.map(copy) };
  full = null;
  (globalThis as { gc?: () => void }).gc?.();
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
    model: `${dir} (zoo vgg16, seeded random weights), 224², batches of 2`, layers: stats.length, batches, rowsPerLayerAndBatch: rows,
    statisticsMiB: +(bytes / 2 ** 20).toFixed(1), peakRssMiB: +(peak / 2 ** 20).toFixed(1), blockLayers: blocks,
    full: stats.map((s) => `${s.name}: F=${s.accumulator.features}, ${s.accumulator.form}, ${s.accumulator.count} rows`), seconds: +((performance.now() - t0) / 1000).toFixed(1),
  }, null, 2));
}

main().catch((e) => {
  console.error(`netdecouple: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
