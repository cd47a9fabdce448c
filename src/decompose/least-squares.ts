/**
 * Streaming ridge least squares for refitting a linear layer from sampled activations
 * (Zhang et al. 2016's asymmetric reconstruction, closed form): accumulate ZᵀZ and ZᵀY over
 * batches, then solve (ZᵀZ + λI) W = ZᵀY + λ·W₀ — ridge toward the current weights W₀, so a layer
 * with too few samples stays where the decomposition put it. A bias is an extra all-ones feature.
 */
import { CholeskyDecomposition, Matrix, solve } from 'ml-matrix';

export class RidgeAccumulator {
  readonly features: number;
  readonly outputs: number;
  /** (F+1)×(F+1) Gram of [Z, 1], row-major, float64. */
  private readonly gram: Float64Array;
  /** (F+1)×N cross products [Z, 1]ᵀY. */
  private readonly cross: Float64Array;
  private yy = 0;
  rows = 0;

  constructor(features: number, outputs: number) {
    this.features = features;
    this.outputs = outputs;
    this.gram = new Float64Array((features + 1) ** 2);
    this.cross = new Float64Array((features + 1) * outputs);
  }

  /** Adds `rows` samples: z is rows×F, y is rows×N, both row-major. */
  add(z: Float64Array, y: Float64Array, rows: number): void {
    const F = this.features;
    const F1 = F + 1;
    const N = this.outputs;
    if (z.length !== rows * F || y.length !== rows * N) throw new Error(`least squares: got ${z.length}/${y.length} values for ${rows} rows of ${F} features → ${N} outputs`);
    const row = new Float64Array(F1);
    for (let r = 0; r < rows; r++) {
      row.set(z.subarray(r * F, r * F + F));
      row[F] = 1;
      for (let i = 0; i < F1; i++) {
        const zi = row[i];
        if (zi === 0) continue;
        const gi = i * F1;
        for (let j = i; j < F1; j++) this.gram[gi + j] += zi * row[j];
        const ci = i * N;
        for (let n = 0; n < N; n++) this.cross[ci + n] += zi * y[r * N + n];
      }
      for (let n = 0; n < N; n++) this.yy += y[r * N + n] ** 2;
    }
    this.rows += rows;
  }

  /**
   * Solves for W (F×N) and b (N). `w0`/`b0` are the current weights the ridge pulls toward;
   * `lambda` is relative to the mean diagonal of ZᵀZ (scale-free).
   */
  solve(w0: Float64Array, b0: Float64Array, lambda = 1e-3): { weight: Float64Array; bias: Float64Array } {
    const F = this.features;
    const F1 = F + 1;
    const N = this.outputs;
    // NaN statistics would make ml-matrix throw ("not symmetric") instead of giving a usable answer.
    if (!this.gram.every(Number.isFinite) || !this.cross.every(Number.isFinite)) return { weight: w0.slice(), bias: b0.slice() };
    const a = new Matrix(F1, F1);
    let trace = 0;
    for (let i = 0; i < F; i++) trace += this.gram[i * F1 + i];
    const ridge = (lambda * trace) / Math.max(F, 1) + 1e-12;
    for (let i = 0; i < F1; i++) {
      for (let j = i; j < F1; j++) {
        a.set(i, j, this.gram[i * F1 + j]);
        a.set(j, i, this.gram[i * F1 + j]);
      }
      // The bias is not shrunk: only weights are pulled toward W₀.
      if (i < F) a.set(i, i, a.get(i, i) + ridge);
    }
    const rhs = new Matrix(F1, N);
    for (let i = 0; i < F1; i++) for (let n = 0; n < N; n++) rhs.set(i, n, this.cross[i * N + n] + (i < F ? ridge * w0[i * N + n] : 0));
    const chol = new CholeskyDecomposition(a);
    const x = chol.isPositiveDefinite() ? chol.solve(rhs) : solve(a, rhs, true);
    const weight = new Float64Array(F * N);
    const bias = new Float64Array(N);
    for (let i = 0; i < F; i++) for (let n = 0; n < N; n++) weight[i * N + n] = x.get(i, n);
    for (let n = 0; n < N; n++) bias[n] = x.get(F, n);
    if (![...weight, ...bias].every(Number.isFinite)) return { weight: w0.slice(), bias: b0.slice() };
    return { weight, bias };
  }

  /** Bias-only correction: keep W₀, shift b so the mean residual is zero. */
  solveBias(w0: Float64Array, b0: Float64Array): { weight: Float64Array; bias: Float64Array } {
    const F = this.features;
    const F1 = F + 1;
    const N = this.outputs;
    const bias = new Float64Array(N);
    for (let n = 0; n < N; n++) {
      // mean(y) − mean(z)·w₀ — the sums are row F of the Gram / cross products.
      let zw = 0;
      for (let i = 0; i < F; i++) zw += this.gram[i * F1 + F] * w0[i * N + n];
      bias[n] = (this.cross[F * N + n] - zw) / Math.max(this.rows, 1);
    }
    void b0;
    return { weight: w0.slice(), bias };
  }

  /** ‖Y‖² over everything added. */
  outputEnergy(): number {
    return this.yy;
  }

  /** ‖ZW + b − Y‖ / ‖Y‖ over everything added, from the accumulated moments alone. */
  relError(w: Float64Array, b: Float64Array): number {
    const F = this.features;
    const F1 = F + 1;
    const N = this.outputs;
    // Σ_n x_nᵀ G x_n − 2 x_nᵀ c_n + ‖Y‖², x_n = [w[:, n]; b[n]]; G is stored as its upper triangle.
    const x = new Float64Array(F1 * N);
    x.set(w);
    x.set(b, F * N);
    let err = this.yy;
    const gx = new Float64Array(N);
    for (let i = 0; i < F1; i++) {
      gx.fill(0);
      for (let j = 0; j < F1; j++) {
        const g = i <= j ? this.gram[i * F1 + j] : this.gram[j * F1 + i];
        if (g === 0) continue;
        const xj = j * N;
        for (let n = 0; n < N; n++) gx[n] += g * x[xj + n];
      }
      const xi = i * N;
      for (let n = 0; n < N; n++) err += x[xi + n] * (gx[n] - 2 * this.cross[xi + n]);
    }
    return this.yy === 0 ? 0 : Math.sqrt(Math.max(err, 0) / this.yy);
  }
}
