/**
 * Rank selection from the singular values of a matrix:
 *
 *  - Empirical variational Bayesian matrix factorisation (EVBMF): Nakajima, Sugiyama, Babacan &
 *    Tomioka, "Global analytic solution of fully-observed variational Bayesian matrix
 *    factorization", JMLR 14 (2013). For an L×M matrix (L ≤ M, α = L/M) with unknown noise
 *    variance σ², the EVB estimate keeps exactly the singular values above
 *        γ̲ = σ·sqrt(M·(1 + τ̄)(1 + α/τ̄)),   τ̄ = 2.5129·sqrt(α)        (Theorem 13 / Eq. 33)
 *    and σ² minimises (Section 5.2, Eq. 37)
 *        Ω(σ²) = Σ_h ψ(γ_h²/(Mσ²)),  ψ(x) = ψ₀(x) + [x > x̄]·ψ₁(x),  x̄ = (1 + τ̄)(1 + α/τ̄),
 *        ψ₀(x) = x − log x,  ψ₁(x) = log(τ(x) + 1) + α·log(τ(x)/α + 1) − τ(x),
 *        τ(x) = ½(x − (1 + α) + sqrt((x − (1 + α))² − 4α)),
 *    over σ² ∈ [max(γ²_{ēH+1}/(M·x̄), mean_{h>ēH} γ_h²/M), Σγ²/(L·M)], ēH = ⌈L/(1+α)⌉ − 1.
 *    This is the rule Kim et al. (2016) use for Tucker-2 ranks, on the mode-1 and mode-2
 *    unfoldings. The same formulas as the widely used Python EVBMF (used for Tucker-2 ranks in
 *    PyTorch decomposition tutorials), with the full spectrum (H = L).
 *  - Energy: the smallest rank keeping a fraction τ of Σσ² (rank.ts's rule on one spectrum).
 */
import { gramRows, transpose } from './linalg.js';
import { checkKernel, describe, permuted } from './kernel64.js';
import { chooseRank } from './rank.js';
import { symEig } from './symeig.js';
import type { Tensor } from './tensor.js';

export interface VbmfResult {
  /** Number of singular values above the EVB threshold (may be 0: "only noise"). */
  rank: number;
  /** Estimated noise variance σ² per matrix entry. */
  sigma2: number;
  /** γ̲: singular values strictly above it are kept. */
  threshold: number;
}

export interface MatrixInput {
  rows: number;
  cols: number;
  /** Row-major, rows·cols values. */
  data: Float64Array | Float32Array;
}

/** EVBMF rank of a matrix (its singular values from the smaller side's Gram matrix). */
export function vbmfRank(matrix: MatrixInput): VbmfResult {
  const { rows, cols, data } = matrix;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new Error(`vbmfRank: matrix is ${rows}×${cols}; need positive integer dimensions`);
  }
  if (data.length !== rows * cols) {
    throw new Error(`vbmfRank: ${data.length} values for a ${rows}×${cols} matrix`);
  }
  let probe = 0;
  for (let i = 0; i < data.length; i++) probe += data[i] * 0;
  if (probe !== 0) throw new Error('vbmfRank: matrix has NaN or infinite values');
  const m = Float64Array.from(data);
  return evbmf(sidedSingularValues(m, rows, cols), sides(rows, cols));
}

/** EVBMF's L ≤ M of a rows×cols matrix. */
function sides(rows: number, cols: number): { L: number; M: number } {
  return { L: Math.min(rows, cols), M: Math.max(rows, cols) };
}

/** Singular values (descending, min(rows, cols) of them) via the smaller side's Gram matrix. */
function sidedSingularValues(m: Float64Array, rows: number, cols: number): Float64Array {
  if (rows > cols) return sidedSingularValues(transpose(m, rows, cols), cols, rows);
  const { values } = symEig(gramRows(m, rows, cols), rows, { count: 0 });
  return values.map((x) => Math.sqrt(Math.max(0, x)));
}

/**
 * EVBMF from all L singular values (descending) of an L×M matrix, L ≤ M (see the file comment).
 */
export function evbmf(sv: ArrayLike<number>, dims: { L: number; M: number }): VbmfResult {
  const { L, M } = dims;
  if (!(L >= 1 && M >= L) || sv.length !== L) {
    throw new Error(
      `evbmf: need L ≤ M and L singular values, got L = ${L}, M = ${M}, ${sv.length} values`,
    );
  }
  const alpha = L / M;
  const tauBar = 2.5129 * Math.sqrt(alpha);
  const xBar = (1 + tauBar) * (1 + alpha / tauBar);
  const s2 = Float64Array.from(sv, (s) => s * s);
  let total = 0;
  for (const x of s2) total += x;
  if (!(total > 0)) return { rank: 0, sigma2: 0, threshold: 0 };

  // Search interval for σ² (0-based: γ_{ēH+1} is s2[ēH]).
  const eH = Math.min(Math.ceil(L / (1 + alpha)) - 1, L - 1);
  let tail = 0;
  for (let h = eH; h < L; h++) tail += s2[h];
  const upper = total / (L * M);
  let lower = Math.max(s2[eH] / (M * xBar), tail / (L - eH) / M);
  // Exactly low-rank input has zero tail singular values and so a zero lower bound; the
  // singular values come from a float64 Gram matrix, which cannot resolve noise below ~1e-6 of
  // the rms singular value anyway, so σ² is floored there.
  lower = Math.min(Math.max(lower, upper * 1e-12), upper);

  // Ω(σ²) up to the constant −Σ log(γ_h²/M): each ψ₀ term is γ²/(Mσ²) + log σ², which stays finite
  // for zero singular values (exactly low-rank input).
  const objective = (sigma2: number): number => {
    let obj = 0;
    for (let h = 0; h < L; h++) {
      const x = s2[h] / (M * sigma2);
      obj += x + Math.log(sigma2);
      if (x > xBar) {
        const b = x - (1 + alpha);
        const tau = 0.5 * (b + Math.sqrt(Math.max(0, b * b - 4 * alpha)));
        obj += Math.log(tau + 1) + alpha * Math.log(tau / alpha + 1) - tau;
      }
    }
    return obj;
  };
  const sigma2 = minimizeLog(objective, lower, upper);
  const threshold = Math.sqrt(M * sigma2 * xBar);
  let rank = 0;
  while (rank < L && sv[rank] > threshold) rank++;
  return { rank, sigma2, threshold };
}

/**
 * Minimum of f on [lo, hi] (lo > 0): a log-spaced grid (Ω jumps where a singular value crosses
 * the threshold, so a grid guards against local minima), then golden-section search in the best
 * grid cell. Deterministic.
 */
function minimizeLog(f: (x: number) => number, lo: number, hi: number): number {
  if (!(hi > lo) || !(lo > 0)) return hi;
  const GRID = 400;
  const a = Math.log(lo);
  const b = Math.log(hi);
  let best = 0;
  let bestVal = Infinity;
  for (let i = 0; i <= GRID; i++) {
    const v = f(Math.exp(a + ((b - a) * i) / GRID));
    if (v < bestVal) {
      bestVal = v;
      best = i;
    }
  }
  let x0 = a + ((b - a) * Math.max(0, best - 1)) / GRID;
  let x1 = a + ((b - a) * Math.min(GRID, best + 1)) / GRID;
  const g = (Math.sqrt(5) - 1) / 2;
  let c = x1 - g * (x1 - x0);
  let d = x0 + g * (x1 - x0);
  let fc = f(Math.exp(c));
  let fd = f(Math.exp(d));
  for (let it = 0; it < 80; it++) {
    if (fc <= fd) {
      x1 = d;
      d = c;
      fd = fc;
      c = x1 - g * (x1 - x0);
      fc = f(Math.exp(c));
    } else {
      x0 = c;
      c = d;
      fc = fd;
      d = x0 + g * (x1 - x0);
      fd = f(Math.exp(d));
    }
  }
  const xm = Math.exp((x0 + x1) / 2);
  return f(xm) <= bestVal ? xm : Math.exp(a + ((b - a) * best) / GRID);
}

export type UnfoldingMode = 'out' | 'in';

/**
 * Singular values (descending, min(rows, cols) of them) of a kernel's unfolding: 'out' is the
 * mode-1 unfolding N × (C·kh·kw), 'in' the mode-2 unfolding C × (N·kh·kw).
 */
export function unfoldingSingularValues(
  kernel: Tensor,
  mode: UnfoldingMode,
  name?: string,
): Float64Array {
  const dims = checkKernel(kernel, name);
  const { N, C, K } = dims;
  // Rows of 'nkc' are the mode-1 rows (columns permuted, which leaves the Gram unchanged).
  const rows = mode === 'out' ? N : C;
  const cols = mode === 'out' ? C * K : N * K;
  const m = permuted(kernel, dims, mode === 'out' ? 'nkc' : 'ckn', 1);
  return sidedSingularValues(m, rows, cols);
}

/**
 * Tucker-2 ranks [R_out, R_in] by EVBMF on the mode-1 and mode-2 unfoldings (Kim et al. 2016).
 * A rank of 0 ("noise only") is raised to 1, the smallest Tucker-2 rank; the raw results are
 * returned alongside.
 */
export function tucker2VbmfRanks(
  kernel: Tensor,
  opts: { name?: string } = {},
): { ranks: [number, number]; out: VbmfResult; in: VbmfResult } {
  const dims = checkKernel(kernel, opts.name);
  const { N, C, K } = dims;
  const out = evbmf(unfoldingSingularValues(kernel, 'out', opts.name), sides(N, C * K));
  const inn = evbmf(unfoldingSingularValues(kernel, 'in', opts.name), sides(C, N * K));
  return { ranks: [Math.max(1, out.rank), Math.max(1, inn.rank)], out, in: inn };
}

/**
 * The smallest rank keeping a fraction `energy` (τ in (0, 1]) of Σσ² of one spectrum, e.g.
 * spatial()'s singularValues or unfoldingSingularValues(). maxRank defaults to the spectrum length.
 */
export function energyRank(
  singularValues: Float64Array,
  energy: number,
  opts: { maxRank?: number; name?: string } = {},
): number {
  return chooseRank([singularValues], {
    energy,
    maxRank: opts.maxRank ?? singularValues.length,
    what: describe(opts.name),
  });
}

/** Tucker-2 ranks [R_out, R_in] keeping a fraction `energy` of each unfolding's Σσ². */
export function tucker2EnergyRanks(
  kernel: Tensor,
  energy: number,
  opts: { name?: string } = {},
): [number, number] {
  const outSv = unfoldingSingularValues(kernel, 'out', opts.name);
  const inSv = unfoldingSingularValues(kernel, 'in', opts.name);
  const [N, C] = kernel.shape;
  return [
    energyRank(outSv, energy, { maxRank: N, name: opts.name }),
    energyRank(inSv, energy, { maxRank: C, name: opts.name }),
  ];
}
