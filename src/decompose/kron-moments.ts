/**
 * A Kronecker approximation Σx ≈ A ⊗ B of an input-patch covariance whose features split as
 * f = a·nb + b (Tucker-2: a = channel, b = tap; spatial: a = (channel, row), b = column), by the
 * two partial traces A[a,a′] = Σ_b Σx[(a,b),(a′,b)] and B[b,b′] = Σ_a Σx[(a,b),(a,b′)]. Exact when
 * Σx is a Kronecker product (up to one scale, which no whitening below depends on). It is what
 * makes the Tucker-2 and spatial whitened objectives closed form (docs/data-aware.md §6); the
 * refit then works on the whole Σx.
 */
import type { CentredMoments } from './moments.js';

export function partialTraces(m: Pick<CentredMoments, 'channels' | 'taps' | 'form' | 'cov'>, nb: number): { a: Float64Array; b: Float64Array; na: number } {
  const K = m.taps;
  const F = m.channels * K;
  if (F % nb !== 0 || K % nb !== 0) throw new Error(`partialTraces: ${nb} inner features do not divide ${K} taps`);
  const na = F / nb;
  // Per-channel blocks: cross-channel entries are absent (zero).
  const get = m.form === 'full'
    ? (f: number, g: number) => m.cov[f * F + g]
    : (f: number, g: number) => {
        const c = Math.floor(f / K);
        return c === Math.floor(g / K) ? m.cov[c * K * K + (f - c * K) * K + (g - c * K)] : 0;
      };
  const a = new Float64Array(na * na);
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < na; j++) {
      let s = 0;
      for (let q = 0; q < nb; q++) s += get(i * nb + q, j * nb + q);
      a[i * na + j] = s;
    }
  }
  const b = new Float64Array(nb * nb);
  for (let p = 0; p < na; p++) {
    for (let i = 0; i < nb; i++) for (let j = 0; j < nb; j++) b[i * nb + j] += get(p * nb + i, p * nb + j);
  }
  return { a, b, na };
}

/**
 * W̃[n, c, k] = Σ_{c′,k′} W[n, c′, k′] S_A[c′, c] S_B[k′, k] for a kernel [N, C, K]: the kernel seen
 * by whitened inputs under Σx ≈ A ⊗ B (S = the symmetric square roots). `sb` null whitens the
 * channels only (CP4, whose two tap modes stay separate).
 */
export function whitenKernelKron(kernel: Float32Array, dims: { N: number; C: number; K: number }, sa: Float64Array, sb: Float64Array | null): Float64Array {
  const { N, C, K } = dims;
  const wt = new Float64Array(N * C * K);
  const tmp = new Float64Array(C * K);
  for (let n = 0; n < N; n++) {
    tmp.fill(0);
    for (let c2 = 0; c2 < C; c2++) for (let k2 = 0; k2 < K; k2++) {
      const w = kernel[(n * C + c2) * K + k2];
      if (w === 0) continue;
      if (!sb) tmp[c2 * K + k2] += w;
      else for (let k = 0; k < K; k++) tmp[c2 * K + k] += w * sb[k2 * K + k];
    }
    for (let c2 = 0; c2 < C; c2++) for (let c = 0; c < C; c++) {
      const s = sa[c2 * C + c];
      if (s === 0) continue;
      for (let k = 0; k < K; k++) wt[(n * C + c) * K + k] += s * tmp[c2 * K + k];
    }
  }
  return wt;
}
