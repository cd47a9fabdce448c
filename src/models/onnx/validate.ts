/**
 * Boundary checks for ONNX files (validate once when read, trust the IR after: docs/design.md#validation-at-the-boundary).
 * Every check throws one line that names the thing and says what to do about it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultOpset, onnx, toNum, type IModelProto, type Int64 } from './proto.js';

/** Oldest ai.onnx opset read: Clip/Pad/Resize take their parameters as inputs from 11 on. */
export const MIN_OPSET = 11;

/**
 * Largest tensor accepted (elements): 2^28 float32 = 1 GiB, far above any CNN layer, small enough
 * that a corrupt header cannot make us allocate the machine away.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** protobuf messages are capped at 2 GiB; anything larger is not a loadable ONNX file. */
export const MAX_MODEL_BYTES = 2 ** 31 - 1;

/**
 * Decodes and sanity-checks a ModelProto. protobufjs accepts many random byte strings as some
 * message, so "decoded" is not "is ONNX": require a graph, an IR version and an ai.onnx opset.
 */
export function decodeModel(bytes: Uint8Array): IModelProto {
  if (bytes.length === 0) throw new Error('not an ONNX model: the file is empty');
  if (bytes.length > MAX_MODEL_BYTES) {
    throw new Error(`not an ONNX model: ${bytes.length} bytes exceeds the 2 GiB protobuf limit`);
  }
  let model: IModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/index out of range/.test(msg)) {
      throw new Error(`truncated or corrupt ONNX file: a field runs past the end of the data (${msg})`);
    }
    throw new Error(`not an ONNX model: the bytes are not a valid ONNX protobuf (${msg})`);
  }
  const ir = toNum(model.irVersion as Int64);
  if (!model.graph || !Number.isSafeInteger(ir) || ir < 3 || ir > 100) {
    throw new Error(
      `not an ONNX model: no graph or no valid ir_version (got ${ir}); the file is not ONNX or is truncated`,
    );
  }
  const opset = defaultOpset(model);
  if (opset === undefined) {
    throw new Error('not a usable ONNX model: it imports no ai.onnx opset (file truncated, or a custom-domain-only model)');
  }
  if (opset < MIN_OPSET) {
    throw new Error(
      `ONNX opset ${opset} is too old: netdecouple reads opset ≥ ${MIN_OPSET}; upgrade the model first ` +
        `(python: onnx.version_converter.convert_version(model, 13))`,
    );
  }
  if ((model.graph.sparseInitializer ?? []).length > 0) {
    throw new Error('ONNX graph has sparse initializers, which netdecouple does not read; densify them first');
  }
  checkSingleProducers(model);
  return model;
}

/**
 * ONNX graphs are in SSA form: each tensor name is produced once (a graph input, an initializer,
 * or one node output). A second producer would silently rewire every consumer to one of them.
 */
export function checkSingleProducers(model: IModelProto): void {
  const g = model.graph!;
  const producer = new Map<string, string>();
  for (const t of g.initializer ?? []) if (t.name) producer.set(t.name, 'an initializer');
  // Before IR 4 every initializer is also listed as a graph input: that is one producer, not two.
  for (const v of g.input ?? []) if (v.name && !producer.has(v.name)) producer.set(v.name, 'a graph input');
  for (const [i, node] of (g.node ?? []).entries()) {
    const me = `node "${node.name || `#${i}`}" (${node.opType})`;
    for (const out of node.output ?? []) {
      if (!out) continue; // an omitted optional output
      const earlier = producer.get(out);
      if (earlier) throw new Error(`ONNX graph: tensor "${out}" is produced by both ${earlier} and ${me}; each tensor must have one producer (the file is corrupt)`);
      producer.set(out, me);
    }
  }
}

/**
 * Element count of declared dims, checked as it is multiplied so a header like [1e6, 1e6, 1e6]
 * is refused before anything is allocated.
 */
export function checkedNumel(dims: number[], what: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new Error(`${what}: invalid dimension ${d} in shape [${dims.join(', ')}]`);
    }
    n *= d;
    if (n > MAX_TENSOR_ELEMENTS) {
      const total = dims.reduce((a, b) => a * b, 1);
      throw new Error(
        `${what}: declares ${total} elements ([${dims.join(', ')}]), over the ${MAX_TENSOR_ELEMENTS} limit; ` +
          'the file is corrupt or not a CNN this tool handles',
      );
    }
  }
  return n;
}

/**
 * Resolves an external-data `location` inside the model folder. Absolute paths and `..` escapes
 * (also through symlinks) are refused: a model file must not make us read arbitrary files.
 */
export function resolveExternalPath(baseDir: string, location: string, what: string): string {
  if (location === '') throw new Error(`${what}: external data has an empty location`);
  if (path.isAbsolute(location) || path.win32.isAbsolute(location) || location.includes('\0')) {
    throw new Error(
      `${what}: external data location "${location}" is an absolute path; only files inside the model folder are read`,
    );
  }
  const base = path.resolve(baseDir);
  const resolved = path.resolve(base, location);
  const inside = (p: string, root: string) => {
    const rel = path.relative(root, p);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  if (!inside(resolved, base) || location.split(/[\\/]/).includes('..')) {
    throw new Error(
      `${what}: external data location "${location}" points outside the model folder ${base}; move the data file next to the model`,
    );
  }
  if (!fs.existsSync(resolved)) {
    throw new Error(`${what}: external data file "${location}" not found in ${base}`);
  }
  const real = fs.realpathSync(resolved);
  if (!inside(real, fs.realpathSync(base))) {
    throw new Error(`${what}: external data file "${location}" is a link to ${real}, outside the model folder ${base}`);
  }
  return real;
}

/** Throws on the first NaN/±Inf: non-finite weights poison every SVD downstream. */
export function checkFinite(data: Float32Array, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new Error(`${what}: value ${data[i]} at index ${i}; weights must be finite (the model is corrupt)`);
    }
  }
}
