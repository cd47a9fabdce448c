/**
 * The building blocks every zoo architecture is written with: stock tfjs layers only, so a built
 * model saves as a plain Keras LayersModel that loads with `@tensorflow/tfjs` alone and reads into
 * the IR through the same path as any user model.
 *
 * Every weight is drawn from a seeded initializer (seed = the model's seed and the layer's creation
 * index), so the same options give the same bytes.
 */
import * as tf from '@tensorflow/tfjs';

export type Sym = tf.SymbolicTensor;
type Initializer = ReturnType<typeof tf.initializers.heNormal>;

/**
 * 'same' is TF's rule (extra pad at the bottom/right), which the TF-trained originals (MobileNets,
 * EfficientNet) use; 'symmetric' is PyTorch's k//2 on every side (ResNet, GhostNet), written as
 * ZeroPadding2D + 'valid' when the stride makes the two differ.
 */
export type Pad = 'same' | 'valid' | 'symmetric';

export type Act = 'linear' | 'relu' | 'relu6' | 'swish' | 'sigmoid' | 'hswish' | 'hsigmoid';

export interface ConvSpec {
  filters: number;
  kernel: number;
  strides?: number;
  padding?: Pad;
  bias?: boolean;
  /** Fused into the conv when the conv has no BN after it ('relu', 'swish', 'sigmoid'…). */
  activation?: 'linear' | 'relu' | 'swish' | 'sigmoid';
}

export interface DepthwiseSpec {
  kernel: number;
  strides?: number;
  padding?: Pad;
  bias?: boolean;
}

/** BatchNormalization epsilon of the original implementation (Keras 1e-3, PyTorch 1e-5). */
export interface BuilderOptions {
  seed: number;
  bnEpsilon: number;
}

/** Makes a seeded, stock-layer network one call at a time. */
export class Builder {
  private count = 0;
  constructor(private readonly opts: BuilderOptions) {}

  /** A fresh seed per initializer: tfjs reuses the same stream for the same seed. */
  private nextSeed(): number {
    this.count += 1;
    return this.opts.seed * 100_003 + this.count;
  }

  /** He-normal keeps activations at unit scale through ReLU stacks, so random-weight outputs stay finite. */
  private heNormal(): Initializer {
    return tf.initializers.heNormal({ seed: this.nextSeed() });
  }

  private uniform(lo: number, hi: number): Initializer {
    return tf.initializers.randomUniform({ minval: lo, maxval: hi, seed: this.nextSeed() });
  }

  private padFor(x: Sym, name: string, kernel: number, strides: number, padding: Pad): { x: Sym; padding: 'same' | 'valid' } {
    if (padding !== 'symmetric') return { x, padding };
    if (strides === 1 && kernel % 2 === 1) return { x, padding: 'same' };
    const p = Math.floor(kernel / 2);
    if (p === 0) return { x, padding: 'valid' };
    return { x: tf.layers.zeroPadding2d({ padding: [[p, p], [p, p]], name: `${name}_pad` }).apply(x) as Sym, padding: 'valid' };
  }

  conv(x: Sym, name: string, s: ConvSpec): Sym {
    const strides = s.strides ?? 1;
    const p = this.padFor(x, name, s.kernel, strides, s.padding ?? 'same');
    const bias = s.bias ?? false;
    return tf.layers.conv2d({
      name,
      filters: s.filters,
      kernelSize: s.kernel,
      strides,
      padding: p.padding,
      useBias: bias,
      activation: s.activation ?? 'linear',
      kernelInitializer: this.heNormal(),
      biasInitializer: bias ? this.uniform(-0.1, 0.1) : undefined,
    }).apply(p.x) as Sym;
  }

  depthwise(x: Sym, name: string, s: DepthwiseSpec): Sym {
    const strides = s.strides ?? 1;
    const p = this.padFor(x, name, s.kernel, strides, s.padding ?? 'same');
    const bias = s.bias ?? false;
    return tf.layers.depthwiseConv2d({
      name,
      kernelSize: s.kernel,
      strides,
      padding: p.padding,
      useBias: bias,
      depthwiseInitializer: this.heNormal(),
      biasInitializer: bias ? this.uniform(-0.1, 0.1) : undefined,
    }).apply(p.x) as Sym;
  }

  /**
   * Random but plausible statistics (not tfjs' 1/0/0/1 defaults, which make BN an identity and
   * would hide a wrongly exported axis or epsilon).
   */
  bn(x: Sym, name: string): Sym {
    return tf.layers.batchNormalization({
      name,
      axis: -1,
      epsilon: this.opts.bnEpsilon,
      gammaInitializer: this.uniform(0.5, 1.5),
      betaInitializer: this.uniform(-0.2, 0.2),
      movingMeanInitializer: this.uniform(-0.2, 0.2),
      movingVarianceInitializer: this.uniform(0.5, 1.5),
    }).apply(x) as Sym;
  }

  dense(x: Sym, name: string, units: number, activation: 'linear' | 'relu' | 'softmax' = 'linear'): Sym {
    return tf.layers.dense({
      name,
      units,
      activation,
      kernelInitializer: tf.initializers.glorotUniform({ seed: this.nextSeed() }),
      biasInitializer: this.uniform(-0.1, 0.1),
    }).apply(x) as Sym;
  }

  /**
   * (x + 3)/6 per channel, the inside of relu6(x + 3)/6. tfjs-layers has no Lambda and the IR reader
   * no Rescaling, so the affine is a frozen BatchNormalization without γ/β whose statistics are
   * constants: mean −3, variance 36 − ε, so (x − mean)/√(var + ε) = (x + 3)/6 (36 − ε + ε rounds to
   * exactly 36 in float32). A BN, not a 1×1 depthwise conv, because that is what it computes: an
   * elementwise affine the MAC convention counts as 0, and no learned parameter (trainable: false,
   * statistics only), so published MAC/parameter figures stay comparable.
   */
  private plus3Over6(x: Sym, name: string): Sym {
    const eps = 1e-3;
    return tf.layers.batchNormalization({
      name,
      axis: -1,
      epsilon: eps,
      center: false,
      scale: false,
      trainable: false,
      movingMeanInitializer: tf.initializers.constant({ value: -3 }),
      movingVarianceInitializer: tf.initializers.constant({ value: 36 - eps }),
    }).apply(x) as Sym;
  }

  /** MobileNetV3's hard sigmoid relu6(x + 3)/6 = clip(x/6 + ½, 0, 1), exactly (tfjs' hardSigmoid is Keras 2's 0.2x + ½). */
  hardSigmoid(x: Sym, name: string): Sym {
    const lin = this.plus3Over6(x, `${name}_affine`);
    return tf.layers.reLU({ name, maxValue: 1 }).apply(lin) as Sym;
  }

  /** h-swish(x) = x · relu6(x + 3)/6 (Howard et al. 2019, eq. 2). */
  hardSwish(x: Sym, name: string): Sym {
    const gate = this.hardSigmoid(x, `${name}_gate`);
    return tf.layers.multiply({ name }).apply([x, gate]) as Sym;
  }

  act(x: Sym, name: string, kind: Act): Sym {
    switch (kind) {
      case 'linear':
        return x;
      case 'relu':
        return tf.layers.reLU({ name }).apply(x) as Sym;
      case 'relu6':
        return tf.layers.reLU({ name, maxValue: 6 }).apply(x) as Sym;
      case 'hswish':
        return this.hardSwish(x, name);
      case 'hsigmoid':
        return this.hardSigmoid(x, name);
      case 'swish':
      case 'sigmoid':
        return tf.layers.activation({ name, activation: kind }).apply(x) as Sym;
    }
  }

  /** conv → BN → activation, the unit every architecture here is made of. */
  convBnAct(x: Sym, name: string, s: Omit<ConvSpec, 'bias' | 'activation'>, act: Act): Sym {
    const y = this.bn(this.conv(x, name, s), `${name}_bn`);
    return this.act(y, `${name}_${act}`, act);
  }

  dwBnAct(x: Sym, name: string, s: Omit<DepthwiseSpec, 'bias'>, act: Act): Sym {
    const y = this.bn(this.depthwise(x, name, s), `${name}_bn`);
    return this.act(y, `${name}_${act}`, act);
  }

  /**
   * Squeeze-and-excitation (Hu et al. 2018) as MobileNetV3, EfficientNet and GhostNet write it:
   * global pool → 1×1 conv (reduce, with bias) → act → 1×1 conv (expand, with bias) → gate → ×x.
   * tfjs' GlobalAveragePooling2D has no keepdims, hence the Reshape back to 1×1×C.
   */
  squeezeExcite(x: Sym, name: string, o: { channels: number; reduced: number; act: 'relu' | 'swish'; gate: 'hsigmoid' | 'sigmoid' }): Sym {
    let s = tf.layers.globalAveragePooling2d({ name: `${name}_squeeze` }).apply(x) as Sym;
    s = tf.layers.reshape({ name: `${name}_reshape`, targetShape: [1, 1, o.channels] }).apply(s) as Sym;
    s = this.conv(s, `${name}_reduce`, { filters: o.reduced, kernel: 1, bias: true, activation: o.act });
    if (o.gate === 'sigmoid') {
      s = this.conv(s, `${name}_expand`, { filters: o.channels, kernel: 1, bias: true, activation: 'sigmoid' });
    } else {
      s = this.hardSigmoid(this.conv(s, `${name}_expand`, { filters: o.channels, kernel: 1, bias: true }), `${name}_hsigmoid`);
    }
    return tf.layers.multiply({ name: `${name}_excite` }).apply([x, s]) as Sym;
  }

  add(xs: Sym[], name: string): Sym {
    return tf.layers.add({ name }).apply(xs) as Sym;
  }

  /** Global average pool → dense classifier (the 1×1-conv heads of the papers are the same arithmetic). */
  classifier(x: Sym, o: { classes: number; activation: 'softmax' | 'linear'; name?: string }): Sym {
    const pooled = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as Sym;
    return this.dense(pooled, o.name ?? 'predictions', o.classes, o.activation);
  }
}

/** Channel rounding of the MobileNet family (tf-slim's _make_divisible): nearest multiple, never below 90 %. */
export function makeDivisible(v: number, divisor: number, min = divisor): number {
  const n = Math.max(min, Math.floor(v + divisor / 2) - (Math.floor(v + divisor / 2) % divisor));
  return n < 0.9 * v ? n + divisor : n;
}
