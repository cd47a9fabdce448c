/**
 * Issue goal: at equal MACs, how much of plain ND's accuracy drop calibration wins back on the
 * reference classifiers (and PSNR on esrgan-slim). Writes bench/results/calibration.json.
 *   node dist/bench/calibration.js [--quick]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGraph } from '../src/models/load.js';
import { graphCosts, totalCost } from '../src/models/cost.js';
import { convertGraph } from '../src/convert/convert.js';
import { createEngine } from '../src/eval/engine.js';
import { calibrate } from '../src/eval/calibrate.js';
import { loadCalibrationData } from '../src/eval/calibration-data.js';
import { loadDataset } from '../src/eval/datasets.js';
import { runOnDataset, datasetMetrics } from '../src/eval/evaluate.js';
import { renderTable } from '../src/report/table.js';
import type { NdOrder } from '../src/decompose/nd.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const quick = process.argv.includes('--quick');

interface Row {
  model: string;
  order: NdOrder;
  rank: number;
  theoreticalSpeedup: number;
  top1Original: number;
  top1Plain: number;
  top1Bias: number;
  top1Calibrated: number;
  dropPlain: number;
  dropCalibrated: number;
  calibrationSeconds: number;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const engine = await createEngine('ort', 'NHWC');
  const only = process.argv.find((a) => a.startsWith('--models='))?.slice(9).split(',');
  for (const name of only ?? ['fmnist-vgg', 'fmnist-resnet']) {
    const file = path.join(process.env.NETDECOUPLE_MODELS ?? path.join(ROOT, 'fixtures/models'), name, 'model.json');
    const graph = await loadGraph(file);
    const data = await loadDataset(quick ? 'fashion-mnist:2000' : 'fashion-mnist', graph);
    const calib = await loadCalibrationData('fashion-mnist-train:1024', graph, { seed: 1 });
    const shapes = { [graph.inputs[0]]: [28, 28, 1] };
    const base = totalCost(graphCosts(graph, shapes)).macs as number;
    const ref = await runOnDataset(engine, graph, data);
    const top1Original = datasetMetrics(data, ref).classification!.top1 as number;
    for (const order of ['dw-pw', 'pw-dw'] as NdOrder[]) {
      for (const rank of quick ? [1, 2] : [1, 2, 3, 4]) {
        const conv = convertGraph(graph, { order, rank });
        const macs = totalCost(graphCosts(conv.graph, shapes)).macs as number;
        const top1 = async (g: typeof graph) => datasetMetrics(data, await runOnDataset(engine, g, data)).classification!.top1 as number; // Fashion-MNIST is labelled
        const t0 = performance.now();
        const cal = await calibrate(engine, conv, calib.batches, { seed: 1 });
        const calibrationSeconds = (performance.now() - t0) / 1000;
        const bias = await calibrate(engine, conv, calib.batches, { seed: 1, mode: 'bias' });
        const row: Row = {
          model: name, order, rank, theoreticalSpeedup: base / macs, top1Original,
          top1Plain: await top1(conv.graph), top1Bias: await top1(bias.graph), top1Calibrated: await top1(cal.graph),
          dropPlain: 0, dropCalibrated: 0, calibrationSeconds,
        };
        row.dropPlain = top1Original - row.top1Plain;
        row.dropCalibrated = top1Original - row.top1Calibrated;
        rows.push(row);
        process.stderr.write(`${name} ${order} T=${rank}: plain ${(row.top1Plain * 100).toFixed(2)}% calibrated ${(row.top1Calibrated * 100).toFixed(2)}%\n`);
      }
    }
  }
  const pct = (x: number) => `${(x * 100).toFixed(2)}`;
  console.log(renderTable(
    ['model', 'order', 'T', 'theor. speedup', 'top-1 orig %', 'plain %', 'bias-corr %', 'calibrated %', 'drop plain', 'drop calib', 'calib/plain drop', 'calib s'],
    rows.map((r) => [r.model, r.order, String(r.rank), r.theoreticalSpeedup.toFixed(2), pct(r.top1Original), pct(r.top1Plain), pct(r.top1Bias), pct(r.top1Calibrated), pct(r.dropPlain), pct(r.dropCalibrated), r.dropPlain > 0 ? (r.dropCalibrated / r.dropPlain).toFixed(2) : '—', r.calibrationSeconds.toFixed(1)]),
    ['l', 'l'],
  ));
  await fs.mkdir(path.join(ROOT, 'bench/results'), { recursive: true });
  await fs.writeFile(path.join(ROOT, 'bench/results/calibration.json'), JSON.stringify({ backend: engine.name, calibration: 'fashion-mnist-train:1024 (training split)', evaluation: quick ? 'fashion-mnist:2000 (test split)' : 'fashion-mnist (full test split)', rows }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
