/**
 * The minimum of a quadratic E over x ∈ ℝⁿ from evaluations of E alone (not a test file): with
 * E(x) = c + qᵀx + xᵀHx read off at 0, ±eᵢ and eᵢ + eⱼ, x* = −H⁻¹q/2 by ml-matrix's SVD solve.
 * An oracle for least-squares steps that shares no code with their normal equations.
 */
import { Matrix, SVD } from 'ml-matrix';

export function quadraticMinimum(e: (x: Float64Array) => number, n: number): { x: Float64Array; value: number } {
  const at = (...idx: [number, number][]) => {
    const x = new Float64Array(n);
    for (const [i, v] of idx) x[i] += v;
    return e(x);
  };
  const c = at();
  const plus = Array.from({ length: n }, (_, i) => at([i, 1]));
  const minus = Array.from({ length: n }, (_, i) => at([i, -1]));
  const q = plus.map((p, i) => (p - minus[i]) / 2);
  const h = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    h.set(i, i, (plus[i] + minus[i]) / 2 - c);
    for (let j = 0; j < i; j++) {
      const v = (at([i, 1], [j, 1]) - plus[i] - plus[j] + c) / 2;
      h.set(i, j, v);
      h.set(j, i, v);
    }
  }
  const x = new SVD(h).solve(Matrix.columnVector(q)).mul(-0.5).to1DArray();
  return { x: Float64Array.from(x), value: c + q.reduce((s, qi, i) => s + (qi * x[i]) / 2, 0) };
}
