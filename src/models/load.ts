/** One entry point for every model format the tool reads. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Graph } from './ir.js';
import { loadTfjsGraph } from './tfjs/load.js';
import { ModelFormatError } from './errors.js';

export type ModelFormat = 'tfjs' | 'onnx' | 'keras-h5' | 'keras';

export function formatOf(file: string): ModelFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.onnx')) return 'onnx';
  if (lower.endsWith('.keras')) return 'keras';
  if (lower.endsWith('.h5') || lower.endsWith('.hdf5')) return 'keras-h5';
  return 'tfjs';
}

/** A Keras file under another name, told by its first bytes: a zip (.keras) or HDF5's signature (.h5). */
async function sniffKeras(file: string): Promise<ModelFormat | null> {
  const fd = await fs.open(file, 'r');
  try {
    const { buffer, bytesRead } = await fd.read(Buffer.alloc(8), 0, 8, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'keras';
    if (head.equals(Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'))) return 'keras-h5';
    return null;
  } finally {
    await fd.close();
  }
}

/** Accepts a model.json, a folder holding one, an .onnx file, or a Keras .keras / .h5 file. */
export async function loadGraph(file: string): Promise<Graph> {
  let target = file;
  const stat = await fs.stat(file).catch(() => null);
  if (!stat) throw new ModelFormatError(`model file not found: ${file}`);
  if (stat.isDirectory()) target = path.join(file, 'model.json');
  let format = formatOf(target);
  if (format === 'tfjs' && !stat.isDirectory() && !target.toLowerCase().endsWith('.json')) format = (await sniffKeras(target)) ?? format;
  if (format === 'onnx') {
    const { readOnnx } = await import('./onnx/read.js');
    return readOnnx(target);
  }
  if (format === 'keras' || format === 'keras-h5') {
    const keras = await import('./keras/index.js');
    return format === 'keras' ? keras.readKerasZip(target) : keras.readKerasH5(target);
  }
  return loadTfjsGraph(target);
}
