/** The input a conversion is measured on: a real image, or a seeded random tensor of stated range. */
import type { Graph, InputNode } from '../models/ir.js';
import { spatialOf, type Shape } from '../models/shapes.js';
import { readPng } from './image.js';
import { mulberry32 } from '../decompose/random.js';
import type { Batch } from './tfjs-run.js';

export interface InputSpec {
  batch: Batch;
  /** Per-example shape for cost counting. */
  shape: Shape;
  description: string;
}

/** n values uniform in [lo, hi), seeded (same seed → same bytes). */
export function seededUniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

export function inputNodeOf(graph: Graph): InputNode {
  const node = graph.nodes.find((n) => n.name === graph.inputs[0]);
  if (!node || node.op !== 'input') throw new Error('the model has no input layer');
  return node;
}

export async function imageInput(graph: Graph, file: string): Promise<InputSpec> {
  if (graph.layout !== 'NHWC') throw new Error('image inputs are supported for NHWC (TF.js) models; ONNX models take --input-shape');
  const img = await readPng(file);
  const node = inputNodeOf(graph);
  const { h, w, c } = spatialOf(node.shape, graph.layout);
  if (c !== null && c !== 3) throw new Error(`--input ${file}: the model takes ${c} channels, the image has 3`);
  if ((h !== null && h !== img.height) || (w !== null && w !== img.width)) {
    throw new Error(`--input ${file}: the image is ${img.height}×${img.width}, the model takes ${h}×${w}`);
  }
  return { batch: { shape: [1, img.height, img.width, 3], data: img.data }, shape: [img.height, img.width, 3], description: file };
}

/** A seeded random input: values uniform in `range` (default [0, 255] for 3-channel inputs, else [0, 1]). */
export function randomInput(graph: Graph, shape: Shape | undefined, opts: { seed?: number; range?: [number, number] } = {}): InputSpec {
  const node = inputNodeOf(graph);
  const s = shape ?? node.shape;
  if (s.some((d) => d === null)) throw new Error(`the model's input shape [${node.shape.map((d) => d ?? '?')}] has free dimensions: give --input-shape H,W or --input <image>`);
  const dims = s as number[];
  const { c } = spatialOf(dims, graph.layout);
  const range = opts.range ?? (c === 3 ? [0, 255] : [0, 1]);
  const n = dims.reduce((a, b) => a * b, 1);
  return { batch: { shape: [1, ...dims], data: seededUniform(n, opts.seed ?? 1, range[0], range[1]) }, shape: dims, description: `random uniform [${range[0]}, ${range[1]}], seed ${opts.seed ?? 1}` };
}
