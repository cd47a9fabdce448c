/**
 * Ghost modules without retraining (GhostNet's idea, Han et al. CVPR 2020, made training-free;
 * derivation in docs/ghost.md). A conv with N outputs becomes m "primary" output channels
 * computed by the conv itself and N − m "ghost" channels, each a d×d depthwise filter (+ bias)
 * applied to one primary's pre-activation output:
 *
 *   y_g ≈ D_g ⊛ y_p(g) + β_g        (⊛: 'same'-padded, stride-1 cross-correlation)
 *
 * Both fits reduce to the same quadratic statistics per (primary p, ghost g) pair — a Gram
 * G_p of p's features, a cross vector c_pg and g's energy — and share one selection:
 *   weights  the ghost's kernel ≈ the primary's kernel composed with D (a (k+d−1)² kernel at
 *            stride 1; the ghost's k×k kernel is embedded in its centre): linear least squares
 *            over D per pair; β = b_g − ΣD·b_p. Approximate: the composition is larger than k×k,
 *            and the depthwise conv reads zeros beyond the primary map's border.
 *   data     calibration outputs: least squares of y_g on the d×d patches of y_p (+ 1 for β).
 * Selection: m = ⌈N/s⌉ primaries, each with s − 1 ghost slots, minimising the summed residual
 * energy (= maximising the explained output energy): greedy facility location, then an exact
 * min-cost assignment of ghosts to slots and primary↔ghost swaps while they lower the cost.
 * Ghosts whose fit explains less than `minR2` of their variance become primaries (m grows).
 * Kernel layout: OIHW [N, C, kh, kw]; filters [slots, d, d]; tap f = i·d + j.
 */
import type { Tensor } from './tensor.js';
import { spdRowSolver } from './linalg.js';
import { minCostAssignment } from './assignment.js';
import { checkKernel } from './kernel64.js';

/** Quadratic statistics of every (primary p, ghost g) least-squares problem. */
export interface GhostStats {
  channels: number;
  /** Features per problem: d² taps, plus 1 (last) when a bias is fitted with them. */
  features: number;
  fitsBias: boolean;
  /** [p][q][q]: Gram of p's features. */
  gram: Float64Array;
  /** [p][g][q]: p's features against g's target. */
  cross: Float64Array;
  /** [g]: Σ target². */
  energy: Float64Array;
  /** [g]: what R² is relative to (centred energy for data, kernel energy for weights). */
  spread: Float64Array;
}

export type GhostFit = 'weights' | 'data';

export interface GhostOptions {
  /** s: N/s primaries; s = 1 keeps every channel primary (the conv itself). */
  ratio: number;
  /** d, odd. */
  kernelSize: number;
  /** Ghost channels whose fit explains less than this share of their variance stay primary (default 0). */
  minR2?: number;
  name?: string;
}

export interface GhostResult {
  ratio: number;
  kernelSize: number;
  /** Primaries with ghost slots, in their order in the rebuilt layer. */
  primaries: Int32Array;
  /** Primaries without ghosts (including promoted channels). */
  solo: Int32Array;
  /** [primaries.length × (s−1)]: slot (i, t) at i·(s−1) + t holds a channel, or −1 (empty). */
  ghosts: Int32Array;
  /** [slots, d, d] depthwise filters (zero for empty slots). */
  filters: Float32Array;
  /** [slots] ghost biases β. */
  biases: Float32Array;
  /** Per channel: the share of its variance its fit explains (1 for primaries). */
  r2: Float64Array;
  /** Ghosts moved to primaries because their fit explained less than minR2. */
  promoted: number;
  /** √(Σ ghost residual / Σ energy): the error the ghosts add, in the fit's own space. */
  relError: number;
}

function checkOptions(N: number, o: GhostOptions): void {
  const where = o.name ? `layer "${o.name}": ` : '';
  if (!Number.isInteger(o.ratio) || o.ratio < 1) throw new Error(`${where}ghost ratio ${o.ratio}: must be a positive integer (e.g. 2)`);
  if (o.ratio > N) throw new Error(`${where}ghost ratio ${o.ratio} exceeds the layer's ${N} output channels; use at most ${N}`);
  if (!Number.isInteger(o.kernelSize) || o.kernelSize < 1 || o.kernelSize % 2 === 0) throw new Error(`${where}ghost kernel ${o.kernelSize}: must be an odd positive integer (e.g. 3)`);
}

/** Geometry of the primary conv, for the weight-space composition. */
export interface ConvGeometry {
  strides: [number, number];
  dilations: [number, number];
}

/**
 * Weight-space statistics. Per axis: the ghost reads y_p at output offsets v − o (o = (d−1)/2),
 * y_p reads x at s·Y + dl·u, so the composed tap sits at t = s·v + dl·u of a kernel of extent
 * s(d−1) + dl(k−1) + 1, and the ghost's own tap u sits at t = dl·u + s·o.
 */
export function weightStats(kernel: Tensor, d: number, geo: ConvGeometry): GhostStats {
  const [N, C, kh, kw] = kernel.shape;
  const [sh, sw] = geo.strides;
  const [dh, dw] = geo.dilations;
  const o = (d - 1) / 2;
  const KH = sh * (d - 1) + dh * (kh - 1) + 1;
  const KW = sw * (d - 1) + dw * (kw - 1) + 1;
  const rowsA = C * KH * KW;
  const q = d * d;
  const w = kernel.data;
  // Each ghost target: its kernel embedded at the centre of the composed extent.
  const target = new Float64Array(N * rowsA);
  const energy = new Float64Array(N);
  for (let g = 0; g < N; g++) {
    for (let c = 0; c < C; c++) {
      for (let u = 0; u < kh; u++) {
        for (let v = 0; v < kw; v++) {
          const x = w[((g * C + c) * kh + u) * kw + v];
          target[g * rowsA + (c * KH + dh * u + sh * o) * KW + dw * v + sw * o] = x;
          energy[g] += x * x;
        }
      }
    }
  }
  const gram = new Float64Array(N * q * q);
  const cross = new Float64Array(N * N * q);
  const a = new Float64Array(rowsA * q);
  for (let p = 0; p < N; p++) {
    a.fill(0);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const f = i * d + j;
        for (let c = 0; c < C; c++) {
          for (let u = 0; u < kh; u++) {
            for (let v = 0; v < kw; v++) a[((c * KH + sh * i + dh * u) * KW + sw * j + dw * v) * q + f] += w[((p * C + c) * kh + u) * kw + v];
          }
        }
      }
    }
    const gp = gram.subarray(p * q * q, (p + 1) * q * q);
    for (let r = 0; r < rowsA; r++) {
      const row = a.subarray(r * q, (r + 1) * q);
      for (let f = 0; f < q; f++) {
        if (row[f] === 0) continue;
        for (let f2 = 0; f2 < q; f2++) gp[f * q + f2] += row[f] * row[f2];
        for (let g = 0; g < N; g++) {
          const t = target[g * rowsA + r];
          if (t !== 0) cross[(p * N + g) * q + f] += row[f] * t;
        }
      }
    }
  }
  return { channels: N, features: q, fitsBias: false, gram, cross, energy, spread: energy.slice() };
}

/** Activation maps of one layer's channels, batch included. */
export interface FeatureMaps {
  data: Float32Array;
  batch: number;
  channels: number;
  height: number;
  width: number;
  /** NHWC when true, NCHW otherwise. */
  channelsLast: boolean;
}

/**
 * The d×d neighbourhood of every channel at each position (flat b·H·W + y·W + x), zero outside
 * the map — what a 'same'-padded d×d depthwise conv reads: rows × channels × d².
 */
export function ghostPatches(maps: FeatureMaps, positions: Int32Array, d: number): Float64Array {
  const { channels: N, height: H, width: W } = maps;
  const o = (d - 1) / 2;
  const q = d * d;
  const out = new Float64Array(positions.length * N * q);
  for (let r = 0; r < positions.length; r++) {
    const pos = positions[r];
    const b = Math.floor(pos / (H * W));
    const y = Math.floor((pos - b * H * W) / W);
    const x = pos - b * H * W - y * W;
    for (let i = 0; i < d; i++) {
      const yy = y + i - o;
      if (yy < 0 || yy >= H) continue;
      for (let j = 0; j < d; j++) {
        const xx = x + j - o;
        if (xx < 0 || xx >= W) continue;
        const f = i * d + j;
        for (let c = 0; c < N; c++) {
          const idx = maps.channelsLast ? ((b * H + yy) * W + xx) * N + c : ((b * N + c) * H + yy) * W + xx;
          out[(r * N + c) * q + f] = maps.data[idx];
        }
      }
    }
  }
  return out;
}

/** Streaming data statistics: patches of the primary candidates' outputs against the targets. */
export class GhostDataStats {
  readonly channels: number;
  readonly taps: number;
  private readonly gram: Float64Array;
  private readonly cross: Float64Array;
  private readonly energy: Float64Array;
  private readonly sum: Float64Array;
  rows = 0;

  constructor(channels: number, d: number) {
    this.channels = channels;
    this.taps = d * d;
    const q = this.taps + 1;
    this.gram = new Float64Array(channels * q * q);
    this.cross = new Float64Array(channels * channels * q);
    this.energy = new Float64Array(channels);
    this.sum = new Float64Array(channels);
  }

  /** patches: rows × N × d² (ghostPatches); targets: rows × N. */
  add(patches: Float64Array, targets: Float64Array, rows: number): void {
    const N = this.channels;
    const K = this.taps;
    const q = K + 1;
    if (patches.length !== rows * N * K || targets.length !== rows * N) throw new Error(`ghost statistics: got ${patches.length}/${targets.length} values for ${rows} rows of ${N} channels`);
    const z = new Float64Array(q);
    for (let r = 0; r < rows; r++) {
      const y = targets.subarray(r * N, (r + 1) * N);
      for (let g = 0; g < N; g++) {
        this.energy[g] += y[g] * y[g];
        this.sum[g] += y[g];
      }
      for (let p = 0; p < N; p++) {
        z.set(patches.subarray((r * N + p) * K, (r * N + p + 1) * K));
        z[K] = 1;
        const gp = p * q * q;
        for (let f = 0; f < q; f++) {
          const zf = z[f];
          if (zf === 0) continue;
          for (let f2 = f; f2 < q; f2++) this.gram[gp + f * q + f2] += zf * z[f2];
        }
        const cp = p * N * q;
        for (let g = 0; g < N; g++) {
          const yg = y[g];
          if (yg === 0) continue;
          const base = cp + g * q;
          for (let f = 0; f < q; f++) this.cross[base + f] += z[f] * yg;
        }
      }
    }
    this.rows += rows;
  }

  stats(): GhostStats {
    const N = this.channels;
    const q = this.taps + 1;
    const gram = this.gram.slice();
    for (let p = 0; p < N; p++) for (let f = 0; f < q; f++) for (let f2 = 0; f2 < f; f2++) gram[p * q * q + f * q + f2] = gram[p * q * q + f2 * q + f];
    const spread = Float64Array.from(this.energy, (e, g) => Math.max(0, e - (this.sum[g] * this.sum[g]) / Math.max(this.rows, 1)));
    return { channels: N, features: q, fitsBias: true, gram, cross: this.cross.slice(), energy: this.energy.slice(), spread };
  }
}

/** Every pair's least-squares coefficients and residual energy (R[g·N + p]; R[p·N + p] = 0). */
function pairFits(s: GhostStats): { residual: Float64Array; coef: Float64Array } {
  const N = s.channels;
  const q = s.features;
  const residual = new Float64Array(N * N);
  const coef = new Float64Array(N * N * q);
  for (let p = 0; p < N; p++) {
    const g0 = s.gram.subarray(p * q * q, (p + 1) * q * q);
    const x = s.cross.slice(p * N * q, (p + 1) * N * q);
    // A tiny relative ridge only keeps flat or dead primaries solvable; it never shapes a fit.
    const solve = spdRowSolver(g0, q, 1e-9);
    if (solve) solve(x, N);
    else x.fill(0);
    for (let g = 0; g < N; g++) {
      const xg = x.subarray(g * q, (g + 1) * q);
      const cg = s.cross.subarray((p * N + g) * q, (p * N + g + 1) * q);
      let quad = 0;
      let lin = 0;
      for (let f = 0; f < q; f++) {
        lin += xg[f] * cg[f];
        let gx = 0;
        for (let f2 = 0; f2 < q; f2++) gx += g0[f * q + f2] * xg[f2];
        quad += xg[f] * gx;
      }
      // The least-squares optimum is never worse than D = 0 (residual = energy): clamp rounding.
      const r = s.energy[g] - 2 * lin + quad;
      residual[g * N + p] = g === p ? 0 : Number.isFinite(r) ? Math.min(s.energy[g], Math.max(0, r)) : s.energy[g];
    }
    coef.set(x, p * N * q);
  }
  return { residual, coef };
}

/** Min-cost assignment of the non-primaries to s − 1 slots per primary: total residual and each ghost's primary index. */
function assignGhosts(R: Float64Array, N: number, primaries: number[], slots: number): { cost: number; owner: Map<number, number> } {
  const isPrimary = new Set(primaries);
  const ghosts = Array.from({ length: N }, (_, g) => g).filter((g) => !isPrimary.has(g));
  const n = primaries.length * slots;
  const cost = new Float64Array(n * n);
  for (const [r, g] of ghosts.entries()) for (let col = 0; col < n; col++) cost[r * n + col] = R[g * N + primaries[Math.floor(col / slots)]];
  const pick = minCostAssignment(cost, n);
  const owner = new Map<number, number>();
  let total = 0;
  for (const [r, g] of ghosts.entries()) {
    const a = Math.floor(pick[r] / slots);
    owner.set(g, a);
    total += R[g * N + primaries[a]];
  }
  return { cost: total, owner };
}

/** Greedy facility location (capacities ignored), then exact assignments and role swaps while they help. */
function choosePrimaries(R: Float64Array, energy: Float64Array, N: number, s: number): { primaries: number[]; owner: Map<number, number> } {
  const m = Math.ceil(N / s);
  const slots = s - 1;
  const cur = Float64Array.from(energy);
  const chosen: number[] = [];
  const taken = new Uint8Array(N);
  for (let step = 0; step < m; step++) {
    let best = -1;
    let bestGain = -Infinity;
    for (let p = 0; p < N; p++) {
      if (taken[p]) continue;
      let gain = cur[p];
      for (let g = 0; g < N; g++) if (!taken[g] && g !== p) gain += Math.max(0, cur[g] - R[g * N + p]);
      if (gain > bestGain) {
        bestGain = gain;
        best = p;
      }
    }
    chosen.push(best);
    taken[best] = 1;
    cur[best] = 0;
    for (let g = 0; g < N; g++) cur[g] = Math.min(cur[g], R[g * N + best]);
  }
  let state = assignGhosts(R, N, chosen, slots);
  // Role swaps: a primary and one of its own ghosts trade places (the local move that fixes the
  // greedy's typical mistake of picking the filtered copy rather than its source).
  for (let pass = 0; pass < 4; pass++) {
    let improved = false;
    for (let a = 0; a < chosen.length; a++) {
      for (const [g, owner] of [...state.owner]) {
        if (owner !== a) continue;
        const trial = chosen.slice();
        trial[a] = g;
        const next = assignGhosts(R, N, trial, slots);
        if (next.cost < state.cost * (1 - 1e-9) - 1e-300) {
          chosen.splice(0, chosen.length, ...trial);
          state = next;
          improved = true;
          break;
        }
      }
    }
    if (!improved) break;
  }
  return { primaries: chosen, owner: state.owner };
}

/** Selection, assignment and per-ghost fits from the pair statistics. */
export function ghostFromStats(stats: GhostStats, opts: GhostOptions): GhostResult {
  const N = stats.channels;
  checkOptions(N, opts);
  if (!stats.energy.every(Number.isFinite)) throw new Error(`${opts.name ? `layer "${opts.name}": ` : ''}ghost statistics are not finite (NaN or Inf in the layer's outputs)`);
  const s = opts.ratio;
  const d = opts.kernelSize;
  const q = stats.features;
  const K = d * d;
  if (q !== K + (stats.fitsBias ? 1 : 0)) throw new Error(`ghost statistics have ${q} features; a ${d}×${d} filter needs ${K + (stats.fitsBias ? 1 : 0)}`);
  const r2 = new Float64Array(N).fill(1);
  if (s === 1) {
    return { ratio: 1, kernelSize: d, primaries: Int32Array.from({ length: N }, (_, i) => i), solo: new Int32Array(0), ghosts: new Int32Array(0), filters: new Float32Array(0), biases: new Float32Array(0), r2, promoted: 0, relError: 0 };
  }
  const { residual: R, coef } = pairFits(stats);
  const { primaries, owner } = choosePrimaries(R, stats.energy, N, s);
  const minR2 = opts.minR2 ?? 0;
  const ghostsOf: number[][] = primaries.map(() => []);
  const solo: number[] = [];
  let promoted = 0;
  for (const [g, a] of [...owner].sort((x, y) => x[0] - y[0])) {
    const res = R[g * N + primaries[a]];
    const spread = stats.spread[g];
    r2[g] = spread > 0 ? 1 - res / spread : res <= 1e-12 * Math.max(stats.energy[g], 1e-300) ? 1 : 0;
    if (r2[g] < minR2) {
      solo.push(g);
      promoted++;
      r2[g] = 1;
    } else {
      ghostsOf[a].push(g);
    }
  }
  const withGhosts = primaries.map((p, a) => ({ p, gs: ghostsOf[a] })).filter((x) => x.gs.length > 0);
  for (const [a, p] of primaries.entries()) if (ghostsOf[a].length === 0) solo.push(p);
  const slots = withGhosts.length * (s - 1);
  const ghosts = new Int32Array(slots).fill(-1);
  const filters = new Float32Array(slots * K);
  const biases = new Float32Array(slots);
  let res = 0;
  let total = 0;
  for (let g = 0; g < N; g++) total += stats.energy[g];
  withGhosts.forEach(({ p, gs }, i) => {
    gs.forEach((g, t) => {
      const slot = i * (s - 1) + t;
      ghosts[slot] = g;
      const x = coef.subarray((p * N + g) * q, (p * N + g + 1) * q);
      for (let f = 0; f < K; f++) filters[slot * K + f] = x[f];
      if (stats.fitsBias) biases[slot] = x[K];
      res += R[g * N + p];
    });
  });
  return {
    ratio: s, kernelSize: d, primaries: Int32Array.from(withGhosts.map((x) => x.p)), solo: Int32Array.from(solo.sort((x, y) => x - y)),
    ghosts, filters, biases, r2, promoted, relError: total > 0 ? Math.sqrt(res / total) : 0,
  };
}

/** The data-free fit: weight-space statistics, selection, and β = b_g − ΣD·b_p. */
export function ghostFromWeights(kernel: Tensor, bias: Float32Array | null, opts: GhostOptions & ConvGeometry): GhostResult {
  checkKernel(kernel, opts.name);
  checkOptions(kernel.shape[0], opts);
  const r = ghostFromStats(weightStats(kernel, opts.kernelSize, opts), opts);
  const K = opts.kernelSize ** 2;
  const s1 = opts.ratio - 1;
  r.primaries.forEach((p, i) => {
    for (let t = 0; t < s1; t++) {
      const slot = i * s1 + t;
      const g = r.ghosts[slot];
      if (g < 0) continue;
      let sum = 0;
      for (let f = 0; f < K; f++) sum += r.filters[slot * K + f];
      r.biases[slot] = (bias ? bias[g] : 0) - sum * (bias ? bias[p] : 0);
    }
  });
  return r;
}

export interface GhostCostInput {
  C: number;
  kh: number;
  kw: number;
  /** All primaries (with and without ghosts). */
  primaries: number;
  /** Depthwise output channels computed (filled slots and empty ones). */
  ghostSlots: number;
  kernelSize: number;
  hOut: number;
  wOut: number;
}

/** MACs per image: the primary conv plus the d×d depthwise ghosts (concatenation is free). */
export function ghostCost(x: GhostCostInput): number {
  return x.hOut * x.wOut * (x.primaries * x.C * x.kh * x.kw + x.ghostSlots * x.kernelSize * x.kernelSize);
}
