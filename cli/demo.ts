/**
 * `npm run demo`: the main job on a real pretrained model that installs with the project —
 * esrgan-slim x2 (MIT, @upscalerjs/esrgan-slim) on the package's own fixture image.
 */
import path from 'node:path';
import { projectRoot } from '../src/project.js';
import { esrgan } from '../src/models/packaged.js';
import { loadGraph } from '../src/models/load.js';
import { convertGraph } from '../src/convert/convert.js';
import { graphCosts, totalCost, formatCount } from '../src/models/cost.js';
import { useBackend, type BackendChoice } from '../src/eval/backend.js';
import { readPng, toPng, quantize8 } from '../src/eval/image.js';
import { runGraph } from '../src/eval/tfjs-run.js';
import { compareOutputs } from '../src/eval/metrics.js';
import { convertModel, jsonSafe, saveConversion } from '../src/pipeline.js';
import { prepareOut } from './options.js';
import { conversionTable, renderTable } from '../src/report/table.js';

export async function runDemo(o: { out: string; rank: number; order: 'dw-pw' | 'pw-dw'; backend: BackendChoice; json?: boolean; calibrate?: boolean; force?: boolean }): Promise<void> {
  const log = (s: string) => { if (!o.json) process.stdout.write(s + '\n'); };
  const m = esrgan('slim', 2);
  prepareOut(o.out, o, [m.modelJson, m.fixture, m.expected]);
  const backend = await useBackend(o.backend);
  const graph = await loadGraph(m.modelJson);
  const img = await readPng(m.fixture);
  const input = { shape: [1, img.height, img.width, 3], data: img.data };
  log(`esrgan-slim x2 (${m.modelJson})\ninput ${m.fixture} ${img.height}×${img.width}, backend ${backend}\n`);

  // Loader check: our run of the original reproduces the package's own result image.
  const [orig] = await runGraph(graph, input);
  const expected = await readPng(m.expected);
  const golden = compareOutputs(expected.data, quantize8(orig.data), 255);
  log(`original model vs the package's result.png: PSNR ${Number.isFinite(golden.psnrDb) ? golden.psnrDb.toFixed(1) : '∞'} dB (loader check)\n`);

  // What each T buys and costs on this image.
  const shapes = { [graph.inputs[0]]: [img.height, img.width, 3] };
  const base = totalCost(graphCosts(graph, shapes)).macs as number;
  const rows: string[][] = [];
  for (let t = 1; t <= 9; t++) {
    const conv = convertGraph(graph, { order: o.order, rank: t });
    const macs = totalCost(graphCosts(conv.graph, shapes)).macs as number;
    const [y] = await runGraph(conv.graph, input);
    const cmp = compareOutputs(orig.data, y.data, 255);
    const err = conv.layers.reduce((a, l) => a + l.kernelRelError, 0) / Math.max(conv.layers.length, 1);
    rows.push([String(t), formatCount(macs), `${(base / macs).toFixed(2)}×`, `${(err * 100).toFixed(2)}%`, Number.isFinite(cmp.psnrDb) ? cmp.psnrDb.toFixed(1) : '∞']);
  }
  log(`${o.order} decoupling of the ${graph.nodes.filter((n) => n.op === 'conv2d').length} convs, every T (original ${formatCount(base)} MACs):`);
  log(renderTable(['T', 'MACs', 'theoretical speedup', 'mean kernel err', 'PSNR vs original (dB)'], rows) + '\n');

  // Calibration photos (fixtures/photos, CC0/public domain) are not the evaluation image.
  const photos = path.join(projectRoot(), 'fixtures', 'photos');
  const calibrate = o.calibrate === false ? undefined : `images:${photos}`;
  // The demo keeps the fast last-factor refit its text describes; `convert`'s default (joint) refits every factor.
  const { report, errors, conversion } = await convertModel(m.modelJson, { order: o.order, rank: o.rank, inputImage: m.fixture, backend: o.backend, calibrate, calibMode: 'lsq' });
  const extra = {
    'original.png': toPng({ height: img.height * 2, width: img.width * 2, data: orig.data }),
    'converted.png': toPng({ height: img.height * 2, width: img.width * 2, data: errors!.converted.data }),
  };
  await saveConversion(o.out, conversion.graph, report, m.modelJson, { force: o.force, extra });
  if (o.json) {
    process.stdout.write(JSON.stringify({ ...report, loaderCheckPsnrDb: golden.psnrDb }, jsonSafe, 2) + '\n');
    return;
  }
  log(`converted at T = ${o.rank}${calibrate ? ', then calibrated (least-squares refit of each 1×1 on photo tiles, no labels, no training)' : ''}:\n${conversionTable(report)}`);
  log(`\nwrote ${o.out}/: model.json + weights.bin (loads with plain tf.loadLayersModel), report.json, original.png, converted.png`);
}
