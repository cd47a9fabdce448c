/**
 * Minimum-cost perfect assignment of an n×n cost matrix (Kuhn–Munkres with potentials, O(n³)).
 * Hand-written: none of the project's dependencies has one, and the Ghost method needs it for
 * matrices of at most a few hundred rows (ghost channels × primary slots), where O(n³) is fast.
 */

/** For each row, the column assigned to it; the sum of cost[row][col] is minimal. */
export function minCostAssignment(cost: Float64Array, n: number): Int32Array {
  if (cost.length !== n * n) throw new Error(`assignment: ${cost.length} costs for a ${n}×${n} matrix`);
  // A NaN or infinite cost would stall the augmenting search: refuse it.
  if (!cost.every(Number.isFinite)) throw new Error('assignment: every cost must be finite');
  const INF = Number.POSITIVE_INFINITY;
  // 1-based potentials u (rows), v (columns); p[j] = row matched to column j (0 = none).
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  const minv = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  const rowToCol = new Int32Array(n);
  for (let j = 1; j <= n; j++) if (p[j] > 0) rowToCol[p[j] - 1] = j - 1;
  return rowToCol;
}
