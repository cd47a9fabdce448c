/**
 * Every decomposition method behind one interface, MethodEntry (method-types.ts): resolve the
 * layer's rank (cheap: fixed, energy or VBMF — decompose/rank-rules.ts), which fixes its MACs so
 * unprofitable layers can be skipped before any expensive fit, then decompose and build the
 * stock-layer replacement; plus its MACs, its budget/`compare` candidates and its labels.
 * Adding a method: docs/adding-a-method.md.
 *
 *   nd          network decoupling (methods/nd.ts)                  rank T per channel
 *   cp          CP of N×C×(k·k): 1×1 → depthwise k×k → 1×1          rank R
 *   cp4         CP of N×C×k×k: 1×1 → dw k×1 → dw 1×k → 1×1          rank R (methods/cp.ts)
 *   tucker2     1×1 → k×k core → 1×1                                ranks [R_out, R_in]
 *   spatial     k×1 conv → 1×k conv                                 rank K
 *   spatial-nd  spatial, then ND on each factor                     rank K, factor rank T (methods/spatial.ts)
 *   ghost       primary conv → d×d depthwise ghosts → concat         ratio s (methods/ghost.ts)
 */
import type { Conv2DNode } from '../models/ir.js';
import type { NdOrder } from '../decompose/nd.js';
import { ruleLabel, type RankSpec } from '../decompose/rank-rules.js';
import type { CapRank, Method, MethodEntry, MethodSettings, PlannedLayer } from './method-types.js';
import { nd } from './methods/nd.js';
import { cp, cp4Method } from './methods/cp.js';
import { tucker2 } from './methods/tucker2.js';
import { spatial, spatialNd } from './methods/spatial.js';
import { ghost } from './methods/ghost.js';

export type { DecomposedLayer, GhostDetails, GhostSettings, Method, MethodDetails, MethodSettings, PlannedLayer } from './method-types.js';
export { decoupleFactors } from './methods/spatial.js';

/** The registry: one entry per method, in the order the CLI lists them. */
export const REGISTRY: Readonly<Record<Method, MethodEntry>> = {
  nd,
  cp,
  cp4: cp4Method,
  tucker2,
  spatial,
  'spatial-nd': spatialNd,
  ghost,
};

export const METHODS: readonly Method[] = Object.keys(REGISTRY) as Method[];

/** The method's entry; a name outside the registry fails naming the choices. */
export function methodEntry(method: Method): MethodEntry {
  const entry = Object.hasOwn(REGISTRY, method) ? REGISTRY[method] : undefined;
  if (!entry) throw new Error(`method "${String(method)}" is not available; choose one of ${METHODS.join(', ')}`);
  return entry;
}

/** Resolves the rank of `conv` for `method`: a fixed rank above the layer's maximum is capped (capRanks), other bad ranks throw naming the layer. */
export function planLayer(conv: Conv2DNode, method: Method, spec: RankSpec, s: MethodSettings): PlannedLayer {
  const entry = methodEntry(method);
  const capped = capRanks(conv, method, spec, s.order);
  const planned = entry.plan(conv, capped.spec, s, ruleLabel(capped.spec));
  if (!capped.note) return planned;
  return { ...planned, decompose: () => { const d = planned.decompose(); return { ...d, details: { ...d.details, rankCapped: capped.note } }; } };
}

/**
 * One --rank (or --tucker-ranks, --factor-rank) for a network of mixed layers: a fixed rank above
 * a layer's maximum is capped to it (where that layer is already exact), and the cap is reported.
 */
export function capRanks(conv: Conv2DNode, method: Method, spec: RankSpec, order: NdOrder): { spec: RankSpec; note?: string } {
  const notes: string[] = [];
  const cap: CapRank = (label, asked, max) => {
    if (asked === undefined || !Number.isInteger(asked) || asked <= max) return asked;
    notes.push(`${label} ${asked} → ${max}`);
    return max;
  };
  const fixed = spec.energy === undefined && spec.rankRule === undefined;
  const capFixed = methodEntry(method).capFixed;
  const out = fixed && capFixed ? capFixed(conv.kernel.shape, spec, { order, cap, notes }) : { ...spec };
  return notes.length ? { spec: out, note: notes.join(', ') } : { spec: out };
}
