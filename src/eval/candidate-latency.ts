/**
 * The measured-latency table of `--by latency`: each candidate layer's regular conv against every
 * candidate realisation (ND split / merged / pw-dw, spatial, Tucker-2, CP, …), each pair timed by
 * the shared loop (timing.ts: interleaved, until the ratio's 95 % interval is within ±5 % or the
 * per-candidate cap) in the context the whole model runs in: same engine and threads, and on ORT
 * the NCHW layout the exported model uses inside (latency.ts layerGraphsFor). A candidate's time
 * is its measured ratio to the conv (a ratio of interleaved runs: load hits both alike) times the
 * conv's time. Absolute times are only needed to weigh layers against each other and against the
 * rest of the network, and a busy machine only ever adds time: so the conv's time is the least of
 * its medians over all its pairs, and the whole network's the lesser of two medians, one timed
 * before the candidates and one after.
 *
 * Pruning: within one family (method, ND order and layout), time grows with the rank. Ranks are
 * timed in increasing order, and once a candidate is slower than the conv with confidence (the
 * upper end of its interval below 1×) the family's higher ranks are dropped untimed: slower than
 * the conv and with error > 0, every one of them is dominated by keeping the conv, so the solver
 * would never pick it. Measurements are cached across runs per
 * (backend, threads, layout, shape, conv, realisation) (latency-cache.ts).
 */
import type { Conv2DNode, Graph } from '../models/ir.js';
import { inferShapes } from '../models/shapes.js';
import type { BudgetCandidates } from '../convert/budget-plan.js';
import type { Candidate } from '../convert/candidates.js';
import { planLayer, type MethodSettings } from '../convert/methods.js';
import { leadingSpatial } from '../convert/candidates.js';
import { spatial, type SpatialResult } from '../decompose/spatial.js';
import { spatialReplacement } from '../convert/spatial-rewrite.js';
import type { Replacement } from '../convert/splice.js';
import type { DepthwiseForm } from '../convert/nd-rewrite.js';
import type { NdOrder } from '../decompose/nd.js';
import type { Engine } from './engine.js';
import { compareGraphs, copiesFor, layerGraphsFor, perCopy, randomBatch, replicate, timeGraph } from './latency.js';
import { openLatencyCache, type CachedLatency, type LatencyCache } from './latency-cache.js';
import type { Batch } from './tfjs-run.js';
import type { TimingOptions } from './timing.js';

export interface CandidateTimingOptions {
  order?: NdOrder;
  form?: DepthwiseForm;
  seed?: number;
  /** Default: an in-memory cache (nothing kept). */
  cache?: LatencyCache;
  /** Per pair; default: ±5 % interval, at most 4 s each. */
  timing?: TimingOptions;
  onStep?: (label: string, index: number, total: number) => void;
}

export interface CandidateTimingResult {
  totalMs: number;
  fixedMs: number;
  cache: { file: string | null; hits: number; timed: number };
  /** Candidates dropped untimed (slower than the conv, see Pruning). */
  pruned: number;
}

function convKey(c: Conv2DNode): string {
  return `conv ${c.kernel.shape.join('x')} s${c.strides.join(',')} d${c.dilations.join(',')} p${JSON.stringify(c.padding)} g${c.groups}`;
}

function realisationKey(c: Candidate, order: NdOrder, form: DepthwiseForm): string {
  const ranks = c.tuckerRanks ? c.tuckerRanks.join('x') : String(c.rank);
  return `${c.method} r${ranks}${c.factorRank !== undefined ? ` t${c.factorRank}` : ''}${c.method === 'nd' || c.method === 'spatial-nd' ? ` ${c.order ?? order} ${c.form ?? form}` : ''}`;
}

/** Times every candidate of every layer (or reads it from the cache); fills msBefore and each candidate's ms. */
export async function timeBudgetCandidates(engine: Engine, bc: BudgetCandidates, input: Batch, opts: CandidateTimingOptions = {}): Promise<CandidateTimingResult> {
  const cache = opts.cache ?? openLatencyCache(null);
  const order = opts.order ?? 'dw-pw';
  const form = opts.form ?? 'split';
  const timing: TimingOptions = { maxSeconds: 4, ...opts.timing };
  const shapes = inferShapes(bc.graph, { [bc.graph.inputs[0]]: input.shape.slice(1) });
  const base: MethodSettings = { order, form, layout: bc.graph.layout, maxIterations: 1, cpSeconds: 0, seed: opts.seed };
  const firstTotalMs = (await timeGraph(engine, bc.graph, input)).medianMs;
  const total = bc.layers.reduce((a, l) => a + l.candidates.length - 1, 0);
  let step = 0;
  let layersMs = 0;
  let pruned = 0;
  for (const l of bc.layers) {
    const inShape = shapes.get(l.conv.inputs[0]) as number[];
    const measured = new Map<Candidate, CachedLatency>();
    // Spatial: one SVD at the largest K the layer needs; every smaller K is its leading part.
    let top: SpatialResult | null = null;
    const spatialAt = (K: number): Replacement => {
      const kMax = Math.max(...l.candidates.filter((x) => x.method === 'spatial').map((x) => x.rank));
      top ??= spatial(l.conv.kernel, { rank: kMax, name: l.conv.name });
      return spatialReplacement(l.conv, leadingSpatial(top, K));
    };
    const family = (c: Candidate) => `${c.method} ${c.order ?? ''} ${c.form ?? ''} ${c.factorRank ?? ''}`;
    const slowFamilies = new Set<string>();
    const dropped = new Set<Candidate>();
    for (const c of [...l.candidates].sort((x, y) => x.rank - y.rank)) {
      if (c.method === 'keep') continue;
      if (slowFamilies.has(family(c))) {
        dropped.add(c);
        step++;
        continue;
      }
      opts.onStep?.(`${l.name} ${c.method} ${c.rank}${c.form === 'merged' ? ' merged' : ''}`, step++, total);
      const key = { backend: engine.name, threads: engine.threads, layout: bc.graph.layout, inputShape: inShape, conv: convKey(l.conv), realisation: realisationKey(c, order, form) };
      let m = cache.get(key);
      if (!m) {
        // Timing does not depend on the weights' values: CP takes its slice start, no ALS.
        const settings: MethodSettings = { ...base, ...(c.order ? { order: c.order } : {}), ...(c.form ? { form: c.form } : {}) };
        const rep = c.method === 'spatial' ? spatialAt(c.rank) : planLayer(l.conv, c.method as Exclude<Candidate['method'], 'keep'>, { rank: c.rank, tuckerRanks: c.tuckerRanks, factorRank: c.factorRank }, settings).decompose().replacement;
        const [regular, replaced] = layerGraphsFor(engine, { conv: l.conv, nodes: rep.nodes, input: l.conv.inputs[0], output: rep.output }, inShape, bc.graph.layout);
        const x = randomBatch(regular.nodes[0].op === 'input' ? (regular.nodes[0].shape as number[]) : inShape, input.shape[0], (opts.seed ?? 1) + 1, [-1, 1]);
        const copies = copiesFor(l.macsBefore * input.shape[0]);
        const t = perCopy(await compareGraphs(engine, replicate(regular, copies), replicate(replaced, copies), x, timing), copies);
        m = { ratio: t.ratio, low: t.low, high: t.high, regularMs: t.a.medianMs, runs: t.a.runs, stoppedBy: t.stoppedBy, measuredAt: new Date().toISOString() };
        cache.set(key, m);
      }
      measured.set(c, m);
      if (m.high < 1) slowFamilies.add(family(c));
    }
    pruned += dropped.size;
    l.candidates = l.candidates.filter((c) => !dropped.has(c));
    const regular = [...measured.values()].map((m) => m.regularMs);
    // A layer without candidates keeps its time in the fixed cost.
    l.msBefore = regular.length ? Math.min(...regular) : 0;
    for (const c of l.candidates) {
      const m = measured.get(c);
      c.ms = m ? l.msBefore / m.ratio : l.msBefore;
      if (m) c.speedup = { ratio: m.ratio, low: m.low, high: m.high };
    }
    layersMs += l.msBefore;
    // Per layer, so an interrupted search keeps what it measured.
    cache.save();
  }
  const totalMs = Math.min(firstTotalMs, (await timeGraph(engine, bc.graph, input)).medianMs);
  // Timed apart, the layers can add up to more than the whole (per-call overhead): the total is
  // then their sum, so the solver's units stay consistent.
  const fixedMs = Math.max(0, totalMs - layersMs);
  return { totalMs: layersMs + fixedMs, fixedMs, cache: { file: cache.file, hits: cache.hits, timed: cache.misses }, pruned };
}
