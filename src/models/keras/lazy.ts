/**
 * The Keras readers and writers for the library API, imported on first use: h5wasm compiles its
 * WebAssembly HDF5 library when imported (~0.3–0.9 s here), which users of other formats need not pay.
 */
import type { Graph } from '../ir.js';

export const readKerasH5 = async (file: string): Promise<Graph> => (await import('./legacy-h5.js')).readKerasH5(file);
export const readKerasZip = async (file: string): Promise<Graph> => (await import('./keras-zip.js')).readKerasZip(file);
export const writeKerasH5 = async (graph: Graph): Promise<Uint8Array> => (await import('./legacy-h5.js')).writeKerasH5(graph);
export const writeKerasZip = async (graph: Graph, opts: { date?: Date } = {}): Promise<Uint8Array> => (await import('./keras-zip.js')).writeKerasZip(graph, opts);
