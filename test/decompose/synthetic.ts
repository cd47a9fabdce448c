/**
 * Seeded kernels and matrices of known structure for the ND / CP / Tucker-2 / spatial / VBMF tests,
 * and their reference spectra from ml-matrix (not a test file: vitest only collects *.test.ts).
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';

import type { NdOrder } from '../../src/decompose/nd.js';
import { gaussianArray, mulberry32 } from '../../src/decompose/random.js';
import type { Tensor } from '../../src/decompose/tensor.js';

/** rows×cols = (rows×r)(r×cols) + noise·N(0, 1), row-major float64: EVBMF's rank is r by construction. */
export function lowRankPlusNoise(rows: number, cols: number, r: number, noise: number, seed: number) {
  const u = gaussianArray(rows * r, seed);
  const v = gaussianArray(r * cols, seed + 1);
  const e = gaussianArray(rows * cols, seed + 2, noise);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let x = e[i * cols + j];
      for (let t = 0; t < r; t++) x += u[i * r + t] * v[t * cols + j];
      data[i * cols + j] = x;
    }
  }
  return { rows, cols, data };
}

/** The rows×K matrix ND factors for channel g: dw-pw per input channel (rows n), pw-dw per output (rows c). */
export function channelMatrix(kernel: Tensor, order: NdOrder, g: number): Matrix {
  const [N, C, kh, kw] = kernel.shape;
  const K = kh * kw;
  const rows = order === 'dw-pw' ? N : C;
  const m = new Matrix(rows, K);
  for (let r = 0; r < rows; r++) {
    const [n, c] = order === 'dw-pw' ? [r, g] : [g, r];
    for (let p = 0; p < K; p++) m.set(r, p, kernel.data[(n * C + c) * K + p]);
  }
  return m;
}

/** Singular values, descending, of a matrix or of row-major rows×cols data, from ml-matrix's SVD. */
export function spectrumOf(m: Matrix | { rows: number; cols: number; data: ArrayLike<number> }): number[] {
  const matrix = m instanceof Matrix ? m : Matrix.from1DArray(m.rows, m.cols, Array.from(m.data));
  return new SingularValueDecomposition(matrix, { autoTranspose: true }).diagonal;
}

/** Seeded symmetric positive definite n×n: G Gᵀ + n·I, G Gaussian. */
export function spdMatrix(n: number, seed: number): Matrix {
  const g = Matrix.from1DArray(n, n, Array.from(gaussianArray(n * n, seed)));
  return g.mmul(g.transpose()).add(Matrix.eye(n, n).mul(n));
}

export function randomKernel(shape: number[], seed: number, std = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: gaussianArray(n, seed, std) };
}

/** W[n, c, k] = Σ_r A[n, r]·B[c, r]·S[k, r]: CP rank ≤ R as a 3-way tensor. */
export function cp3Kernel(shape: [number, number, number, number], R: number, seed: number): Tensor {
  const [N, C, kh, kw] = shape;
  const K = kh * kw;
  const a = gaussianArray(N * R, seed);
  const b = gaussianArray(C * R, seed + 1);
  const s = gaussianArray(K * R, seed + 2);
  const data = new Float32Array(N * C * K);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < K; k++) {
        let x = 0;
        for (let r = 0; r < R; r++) x += a[n * R + r] * b[c * R + r] * s[k * R + r];
        data[(n * C + c) * K + k] = x;
      }
    }
  }
  return { shape, data };
}

/** W[n, c, i, j] = Σ_r A[n, r]·B[c, r]·V[i, r]·H[j, r]: 4-way CP rank ≤ R. */
export function cp4Kernel(shape: [number, number, number, number], R: number, seed: number): Tensor {
  const [N, C, kh, kw] = shape;
  const a = gaussianArray(N * R, seed);
  const b = gaussianArray(C * R, seed + 1);
  const v = gaussianArray(kh * R, seed + 2);
  const h = gaussianArray(kw * R, seed + 3);
  const data = new Float32Array(N * C * kh * kw);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          let x = 0;
          for (let r = 0; r < R; r++) x += a[n * R + r] * b[c * R + r] * v[i * R + r] * h[j * R + r];
          data[((n * C + c) * kh + i) * kw + j] = x;
        }
      }
    }
  }
  return { shape, data };
}

/**
 * W = G ×₁ U ×₂ V with a random core G [r2, r1, kh, kw] and random (not orthonormal) U [N, r2],
 * V [C, r1]: multilinear ranks (r2, r1) in the output and input modes.
 */
export function tuckerKernel(
  shape: [number, number, number, number],
  ranks: [number, number],
  seed: number,
): Tensor {
  const [N, C, kh, kw] = shape;
  const [r2, r1] = ranks;
  const K = kh * kw;
  const g = gaussianArray(r2 * r1 * K, seed);
  const u = gaussianArray(N * r2, seed + 1);
  const v = gaussianArray(C * r1, seed + 2);
  const data = new Float32Array(N * C * K);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < K; k++) {
        let x = 0;
        for (let a = 0; a < r2; a++) {
          for (let b = 0; b < r1; b++) x += u[n * r2 + a] * g[(a * r1 + b) * K + k] * v[c * r1 + b];
        }
        data[(n * C + c) * K + k] = x;
      }
    }
  }
  return { shape, data };
}

/** Adds seeded Gaussian noise of standard deviation std, in place; returns the kernel. */
export function addNoise(kernel: Tensor, std: number, seed: number): Tensor {
  const noise = gaussianArray(kernel.data.length, seed, std);
  for (let i = 0; i < noise.length; i++) kernel.data[i] += noise[i];
  return kernel;
}

/** Magnitudes log-uniform in [1e-8, 1e8] with random signs: the dynamic-range stress kernel. */
export function wideRangeKernel(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const rand = mulberry32(seed);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const magnitude = 10 ** (-8 + 16 * rand());
    data[i] = rand() < 0.5 ? -magnitude : magnitude;
  }
  return { shape, data };
}

export function allFinite(...tensors: Tensor[]): boolean {
  return tensors.every((t) => t.data.every((x) => Number.isFinite(x)));
}

export function bytesOf(t: Tensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}
