/**
 * Keras 3 model config (a .keras file's config.json; also what Keras 3 writes into .h5 files) → the
 * Keras 2 / TF.js model config that
 * ../tfjs/keras-to-ir.ts maps to the IR, so there is one mapping of layer classes, not two.
 * The differences handled here: `module` / `registered_name` wrappers on every serialized object,
 * dtype policies instead of dtype strings, `batch_shape` for `batch_input_shape`, `build_config`,
 * and inbound nodes as `{args, kwargs}` holding `__keras_tensor__` objects instead of
 * `[layer, node, tensor, kwargs]` lists. Anything else passes through to the Keras 2 mapping,
 * which refuses what it cannot interpret with one line naming the layer.
 */
import { ModelFormatError } from '../tfjs/files.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Dtype policies whose variables are float32 (mixed precision computes in 16 bits, stores in 32). */
const FLOAT32_POLICIES = new Set(['float32', 'mixed_float16', 'mixed_bfloat16']);

function dtypeName(v: unknown, what: string): string {
  const name = isObject(v) ? String((v.config as Json | undefined)?.name ?? v.class_name) : String(v);
  if (!FLOAT32_POLICIES.has(name) && name !== 'int32') {
    throw new ModelFormatError(`${what}: dtype policy "${name}" is not supported (float32 weights; quantized or float16 models are not)`);
  }
  return name.startsWith('mixed_') ? 'float32' : name;
}

/** A serialized Keras 3 object `{module, class_name, config, registered_name}` → Keras 2 `{class_name, config}`. */
function stripWrappers(v: unknown, what: string): unknown {
  if (Array.isArray(v)) return v.map((x) => stripWrappers(x, what));
  if (!isObject(v)) return v;
  if (typeof v.class_name === 'string' && 'config' in v) {
    if (v.class_name === '__tuple__' || v.class_name === '__numpy__') return stripWrappers((v.config as Json).value, what);
    return { class_name: v.class_name, config: stripWrappers(v.config, what) };
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stripWrappers(x, what)]));
}

/** Keras 3-only layer arguments that have no Keras 2 / TF.js meaning; refused when they change the weights. */
function dropV3Only(cfg: Json, what: string): void {
  if (cfg.lora_rank !== undefined && cfg.lora_rank !== null) {
    throw new ModelFormatError(`${what}: LoRA (lora_rank ${String(cfg.lora_rank)}) is not supported; merge the LoRA weights into the kernel first`);
  }
  if (cfg.quantization_config !== undefined && cfg.quantization_config !== null) {
    throw new ModelFormatError(`${what}: quantized layers are not supported`);
  }
  for (const k of ['lora_rank', 'lora_alpha', 'quantization_config', 'synchronized', 'optional', 'ragged']) delete cfg[k];
}

function layerConfig(layer: Json, what: string): Json {
  const cfg = stripWrappers(layer.config ?? {}, what) as Json;
  if (cfg.dtype !== undefined && cfg.dtype !== null) cfg.dtype = dtypeName((layer.config as Json).dtype, what);
  if (layer.class_name === 'InputLayer' && cfg.batch_shape !== undefined) {
    cfg.batch_input_shape = cfg.batch_shape;
    delete cfg.batch_shape;
  }
  dropV3Only(cfg, what);
  return cfg;
}

/** The `[layer, node, tensor]` history of every `__keras_tensor__` in a call's args. */
function tensorRefs(v: unknown, out: [string, number, number][] = []): [string, number, number][] {
  if (Array.isArray(v)) for (const x of v) tensorRefs(x, out);
  else if (isObject(v)) {
    if (v.class_name === '__keras_tensor__') {
      const h = (v.config as Json | undefined)?.keras_history;
      if (!Array.isArray(h) || typeof h[0] !== 'string') throw new ModelFormatError(`unreadable keras tensor ${JSON.stringify(v).slice(0, 120)}`);
      out.push([h[0], Number(h[1] ?? 0), Number(h[2] ?? 0)]);
    } else if (!('class_name' in v)) for (const x of Object.values(v)) tensorRefs(x, out);
  }
  return out;
}

function inboundNodes(layer: Json, what: string): unknown[] {
  const nodes = layer.inbound_nodes ?? [];
  if (!Array.isArray(nodes)) throw new ModelFormatError(`${what}: inbound_nodes must be a list`);
  return nodes.map((node) => {
    if (Array.isArray(node)) return node; // already Keras 2 form
    if (!isObject(node)) throw new ModelFormatError(`${what}: unreadable inbound node`);
    if (tensorRefs(node.kwargs ?? {}).length) throw new ModelFormatError(`${what}: tensors passed as keyword arguments (masks, …) are not supported`);
    return tensorRefs(node.args ?? []).map((r) => [...r, {}]);
  });
}

function refs(v: unknown): unknown[] {
  if (!Array.isArray(v)) return [];
  // Keras 3 writes a single input/output as ["name", 0, 0] rather than [["name", 0, 0]].
  return typeof v[0] === 'string' ? [v] : v;
}

/**
 * Keras 3 `config.json` → `{class_name, config}` of a Keras 2 Sequential or Functional model. A
 * Keras 2 config passes through unchanged but for dtype policies (mixed precision) and wrappers.
 */
export function kerasV3ToV2(root: unknown, label: string): Json {
  if (!isObject(root) || typeof root.class_name !== 'string' || !(isObject(root.config) || Array.isArray(root.config))) {
    throw new ModelFormatError(`${label}: the model config is not a serialized Keras model (no class_name/config)`);
  }
  // Keras 2.0's Sequential config is the bare list of layers.
  const cfg: Json = Array.isArray(root.config) ? { layers: root.config } : root.config;
  const cls = root.class_name === 'Model' && (root.registered_name === 'Functional' || Array.isArray(cfg.layers)) ? 'Functional' : root.class_name;
  if (cls !== 'Functional' && cls !== 'Sequential') {
    throw new ModelFormatError(`${label}: model class "${String(root.registered_name ?? cls)}" is a subclassed model without a layer graph; only Sequential and Functional models can be read`);
  }
  if (!Array.isArray(cfg.layers)) throw new ModelFormatError(`${label}: model config has no "layers" list`);
  const layers = (cfg.layers as unknown[]).map((l, i) => {
    if (!isObject(l)) throw new ModelFormatError(`${label}: layer #${i} is not an object`);
    const name = String(l.name ?? (l.config as Json | undefined)?.name ?? `#${i}`);
    const what = `layer "${name}" (${String(l.class_name)})`;
    const out: Json = { class_name: String(l.class_name), name, config: layerConfig(l, what) };
    if (cls === 'Functional') out.inbound_nodes = inboundNodes(l, what);
    return out;
  });
  const config: Json = { name: cfg.name ?? 'model', layers };
  if (cls === 'Sequential' && layers[0]?.class_name !== 'InputLayer') {
    // Built without keras.Input: the input shape is only in the model's build config.
    const shape = cfg.build_input_shape ?? (root.build_config as Json | undefined)?.input_shape;
    if (Array.isArray(shape)) layers.unshift({ class_name: 'InputLayer', name: 'input_layer', config: { name: 'input_layer', batch_input_shape: shape, dtype: 'float32' } });
  }
  if (cls === 'Functional') {
    config.input_layers = refs(cfg.input_layers);
    config.output_layers = refs(cfg.output_layers);
  }
  return { class_name: cls, config };
}
