/**
 * The converter: fold BatchNorms, pick eligible convs, decompose each, splice the stock-layer
 * replacements into the graph. Pure IR in, IR out; measuring is src/eval's job.
 */
import type { Conv2DNode, Graph } from '../models/ir.js';
import type { NdOrder } from '../decompose/nd.js';
import { foldBatchNorms, type FoldedPair } from './fold-batchnorm.js';
import { ineligibility, selectLayers, type SelectOptions } from './select.js';
import { splice, type Replacement } from './splice.js';
import type { DepthwiseForm } from './nd-rewrite.js';
import { METHODS, methodEntry, planLayer, type DecomposedLayer, type GhostSettings, type Method, type MethodDetails, type MethodSettings } from './methods.js';
import { foldSelections } from './fold-selection.js';
import type { RankRule, RankSpec } from '../decompose/rank-rules.js';
import { macRatio } from './method-cost.js';

export type { Method } from './methods.js';

/** One layer's choice from the speed budget (budget.ts): a method and its ranks, or 'keep' (stay regular). */
export interface LayerPlan {
  method: Method | 'keep';
  rank?: number;
  tuckerRanks?: [number, number];
  factorRank?: number;
  /** CP: slice start, ALS for at most this many seconds (the speed budget's time share). */
  cpSeconds?: number;
  /** ND: this layer's ordering and depthwise layout (the latency budget picks them by measurement). */
  order?: NdOrder;
  form?: DepthwiseForm;
}

export interface ConvertOptions extends SelectOptions {
  /** nd (default), cp, cp4, tucker2, spatial, spatial-nd, ghost (methods.ts REGISTRY). */
  method?: Method;
  /** ND ordering (also for the ND inside spatial-nd). */
  order?: NdOrder;
  /** Fixed rank for every layer: ND T, CP R, spatial K (capped at min(C·kh, N·kw)), Tucker-2 R → [min(R, N), min(R, C)]. */
  rank?: number;
  /** Energy threshold τ ∈ (0, 1]: each layer keeps the smallest rank retaining τ (decompose/rank-rules.ts per method). */
  energy?: number;
  /** 'vbmf': each layer's rank by empirical variational Bayesian matrix factorisation (decompose/rank-rules.ts). */
  rankRule?: RankRule;
  /** Tucker-2: [R_out, R_in] for every layer (each capped at the layer's N and C). */
  tuckerRanks?: [number, number];
  /** spatial-nd: T of the ND on each spatial factor (default 1 with a fixed --rank K). */
  factorRank?: number;
  /** CP ALS / Tucker-2 HOOI iterations at most (library defaults: 200 / 50). */
  maxIterations?: number;
  /** Seed of CP's random restart. */
  seed?: number;
  /** Per-layer fixed ranks, overriding `rank`/`energy` for the named layers. */
  ranks?: Record<string, number>;
  /** Per-layer method and ranks (the speed budget's output); layers it does not name stay regular. */
  plan?: Record<string, LayerPlan>;
  form?: DepthwiseForm;
  foldBatchNorm?: boolean;
  /** Also replace layers whose decomposition costs at least as many MACs as the conv (default: keep them). */
  keepUnprofitable?: boolean;
  /** Called before each selected layer is decomposed (progress for long CP/Tucker runs). */
  onLayer?: (name: string, index: number, total: number) => void;
  /** Ghost: ratio s, kernel d, fit, minimum R² (methods.ts). */
  ghost?: GhostSettings;
  /**
   * Fold the Ghost layers' channel-order nodes into their consumers (default true). Calibration
   * turns it off and folds after refitting (foldGhostOrders), since a data fit may re-pick primaries.
   */
  foldOrders?: boolean;
}

/** One replaced conv; method-specific fields (Tucker ranks, CP fit…) come from MethodDetails. */
export interface LayerConversion extends MethodDetails {
  name: string;
  /** [kh, kw, C, N], the TF.js order users know from model.json. */
  kernel: [number, number, number, number];
  stride: [number, number];
  method: Method;
  /** ND ordering and depthwise form (for methods without ND inside they are the run's options, unused). */
  order: NdOrder;
  form: DepthwiseForm;
  /** ND: T; CP: R; spatial, spatial-nd: K; Tucker-2: R_out (both in `ranks`). */
  rank: number;
  maxRank: number;
  /** ND: channel-averaged retained energy; other methods: 1 − kernelRelError². */
  retainedEnergy: number;
  kernelRelError: number;
  /** ND: singular values per channel (DW→PW: per input channel; PW→DW: per output channel); spatial: the reshape's; CP, Tucker-2: none. */
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
  /**
   * Before the Ghost layers' channel orders were folded into their consumers: the same function,
   * with every layer's output in the original channel order (per-layer errors are measured here).
   */
  unfolded?: { graph: Graph; layers: LayerConversion[] };
  /** method 'budget' when a per-layer plan chose the methods. */
  options: { method: Method | 'budget'; order: NdOrder; form: DepthwiseForm } & Pick<ConvertOptions, 'rank' | 'energy' | 'rankRule' | 'tuckerRanks' | 'factorRank'>;
}

export function validateRankOptions(opts: ConvertOptions): void {
  const method = opts.method ?? 'nd';
  if (!METHODS.includes(method)) throw new Error(`--method "${String(method)}": choose one of ${METHODS.join(', ')}`);
  const hasRank = opts.rank !== undefined;
  const hasEnergy = opts.energy !== undefined;
  const hasRule = opts.rankRule !== undefined;
  const hasTucker = opts.tuckerRanks !== undefined;
  if (hasRule && opts.rankRule !== 'vbmf') throw new Error(`--rank-rule "${String(opts.rankRule)}": the only rule is vbmf`);
  if (hasTucker && method !== 'tucker2') throw new Error(`--tucker-ranks applies to --method tucker2, not ${method}; use --rank`);
  if (opts.factorRank !== undefined && method !== 'spatial-nd') throw new Error(`--factor-rank applies to --method spatial-nd, not ${method}`);
  if (method === 'ghost') {
    // Ghost's rank is its ratio s (--rank = --ghost-ratio) and τ its minimum R² (--energy = --ghost-min-r2).
    const g = opts.ghost ?? {};
    if (hasRule) throw new Error('--method ghost has no VBMF rule: give --ghost-ratio s (and --energy τ to keep ghosts explaining less than τ primary)');
    if (hasRank && g.ratio !== undefined) throw new Error('--method ghost: give --ghost-ratio or --rank (the same thing), not both');
    if (hasEnergy && g.minR2 !== undefined) throw new Error('--method ghost: give --ghost-min-r2 or --energy (the same thing), not both');
    const ratio = opts.rank ?? g.ratio;
    if (ratio !== undefined && (!Number.isInteger(ratio) || ratio < 1)) throw new Error(`--ghost-ratio ${ratio}: must be a positive integer (e.g. 2)`);
    if (g.kernelSize !== undefined && (!Number.isInteger(g.kernelSize) || g.kernelSize < 1 || g.kernelSize % 2 === 0)) throw new Error(`--ghost-kernel ${g.kernelSize}: must be an odd positive integer (e.g. 3)`);
    if (g.fit !== undefined && g.fit !== 'data' && g.fit !== 'weights') throw new Error(`--ghost-fit "${String(g.fit)}": choose data or weights`);
    const minR2 = opts.energy ?? g.minR2;
    if (minR2 !== undefined && !(minR2 >= 0 && minR2 <= 1)) throw new Error(`--ghost-min-r2 ${minR2}: must be in [0, 1]`);
    return;
  }
  const given = [hasRank, hasEnergy, hasRule, hasTucker].filter(Boolean).length;
  if (given !== 1 && !opts.ranks && !opts.plan) {
    throw new Error(`give exactly one of --rank T or --energy τ${method === 'tucker2' ? ', --tucker-ranks' : ''} or --rank-rule vbmf`);
  }
  if (hasRank && (!Number.isInteger(opts.rank) || (opts.rank as number) < 1)) throw new Error(`--rank ${opts.rank}: must be a positive integer`);
  if (hasEnergy && !((opts.energy as number) > 0 && (opts.energy as number) <= 1)) throw new Error(`--energy ${opts.energy}: τ must be in (0, 1]`);
  if (hasTucker) {
    const t = opts.tuckerRanks as number[];
    if (!Array.isArray(t) || t.length !== 2 || t.some((r) => !Number.isInteger(r) || r < 1)) throw new Error(`--tucker-ranks ${String(t)}: give two positive integers R_out,R_in`);
  }
  if (opts.factorRank !== undefined && (!Number.isInteger(opts.factorRank) || opts.factorRank < 1)) throw new Error(`--factor-rank ${opts.factorRank}: must be a positive integer`);
  if (opts.maxIterations !== undefined && (!Number.isInteger(opts.maxIterations) || opts.maxIterations < 1)) throw new Error(`--max-iter ${opts.maxIterations}: must be a positive integer`);
}

export function convertGraph(input: Graph, opts: ConvertOptions): Conversion {
  validateRankOptions(opts);
  const method = opts.method ?? 'nd';
  const order = opts.order ?? 'dw-pw';
  const form = opts.form ?? 'split';
  const { graph, folded } = opts.foldBatchNorm === false ? { graph: input, folded: [] } : foldBatchNorms(input);
  const targets = selectLayers(graph, opts);
  const replacements = new Map<string, Replacement>();
  const layers: LayerConversion[] = [];
  const kept: { name: string; reason: string }[] = [];
  const picked = new Set(targets.map((t) => t.name));
  for (const n of graph.nodes) {
    if (n.op === 'conv2d' && !picked.has(n.name)) kept.push({ name: n.name, reason: ineligibility(n, opts.minInChannels ?? 3) ?? 'not selected (--layers / --skip)' });
  }
  const settings: MethodSettings = { order, form, layout: graph.layout, maxIterations: opts.maxIterations, seed: opts.seed, ghost: opts.ghost };
  for (const [index, conv] of targets.entries()) {
    opts.onLayer?.(conv.name, index, targets.length);
    const choice = layerChoice(conv.name, method, opts);
    if (choice === null) {
      kept.push({ name: conv.name, reason: 'the speed budget keeps it regular' });
      continue;
    }
    const p = opts.plan?.[conv.name];
    const layerSettings: MethodSettings = { ...settings, ...(p?.cpSeconds !== undefined ? { cpSeconds: p.cpSeconds } : {}), ...(p?.order ? { order: p.order } : {}), ...(p?.form ? { form: p.form } : {}) };
    const planned = planLayer(conv, choice.method, choice.spec, layerSettings);
    const ratio = macRatio(conv, choice.method, planned.ranks);
    if (ratio >= 1 && !opts.keepUnprofitable) {
      kept.push({ name: conv.name, reason: `at ${methodEntry(choice.method).rankLabel(planned.ranks)} the decomposition would cost ${ratio.toFixed(2)}× the conv's MACs (--keep-unprofitable replaces it anyway)` });
      continue;
    }
    const d = planned.decompose();
    replacements.set(conv.name, d.replacement);
    layers.push(describe(conv, choice.method, d, layerSettings.form, layerSettings.order, opts.plan ? 'budget' : undefined));
  }
  const options = {
    method: opts.plan ? ('budget' as const) : method, order, form,
    rank: opts.rank, energy: opts.energy, rankRule: opts.rankRule, tuckerRanks: opts.tuckerRanks, factorRank: opts.factorRank,
  };
  const conversion: Conversion = { graph: splice(graph, replacements), reference: graph, layers, foldedBatchNorms: folded, kept, options };
  return opts.foldOrders === false ? conversion : foldGhostOrders(conversion);
}

/** Folds every Ghost layer's channel-order node into its consumers where they allow (fold-selection.ts). */
export function foldGhostOrders(conversion: Conversion): Conversion {
  const orders = conversion.layers.filter((l) => l.method === 'ghost').map((l) => `${l.name}/order`).filter((n) => conversion.graph.nodes.some((x) => x.name === n));
  if (orders.length === 0) return conversion;
  const { graph, folded, kept } = foldSelections(conversion.graph, orders);
  const layers = conversion.layers.map((l) => {
    if (l.method !== 'ghost' || !l.ghost) return l;
    const name = `${l.name}/order`;
    const why = kept.find((k) => k.name === name)?.reason;
    const order = folded.has(name) ? 'folded into the consumers' : why ? `kept as a 1×1 selection: ${why}` : 'already in order';
    return { ...l, output: folded.get(l.output) ?? l.output, replacedBy: l.replacedBy.filter((n) => !folded.has(n)), ghost: { ...l.ghost, order } };
  });
  return { ...conversion, graph, layers, unfolded: { graph: conversion.graph, layers: conversion.layers } };
}

/** The method and rank rule for one layer: the plan's entry, a per-layer rank, or the global options; null = keep regular. */
function layerChoice(name: string, method: Method, opts: ConvertOptions): { method: Method; spec: RankSpec } | null {
  if (opts.plan) {
    const p = opts.plan[name];
    if (!p || p.method === 'keep') return null;
    return { method: p.method, spec: { rank: p.rank, tuckerRanks: p.tuckerRanks, factorRank: p.factorRank } };
  }
  const perLayer = opts.ranks?.[name];
  if (perLayer !== undefined) return { method, spec: { rank: perLayer, factorRank: opts.factorRank } };
  return { method, spec: { rank: opts.rank, energy: opts.energy, rankRule: opts.rankRule, tuckerRanks: opts.tuckerRanks, factorRank: opts.factorRank } };
}

function describe(conv: Conv2DNode, method: Method, d: DecomposedLayer, form: DepthwiseForm, order: NdOrder, rule?: string): LayerConversion {
  const [n, c, kh, kw] = conv.kernel.shape;
  const details: MethodDetails = { ...d.details, ...(rule ? { rankRule: rule } : {}) };
  return {
    name: conv.name,
    kernel: [kh, kw, c, n],
    stride: conv.strides,
    method,
    order,
    form,
    rank: d.rank,
    maxRank: d.maxRank,
    retainedEnergy: d.retainedEnergy,
    kernelRelError: d.kernelRelError,
    singularValues: d.singularValues,
    replacedBy: d.replacement.nodes.map((x) => x.name),
    output: d.replacement.output,
    ...details,
  };
}
