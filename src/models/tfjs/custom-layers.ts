/**
 * The hook for layer classes netdecouple does not know. A library user registers the class once;
 * it then passes through conversion untouched (kept as an opaque node), costs 0 MACs and its
 * weights' parameters, and runs in tfjs if `tfjsClass` is given (tfjs needs the class to load it).
 *
 *   import { registerCustomLayer } from 'netdecouple';
 *   registerCustomLayer({ className: 'Scale', outputShape: (ins) => ins[0], tfjsClass: ScaleLayer });
 */
import * as tf from '@tensorflow/tfjs';
import type { Layout } from '../ir.js';
import type { Shape } from '../shapes.js';
import { registerOutputShape } from '../custom-shapes.js';

export interface CustomLayerSpec {
  /** The Keras `class_name` as it appears in model.json. */
  className: string;
  /** Per-example output shape (no batch dim) from the input shapes and the layer's config. */
  outputShape: (inputShapes: Shape[], config: Record<string, unknown>, layout: Layout) => Shape;
  /** A tf.layers.Layer subclass with a static `className`; registered with tfjs serialization. */
  tfjsClass?: tf.serialization.SerializableConstructor<tf.layers.Layer>;
}

const registry = new Map<string, CustomLayerSpec>();

export function registerCustomLayer(spec: CustomLayerSpec): void {
  if (!spec.className) throw new Error('registerCustomLayer: className is required');
  registry.set(spec.className, spec);
  registerOutputShape(spec.className, spec.outputShape);
  if (spec.tfjsClass) tf.serialization.registerClass(spec.tfjsClass);
}

export function customLayer(className: string): CustomLayerSpec | undefined {
  return registry.get(className);
}
