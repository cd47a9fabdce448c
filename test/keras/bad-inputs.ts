/**
 * Broken Keras files, one per boundary check, as a table: each case makes its file in a scratch
 * folder and states the one-line error the CLI must give (naming the file, and the layer where
 * there is one). Kept free of test-runner code so the cases can join a shared reliability corpus.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import { loadGraph } from '../../src/models/load.js';
import type { Conv2DNode, Graph } from '../../src/models/ir.js';
import { writeKerasH5, writeKerasZip } from '../../src/models/keras/index.js';
import { buildH5, hdf5Ready, withTempFile } from '../../src/models/keras/h5.js';
import { MAX_WEIGHT_ELEMENTS } from '../../src/models/tfjs/files.js';

export interface BadInput {
  name: string;
  /** Makes the broken file inside `dir` and returns its path. */
  make: (dir: string) => Promise<string>;
  /** What the single stderr line must say (besides starting with "netdecouple:" and naming the file). */
  error: RegExp;
}

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = (ext: 'h5' | 'keras') => path.join(ROOT, 'fixtures/keras', `fmnist-vgg.${ext}`);

async function copyFixture(dir: string, ext: 'h5' | 'keras', name: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.copyFile(FIXTURE(ext), file);
  return file;
}

/** Rewrites entries of the .keras fixture (config.json edits, removed or replaced members). */
async function editKeras(dir: string, name: string, edit: (entries: Record<string, Uint8Array>) => void): Promise<string> {
  const entries = unzipSync(await fs.readFile(FIXTURE('keras')));
  edit(entries);
  const file = path.join(dir, name);
  await fs.writeFile(file, zipSync(entries, { level: 0 }));
  return file;
}

function editConfig(entries: Record<string, Uint8Array>, edit: (layers: Record<string, unknown>[]) => void): void {
  const config = JSON.parse(strFromU8(entries['config.json']));
  edit(config.config.layers);
  entries['config.json'] = strToU8(JSON.stringify(config));
}

/** Opens a copy of the .h5 fixture for editing with h5wasm. */
async function editH5(dir: string, name: string, edit: (f: InstanceType<typeof h5wasm.File>) => void): Promise<string> {
  const file = await copyFixture(dir, 'h5', name);
  await hdf5Ready();
  const f = new h5wasm.File(file, 'a');
  try {
    edit(f);
  } finally {
    f.close();
  }
  return file;
}

/** A copy of a Keras 3 weights file without one variable (h5wasm cannot delete objects in place). */
async function copyH5Without(bytes: Uint8Array, skip: string): Promise<Uint8Array> {
  await hdf5Ready();
  const { result } = await withTempFile(bytes, async (src) => {
    const from = new h5wasm.File(src, 'r');
    try {
      return await buildH5((to) => {
        to.create_group('vars');
        const layers = to.create_group('layers');
        for (const layer of (from.get('layers') as InstanceType<typeof h5wasm.Group>).keys()) {
          const vars = layers.create_group(layer).create_group('vars');
          const old = from.get(`layers/${layer}/vars`) as InstanceType<typeof h5wasm.Group>;
          for (const k of old.keys()) {
            if (`layers/${layer}/vars/${k}` === skip) continue;
            const ds = old.get(k) as InstanceType<typeof h5wasm.Dataset>;
            vars.create_dataset({ name: k, data: ds.value as Float32Array, shape: ds.shape, dtype: '<f' });
          }
        }
      });
    } finally {
      from.close();
    }
  });
  return result;
}

async function withNaN(write: (g: Graph) => Promise<Uint8Array>, dir: string, name: string): Promise<string> {
  const graph = await loadGraph(path.join(ROOT, 'fixtures/models/fmnist-vgg'));
  const conv = graph.nodes.find((n) => n.name === 'conv2_1') as Conv2DNode;
  conv.kernel.data[5] = Number.NaN;
  const file = path.join(dir, name);
  await fs.writeFile(file, await write(graph));
  return file;
}

export const KERAS_BAD_INPUTS: BadInput[] = [
  { name: 'malformed zip (.keras of random bytes)', make: async (d) => (await fs.writeFile(path.join(d, 'noise.keras'), Buffer.from('PK\x03\x04 not really a zip archive at all', 'latin1')), path.join(d, 'noise.keras')), error: /noise\.keras is not a valid \.keras file \(zip: .*\)/ },
  { name: 'truncated .keras', make: async (d) => (await fs.writeFile(path.join(d, 'cut.keras'), (await fs.readFile(FIXTURE('keras'))).subarray(0, 100_000)), path.join(d, 'cut.keras')), error: /cut\.keras is not a valid \.keras file/ },
  { name: '.keras without config.json', make: (d) => editKeras(d, 'noconfig.keras', (e) => delete e['config.json']), error: /noconfig\.keras is a zip without config\.json/ },
  { name: '.keras whose config.json is not JSON', make: (d) => editKeras(d, 'badjson.keras', (e) => (e['config.json'] = strToU8('{"class_name": "Functional", '))), error: /badjson\.keras: config\.json is not valid JSON/ },
  { name: '.keras without model.weights.h5', make: (d) => editKeras(d, 'noweights.keras', (e) => delete e['model.weights.h5']), error: /noweights\.keras has no model\.weights\.h5; the weights are missing/ },
  { name: '.keras whose model.weights.h5 is not HDF5', make: (d) => editKeras(d, 'badh5.keras', (e) => (e['model.weights.h5'] = strToU8('\x89HDF\r\n\x1a\n then garbage'))), error: /badh5\.keras:model\.weights\.h5 is not a readable HDF5 file \(.+\)/ },
  { name: 'malformed HDF5 (.h5 of random bytes)', make: async (d) => (await fs.writeFile(path.join(d, 'noise.h5'), Buffer.alloc(4096, 7)), path.join(d, 'noise.h5')), error: /noise\.h5 is not a readable HDF5 file \(.+\)/ },
  { name: 'truncated .h5', make: async (d) => (await fs.writeFile(path.join(d, 'cut.h5'), (await fs.readFile(FIXTURE('h5'))).subarray(0, 50_000)), path.join(d, 'cut.h5')), error: /cut\.h5 .*(HDF5|truncated)/ },
  {
    name: '.h5 missing a layer\'s weights (layer left out of layer_names)',
    make: (d) => editH5(d, 'nolayer.h5', (f) => {
      const mw = f.get('model_weights') as InstanceType<typeof h5wasm.Group>;
      const names = (mw.attrs.layer_names.value as string[]).filter((n) => n !== 'conv2_1');
      mw.delete_attribute('layer_names');
      mw.create_attribute('layer_names', names, [names.length], `S${Math.max(...names.map((n) => n.length))}`);
    }),
    error: /nolayer\.h5: layer "conv2_1": weight "kernel" missing/,
  },
  {
    name: '.h5 weight listed in weight_names but absent',
    make: (d) => editH5(d, 'noweight.h5', (f) => {
      const g = f.get('model_weights/conv1_1') as InstanceType<typeof h5wasm.Group>;
      g.delete_attribute('weight_names');
      g.create_attribute('weight_names', ['conv1_1/kernel_gone:0'], [1], 'S21');
    }),
    error: /noweight\.h5: layer "conv1_1" weight "conv1_1\/kernel_gone:0" is listed in weight_names but missing/,
  },
  {
    name: '.keras missing a weight (the bias of conv2_1 left out of model.weights.h5)',
    make: async (d) => {
      const entries = unzipSync(await fs.readFile(FIXTURE('keras')));
      entries['model.weights.h5'] = await copyH5Without(entries['model.weights.h5'], 'layers/conv2d_2/vars/1');
      const file = path.join(d, 'nobias.keras');
      await fs.writeFile(file, zipSync(entries, { level: 0 }));
      return file;
    },
    error: /nobias\.keras:model\.weights\.h5: layer "conv2_1" \(Conv2D, weights at layers\/conv2d_2\/vars\): 1 weight\(s\) stored, a Conv2D with this config has 2 \(kernel, bias\)/,
  },
  {
    name: '.h5 kernel shape mismatch (config says more filters)',
    make: (d) => editH5(d, 'shape.h5', (f) => {
      const config = JSON.parse(f.attrs.model_config.value as string);
      config.config.layers.find((l: { name: string }) => l.name === 'conv2_1').config.filters = 48;
      const text = JSON.stringify(config);
      f.delete_attribute('model_config');
      f.create_attribute('model_config', text, null, `S${text.length}`);
    }),
    error: /shape\.h5: layer "conv2_1": weight "kernel" has shape \[3,3,16,32\], expected \[3,3,\?,48\]/,
  },
  {
    name: '.keras kernel shape mismatch (config says a larger kernel)',
    make: (d) => editKeras(d, 'shape.keras', (e) => editConfig(e, (layers) => {
      (layers.find((l) => l.name === 'conv2_1')?.config as Record<string, unknown>).kernel_size = [5, 5];
    })),
    error: /shape\.keras: layer "conv2_1": weight "kernel" has shape \[3,3,16,32\], expected \[5,5,\?,32\]/,
  },
  { name: 'NaN in a .h5 weight', make: (d) => withNaN(writeKerasH5, d, 'nan.h5'), error: /nan\.h5: layer "conv2_1" weight "conv2_1\/kernel:0" contains NaN at index \d+/ },
  { name: 'NaN in a .keras weight', make: (d) => withNaN((g) => writeKerasZip(g), d, 'nan.keras'), error: /nan\.keras:model\.weights\.h5: layer "conv2_1" weight "kernel" \(layers\/conv2d_2\/vars\/0\) contains NaN at index \d+/ },
  {
    name: 'oversize weight (more elements than accepted, storage never written)',
    make: (d) => editH5(d, 'huge.h5', (f) => {
      const g = f.get('model_weights/predictions/predictions') as InstanceType<typeof h5wasm.Group>;
      // Chunked and resizable: the huge extent costs no disk, as in a crafted file.
      const ds = g.create_dataset({ name: 'huge:0', data: new Float32Array(1), shape: [1], maxshape: [null], chunks: [1024], dtype: '<f' });
      ds.resize([MAX_WEIGHT_ELEMENTS + 1]);
      const l = f.get('model_weights/predictions') as InstanceType<typeof h5wasm.Group>;
      l.delete_attribute('weight_names');
      l.create_attribute('weight_names', ['predictions/kernel:0', 'predictions/bias:0', 'predictions/huge:0'], [3], 'S21');
    }),
    error: /huge\.h5: layer "predictions" weight "predictions\/huge:0": shape \[268435457\] has 268435457 elements, more than the 268435456 accepted/,
  },
  {
    name: '.h5 with weights only (model.save_weights)',
    make: async (d) => {
      await hdf5Ready();
      const file = path.join(d, 'weights-only.h5');
      const f = new h5wasm.File(file, 'w');
      f.create_attribute('layer_names', ['dense'], [1], 'S5');
      f.close();
      return file;
    },
    error: /weights-only\.h5 holds weights only \(model\.save_weights\)/,
  },
  {
    name: '.keras of a subclassed model',
    make: (d) => editKeras(d, 'subclassed.keras', (e) => {
      e['config.json'] = strToU8(JSON.stringify({ module: 'my_models', class_name: 'MyNet', config: {}, registered_name: 'Custom>MyNet' }));
    }),
    error: /subclassed\.keras: model class "Custom>MyNet" is a subclassed model without a layer graph/,
  },
  {
    name: '.keras with a layer class netdecouple cannot interpret',
    make: (d) => editKeras(d, 'lstm.keras', (e) => editConfig(e, (layers) => {
      const l = layers.find((x) => x.name === 'fc1') as Record<string, unknown>;
      l.class_name = 'LSTM';
    })),
    error: /unknown layer class "LSTM" \(layer "fc1"\)/,
  },
];
