/**
 * Layer configs written into .h5 / .keras files. Keras' layer constructors refuse keyword
 * arguments they do not know ("Unrecognized keyword arguments passed to DepthwiseConv2D"), while
 * TF.js configs carry a few extra ones (kernel_* on DepthwiseConv2D); so stock classes keep only
 * the arguments Keras 2 and 3 both accept. Custom (registered) classes pass through as they are.
 * Keras 3 additionally wraps every serialized object in `{module, class_name, config, registered_name}`.
 */
type Json = Record<string, unknown>;

const KERNEL = ['kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint'];
const CONV = ['kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'activation', 'use_bias'];

/** Arguments (besides name, trainable, dtype) each stock class accepts in Keras 2 and 3. */
export const KERAS_ARGUMENTS: Record<string, string[]> = {
  InputLayer: ['batch_input_shape', 'sparse'],
  Conv2D: ['filters', 'groups', ...CONV, ...KERNEL],
  DepthwiseConv2D: [...CONV, 'depth_multiplier', 'depthwise_initializer', 'bias_initializer', 'depthwise_regularizer', 'bias_regularizer', 'activity_regularizer', 'depthwise_constraint', 'bias_constraint'],
  Dense: ['units', 'activation', 'use_bias', ...KERNEL],
  BatchNormalization: ['axis', 'momentum', 'epsilon', 'center', 'scale', 'beta_initializer', 'gamma_initializer', 'moving_mean_initializer', 'moving_variance_initializer', 'beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint'],
  Activation: ['activation'],
  ReLU: ['max_value', 'negative_slope', 'threshold'],
  LeakyReLU: ['alpha'],
  ELU: ['alpha'],
  Softmax: ['axis'],
  Add: [],
  Multiply: [],
  Subtract: [],
  Average: [],
  Maximum: [],
  Minimum: [],
  Concatenate: ['axis'],
  MaxPooling2D: ['pool_size', 'strides', 'padding', 'data_format'],
  AveragePooling2D: ['pool_size', 'strides', 'padding', 'data_format'],
  GlobalAveragePooling2D: ['data_format', 'keepdims'],
  GlobalMaxPooling2D: ['data_format', 'keepdims'],
  UpSampling2D: ['size', 'data_format', 'interpolation'],
  ZeroPadding2D: ['padding', 'data_format'],
  Flatten: ['data_format'],
  Reshape: ['target_shape'],
  Dropout: ['rate', 'noise_shape', 'seed'],
  SpatialDropout2D: ['rate', 'data_format', 'seed'],
  GaussianNoise: ['stddev', 'seed'],
  GaussianDropout: ['rate', 'seed'],
};

/** TF.js writes `distribution: "normal"`, which tf.keras read as truncated normal and Keras 3 refuses. */
function kerasInitializer(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const o = v as Json;
  if (o.class_name === 'VarianceScaling' && (o.config as Json)?.distribution === 'normal') {
    return { ...o, config: { ...(o.config as Json), distribution: 'truncated_normal' } };
  }
  return o;
}

/** A Keras 2 layer config reduced to what Keras accepts for its class. */
export function kerasLayerConfig(cls: string, cfg: Json): Json {
  const allowed = KERAS_ARGUMENTS[cls];
  if (!allowed) return cfg;
  // InputLayer is no ordinary layer: Keras 2 and 3 both refuse `trainable` on it.
  const out: Json = cls === 'InputLayer' ? { name: cfg.name, dtype: cfg.dtype ?? 'float32' } : { name: cfg.name, trainable: cfg.trainable ?? true, dtype: cfg.dtype ?? 'float32' };
  for (const k of allowed) {
    if (cfg[k] === undefined) continue;
    out[k] = k.endsWith('_initializer') ? kerasInitializer(cfg[k]) : cfg[k];
  }
  return out;
}

const MODULE_OF: [RegExp, string][] = [
  [/_initializer$/, 'keras.initializers'],
  [/_regularizer$/, 'keras.regularizers'],
  [/_constraint$/, 'keras.constraints'],
];

function wrap(module: string, obj: Json): Json {
  return { module, class_name: obj.class_name, config: obj.config, registered_name: null };
}

/** A Keras 2 layer config in Keras 3 form: dtype policy object, batch_shape, wrapped sub-objects. */
export function keras3LayerConfig(cls: string, cfg: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(cfg)) {
    const module = MODULE_OF.find(([re]) => re.test(k))?.[1];
    if (k === 'batch_input_shape') out.batch_shape = v;
    else if (k === 'dtype' && cls !== 'InputLayer') out.dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: v }, registered_name: null };
    else if (k === 'alpha' && cls === 'LeakyReLU') out.negative_slope = v;
    else if (module && v && typeof v === 'object') out[k] = wrap(module, v as Json);
    else out[k] = v;
  }
  return out;
}
