/**
 * Model files in and out, side by side (tfjs-core's io/ does the same): `loadGraph` reads every
 * format the tool knows into the IR (load.ts dispatches on the format), `modelFiles` gives the
 * files that write a graph back in a format, and every reader throws `ModelFormatError`.
 */
import type { Graph } from './ir.js';
import type { ModelFormat } from './load.js';
import { layersModelFiles } from './tfjs/load.js';

export { loadGraph, formatOf, type ModelFormat } from './load.js';
export { ModelFormatError } from './errors.js';

/** The files (name → bytes or text) that hold `graph` in `format`: model.json + weights.bin, or model.onnx. */
export async function modelFiles(graph: Graph, format: ModelFormat): Promise<Record<string, Uint8Array | string>> {
  if (format === 'onnx') {
    const { graphToOnnx } = await import('./onnx/write.js');
    return { 'model.onnx': graphToOnnx(graph) };
  }
  return layersModelFiles(graph);
}

