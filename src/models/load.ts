/** One entry point for every model format the tool reads. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Graph } from './ir.js';
import { loadTfjsGraph } from './tfjs/load.js';
import { ModelFormatError } from './errors.js';

export type ModelFormat = 'tfjs' | 'onnx';

export function formatOf(file: string): ModelFormat {
  return file.toLowerCase().endsWith('.onnx') ? 'onnx' : 'tfjs';
}

/** Accepts a model.json, a folder holding one, or an .onnx file. */
export async function loadGraph(file: string): Promise<Graph> {
  let target = file;
  const stat = await fs.stat(file).catch(() => null);
  if (!stat) throw new ModelFormatError(`model file not found: ${file}`);
  if (stat.isDirectory()) target = path.join(file, 'model.json');
  if (formatOf(target) === 'onnx') {
    const { readOnnx } = await import('./onnx/read.js');
    return readOnnx(target);
  }
  return loadTfjsGraph(target);
}
