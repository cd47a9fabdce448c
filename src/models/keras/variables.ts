/**
 * Where Keras keeps a layer's weights and in which order.
 *
 * Keras 3 (`model.weights.h5` inside a .keras zip, saving_lib.py) stores a Sequential/Functional
 * model's layers under `layers/<snake_case(class)>[_k]/vars/<i>`: the path comes from the layer's
 * *class* (the k-th Conv2D of `model.layers` is `conv2d_k`, the first plain `conv2d`), never from
 * its name, and the variables are positional, in the order the layer's build() created them.
 * Keras 2 (.h5) names each weight (`conv2d/kernel:0`), so only the Keras 3 side needs this table.
 */
import { ModelFormatError } from '../tfjs/files.js';

type Json = Record<string, unknown>;

/** keras.src.utils.naming.to_snake_case, reimplemented (same three rules) so paths match Keras'. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** `layers/conv2d`, `layers/conv2d_1`, … in model.layers order (a counter per class, as _save_container_state). */
export function layerPaths(classNames: string[]): string[] {
  const used = new Map<string, number>();
  return classNames.map((cls) => {
    const base = toSnakeCase(cls);
    const k = used.get(base);
    used.set(base, k === undefined ? 0 : k + 1);
    return `layers/${k === undefined ? base : `${base}_${k + 1}`}`;
  });
}

/**
 * Keras 2 role names (what ../tfjs/keras-to-ir.ts looks up) of a Keras 3 layer's variables, in
 * order. Keras 3's DepthwiseConv2D calls its kernel "kernel"; Keras 2 says "depthwise_kernel".
 */
export function variableRoles(cls: string, cfg: Json, count: number, what: string): string[] {
  const bias = cfg.use_bias === false ? [] : ['bias'];
  let roles: string[] | null;
  switch (cls) {
    case 'Conv2D':
    case 'Dense':
      roles = ['kernel', ...bias];
      break;
    case 'DepthwiseConv2D':
      roles = ['depthwise_kernel', ...bias];
      break;
    case 'SeparableConv2D':
      roles = ['depthwise_kernel', 'pointwise_kernel', ...bias];
      break;
    case 'BatchNormalization':
      // Trainable variables first (gamma, beta), then the moving statistics.
      roles = [...(cfg.scale === false ? [] : ['gamma']), ...(cfg.center === false ? [] : ['beta']), 'moving_mean', 'moving_variance'];
      break;
    case 'LayerNormalization':
      roles = [...(cfg.scale === false ? [] : ['gamma']), ...(cfg.center === false ? [] : ['beta'])];
      break;
    case 'PReLU':
      roles = ['alpha'];
      break;
    default:
      // Weightless stock layers, or a custom layer whose variables keep their positions.
      roles = count === 0 ? [] : null;
  }
  if (roles === null) return Array.from({ length: count }, (_, i) => `var_${i}`);
  if (roles.length !== count) {
    throw new ModelFormatError(`${what}: ${count} weight(s) stored, a ${cls} with this config has ${roles.length} (${roles.join(', ') || 'none'})`);
  }
  return roles;
}

/** Inverse of variableRoles for writing: Keras 3's positional order of the Keras 2 roles we hold. */
export function orderForKeras3(cls: string, roles: string[]): string[] {
  const order = ['kernel', 'depthwise_kernel', 'pointwise_kernel', 'gamma', 'beta', 'moving_mean', 'moving_variance', 'alpha', 'bias'];
  if (cls === 'BatchNormalization' || cls === 'LayerNormalization') return ['gamma', 'beta', 'moving_mean', 'moving_variance'].filter((r) => roles.includes(r));
  const known = roles.filter((r) => order.includes(r)).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return [...known, ...roles.filter((r) => !order.includes(r))];
}
