/**
 * Keras 2 / tf.keras `.h5` models (legacy_h5_format.py), read and written with h5wasm:
 *
 *   /                      attrs keras_version, backend, model_config (JSON text)
 *   /model_weights         attrs layer_names (list), backend, keras_version
 *   /model_weights/<layer> attr  weight_names (list, e.g. "conv2d/kernel:0")
 *   /model_weights/<layer>/<weight_name>   one dataset per weight
 *
 * model_config is the Keras 2 model config that ../tfjs/keras-to-ir.ts already maps.
 * See docs/keras.md for the full layout.
 */
import type { Graph } from '../ir.js';
import { ModelFormatError } from '../tfjs/files.js';
import { kerasToGraph } from '../tfjs/keras-to-ir.js';
import type { NamedWeight } from '../tfjs/weights.js';
import { kerasModelOut } from './artifacts.js';
import { kerasV3ToV2 } from './config-v3.js';
import { attrList, attrText, buildH5, isDataset, isGroup, openH5, readFloats, writeFloats, writeText, writeTextList, type Group } from './h5.js';

type Json = Record<string, unknown>;

/** What the written files claim to be: the last Keras 2 release whose h5 layout this follows. */
export const KERAS2_VERSION = '2.15.0';

/** Keras 3 names a DepthwiseConv2D's kernel "kernel" in its legacy .h5 files; Keras 2 "depthwise_kernel". */
function role(weightName: string, cls: string | undefined): string {
  const r = weightName.replace(/:\d+$/, '').split('/').pop() as string;
  return cls === 'DepthwiseConv2D' && r === 'kernel' ? 'depthwise_kernel' : r;
}

function classesByName(modelConfig: Json): Map<string, string> {
  const cfg = modelConfig.config as Json | unknown[] | undefined;
  const layers = (Array.isArray(cfg) ? cfg : ((cfg as Json | undefined)?.layers as Json[] | undefined)) ?? [];
  return new Map(layers.map((l) => [String((l as Json).name ?? ((l as Json).config as Json)?.name), String((l as Json).class_name)]));
}

/** Every weight of `model_weights`, named `<layer>/<role>` as the TF.js manifest names them. */
function readWeightGroups(group: Group, classes: Map<string, string>, label: string): Map<string, NamedWeight> {
  const out = new Map<string, NamedWeight>();
  for (const layer of attrList(group, 'layer_names', `${label}: model_weights`)) {
    const g = group.get(layer);
    if (!isGroup(g)) throw new ModelFormatError(`${label}: layer "${layer}" is listed in layer_names but has no weights group`);
    for (const wn of attrList(g, 'weight_names', `${label}: layer "${layer}"`)) {
      const ds = g.get(wn);
      const what = `${label}: layer "${layer}" weight "${wn}"`;
      if (!isDataset(ds)) throw new ModelFormatError(`${what} is listed in weight_names but missing from the file`);
      const name = `${layer}/${role(wn, classes.get(layer))}`;
      out.set(name, { name, ...readFloats(ds, what) });
    }
  }
  return out;
}

function parseJson(text: string, what: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new ModelFormatError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Errors from the shared Keras mapping name the layer; prefix the file so the user knows which model. */
export function inFile<T>(label: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelFormatError && !e.message.includes(label)) throw new ModelFormatError(`${label}: ${e.message}`);
    throw e;
  }
}

export async function readKerasH5(file: string): Promise<Graph> {
  const f = await openH5(file, file);
  try {
    const configText = attrText(f, 'model_config');
    if (configText === undefined) {
      const weightsOnly = 'layer_names' in f.attrs || f.keys().includes('layers');
      throw new ModelFormatError(
        weightsOnly
          ? `${file} holds weights only (model.save_weights); save the whole model with model.save("model.h5") or model.save("model.keras")`
          : `${file} is HDF5 but not a Keras model: no "model_config" attribute`,
      );
    }
    // Keras 3 writes its own serialization here too (wrappers, dtype policies): map it like a .keras config.
    const modelConfig = kerasV3ToV2(parseJson(configText, `${file}: model_config`), file);
    const group = f.get('model_weights');
    if (!isGroup(group)) throw new ModelFormatError(`${file}: no "model_weights" group; the weights are missing`);
    const weights = readWeightGroups(group, classesByName(modelConfig), file);
    const topology = { model_config: modelConfig, keras_version: attrText(f, 'keras_version'), backend: attrText(f, 'backend') };
    const graph = inFile(file, () => kerasToGraph(topology, weights));
    graph.meta = { ...graph.meta, format: 'keras-h5' };
    return graph;
  } finally {
    f.close();
  }
}

/** The graph as a Keras 2 `.h5` file (tf.keras `model.save("x.h5")` layout), as bytes. */
export async function writeKerasH5(graph: Graph): Promise<Uint8Array> {
  const model = kerasModelOut(graph);
  const modelConfig = {
    class_name: 'Functional',
    config: {
      name: model.name,
      layers: model.layers.map((l) => ({ class_name: l.className, config: l.config, name: l.name, inbound_nodes: l.inboundNodes })),
      input_layers: model.inputLayers,
      output_layers: model.outputLayers,
    },
  };
  return buildH5((f) => {
    writeText(f, 'backend', 'tensorflow');
    writeText(f, 'keras_version', KERAS2_VERSION);
    writeText(f, 'model_config', JSON.stringify(modelConfig));
    const mw = f.create_group('model_weights');
    writeTextList(mw, 'layer_names', model.layers.map((l) => l.name));
    writeText(mw, 'backend', 'tensorflow');
    writeText(mw, 'keras_version', KERAS2_VERSION);
    for (const l of model.layers) {
      const g = mw.create_group(l.name);
      writeTextList(g, 'weight_names', l.weights.map((w) => `${l.name}/${w.role}:0`));
      if (l.weights.length === 0) continue;
      // "conv2d/kernel:0" is a path: h5py makes the group "conv2d" inside the layer's group.
      const inner = g.create_group(l.name);
      for (const w of l.weights) writeFloats(inner, `${w.role}:0`, w);
    }
  });
}
