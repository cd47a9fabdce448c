/**
 * HDF5 through h5wasm (the HDF5 C library compiled to WebAssembly): opening files, reading Keras'
 * string attributes and float datasets, writing them back. Validation happens here, at the
 * boundary: a file HDF5 cannot open, a dataset that is not float, too big or not finite is one
 * `ModelFormatError` naming the file and the object.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import h5wasm, { type Attribute, type Dataset, type File, type Group } from 'h5wasm/node';
import { MAX_WEIGHT_ELEMENTS, ModelFormatError } from '../tfjs/files.js';

export type { Dataset, File, Group };

let ready: Promise<void> | null = null;

/**
 * h5wasm, initialised once. HDF5 prints its error stack to stderr by default (dozens of lines for
 * one bad file); the throwing handler turns it into the exception we reword as one line.
 */
export function hdf5Ready(): Promise<void> {
  ready ??= h5wasm.ready.then((m) => {
    m.activate_throwing_error_handler();
  });
  return ready;
}

/** The innermost reason of an HDF5 error stack ("file signature not found"), for a one-line message. */
export function hdf5Reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const reasons = [...text.matchAll(/#\d+: .*? in \w+\(\): (.*)/g)].map((m) => m[1].trim());
  return reasons.at(-1) ?? text.split('\n')[0];
}

/** Opens an HDF5 file for reading; `label` is how the user knows it (a path, or "x.keras:model.weights.h5"). */
export async function openH5(file: string, label: string): Promise<File> {
  await hdf5Ready();
  try {
    return new h5wasm.File(file, 'r');
  } catch (e) {
    throw new ModelFormatError(`${label} is not a readable HDF5 file (${hdf5Reason(e)}); the file is truncated or not HDF5`);
  }
}

export function isGroup(e: unknown): e is Group {
  return e instanceof h5wasm.Group;
}

export function isDataset(e: unknown): e is Dataset {
  return e instanceof h5wasm.Dataset;
}

function decodeText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return undefined;
}

/** A string attribute (h5py writes Keras' `.encode('utf8')` bytes as fixed-length strings). */
export function attrText(obj: { attrs: Record<string, Attribute> }, name: string): string | undefined {
  const a = obj.attrs[name];
  if (!a) return undefined;
  const v = a.value;
  return decodeText(Array.isArray(v) && v.length === 1 ? v[0] : v);
}

/**
 * A list-of-strings attribute. Keras splits lists longer than HDF5's 64 KiB object-header limit
 * into `name0`, `name1`, … (legacy_h5_format.save_attributes_to_hdf5_group); both forms are read.
 */
export function attrList(obj: { attrs: Record<string, Attribute> }, name: string, label: string): string[] {
  const attrs = obj.attrs;
  const parts = name in attrs ? [attrs[name]] : [];
  if (parts.length === 0) for (let i = 0; `${name}${i}` in attrs; i++) parts.push(attrs[`${name}${i}`]);
  const out: string[] = [];
  for (const a of parts) {
    const v = a.value;
    const items = Array.isArray(v) ? v : ArrayBuffer.isView(v) && !(v instanceof Uint8Array) ? [] : [v];
    for (const item of items) {
      const s = decodeText(item);
      if (s === undefined) throw new ModelFormatError(`${label}: attribute "${name}" is not a list of strings`);
      out.push(s);
    }
  }
  return out;
}

export interface FloatArray {
  shape: number[];
  data: Float32Array;
}

/** A float32/float64 dataset as float32, refused when it is another type, oversize or not finite. */
export function readFloats(ds: Dataset, label: string): FloatArray {
  const meta = ds.metadata;
  const shape = ds.shape ?? [];
  // type 1 = H5T_FLOAT. float16 (size 2) has no JS array type in h5wasm.
  if (meta.type !== 1 || (meta.size !== 4 && meta.size !== 8)) {
    throw new ModelFormatError(`${label}: dtype "${String(ds.dtype)}" is not supported (float32 or float64 weights)`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > MAX_WEIGHT_ELEMENTS) {
    throw new ModelFormatError(`${label}: shape [${shape}] has ${n} elements, more than the ${MAX_WEIGHT_ELEMENTS} accepted`);
  }
  const v = ds.value as Float32Array | Float64Array;
  const data = v instanceof Float32Array ? v : Float32Array.from(v);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new ModelFormatError(`${label} contains ${Number.isNaN(data[i]) ? 'NaN' : 'Inf'} at index ${i}; the model is corrupt`);
    }
  }
  return { shape: [...shape], data };
}

/** Keras writes text attributes as bytes, which h5py stores as fixed-length strings: do the same. */
export function writeText(obj: Group, name: string, value: string): void {
  obj.create_attribute(name, value, null, `S${Math.max(1, Buffer.byteLength(value))}`);
}

export function writeTextList(obj: Group, name: string, values: string[]): void {
  if (values.length === 0) {
    // np.asarray([]) is float64 of shape (0,): what Keras leaves on a layer without weights.
    obj.create_attribute(name, new Float64Array(0), [0], '<d');
    return;
  }
  const width = Math.max(1, ...values.map((v) => Buffer.byteLength(v)));
  obj.create_attribute(name, values, [values.length], `S${width}`);
}

export function writeFloats(group: Group, name: string, value: FloatArray): void {
  group.create_dataset({ name, data: value.data, shape: value.shape, dtype: '<f' });
}

/**
 * h5wasm reads and writes host files only (Emscripten NODERAWFS), so an HDF5 file held in memory
 * (inside a .keras zip) goes through a private temp folder that is removed afterwards.
 */
export async function withTempFile<T>(bytes: Uint8Array | null, work: (file: string) => Promise<T> | T): Promise<{ result: T; bytes: Uint8Array }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'netdecouple-h5-'));
  const file = path.join(dir, 'weights.h5');
  try {
    if (bytes) await fs.writeFile(file, bytes);
    const result = await work(file);
    const out = await fs.readFile(file).catch(() => Buffer.alloc(0));
    return { result, bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength) };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Creates a new HDF5 file, lets `fill` write into it, and returns its bytes. */
export async function buildH5(fill: (f: File) => void): Promise<Uint8Array> {
  await hdf5Ready();
  const { bytes } = await withTempFile(null, (file) => {
    const f = new h5wasm.File(file, 'w');
    try {
      fill(f);
    } finally {
      f.close();
    }
  });
  return bytes;
}
