/**
 * The converter: fold BatchNorms, pick eligible convs, decompose each, splice the stock-layer
 * replacements into the graph. Pure IR in, IR out; measuring is src/eval's job.
 */
import type { Conv2DNode, Graph } from '../models/ir.js';
import { decouple, ndCost, type NdOrder } from '../decompose/nd.js';
import { foldBatchNorms, type FoldedPair } from './fold-batchnorm.js';
import { ineligibility, selectLayers, type SelectOptions } from './select.js';
import { splice, type Replacement } from './splice.js';
import { dwPwReplacement, pwDwReplacement, type DepthwiseForm } from './nd-rewrite.js';

export type Method = 'nd';

export interface ConvertOptions extends SelectOptions {
  method?: Method;
  order?: NdOrder;
  /** Fixed rank T for every layer (capped per layer only if `capRank`). */
  rank?: number;
  /** Energy threshold τ ∈ (0, 1]: each layer keeps the smallest T retaining τ. */
  energy?: number;
  /** Per-layer fixed ranks, overriding `rank`/`energy` for the named layers. */
  ranks?: Record<string, number>;
  form?: DepthwiseForm;
  foldBatchNorm?: boolean;
  /** Also replace layers whose decomposition costs at least as many MACs as the conv (default: keep them). */
  keepUnprofitable?: boolean;
}

export interface LayerConversion {
  name: string;
  /** [kh, kw, C, N], the TF.js order users know from model.json. */
  kernel: [number, number, number, number];
  stride: [number, number];
  method: Method;
  order: NdOrder;
  form: DepthwiseForm;
  rank: number;
  maxRank: number;
  retainedEnergy: number;
  kernelRelError: number;
  /** Singular values per channel (DW→PW: per input channel; PW→DW: per output channel). */
  singularValues: number[][];
  /** Names of the nodes that replaced the conv, and the one standing for its output. */
  replacedBy: string[];
  output: string;
}

export interface Conversion {
  graph: Graph;
  /** The input graph after BatchNorm folding: what the replacements approximate, layer by layer. */
  reference: Graph;
  layers: LayerConversion[];
  foldedBatchNorms: FoldedPair[];
  /** Convs left regular, and why. */
  kept: { name: string; reason: string }[];
  options: Required<Pick<ConvertOptions, 'method' | 'order' | 'form'>> & Pick<ConvertOptions, 'rank' | 'energy'>;
}

export function validateRankOptions(opts: ConvertOptions): void {
  const hasRank = opts.rank !== undefined;
  const hasEnergy = opts.energy !== undefined;
  if (hasRank === hasEnergy && !opts.ranks) throw new Error('give exactly one of --rank T or --energy τ');
  if (hasRank && (!Number.isInteger(opts.rank) || (opts.rank as number) < 1)) throw new Error(`--rank ${opts.rank}: must be a positive integer`);
  if (hasEnergy && !((opts.energy as number) > 0 && (opts.energy as number) <= 1)) throw new Error(`--energy ${opts.energy}: τ must be in (0, 1]`);
}

export function convertGraph(input: Graph, opts: ConvertOptions): Conversion {
  validateRankOptions(opts);
  const method = opts.method ?? 'nd';
  const order = opts.order ?? 'dw-pw';
  const form = opts.form ?? 'split';
  if (method !== 'nd') throw new Error(`method "${method}" is not available`);
  const { graph, folded } = opts.foldBatchNorm === false ? { graph: input, folded: [] } : foldBatchNorms(input);
  const targets = selectLayers(graph, opts);
  const replacements = new Map<string, Replacement>();
  const layers: LayerConversion[] = [];
  const kept: { name: string; reason: string }[] = [];
  const picked = new Set(targets.map((t) => t.name));
  for (const n of graph.nodes) {
    if (n.op === 'conv2d' && !picked.has(n.name)) kept.push({ name: n.name, reason: ineligibility(n, opts.minInChannels ?? 3) ?? 'not selected (--layers / --skip)' });
  }
  for (const conv of targets) {
    const fixed = opts.ranks?.[conv.name] ?? opts.rank;
    const nd = decouple(conv.kernel, { order, name: conv.name, ...(fixed !== undefined ? { rank: fixed } : { energy: opts.energy }) });
    const ratio = macRatio(conv, nd.rank, order);
    if (ratio >= 1 && !opts.keepUnprofitable) {
      kept.push({ name: conv.name, reason: `at T = ${nd.rank} the decomposition would cost ${ratio.toFixed(2)}× the conv's MACs (--keep-unprofitable replaces it anyway)` });
      continue;
    }
    const rep = order === 'dw-pw' ? dwPwReplacement(conv, nd, form, graph.layout) : pwDwReplacement(conv, nd, form);
    replacements.set(conv.name, rep);
    layers.push(describe(conv, nd, rep, form, order));
  }
  return { graph: splice(graph, replacements), reference: graph, layers, foldedBatchNorms: folded, kept, options: { method, order, form, rank: opts.rank, energy: opts.energy } };
}

function describe(conv: Conv2DNode, nd: ReturnType<typeof decouple>, rep: Replacement, form: DepthwiseForm, order: NdOrder): LayerConversion {
  const [n, c, kh, kw] = conv.kernel.shape;
  return {
    name: conv.name,
    kernel: [kh, kw, c, n],
    stride: conv.strides,
    method: 'nd',
    order,
    form,
    rank: nd.rank,
    maxRank: nd.maxRank,
    retainedEnergy: nd.retainedEnergy,
    kernelRelError: nd.kernelRelError,
    singularValues: nd.singularValues.map((s) => Array.from(s)),
    replacedBy: rep.nodes.map((x) => x.name),
    output: rep.output,
  };
}

/** MACs after / before for one output pixel (the PW→DW 1×1 runs at input resolution: stride² more pixels). */
function macRatio(conv: Conv2DNode, rank: number, order: NdOrder): number {
  const [N, C, kh, kw] = conv.kernel.shape;
  const after = ndCost({ N, C, kh, kw, order, rank, hOut: 1, wOut: 1, hIn: conv.strides[0], wIn: conv.strides[1] });
  return after / (N * C * kh * kw);
}
