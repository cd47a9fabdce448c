/**
 * Before running a model: every inferred activation must have a positive size, and the activations
 * alive at once must fit in memory. The estimate walks the graph in order, keeping each output until
 * its last consumer has run (float32, times the batch); runtimes need about this much, plus weights
 * and workspace, so an input far too large is refused in one line instead of failing deep inside
 * XNNPACK or wasm ("memory access out of bounds") after minutes and gigabytes.
 */
import type { Graph } from './ir.js';
import { inferShapes, type Shape } from './shapes.js';

export const DEFAULT_ACTIVATION_LIMIT_GIB = 4;
let limitGiB = DEFAULT_ACTIVATION_LIMIT_GIB;

/** The CLI's --max-activation-memory (undefined: the default). */
export function setActivationLimit(gib: number | undefined): void {
  if (gib !== undefined && !(gib > 0)) throw new Error(`--max-activation-memory ${gib}: give a positive number of GiB`);
  limitGiB = gib ?? DEFAULT_ACTIVATION_LIMIT_GIB;
}

export interface ActivationPeak {
  bytes: number;
  /** The layer at which the peak is reached. */
  layer: string;
}

/** Peak bytes of live activations for `batch` examples; null when a size is unknown. */
export function peakActivationBytes(graph: Graph, shapes: Map<string, Shape>, batch = 1): ActivationPeak | null {
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((x) => lastUse.set(x, i)));
  for (const o of graph.outputs) lastUse.set(o, graph.nodes.length);
  const size = (name: string) => (shapes.get(name) as number[]).reduce((a, b) => a * b, 4 * batch);
  let live = 0;
  let peak: ActivationPeak = { bytes: 0, layer: graph.nodes[0]?.name ?? '' };
  for (const [i, node] of graph.nodes.entries()) {
    if (shapes.get(node.name)?.some((d) => d === null)) return null;
    live += size(node.name);
    if (live > peak.bytes) peak = { bytes: live, layer: node.name };
    for (const x of new Set(node.inputs)) if (lastUse.get(x) === i) live -= size(x);
    if (!lastUse.has(node.name)) live -= size(node.name);
  }
  return peak;
}

const gib = (b: number) => {
  const [unit, size] = b >= 2 ** 30 ? ['GiB', 2 ** 30] : b >= 2 ** 20 ? ['MiB', 2 ** 20] : ['KiB', 2 ** 10];
  return `${(b / (size as number)).toFixed(1)} ${unit}`;
};

/** Refuses (one line, naming the layer or the figure) what would not run; returns the peak estimate. */
export function checkActivations(graph: Graph, inputShapes: Record<string, Shape>, opts: { batch?: number; what?: string; memory?: boolean } = {}): ActivationPeak | null {
  const shapes = inferShapes(graph, inputShapes);
  const what = opts.what ?? `a ${Object.values(inputShapes).map((s) => s.map((d) => d ?? '?').join('×')).join(', ')} input`;
  for (const node of graph.nodes) {
    const s = shapes.get(node.name) as Shape;
    if (s.some((d) => d !== null && d <= 0)) {
      throw new Error(`layer "${node.name}": output size [${s.join(', ')}] is empty for ${what}; give a larger input (--input-shape H,W)`);
    }
  }
  if (opts.memory === false) return null;
  const peak = peakActivationBytes(graph, shapes, opts.batch ?? 1);
  if (peak && peak.bytes > limitGiB * 2 ** 30) {
    throw new Error(`${what}${(opts.batch ?? 1) > 1 ? ` (batch ${opts.batch})` : ''} needs about ${gib(peak.bytes)} of activations (peak at layer "${peak.layer}"), above the ${limitGiB} GiB limit; use a smaller --input-shape, or raise the limit with --max-activation-memory <GiB>`);
  }
  return peak;
}
