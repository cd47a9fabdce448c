/**
 * The types every decomposition method shares: its settings, what it reports, the ranks that fix
 * its MACs, a budget/`compare` candidate, and the MethodEntry a method registers (methods.ts).
 * Nothing here imports a method, so the methods, their costs and the registry can all import it.
 */
import type { Conv2DNode, Layout } from '../models/ir.js';
import type { NdOrder } from '../decompose/nd.js';
import type { GhostFit } from '../decompose/ghost.js';
import type { RankSpec } from '../decompose/rank-rules.js';
import type { Replacement } from './splice.js';
import type { DepthwiseForm } from './nd-rewrite.js';

/** The registered methods (methods.ts REGISTRY has one entry per name). */
export type Method = 'nd' | 'cp' | 'cp4' | 'tucker2' | 'spatial' | 'spatial-nd' | 'ghost';

/** Ghost options (the ratio s is the method's rank: a plan's rank, else `ratio`). */
export interface GhostSettings {
  /** s (default 2). */
  ratio?: number;
  /** d (default 3). */
  kernelSize?: number;
  /** 'weights' (default): data-free; 'data': refit on calibration outputs (src/eval/calibrate-ghost.ts). */
  fit?: GhostFit;
  /** Ghosts whose fit explains less than this share of their variance stay primary (default 0). */
  minR2?: number;
}

/** What a Ghost conversion reports. */
export interface GhostDetails {
  ratio: number;
  kernelSize: number;
  fit: GhostFit;
  /** All primaries, those promoted from ghosts included. */
  primaries: number;
  promoted: number;
  /** Mean R² of the ghost channels' fits. */
  meanR2: number;
  /** The promotion threshold used. */
  minR2?: number;
  /** How the original channel order is restored: folded into the consumers, or kept (and why). */
  order?: string;
}

export interface MethodSettings {
  order: NdOrder;
  form: DepthwiseForm;
  layout: Layout;
  /** CP: ALS iterations at most; Tucker-2: HOOI iterations at most (library defaults when absent). */
  maxIterations?: number;
  /** Seed of CP's random restart (same seed → byte-identical factors). */
  seed?: number;
  ghost?: GhostSettings;
  /**
   * CP: start ALS from the slice model at every rank and stop it after this many seconds — what
   * the speed budget uses, whose error figures are that start's bound (candidates.ts).
   */
  cpSeconds?: number;
}

/** What a decomposition reports beyond ND's fields (absent where a method has no such thing). */
export interface MethodDetails {
  /** Tucker-2: [R_out, R_in]. */
  ranks?: [number, number];
  /** spatial-nd: T of the vertical and horizontal factors. */
  factorRanks?: [number, number];
  /** CP: 1 − kernelRelError of the float64 fit, as cp.ts reports it. */
  fit?: number;
  /** CP: ALS iterations; Tucker-2: HOOI iterations. */
  iterations?: number;
  converged?: boolean;
  /** CP: degeneracy detected and handled (see warnings). */
  degenerate?: boolean;
  warnings?: string[];
  /** How the rank was chosen: 'fixed', 'energy τ', 'vbmf', or 'budget'. */
  rankRule?: string;
  ghost?: GhostDetails;
  /** Set when a requested rank exceeded this layer's maximum and was capped to it, e.g. "T 4 → 3". */
  rankCapped?: string;
}

export interface DecomposedLayer {
  replacement: Replacement;
  rank: number;
  maxRank: number;
  /** ND: channel-averaged retained energy; other methods: 1 − kernelRelError² (‖Ŵ‖²/‖W‖² for orthogonal fits). */
  retainedEnergy: number;
  kernelRelError: number;
  /** ND: per channel; spatial: the reshape's spectrum; Tucker-2: the two unfoldings' (out, in); CP: none. */
  singularValues: number[][];
  details: MethodDetails;
}

/** The ranks that fix a replacement's shape. */
export interface MethodRanks {
  /** ND: T; CP: R; spatial, spatial-nd: K; Tucker-2: R_out. */
  rank: number;
  /** Tucker-2: [R_out, R_in]. */
  ranks?: [number, number];
  /** spatial-nd: T of the vertical and of the horizontal factor's ND. */
  factorRanks?: [number, number];
  /** ND and spatial-nd ordering. */
  order?: NdOrder;
  /** Ghost (rank = s): primaries after promotion, depthwise channels, d. Default ⌈N/s⌉, ⌈N/s⌉·(s−1), 3. */
  primaries?: number;
  ghostSlots?: number;
  ghostKernel?: number;
}

export interface PlannedLayer {
  method: Method;
  ranks: MethodRanks;
  rule: string;
  decompose(): DecomposedLayer;
}

export interface LayerGeometry {
  hIn: number;
  wIn: number;
  hOut: number;
  wOut: number;
}

export interface Candidate {
  method: Method | 'keep';
  /** ND T, CP R, spatial K, Tucker-2 R_out (0 for keep). */
  rank: number;
  tuckerRanks?: [number, number];
  factorRank?: number;
  /** ND: ordering and depthwise layout of this realisation (same MACs, different speed). */
  order?: NdOrder;
  form?: DepthwiseForm;
  macs: number;
  /** kernelRelError² (0 for keep). */
  error: number;
  /** 'bound': an upper bound on the error (Tucker-2's HOSVD bound). */
  errorKind: 'exact' | 'bound';
  /** Measured latency of the candidate's layers (budget --by latency). */
  ms?: number;
  /** Its measured speedup over the regular conv with the interval (budget --by latency). */
  speedup?: { ratio: number; low: number; high: number };
  /** With CandidateOptions.realize: the candidate's layers. */
  replacement?: Replacement;
  /** Ghost: primaries after promotion and depthwise channels (fix its MACs), and which fit. */
  ghostPrimaries?: number;
  ghostSlots?: number;
  ghostFit?: 'weights' | 'data';
}

export interface CandidateOptions {
  /** Default ['nd']. */
  methods?: Method[];
  order?: NdOrder;
  /** ND orderings to offer (default [order]): pw-dw is another approximation at the same T. */
  orders?: NdOrder[];
  /** ND depthwise layouts to offer for T > 1 (default: none named, the run's --form). */
  forms?: DepthwiseForm[];
  /** Grid points per method and layer for the methods with many ranks (spatial, Tucker-2: 48; CP and spatial-nd per T: a third, at least 4). */
  gridSize?: number;
  /** MAC reductions (e.g. [2, 3, 4]) at which every method also gets its largest rank reaching them. */
  anchors?: number[];
  /** ALS iterations per CP candidate (default 25: CP's SVD start is already a good model). */
  cpIterations?: number;
  /** Progress callback (CP candidates on big layers take seconds each). */
  onLayer?: (name: string, index: number, total: number) => void;
  /**
   * Build every candidate's replacement and report its exact error (Tucker-2 then runs HOOI per
   * grid point instead of using the bound): what `compare` needs to run candidates on inputs.
   */
  realize?: Omit<MethodSettings, 'order'>;
  /** Ghost: d and the minimum R² (the ratio s is the candidate's rank). */
  ghost?: GhostSettings;
}

/** What a method's candidate generator is given for one layer (candidates.ts layerCandidates). */
export interface CandidateContext {
  method: Method;
  conv: Conv2DNode;
  geometry: LayerGeometry;
  /** The conv's MACs at this geometry: candidates must cost fewer. */
  before: number;
  opts: CandidateOptions;
  /** The run's ND ordering. */
  order: NdOrder;
  /** Grid points per method (CandidateOptions.gridSize, default 48). */
  grid: number;
  /** A grid of n ranks in 1..hi plus the largest rank within each anchor reduction, ascending. */
  ranks(hi: number, n: number, macsAt: (r: number) => number): number[];
}

/** One capped fixed rank: `asked` above `max` becomes `max`, and the cap is noted as "label asked → max". */
export type CapRank = (label: string, asked: number | undefined, max: number) => number | undefined;

/**
 * Everything the converter, the speed budget, `compare` and the reports need from a method
 * (methods.ts REGISTRY holds one per Method; docs/adding-a-method.md).
 */
export interface MethodEntry {
  /** What the method builds, as `--method`'s help lists it. */
  summary: string;
  /**
   * A fixed rank spec with ranks above this layer's maximum capped (via `cap`, which notes each
   * cap); other notes about the spec go to `notes`. Absent: nothing to cap.
   */
  capFixed?(shape: readonly number[], spec: RankSpec, ctx: { order: NdOrder; cap: CapRank; notes: string[] }): RankSpec;
  /** Resolve the layer's rank (cheap) and return the fit, to run once the MACs say it pays. */
  plan(conv: Conv2DNode, spec: RankSpec, s: MethodSettings, rule: string): PlannedLayer;
  /** MACs of the replacement of a conv of kernel shape [N, C, kh, kw] at this geometry. */
  macs(shape: readonly number[], r: MethodRanks, g: LayerGeometry): number;
  /** The speed budget's and `compare`'s candidates for one layer (profitable ones only). */
  candidates(ctx: CandidateContext): Candidate[];
  /** Rank as the convert log shows it, e.g. "T = 2". */
  rankLabel(r: { rank: number; ranks?: [number, number]; factorRanks?: [number, number] }): string;
  /** A candidate's rank as `compare` labels its point, e.g. "T=2". */
  pointLabel(c: Candidate): string;
  /** Also a candidate for 1×1 convs (only the spatial method's low-rank pair is). */
  pointwise?: boolean;
}
