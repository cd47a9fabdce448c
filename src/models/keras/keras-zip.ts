/**
 * Keras 3 `.keras` files (saving_lib.py): a zip of
 *
 *   metadata.json      {"keras_version", "date_saved"}
 *   config.json        the serialized model (Keras 3 form; ./config-v3.ts maps it to Keras 2's)
 *   model.weights.h5   /layers/<snake_case(class)>[_k]/vars/<i>, see ./variables.ts
 *
 * Read with fflate (zip) and h5wasm (HDF5); see docs/keras.md for the full layout.
 */
import { promises as fs } from 'node:fs';
import { strToU8, unzipSync, zipSync, type UnzipFileInfo } from 'fflate';
import type { Graph } from '../ir.js';
import { inferShapes, type Shape } from '../shapes.js';
import { ModelFormatError } from '../tfjs/files.js';
import { kerasToGraph } from '../tfjs/keras-to-ir.js';
import type { NamedWeight } from '../tfjs/weights.js';
import { kerasModelOut, type KerasLayerOut, type KerasModelOut } from './artifacts.js';
import { kerasV3ToV2 } from './config-v3.js';
import { buildH5, isDataset, isGroup, openH5, readFloats, withTempFile, writeFloats, type File } from './h5.js';
import { keras3LayerConfig } from './layer-config-out.js';
import { inFile } from './legacy-h5.js';
import { layerPaths, orderForKeras3, variableRoles } from './variables.js';

type Json = Record<string, unknown>;

/** What the written files claim to be: the Keras 3 release whose saving_lib layout this follows. */
export const KERAS3_VERSION = '3.6.0';

/** Largest .keras we read (a Node Buffer's limit); bigger is a corrupt or hostile file. */
export const MAX_KERAS_BYTES = 2 ** 31 - 1;
const MAX_CONFIG_BYTES = 64 * 2 ** 20;

function unzip(bytes: Uint8Array, file: string): Record<string, Uint8Array> {
  const wanted = (f: UnzipFileInfo) => {
    if (f.name === 'config.json' || f.name === 'metadata.json') {
      if (f.originalSize > MAX_CONFIG_BYTES) throw new ModelFormatError(`${file}: ${f.name} declares ${f.originalSize} bytes, more than the ${MAX_CONFIG_BYTES} accepted`);
      return true;
    }
    if (f.name === 'model.weights.h5') {
      if (f.originalSize > MAX_KERAS_BYTES) throw new ModelFormatError(`${file}: model.weights.h5 declares ${f.originalSize} bytes, more than the ${MAX_KERAS_BYTES} accepted`);
      return true;
    }
    return false;
  };
  try {
    return unzipSync(bytes, { filter: wanted });
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError(`${file} is not a valid .keras file (zip: ${(e as Error).message}); the file is truncated or not a zip`);
  }
}

function json(bytes: Uint8Array, what: string): Json {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Json;
  } catch (e) {
    throw new ModelFormatError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The variables of every layer, found by class-derived path, named `<layer>/<role>`. */
function readVariables(f: File, layers: Json[], label: string): Map<string, NamedWeight> {
  const out = new Map<string, NamedWeight>();
  // tf.keras 2.13–2.15 wrote the same tree under another root name (Keras 3 reads it the same way).
  const root = !f.keys().includes('layers') && f.keys().includes('_layer_checkpoint_dependencies') ? '_layer_checkpoint_dependencies' : 'layers';
  const paths = layerPaths(layers.map((l) => String(l.class_name))).map((p) => p.replace(/^layers/, root));
  layers.forEach((l, i) => {
    const name = String(l.name ?? (l.config as Json)?.name);
    const what = `${label}: layer "${name}" (${String(l.class_name)}, weights at ${paths[i]}/vars)`;
    const vars = f.get(`${paths[i]}/vars`);
    const keys = isGroup(vars) ? vars.keys().sort((a, b) => Number(a) - Number(b)) : [];
    const roles = variableRoles(String(l.class_name), l.config as Json, keys.length, what);
    keys.forEach((k, j) => {
      const ds = isGroup(vars) ? vars.get(k) : null;
      if (!isDataset(ds) || String(j) !== k) throw new ModelFormatError(`${what}: variable "${k}" is not a dataset numbered ${j}`);
      const wName = `${name}/${roles[j]}`;
      out.set(wName, { name: wName, ...readFloats(ds, `${label}: layer "${name}" weight "${roles[j]}" (${paths[i]}/vars/${k})`) });
    });
  });
  return out;
}

export async function readKerasZip(file: string): Promise<Graph> {
  const stat = await fs.stat(file);
  if (stat.size > MAX_KERAS_BYTES) throw new ModelFormatError(`${file}: ${stat.size} bytes, more than the ${MAX_KERAS_BYTES} accepted`);
  const entries = unzip(await fs.readFile(file), file);
  if (!entries['config.json']) throw new ModelFormatError(`${file} is a zip without config.json; not a Keras 3 .keras file`);
  if (!entries['model.weights.h5']) throw new ModelFormatError(`${file} has no model.weights.h5; the weights are missing (only h5 weights are supported)`);
  const v2 = kerasV3ToV2(json(entries['config.json'], `${file}: config.json`), file);
  const meta = entries['metadata.json'] ? json(entries['metadata.json'], `${file}: metadata.json`) : {};
  const label = `${file}:model.weights.h5`;
  const { result: weights } = await withTempFile(entries['model.weights.h5'], async (h5) => {
    const f = await openH5(h5, label);
    try {
      return readVariables(f, (v2.config as Json).layers as Json[], label);
    } finally {
      f.close();
    }
  });
  const graph = inFile(file, () => kerasToGraph({ model_config: v2, keras_version: meta.keras_version, backend: 'keras 3' }, weights));
  graph.meta = { ...graph.meta, format: 'keras' };
  return graph;
}

function kerasTensor(ref: unknown[], shapes: Map<string, Shape>): Json {
  const shape = shapes.get(String(ref[0]));
  return { class_name: '__keras_tensor__', config: { shape: shape ? [null, ...shape] : null, dtype: 'float32', keras_history: [ref[0], ref[1] ?? 0, ref[2] ?? 0] } };
}

/** One Keras 3 layer entry: wrappers, build_config from the inferred input shapes, `{args, kwargs}` nodes. */
function keras3Layer(l: KerasLayerOut, shapes: Map<string, Shape>): Json {
  const calls = (l.inboundNodes as unknown[][][]).map((call) => {
    const tensors = call.map((ref) => kerasTensor(ref, shapes));
    return { args: [tensors.length === 1 ? tensors[0] : tensors], kwargs: {} };
  });
  const inputShapes = calls.length ? (l.inboundNodes[0] as unknown[][]).map((ref) => [null, ...(shapes.get(String(ref[0])) ?? [])]) : [];
  return {
    module: 'keras.layers',
    class_name: l.className,
    config: keras3LayerConfig(l.className, l.config),
    registered_name: null,
    ...(inputShapes.length ? { build_config: { input_shape: inputShapes.length === 1 ? inputShapes[0] : inputShapes } } : {}),
    name: l.name,
    inbound_nodes: calls,
  };
}

/** Per-layer output shapes of the written model (without batch), for the Keras tensors in config.json. */
function writtenShapes(model: KerasModelOut): Map<string, Shape> {
  const { layers } = model;
  const weights = new Map<string, NamedWeight>();
  for (const l of layers) for (const w of l.weights) weights.set(`${l.name}/${w.role}`, { name: `${l.name}/${w.role}`, shape: w.shape, data: w.data });
  const topology = { class_name: 'Functional', config: { name: model.name, layers: layers.map((l) => ({ class_name: l.className, name: l.name, config: l.config, inbound_nodes: l.inboundNodes })), input_layers: model.inputLayers, output_layers: model.outputLayers } };
  return inferShapes(kerasToGraph(topology, weights));
}

/** The graph as a Keras 3 `.keras` file (`model.save("x.keras")` layout), as bytes. */
export async function writeKerasZip(graph: Graph, opts: { date?: Date } = {}): Promise<Uint8Array> {
  const model = kerasModelOut(graph);
  const shapes = writtenShapes(model);
  const config = {
    module: 'keras',
    class_name: 'Functional',
    config: { name: model.name, trainable: true, layers: model.layers.map((l) => keras3Layer(l, shapes)), input_layers: model.inputLayers, output_layers: model.outputLayers },
    registered_name: 'Functional',
    build_config: { input_shape: null },
    compile_config: null,
  };
  const paths = layerPaths(model.layers.map((l) => l.className));
  const weights = await buildH5((f) => {
    f.create_group('vars');
    const root = f.create_group('layers');
    model.layers.forEach((l, i) => {
      const vars = root.create_group(paths[i].slice('layers/'.length)).create_group('vars');
      const byRole = new Map(l.weights.map((w) => [w.role, w]));
      orderForKeras3(l.className, [...byRole.keys()]).forEach((r, j) => writeFloats(vars, String(j), byRole.get(r) as KerasLayerOut['weights'][number]));
    });
  });
  // A given date (the fixtures') makes the archive's bytes reproducible.
  const when = opts.date ?? new Date();
  const date = when.toISOString().replace(/T(\d\d):(\d\d):(\d\d).*/, '@$1:$2:$3');
  return zipSync(
    {
      'metadata.json': strToU8(JSON.stringify({ keras_version: KERAS3_VERSION, date_saved: date })),
      'config.json': strToU8(JSON.stringify(config)),
      'model.weights.h5': weights,
    },
    { level: 0, mtime: when },
  );
}
