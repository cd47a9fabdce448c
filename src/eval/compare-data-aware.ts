/**
 * `compare --calibrate`: what calibration data buys, per layer and at each candidate's MACs. A
 * layer's statistics are taken once (its input patches in the original network against its
 * pre-activation output, at seeded sampled pixels of the calibration images); then each candidate
 * is scored twice by relative layer output error on those samples: its plain decomposition, and
 * the data-aware variant — activation-aware start and joint refit, the lower error kept
 * (calibrate-nd.ts, calibrate-factors.ts), so it is never above the plain one. Methods without a
 * joint refit (spatial-nd, ghost) get null.
 */
import type { Conv2DNode, Graph } from '../models/ir.js';
import type { Candidate } from '../convert/candidates.js';
import type { LayerConversion } from '../convert/convert.js';
import type { NdOrder } from '../decompose/nd.js';
import { splice } from '../convert/splice.js';
import type { CentredMoments } from '../decompose/moments.js';
import { mulberry32 } from '../decompose/random.js';
import { preActivationGraph } from './calibrate.js';
import { gatherRows } from './calibrate-depthwise.js';
import { layerMoments, refitNdLayer } from './calibrate-nd.js';
import { isFactorMethod, refitFactorLayer } from './calibrate-factors.js';
import type { Engine } from './engine.js';
import type { Batch } from './tfjs-run.js';

export interface DataAwareError {
  /** ‖y − ŷ‖/‖y‖ on the sampled calibration pixels of the plain decomposition (its own bias). */
  plainRelError: number;
  /** The same for the data-aware variant: ≤ plainRelError. */
  relError: number;
  /** Which start the kept refit came from ('plain' also when no refit lowered the error). */
  start: 'plain' | 'whitened';
}

/** One layer's calibration samples: sampled output pixels per batch and the original outputs there. */
export interface LayerSamples {
  rows: Int32Array[];
  targets: Float64Array[];
  outHW: [number, number];
}

export interface DataAwareSetup {
  engine: Engine;
  /** The reference (BatchNorm-folded) network. */
  graph: Graph;
  inputs: Batch[];
  /** Block-coordinate rounds of the refit (default: the refits' own). */
  rounds?: number;
}

/**
 * The joint calibration's sample size: ~16 rows per patch feature condition the C·K covariance
 * (as `convert --calibrate` samples for joint refits), at least 8192 and at most 65536.
 */
const rowsFor = (conv: Conv2DNode) => Math.min(65536, Math.max(8192, 16 * (conv.kernel.shape[1] * conv.kernel.shape[2] * conv.kernel.shape[3] + 1)));

/** Every listed conv's sampled pre-activation outputs on the calibration images, from one pass per batch. */
export async function sampleLayerOutputs(s: DataAwareSetup, convs: Conv2DNode[], seed = 1): Promise<Map<string, LayerSamples>> {
  const names = convs.map((c) => c.name);
  const model = await s.engine.prepare(preActivationGraph(s.graph, new Set(names)), names);
  const rand = mulberry32(seed);
  const out = new Map<string, LayerSamples>(convs.map((c) => [c.name, { rows: [], targets: [], outHW: [0, 0] }]));
  try {
    for (const batch of s.inputs) {
      const acts = await model.run(batch);
      convs.forEach((conv, li) => {
        const a = acts[li];
        const nhwc = s.graph.layout === 'NHWC';
        const pixels = a.data.length / (nhwc ? a.shape[3] : a.shape[1]);
        const want = Math.min(pixels, Math.ceil(rowsFor(conv) / s.inputs.length));
        const rows = Int32Array.from({ length: want }, (_, r) => (want === pixels ? r : Math.floor(rand() * pixels)));
        const x = out.get(conv.name) as LayerSamples;
        x.outHW = nhwc ? [a.shape[1], a.shape[2]] : [a.shape[2], a.shape[3]];
        x.rows.push(rows);
        x.targets.push(gatherRows(a, s.graph.layout, rows));
      });
    }
  } finally {
    await model.dispose();
  }
  return out;
}

/** The layer's second moments on its samples (input patches of the original network). */
export function layerStatistics(s: DataAwareSetup, conv: Conv2DNode, samples: LayerSamples): Promise<CentredMoments> {
  return layerMoments({ engine: s.engine, graph: s.graph, conv, inputs: s.inputs, ...samples, feed: conv.inputs[0] });
}

/**
 * Plain and data-aware layer output error of one candidate (its replacement spliced for the conv);
 * null for methods without a joint refit, or when the statistics had to be kept per channel.
 */
export async function candidateDataAware(s: DataAwareSetup, x: { conv: Conv2DNode; samples: LayerSamples; moments: CentredMoments; candidate: Candidate; order: NdOrder }): Promise<DataAwareError | null> {
  const c = x.candidate;
  if (!c.replacement || !(c.method === 'nd' || isFactorMethod(c.method))) return null;
  // The refits read only these fields of a converted layer; the graph is the reference with this one candidate in place.
  const layer = {
    name: x.conv.name, method: c.method, order: c.order ?? x.order, form: c.form ?? 'split', rank: c.rank,
    replacedBy: c.replacement.nodes.map((n) => n.name), output: c.replacement.output,
  } as LayerConversion;
  const graph = splice(s.graph, new Map([[x.conv.name, c.replacement]]));
  const input = { engine: s.engine, graph, layer, conv: x.conv, inputs: s.inputs, ...x.samples, moments: x.moments, dataAware: true, rounds: s.rounds };
  const res = isFactorMethod(c.method) ? await refitFactorLayer({ ...input, method: c.method }) : await refitNdLayer(input);
  return res ? { plainRelError: res.before, relError: res.after, start: res.start } : null;
}
