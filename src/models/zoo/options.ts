/** What every zoo builder accepts, and the checks shared by all of them. */

export interface ZooOptions {
  /** Width multiplier α (MobileNets, GhostNet); 1 by default. */
  alpha?: number;
  /** Input height = width in pixels; the architecture's native size (224) by default. */
  resolution?: number;
  /** Classifier outputs; 1000 (ImageNet) by default. */
  classes?: number;
  /** Seed of every random initializer; 0 by default. Same seed → same weights. */
  seed?: number;
  /** Softmax on the logits, as Keras Applications ship them (default), or raw logits. */
  classifierActivation?: 'softmax' | 'linear';
  /**
   * Weights to load instead of random ones, by TF.js weight name ("block1_conv1/kernel"), in the
   * shapes TF.js stores them (conv HWIO, dense [in, out]). Every learned weight must be given; the
   * frozen constants of hard-sigmoid/h-swish are fixed arithmetic and may be left out.
   */
  weights?: Map<string, { shape: number[]; data: Float32Array }>;
}

/** Options with defaults filled in and validated. */
export interface ResolvedOptions {
  alpha: number;
  resolution: number;
  classes: number;
  seed: number;
  classifierActivation: 'softmax' | 'linear';
}

export interface OptionLimits {
  model: string;
  /** Whether the architecture has a width multiplier. */
  alpha: boolean;
  /** Smallest input every stride-2 stage can still halve (32 for all of them). */
  minResolution: number;
}

export function resolveOptions(o: ZooOptions, limits: OptionLimits): ResolvedOptions {
  const alpha = o.alpha ?? 1;
  const resolution = o.resolution ?? 224;
  const classes = o.classes ?? 1000;
  const seed = o.seed ?? 0;
  const { model } = limits;
  if (!limits.alpha && alpha !== 1) throw new Error(`${model} has no width multiplier: drop --alpha (or pick a MobileNet / GhostNet)`);
  if (!(alpha > 0 && alpha <= 4)) throw new Error(`${model}: --alpha ${alpha} must be in (0, 4]`);
  if (!Number.isInteger(resolution) || resolution < limits.minResolution || resolution > 4096) {
    throw new Error(`${model}: --resolution ${resolution} must be an integer between ${limits.minResolution} and 4096 (the network downsamples 32×)`);
  }
  if (!Number.isInteger(classes) || classes < 1 || classes > 100_000) throw new Error(`${model}: --classes ${classes} must be an integer between 1 and 100000`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31) throw new Error(`${model}: --seed ${seed} must be a non-negative integer`);
  const act = o.classifierActivation ?? 'softmax';
  if (act !== 'softmax' && act !== 'linear') throw new Error(`${model}: classifier activation "${String(act)}" must be softmax or linear`);
  return { alpha, resolution, classes, seed, classifierActivation: act };
}
