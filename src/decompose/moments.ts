/**
 * Second moments of a layer's input patches x (F = C·kh·kw features, feature c·K + k for input
 * channel c and tap k) and, optionally, of its target outputs y (N), streamed over sampled rows in
 * float64: Σ x xᵀ, Σ x yᵀ, Σ x, Σ y, Σ ‖y‖² and the row count. These are everything the
 * activation-aware objective E‖y − Ŵx − b‖² needs (Zhang et al., TPAMI 2016, §3; the bias is the
 * optimal one, so the moments are used centred).
 *
 * Σ x xᵀ is kept whole when F² doubles fit `maxFullBytes`, else as C diagonal K×K blocks (the
 * per-channel form; cross-channel terms are then dropped). Products are blocked float64 GEMMs
 * (linalg.ts): a rank-1 update per row, as the first calibration did, is ~2 orders slower.
 */
import { gemmNT, gramRows, transpose } from './linalg.js';

export interface MomentOptions {
  /** Input channels C and taps K per channel (F = C·K). */
  channels: number;
  taps: number;
  /** Target outputs N (0: input statistics only). */
  outputs?: number;
  /** Largest Σ x xᵀ kept whole, in bytes (default 512 MiB); above it, per-channel K×K blocks. */
  maxFullBytes?: number;
}

/** Centred moments per sample: what the least-squares objectives read. */
export interface CentredMoments {
  channels: number;
  taps: number;
  outputs: number;
  /** 'full': cov is F×F; 'blocks': cov holds C blocks of K×K (block c at c·K²). */
  form: 'full' | 'blocks';
  /** E[(x − μx)(x − μx)ᵀ]. */
  cov: Float64Array;
  /** E[(x − μx)(y − μy)ᵀ], F×N. */
  cross: Float64Array;
  meanX: Float64Array;
  meanY: Float64Array;
  /** E‖y − μy‖² and E‖y‖². */
  yVar: number;
  yEnergy: number;
  count: number;
}

export class MomentAccumulator {
  readonly channels: number;
  readonly taps: number;
  readonly features: number;
  readonly outputs: number;
  readonly form: 'full' | 'blocks';
  private readonly xx: Float64Array;
  private readonly xy: Float64Array;
  private readonly sx: Float64Array;
  private readonly sy: Float64Array;
  private yy = 0;
  count = 0;

  constructor(opts: MomentOptions) {
    this.channels = opts.channels;
    this.taps = opts.taps;
    this.features = opts.channels * opts.taps;
    this.outputs = opts.outputs ?? 0;
    const F = this.features;
    this.form = F * F * 8 <= (opts.maxFullBytes ?? 512 * 2 ** 20) ? 'full' : 'blocks';
    // The whole Σ x xᵀ is symmetric: only its upper triangle is kept, packed row by row (half the memory).
    this.xx = new Float64Array(this.form === 'full' ? (F * (F + 1)) / 2 : this.channels * this.taps * this.taps);
    this.xy = new Float64Array(F * this.outputs);
    this.sx = new Float64Array(F);
    this.sy = new Float64Array(this.outputs);
  }

  /** Bytes held by the accumulated statistics. */
  get bytes(): number {
    return (this.xx.length + this.xy.length + this.sx.length + this.sy.length) * 8;
  }

  /** Adds `rows` samples: x is rows×F, y rows×N (or null when outputs = 0), row-major. */
  add(x: Float64Array, y: Float64Array | null, rows: number): void {
    const F = this.features;
    const N = this.outputs;
    if (x.length !== rows * F || (N > 0 && (!y || y.length !== rows * N))) {
      throw new Error(`moments: got ${x.length}/${y?.length ?? 0} values for ${rows} rows of ${F} features → ${N} outputs`);
    }
    if (rows === 0) return;
    const xt = transpose(x, rows, F);
    if (this.form === 'full') {
      this.addUpper(gramRows(xt, F, rows));
    } else {
      const K = this.taps;
      for (let c = 0; c < this.channels; c++) {
        const g = gramRows(xt.subarray(c * K * rows, (c + 1) * K * rows), K, rows);
        const o = c * K * K;
        for (let i = 0; i < K * K; i++) this.xx[o + i] += g[i];
      }
    }
    for (let f = 0; f < F; f++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += xt[f * rows + r];
      this.sx[f] += s;
    }
    if (N > 0 && y) {
      const yt = transpose(y, rows, N);
      gemmNT(xt, yt, this.xy, { m: F, n: N, k: rows, accumulate: true });
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let r = 0; r < rows; r++) {
          const v = yt[n * rows + r];
          s += v;
          this.yy += v * v;
        }
        this.sy[n] += s;
      }
    }
    this.count += rows;
  }

  /**
   * Adds `rows` samples whose products xx = Σ x xᵀ (F×F) and xy = Σ x yᵀ (F×N) were computed
   * elsewhere (e.g. by onnxruntime); x and y give the sums. Full form only.
   */
  addProducts(p: { x: ArrayLike<number>; y: ArrayLike<number> | null; rows: number; xx: ArrayLike<number>; xy: ArrayLike<number> | null }): void {
    const F = this.features;
    const N = this.outputs;
    if (this.form !== 'full') throw new Error('moments: products can only be added to the full form');
    if (p.xx.length !== F * F || p.x.length !== p.rows * F || (N > 0 && (!p.xy || p.xy.length !== F * N || !p.y || p.y.length !== p.rows * N))) {
      throw new Error(`moments: products do not fit ${p.rows} rows of ${F} features → ${N} outputs`);
    }
    this.addUpper(p.xx);
    for (let r = 0; r < p.rows; r++) for (let f = 0; f < F; f++) this.sx[f] += p.x[r * F + f];
    if (N > 0 && p.xy && p.y) {
      for (let i = 0; i < F * N; i++) this.xy[i] += p.xy[i];
      for (let r = 0; r < p.rows; r++) {
        for (let n = 0; n < N; n++) {
          const v = p.y[r * N + n];
          this.sy[n] += v;
          this.yy += v * v;
        }
      }
    }
    this.count += p.rows;
  }

  /** Adds the upper triangle of a full F×F product into the packed store. */
  private addUpper(g: ArrayLike<number>): void {
    const F = this.features;
    for (let i = 0, u = 0; i < F; i++) {
      const row = i * F;
      for (let j = i; j < F; j++, u++) this.xx[u] += g[row + j];
    }
  }

  /** Per-sample centred moments (the objectives' inputs). */
  centred(): CentredMoments {
    const F = this.features;
    const N = this.outputs;
    const K = this.taps;
    const m = Math.max(this.count, 1);
    const meanX = this.sx.map((v) => v / m);
    const meanY = this.sy.map((v) => v / m);
    const cov = new Float64Array(this.form === 'full' ? F * F : this.xx.length);
    if (this.form === 'full') {
      for (let i = 0, u = 0; i < F; i++) {
        for (let j = i; j < F; j++, u++) {
          const v = this.xx[u] / m - meanX[i] * meanX[j];
          cov[i * F + j] = v;
          cov[j * F + i] = v;
        }
      }
    } else {
      for (let c = 0; c < this.channels; c++) {
        for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) cov[c * K * K + i * K + j] = this.xx[c * K * K + i * K + j] / m - meanX[c * K + i] * meanX[c * K + j];
      }
    }
    const cross = new Float64Array(F * N);
    for (let f = 0; f < F; f++) for (let n = 0; n < N; n++) cross[f * N + n] = this.xy[f * N + n] / m - meanX[f] * meanY[n];
    let my2 = 0;
    for (let n = 0; n < N; n++) my2 += meanY[n] ** 2;
    const yEnergy = this.yy / m;
    return { channels: this.channels, taps: K, outputs: N, form: this.form, cov, cross, meanX, meanY, yVar: Math.max(yEnergy - my2, 0), yEnergy, count: this.count };
  }
}

/** The K×K block of channels (c, c') of a full covariance, or of the block form when c = c'. */
export function covBlock(m: Pick<CentredMoments, 'cov' | 'form' | 'channels' | 'taps'>, c: number, c2: number): Float64Array {
  const K = m.taps;
  const out = new Float64Array(K * K);
  if (m.form === 'blocks') {
    if (c === c2) out.set(m.cov.subarray(c * K * K, (c + 1) * K * K));
    return out;
  }
  const F = m.channels * K;
  for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) out[i * K + j] = m.cov[(c * K + i) * F + c2 * K + j];
  return out;
}
