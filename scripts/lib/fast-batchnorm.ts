/**
 * A BatchNormalization layer whose *training* pass is cheap on tfjs-backend-wasm; it saves as a
 * plain Keras `BatchNormalization` (same class name, config and weights), so the saved model
 * needs nothing from this file to load.
 *
 * Why: tfjs-layers trains BN through tf.moments + the generic FusedBatchNorm gradient, which on
 * wasm tiles the per-channel scale to the full activation shape and reduces over the leading
 * axes by transposing first. Profiled on a 6-conv VGG step (batch 64): Tile 670 ms, Sum 290 ms,
 * Mean 85 ms — more than all convolutions together. Here the per-channel sums are one
 * GEMV Xᵀ·1 each (see channelSum) and the input
 * gradient is the closed form dx = γ·rs·(dy − Σdy/N − x̂·Σ(dy·x̂)/N), written as dy·a + x·b + c
 * with per-channel a, b, c.
 *
 * Semantics are tfjs-layers' own: batch statistics with the biased variance, moving averages
 * updated with `momentum` (default 0.99), inference path untouched (inherited).
 */
import * as tf from '@tensorflow/tfjs';

interface LayerVariableLike {
  read(): tf.Tensor;
  write(v: tf.Tensor): void;
}

/** Fields of tfjs-layers' BatchNormalization that its .d.ts marks private. */
interface BatchNormState {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: LayerVariableLike;
  beta: LayerVariableLike;
  movingMean: LayerVariableLike;
  movingVariance: LayerVariableLike;
}

type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];
type LayerCtor = new (args: BatchNormArgs) => tf.layers.Layer;

const BatchNormalizationBase = Object.getPrototypeOf(tf.layers.batchNormalization({})).constructor as LayerCtor;

const onesColumns = new Map<number, tf.Tensor2D>();

/**
 * Per-channel sum of a [N, C] matrix as [C]: xᵀ·1 with a cached ones column. On wasm this GEMV
 * takes ~5 ms at 128×28×28×32 where tf.sum over axis 0 takes ~14 ms; the ones column must be
 * the matMul's second operand and stay the same tensor, because the wasm backend caches the
 * packed XNNPACK weights per tensor (a fresh ones row as first operand measured 3× slower).
 */
function channelSum(x2: tf.Tensor2D): tf.Tensor1D {
  const n = x2.shape[0];
  let ones = onesColumns.get(n);
  if (ones === undefined || ones.isDisposed) {
    ones = tf.keep(tf.ones([n, 1]) as tf.Tensor2D);
    onesColumns.set(n, ones);
  }
  return tf.reshape(tf.matMul(x2, ones, true, false), [x2.shape[1]]);
}

/** Training-mode batch norm over all axes but the last, with a hand-written gradient. */
function batchNormTrain(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const c = x.shape[x.rank - 1];
  const n = x.size / c;
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const op = tf.customGrad((...args: unknown[]) => {
    const [xin, g, b] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as (ts: tf.Tensor[]) => void;
    const x2 = tf.reshape(xin, [n, c]) as tf.Tensor2D;
    const m = tf.div(channelSum(x2), n) as tf.Tensor1D;
    // E[x²] − E[x]²: one pass instead of two; clamp the rounding that can make it slightly < 0.
    const v = tf.relu(tf.sub(tf.div(channelSum(tf.square(x2)), n), tf.square(m))) as tf.Tensor1D;
    const rs = tf.rsqrt(tf.add(v, epsilon)) as tf.Tensor1D;
    const a = tf.mul(g, rs) as tf.Tensor1D;
    const shift = tf.sub(b, tf.mul(m, a));
    const y = tf.add(tf.mul(xin, a), shift);
    // The engine runs a customGrad forward inside tidy(): keep the statistics for the
    // moving-average update; the caller disposes them.
    mean = tf.keep(m);
    variance = tf.keep(v);
    save([xin, m, rs, a]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ms, rss, as] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const dy2 = tf.reshape(dy, [n, c]) as tf.Tensor2D;
        const xs2 = tf.reshape(xs, [n, c]) as tf.Tensor2D;
        const sumDy = channelSum(dy2);
        const sumDyX = channelSum(tf.mul(dy2, xs2) as tf.Tensor2D);
        // dγ = Σ dy·x̂ = rs·(Σ dy·x − mean·Σ dy); dβ = Σ dy.
        const dGamma = tf.mul(rss, tf.sub(sumDyX, tf.mul(ms, sumDy))) as tf.Tensor1D;
        const coefX = tf.div(tf.mul(tf.neg(tf.mul(as, rss)), dGamma), n);
        const coefC = tf.sub(tf.neg(tf.mul(coefX, ms)), tf.div(tf.mul(as, sumDy), n));
        const dx = tf.add(tf.add(tf.mul(dy, as), tf.mul(xs, coefX)), coefC);
        return [dx, dGamma, sumDy];
      },
    };
  });
  const y = (op as unknown as (...ts: tf.Tensor[]) => tf.Tensor)(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
}

/**
 * Drop-in for tf.layers.batchNormalization({...}) in training scripts. Only the last-axis,
 * centred and scaled case is specialised (what our nets use); anything else uses the stock path.
 */
export class TrainableBatchNormalization extends BatchNormalizationBase {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as BatchNormState;
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const lastAxis = self.axis === -1 || self.axis === input.rank - 1;
    if (kwargs['training'] !== true || !lastAxis || !self.center || !self.scale) {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTrain(
        input,
        self.gamma.read() as tf.Tensor1D,
        self.beta.read() as tf.Tensor1D,
        self.epsilon,
      );
      const decay = 1 - self.momentum;
      for (const [variable, value] of [[self.movingMean, mean], [self.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const old = variable.read();
          variable.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
        });
      }
      tf.dispose([mean, variance]);
      return y;
    });
  }
}

export function trainableBatchNormalization(args: BatchNormArgs): tf.layers.Layer {
  return new TrainableBatchNormalization(args);
}
