/**
 * Writes the ONNX fixtures under fixtures/onnx/ (described in fixtures/onnx/README.md):
 *
 *   npm run build && node dist/scripts/export-onnx-fixtures.js [--out DIR] [--own-only]
 *
 * - The project's own small models, built here as NCHW IR graphs with seeded He-normal weights and
 *   written with graphToOnnx — the layouts a PyTorch export has (Conv with pads, separate
 *   BatchNormalization and Relu, MaxPool, residual Add, Concat, GlobalAveragePool, Gemm):
 *   mini-vgg.onnx, mini-resnet.onnx, mini-inception.onnx. Same code → same bytes (a test checks).
 * - The Fashion-MNIST reference classifiers (fixtures/models/fmnist-{vgg,resnet}/model.json, made
 *   by scripts/train-reference.ts), relaid out to NCHW (`toNchw`) and written with graphToOnnx, so
 *   they look like a PyTorch export: input [N, 1, 28, 28] (for one channel the same bytes as TF.js'
 *   [N, 28, 28, 1]), no Transpose nodes, every node a mapped op. A test checks they predict what
 *   tfjs predicts.
 *
 * A missing classifier is reported and the exit status is 1, after the other fixtures are written.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { BatchNormNode, Conv2DNode, DenseNode, Graph, Node, Padding } from '../src/models/ir.js';
import { gaussianArray } from '../src/decompose/random.js';
import { loadGraph } from '../src/models/load.js';
import { toNchw } from '../src/models/relayout.js';
import { graphToOnnx, writeOnnx } from '../src/models/onnx/write.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Project root: two levels above dist/scripts/, one above scripts/ when run from source. */
export const ROOT = HERE.includes(join('dist', 'scripts')) ? resolve(HERE, '..', '..') : resolve(HERE, '..');
export const ONNX_FIXTURE_DIR = join(ROOT, 'fixtures', 'onnx');

export { toNchw };

export const CLASSIFIER_NAMES = ['fmnist-vgg', 'fmnist-resnet'] as const;
export type ClassifierName = (typeof CLASSIFIER_NAMES)[number];

export function classifierModelJson(name: ClassifierName): string {
  return join(ROOT, 'fixtures', 'models', name, 'model.json');
}

/** Seeded builder of NCHW layers; every layer draws from its own seed, in creation order. */
class Builder {
  readonly nodes: Node[] = [];
  private seed: number;

  constructor(seed: number) {
    this.seed = seed * 1000;
  }

  input(name: string, shape: number[]): string {
    this.nodes.push({ op: 'input', name, inputs: [], shape, dtype: 'float32' });
    return name;
  }

  conv(
    name: string,
    from: string,
    o: { cin: number; cout: number; k: number; stride?: number; dilation?: number; padding?: Padding; bias?: boolean; relu?: boolean },
  ): string {
    const k = o.k;
    const d = o.dilation ?? 1;
    const node: Conv2DNode = {
      op: 'conv2d',
      name,
      inputs: [from],
      // He-normal: activations keep their scale through depth, so outputs are not all ~0 or huge.
      kernel: { shape: [o.cout, o.cin, k, k], data: gaussianArray(o.cout * o.cin * k * k, this.seed++, Math.sqrt(2 / (o.cin * k * k))) },
      bias: o.bias === false ? null : gaussianArray(o.cout, this.seed++, 0.05),
      strides: [o.stride ?? 1, o.stride ?? 1],
      dilations: [d, d],
      // PyTorch-style symmetric pads (k − 1)·d / 2 unless given.
      padding: o.padding ?? { pads: [((k - 1) * d) / 2, ((k - 1) * d) / 2, ((k - 1) * d) / 2, ((k - 1) * d) / 2] as [number, number, number, number] },
      groups: 1,
      activation: 'linear',
    };
    this.nodes.push(node);
    return o.relu ? this.relu(`${name}/relu`, name) : name;
  }

  bn(name: string, from: string, c: number): string {
    const g = gaussianArray(4 * c, this.seed++, 0.1);
    const node: BatchNormNode = {
      op: 'batchNorm',
      name,
      inputs: [from],
      axis: 1,
      epsilon: 1e-5,
      gamma: g.slice(0, c).map((v) => 1 + v),
      beta: g.slice(c, 2 * c),
      mean: g.slice(2 * c, 3 * c),
      variance: g.slice(3 * c).map((v) => 1 + Math.abs(v)),
    };
    this.nodes.push(node);
    return name;
  }

  relu(name: string, from: string): string {
    this.nodes.push({ op: 'activation', name, inputs: [from], activation: 'relu' });
    return name;
  }

  maxPool(name: string, from: string): string {
    this.nodes.push({ op: 'maxPool', name, inputs: [from], poolSize: [2, 2], strides: [2, 2], padding: 'valid' });
    return name;
  }

  add(name: string, a: string, b: string): string {
    this.nodes.push({ op: 'add', name, inputs: [a, b] });
    return name;
  }

  concat(name: string, parts: string[]): string {
    this.nodes.push({ op: 'concat', name, inputs: parts, axis: 1 });
    return name;
  }

  /** GlobalAveragePool → Flatten → Gemm, the usual classifier head. */
  head(name: string, from: string, c: number, classes: number): string {
    this.nodes.push({ op: 'globalAvgPool', name: 'gap', inputs: [from], keepDims: false });
    const dense: DenseNode = {
      op: 'dense',
      name,
      inputs: ['gap'],
      weight: { shape: [classes, c], data: gaussianArray(classes * c, this.seed++, Math.sqrt(1 / c)) },
      bias: gaussianArray(classes, this.seed++, 0.05),
      activation: 'linear',
    };
    this.nodes.push(dense);
    return name;
  }

  graph(name: string, output: string): Graph {
    return { name, layout: 'NCHW', nodes: this.nodes, inputs: [this.nodes[0].name], outputs: [output] };
  }
}

/** VGG-shaped: [conv-relu ×2, max-pool] × 3 stages (8, 16, 32 filters) on 3×32×32, GAP, Gemm. */
function miniVgg(): Graph {
  const b = new Builder(1);
  let x = b.input('input', [3, 32, 32]);
  let cin = 3;
  [8, 16, 32].forEach((f, s) => {
    for (let i = 1; i <= 2; i++) {
      x = b.conv(`conv${s + 1}_${i}`, x, { cin, cout: f, k: 3, relu: true });
      cin = f;
    }
    x = b.maxPool(`pool${s + 1}`, x);
  });
  return b.graph('mini_vgg', b.head('logits', x, cin, 10));
}

/** ResNet-shaped: conv-BN-relu stem, a stride-2 block with a 1×1 stride-2 projection, an identity block. */
function miniResnet(): Graph {
  const b = new Builder(2);
  const block = (name: string, from: string, cin: number, cout: number, stride: number): string => {
    let y = b.conv(`${name}.conv1`, from, { cin, cout, k: 3, stride, bias: false });
    y = b.relu(`${name}.relu1`, b.bn(`${name}.bn1`, y, cout));
    y = b.bn(`${name}.bn2`, b.conv(`${name}.conv2`, y, { cin: cout, cout, k: 3, bias: false }), cout);
    let shortcut = from;
    if (stride !== 1 || cin !== cout) {
      shortcut = b.bn(`${name}.downsample.bn`, b.conv(`${name}.downsample.conv`, from, { cin, cout, k: 1, stride, bias: false }), cout);
    }
    return b.relu(`${name}.relu2`, b.add(`${name}.add`, y, shortcut));
  };
  let x = b.input('input', [3, 32, 32]);
  x = b.relu('stem.relu', b.bn('stem.bn', b.conv('stem.conv', x, { cin: 3, cout: 8, k: 3, bias: false }), 8));
  x = block('layer1', x, 8, 16, 2);
  x = block('layer2', x, 16, 16, 1);
  return b.graph('mini_resnet', b.head('logits', x, 16, 10));
}

/**
 * Inception-shaped: four branches (1×1, 3×3, 5×5, 3×3 dilation 2) concatenated on channels, then
 * a stride-2 3×3 conv with asymmetric pads (TF 'same' at stride 2 on an even size).
 */
function miniInception(): Graph {
  const b = new Builder(3);
  let x = b.input('input', [3, 24, 24]);
  x = b.conv('stem', x, { cin: 3, cout: 8, k: 3, relu: true });
  const branches = [
    b.conv('mixed.b1x1', x, { cin: 8, cout: 8, k: 1, relu: true }),
    b.conv('mixed.b3x3', x, { cin: 8, cout: 8, k: 3, relu: true }),
    b.conv('mixed.b5x5', x, { cin: 8, cout: 4, k: 5, relu: true }),
    b.conv('mixed.b3x3dil', x, { cin: 8, cout: 4, k: 3, dilation: 2, relu: true }),
  ];
  x = b.concat('mixed.concat', branches);
  x = b.conv('reduce', x, { cin: 24, cout: 16, k: 3, stride: 2, padding: { pads: [0, 0, 1, 1] }, relu: true });
  return b.graph('mini_inception', b.head('logits', x, 16, 10));
}

export interface OwnFixture {
  file: string;
  description: string;
  graph: Graph;
}

/** The project's own models, in the order they are written. */
export function ownFixtures(): OwnFixture[] {
  return [
    { file: 'mini-vgg.onnx', description: 'VGG-shaped, 6 3×3 convs with bias + Relu, MaxPool, GAP, Gemm; input N×3×32×32', graph: miniVgg() },
    { file: 'mini-resnet.onnx', description: 'ResNet-shaped, conv-BN-Relu, stride-2 block with 1×1 projection, residual Add; input N×3×32×32', graph: miniResnet() },
    { file: 'mini-inception.onnx', description: 'Concat of 1×1 / 3×3 / 5×5 / dilated 3×3 branches, stride-2 conv with asymmetric pads; input N×3×24×24', graph: miniInception() },
  ];
}

/** Bytes of one own fixture (what the file must hold). */
export function ownFixtureBytes(f: OwnFixture): Uint8Array {
  return graphToOnnx(f.graph, { producerName: 'netdecouple' });
}

/**
 * A reference classifier as an NCHW graph (input [1, 28, 28]: the same bytes as TF.js'
 * [28, 28, 1]); undefined when it is not trained yet.
 */
export async function classifierGraph(name: ClassifierName): Promise<Graph | undefined> {
  const json = classifierModelJson(name);
  return existsSync(json) ? toNchw(await loadGraph(json)) : undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'own-only': { type: 'boolean' } } });
  const outDir = resolve(values.out ?? ONNX_FIXTURE_DIR);
  for (const f of ownFixtures()) {
    await writeOnnx(f.graph, join(outDir, f.file), { producerName: 'netdecouple' });
    console.log(`wrote ${join(outDir, f.file)} — ${f.description}`);
  }
  if (values['own-only']) return;
  const missing: string[] = [];
  for (const name of CLASSIFIER_NAMES) {
    const graph = await classifierGraph(name);
    if (!graph) {
      missing.push(classifierModelJson(name));
      continue;
    }
    const file = join(outDir, `${name}.onnx`);
    await writeOnnx(graph, file, { producerName: 'netdecouple' });
    console.log(`wrote ${file} — ${name} (TF.js → NCHW → ONNX, input [N, 1, 28, 28])`);
  }
  if (missing.length > 0) {
    throw new Error(`not trained yet: ${missing.join(', ')}; run scripts/train-reference.ts first, then this script again`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`export-onnx-fixtures: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
