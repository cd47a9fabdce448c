/**
 * Model files in and out, side by side (tfjs-core's io/ does the same): `loadGraph` reads every
 * format the tool knows into the IR (load.ts dispatches on the format), `modelFiles` gives the
 * files that write a graph back in a format, and every reader throws `ModelFormatError`.
 */
import type { Graph } from './ir.js';
import { toNhwc } from './relayout.js';
import { layersModelFiles } from './tfjs/load.js';

export { loadGraph, formatOf, type ModelFormat } from './load.js';
export { ModelFormatError } from './errors.js';

/** Formats a graph can be written in: TF.js LayersModel, ONNX, Keras 3 .keras, Keras 2 .h5. */
export const OUTPUT_FORMATS = ['tfjs', 'onnx', 'keras', 'h5'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * The files (name → bytes or text) that hold `graph` in `format`. Keras formats are NHWC: an ONNX
 * (NCHW) graph is relaid out first, so a PyTorch export can be written as TF.js or Keras with no
 * boundary transposes. ONNX keeps the graph's layout (the writer adds the transposes NHWC needs).
 */
export async function modelFiles(graph: Graph, format: OutputFormat): Promise<Record<string, Uint8Array | string>> {
  const nhwc = () => (graph.layout === 'NHWC' ? graph : toNhwc(graph));
  switch (format) {
    case 'onnx': {
      const { graphToOnnx } = await import('./onnx/write.js');
      return { 'model.onnx': graphToOnnx(graph) };
    }
    case 'keras':
    case 'h5': {
      const keras = await import('./keras/index.js');
      return { [`model.${format}`]: format === 'keras' ? await keras.writeKerasZip(nhwc()) : await keras.writeKerasH5(nhwc()) };
    }
    case 'tfjs':
      return layersModelFiles(nhwc());
    default:
      throw new Error(`--format "${String(format)}": choose from ${OUTPUT_FORMATS.join(', ')}`);
  }
}
