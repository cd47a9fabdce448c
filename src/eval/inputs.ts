/** The input a conversion is measured on: a real photo, or seeded random pixels, both through the model's preprocessing. */
import type { Graph, InputNode } from '../models/ir.js';
import { makeShape, spatialOf, type Shape } from '../models/shapes.js';
import { readImage } from './datasets.js';
import { describePreprocessing, fixedInputSize, normaliseTensor, photoToExample, resolvePreprocessing, valueRange, type Preprocessing } from './preprocess.js';
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

/**
 * A photo (PNG or JPEG) as the model's input, through the preprocessing: geometry to the model's
 * fixed size (or `shape`, e.g. --input-shape, for models that take any size), channels, values, layout.
 */
export async function imageInput(graph: Graph, file: string, opts: { preprocessing?: Preprocessing; shape?: Shape } = {}): Promise<InputSpec> {
  const p = opts.preprocessing ?? resolvePreprocessing(graph);
  const fixed = fixedInputSize(graph);
  const size = opts.shape ? spatialOf(opts.shape, graph.layout) : null;
  // An any-size model given --input-shape: the photo is brought to that size (shorter side, then centre crop).
  const toShape = !fixed && size && size.h !== null && size.w !== null && !p.resize && !p.crop
    ? { ...p, resize: [Math.max(size.h, size.w)] as [number], crop: [size.h, size.w] as [number, number] }
    : p;
  const x = photoToExample(await readImage(file), toShape, graph);
  if (fixed && (x.h !== fixed.h || x.w !== fixed.w)) throw new Error(`--input ${file}: preprocessing makes it ${x.h}×${x.w}, the model takes ${fixed.h}×${fixed.w}; use --crop ${fixed.h},${fixed.w}`);
  const shape = makeShape(x.h, x.w, x.c, graph.layout) as number[];
  return { batch: { shape: [1, ...shape], data: x.data }, shape, description: `${file} (${describePreprocessing(p, graph)})` };
}

/**
 * A seeded random input: pixels uniform in [0, 255] through the preprocessing's value transform,
 * so the model sees values of the range it expects (or uniform in `range` when given).
 */
export function randomInput(graph: Graph, shape: Shape | undefined, opts: { seed?: number; range?: [number, number]; preprocessing?: Preprocessing } = {}): InputSpec {
  const node = inputNodeOf(graph);
  const s = shape ?? node.shape;
  if (s.some((d) => d === null)) throw new Error(`the model's input shape [${node.shape.map((d) => d ?? '?')}] has free dimensions: give --input-shape H,W or --input <image>`);
  const dims = s as number[];
  const n = dims.reduce((a, b) => a * b, 1);
  const seed = opts.seed ?? 1;
  if (opts.range) return { batch: { shape: [1, ...dims], data: seededUniform(n, seed, opts.range[0], opts.range[1]) }, shape: dims, description: `random uniform [${opts.range[0]}, ${opts.range[1]}], seed ${seed}` };
  const p = opts.preprocessing ?? resolvePreprocessing(graph);
  const data = normaliseTensor(seededUniform(n, seed, 0, 255), dims, graph.layout, p);
  const [lo, hi] = valueRange(p);
  return { batch: { shape: [1, ...dims], data }, shape: dims, description: `random pixels uniform in [0, 255], seed ${seed}, preprocessed to [${+lo.toFixed(4)}, ${+hi.toFixed(4)}] (${describePreprocessing(p, graph)})` };
}
