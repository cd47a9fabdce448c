/**
 * Output-shape functions of layer classes the IR keeps opaque (registered custom layers, Keras'
 * elementwise classes), by class name. Kept apart from custom-layers.ts (which needs tfjs to
 * register runnable classes) so shape inference can re-run them at any input size — a custom
 * layer's shape is never frozen at the size declared in model.json.
 */
import type { Layout } from './ir.js';
import type { Shape } from './shapes.js';

export type OutputShapeFn = (inputShapes: Shape[], config: Record<string, unknown>, layout: Layout) => Shape;

const shapes = new Map<string, OutputShapeFn>();

export function registerOutputShape(className: string, fn: OutputShapeFn): void {
  shapes.set(className, fn);
}

export function outputShapeFn(className: string): OutputShapeFn | undefined {
  return shapes.get(className);
}
