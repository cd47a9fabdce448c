/**
 * Seeded randomness for tests and benches: same seed → same bytes (docs/design.md#seeds).
 * mulberry32 is tiny, fast and good enough to draw test kernels; it is not for cryptography.
 */

/** Uniform generator on [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` standard-normal samples (Box–Muller on mulberry32), scaled by `std`, as float32. */
export function gaussianArray(n: number, seed: number, std = 1): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    // 1 − u keeps the log argument in (0, 1], so no -Infinity.
    const r = Math.sqrt(-2 * Math.log(1 - rand())) * std;
    const phi = 2 * Math.PI * rand();
    out[i] = r * Math.cos(phi);
    if (i + 1 < n) out[i + 1] = r * Math.sin(phi);
  }
  return out;
}
