/**
 * Reads a TF.js LayersModel from disk: model.json + its weight shards, validated at the boundary
 * (docs/design.md#validation-at-the-boundary): JSON shape, paths inside the model folder, byte counts, sane sizes.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number; original_dtype?: string };
}

export interface ModelArtifactsOnDisk {
  modelTopology: Record<string, unknown>;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
}

/** Largest single weight we accept: 2^28 elements (1 GiB of float32) — anything bigger is a corrupt header. */
export const MAX_WEIGHT_ELEMENTS = 2 ** 28;

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

import { ModelFormatError } from '../errors.js';
export { ModelFormatError };

/** Resolves `rel` inside `dir`, refusing absolute paths, `..` escapes and symlinks that leave the folder. */
export async function resolveInside(dir: string, rel: string, what: string): Promise<string> {
  if (typeof rel !== 'string' || rel.length === 0) throw new ModelFormatError(`${what}: empty path`);
  if (path.isAbsolute(rel) || /^[a-z][a-z0-9+.-]*:/i.test(rel)) {
    throw new ModelFormatError(`${what} "${rel}" must be a relative path inside the model folder`);
  }
  const root = await fs.realpath(dir);
  const full = path.resolve(root, decodeURIComponent(rel));
  if (full !== root && !full.startsWith(root + path.sep)) {
    throw new ModelFormatError(`${what} "${rel}" points outside the model folder ${dir}`);
  }
  let real: string;
  try {
    real = await fs.realpath(full);
  } catch {
    throw new ModelFormatError(`${what} "${rel}" not found in ${dir}`);
  }
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new ModelFormatError(`${what} "${rel}" links outside the model folder ${dir}`);
  }
  return real;
}

export function specByteLength(spec: WeightSpec): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = BYTES[dtype];
  if (bytes === undefined) throw new ModelFormatError(`weight "${spec.name}": unsupported dtype "${dtype}"`);
  return specElements(spec) * bytes;
}

export function specElements(spec: WeightSpec): number {
  if (!Array.isArray(spec.shape) || spec.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ModelFormatError(`weight "${spec.name}": shape ${JSON.stringify(spec.shape)} is not a list of non-negative integers`);
  }
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (n > MAX_WEIGHT_ELEMENTS) {
    throw new ModelFormatError(`weight "${spec.name}": shape [${spec.shape}] has ${n} elements, more than the ${MAX_WEIGHT_ELEMENTS} accepted`);
  }
  return n;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Loads model.json and concatenates its shards in manifest order, validating everything it reads. */
export async function readModelFiles(modelJsonPath: string): Promise<ModelArtifactsOnDisk> {
  let text: string;
  try {
    text = await fs.readFile(modelJsonPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFormatError(code === 'ENOENT' ? `model file not found: ${modelJsonPath}` : `cannot read ${modelJsonPath}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${modelJsonPath} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json) || !isObject(json.modelTopology)) {
    throw new ModelFormatError(`${modelJsonPath} is not a TF.js LayersModel (no "modelTopology" object)`);
  }
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new ModelFormatError(`${modelJsonPath} has format "${String(json.format)}"; only TF.js layers-model files are supported (graph models have no Keras layers to rewrite)`);
  }
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new ModelFormatError(`${modelJsonPath}: "weightsManifest" must be a list`);
  const dir = path.dirname(modelJsonPath);
  const specs: WeightSpec[] = [];
  const buffers: Buffer[] = [];
  for (const [g, group] of manifest.entries()) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new ModelFormatError(`${modelJsonPath}: weightsManifest[${g}] needs "paths" and "weights" lists`);
    }
    let expected = 0;
    for (const w of group.weights as unknown[]) {
      if (!isObject(w) || typeof w.name !== 'string' || typeof w.dtype !== 'string') {
        throw new ModelFormatError(`${modelJsonPath}: weightsManifest[${g}] has a weight entry without name/dtype`);
      }
      const spec = w as unknown as WeightSpec;
      expected += specByteLength(spec);
      specs.push(spec);
    }
    let got = 0;
    for (const p of group.paths as unknown[]) {
      const file = await resolveInside(dir, String(p), 'weight shard');
      const buf = await fs.readFile(file).catch((e: NodeJS.ErrnoException) => {
        throw new ModelFormatError(`${modelJsonPath}: weight shard "${String(p)}" cannot be read (${e.code === 'EISDIR' ? 'it is a folder, not a file' : e.code ?? e.message})`);
      });
      got += buf.length;
      buffers.push(buf);
    }
    if (got !== expected) {
      throw new ModelFormatError(
        `${modelJsonPath}: weight group ${g} (${(group.paths as string[]).join(', ')}) has ${got} bytes but its manifest describes ${expected}` +
          (got < expected ? ' (truncated shard?)' : ''),
      );
    }
  }
  const all = Buffer.concat(buffers);
  return {
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
    format: json.format as string | undefined,
    generatedBy: json.generatedBy as string | undefined,
    convertedBy: json.convertedBy as string | undefined,
  };
}
