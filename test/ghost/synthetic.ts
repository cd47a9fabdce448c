/**
 * A conv whose odd output channels are, by construction, d×d depthwise-filtered copies of its even
 * ones (plus a bias), with a plain 'same'-padded conv to compute its outputs: the oracle the
 * Ghost fits must recover exactly.
 */
import { gaussianArray } from '../../src/decompose/random.js';
import type { Tensor } from '../../src/decompose/tensor.js';

export interface GhostConv {
  kernel: Tensor; // OIHW [N, C, 5, 5]
  bias: Float32Array;
  /** Channel g's source channel and 3×3 filter and bias β, for the ghost channels. */
  truth: Map<number, { primary: number; filter: Float32Array; beta: number }>;
}

/** N = 2·pairs channels; primaries have a 3×3 support centred in 5×5, ghosts = D ∗ primary (5×5). Channels shuffled. */
export function ghostConv(pairs: number, C: number, seed: number): GhostConv {
  const N = 2 * pairs;
  const k = 5;
  const order = Array.from({ length: N }, (_, i) => i);
  // A fixed shuffle: primary i sits at order[2i], its ghost at order[2i + 1].
  const r = gaussianArray(N, seed + 7);
  order.sort((a, b) => r[a] - r[b]);
  const kernel = new Float32Array(N * C * k * k);
  const bias = gaussianArray(N, seed + 3);
  const truth = new Map<number, { primary: number; filter: Float32Array; beta: number }>();
  for (let i = 0; i < pairs; i++) {
    const p = order[2 * i];
    const g = order[2 * i + 1];
    const w3 = gaussianArray(C * 9, seed + 11 + i);
    const filter = gaussianArray(9, seed + 101 + i);
    for (let c = 0; c < C; c++) {
      for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) kernel[((p * C + c) * k + u + 1) * k + v + 1] = w3[(c * 3 + u) * 3 + v];
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) kernel[((g * C + c) * k + a + u) * k + b + v] += filter[a * 3 + b] * w3[(c * 3 + u) * 3 + v];
    }
    let sum = 0;
    for (const f of filter) sum += f;
    const beta = 0.3 * (i + 1);
    bias[g] = sum * bias[p] + beta;
    truth.set(g, { primary: p, filter, beta });
  }
  return { kernel: { shape: [N, C, k, k], data: kernel }, bias, truth };
}

/** 'same'-padded stride-1 conv, NCHW, float64 accumulation. */
export function convSame(x: Float32Array, dims: { B: number; C: number; H: number; W: number }, kernel: Tensor, bias: Float32Array | null): Float32Array {
  const [N, C, kh, kw] = kernel.shape;
  const { B, H, W } = dims;
  const oh = (kh - 1) / 2;
  const ow = (kw - 1) / 2;
  const y = new Float32Array(B * N * H * W);
  for (let b = 0; b < B; b++)
    for (let n = 0; n < N; n++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          let s = bias ? bias[n] : 0;
          for (let c = 0; c < C; c++)
            for (let u = 0; u < kh; u++) {
              const ii = i + u - oh;
              if (ii < 0 || ii >= H) continue;
              for (let v = 0; v < kw; v++) {
                const jj = j + v - ow;
                if (jj < 0 || jj >= W) continue;
                s += kernel.data[((n * C + c) * kh + u) * kw + v] * x[((b * C + c) * H + ii) * W + jj];
              }
            }
          y[((b * N + n) * H + i) * W + j] = s;
        }
  return y;
}

/** Random images, zero within `margin` of the border (so a ghost's zero padding sees what the conv would). */
export function marginImages(dims: { B: number; C: number; H: number; W: number }, margin: number, seed: number): Float32Array {
  const { B, C, H, W } = dims;
  const x = gaussianArray(B * C * H * W, seed);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) if (i < margin || j < margin || i >= H - margin || j >= W - margin) x[((b * C + c) * H + i) * W + j] = 0;
  return x;
}
