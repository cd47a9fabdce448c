/**
 * Writes the TF.js versions of the wide reference classifiers from the ONNX files that
 * `scripts/train-torch.py export` wrote with torch.onnx.export:
 *
 *   npm run build && node dist/scripts/export-wide-fixtures.js
 *
 * fixtures/onnx/<name>.onnx (NCHW, PyTorch's) is read with netdecouple's ONNX reader, relaid out to
 * NHWC (`toNhwc`: no boundary Transposes, 'same' padding where PyTorch's symmetric pads equal it)
 * and written with netdecouple's own TF.js writer to fixtures/models/<name>/ (model.json +
 * weights.bin), beside a copy of the metrics torch measured. Input: [N, 28, 28, 1] — for one
 * channel the same bytes as the ONNX file's [N, 1, 28, 28]. Output: the 10 logits.
 */
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { loadGraph } from '../src/models/load.js';
import { toNhwc } from '../src/models/relayout.js';
import { layersModelFiles } from '../src/models/tfjs/load.js';
import { writeFolderAtomically } from '../src/models/atomic-dir.js';
import { ROOT } from './export-onnx-fixtures.js';

export const WIDE_CLASSIFIERS = ['fmnist-vgg-wide', 'fmnist-resnet-wide'] as const;

async function main(): Promise<void> {
  const missing: string[] = [];
  for (const name of WIDE_CLASSIFIERS) {
    const onnx = join(ROOT, 'fixtures', 'onnx', `${name}.onnx`);
    const metrics = join(ROOT, 'fixtures', 'onnx', `${name}.metrics.json`);
    if (!existsSync(onnx) || !existsSync(metrics)) {
      missing.push(name);
      continue;
    }
    const out = join(ROOT, 'fixtures', 'models', name);
    // Committed fixtures are never overwritten: a rewrite is asked for by removing the folder.
    if (existsSync(out)) {
      console.log(`kept ${out} (already written; remove it to write it again)`);
      continue;
    }
    const graph = toNhwc(await loadGraph(onnx));
    const files = { ...layersModelFiles(graph), 'metrics.json': await fs.readFile(metrics, 'utf8') };
    await writeFolderAtomically(out, files);
    console.log(`wrote ${out} (ONNX → NHWC → TF.js LayersModel)`);
  }
  if (missing.length > 0) throw new Error(`not exported yet: ${missing.join(', ')}; run scripts/train-torch.py train/export first`);
}

main().catch((e: unknown) => {
  console.error(`export-wide-fixtures: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
