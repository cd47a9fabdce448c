/**
 * Per-example output shapes of every node (no batch dimension), in the graph's layout.
 * Spatial sizes may be null when the model accepts any size and none was given.
 */
import type { Conv2DNode, Graph, Layout, Node, Padding } from './ir.js';
import { outputShapeFn } from './custom-shapes.js';

export type Shape = (number | null)[];

/** Output length of a windowed op along one axis (TF 'same' / 'valid' / explicit pads). */
export function windowOut(
  size: number | null,
  k: number,
  stride: number,
  dilation: number,
  padding: Padding,
  axis: 0 | 1,
): number | null {
  if (size === null) return null;
  const span = (k - 1) * dilation + 1;
  if (padding === 'same') return Math.ceil(size / stride);
  if (padding === 'valid') return Math.floor((size - span) / stride) + 1;
  const before = padding.pads[axis];
  const after = padding.pads[axis + 2];
  return Math.floor((size + before + after - span) / stride) + 1;
}

/** [H, W, C] accessors so shape code reads the same for both layouts. */
export function spatialOf(shape: Shape, layout: Layout): { h: number | null; w: number | null; c: number | null } {
  return layout === 'NHWC' ? { h: shape[0], w: shape[1], c: shape[2] } : { c: shape[0], h: shape[1], w: shape[2] };
}

export function makeShape(h: number | null, w: number | null, c: number | null, layout: Layout): Shape {
  return layout === 'NHWC' ? [h, w, c] : [c, h, w];
}

function convShape(node: Conv2DNode, input: Shape, layout: Layout): Shape {
  const { h, w } = spatialOf(input, layout);
  const [n, , kh, kw] = node.kernel.shape;
  return makeShape(
    windowOut(h, kh, node.strides[0], node.dilations[0], node.padding, 0),
    windowOut(w, kw, node.strides[1], node.dilations[1], node.padding, 1),
    n,
    layout,
  );
}

/** Axis counting the batch dimension → index into a per-example shape. */
function exampleAxis(axis: number, rank: number): number {
  const a = axis < 0 ? rank + 1 + axis : axis;
  return a - 1;
}

function nodeShape(node: Node, ins: Shape[], layout: Layout): Shape {
  switch (node.op) {
    case 'input':
      return [...node.shape];
    case 'conv2d':
      return convShape(node, ins[0], layout);
    case 'dense':
      return [...ins[0].slice(0, -1), node.weight.shape[0]];
    case 'batchNorm':
    case 'activation':
    case 'identity':
      return [...ins[0]];
    case 'add':
    case 'multiply':
      // Broadcasting: take the first fully known dimension among the inputs.
      return ins[0].map((d, i) => d ?? ins.find((s) => s[i] !== null)?.[i] ?? null);
    case 'concat': {
      const ax = exampleAxis(node.axis ?? -1, ins[0].length);
      const out = [...ins[0]];
      out[ax] = ins.some((s) => s[ax] === null) ? null : ins.reduce((a, s) => a + (s[ax] as number), 0);
      return out;
    }
    case 'maxPool':
    case 'avgPool': {
      const { h, w, c } = spatialOf(ins[0], layout);
      return makeShape(
        windowOut(h, node.poolSize[0], node.strides[0], 1, node.padding, 0),
        windowOut(w, node.poolSize[1], node.strides[1], 1, node.padding, 1),
        c,
        layout,
      );
    }
    case 'globalAvgPool':
    case 'globalMaxPool': {
      const { c } = spatialOf(ins[0], layout);
      return node.keepDims ? makeShape(1, 1, c, layout) : [c];
    }
    case 'upsample': {
      const { h, w, c } = spatialOf(ins[0], layout);
      return makeShape(h === null ? null : h * node.size[0], w === null ? null : w * node.size[1], c, layout);
    }
    case 'zeroPad': {
      const { h, w, c } = spatialOf(ins[0], layout);
      const [t, l, b, r] = node.pads;
      return makeShape(h === null ? null : h + t + b, w === null ? null : w + l + r, c, layout);
    }
    case 'flatten':
      return [ins[0].some((d) => d === null) ? null : ins[0].reduce<number>((a, d) => a * (d as number), 1)];
    case 'reshape': {
      const target = node.targetShape ?? [];
      const known = ins[0].some((d) => d === null) ? null : ins[0].reduce<number>((a, d) => a * (d as number), 1);
      const rest = target.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
      return target.map((d) => (d === -1 ? (known === null ? null : known / rest) : d));
    }
    case 'opaque': {
      // Re-inferred from the inputs where the class's shape function is known, so a given input size reaches past it.
      const fn = node.source?.format === 'tfjs' ? outputShapeFn(node.source.className) : undefined;
      if (fn && node.source?.format === 'tfjs' && ins.length) return fn(ins, node.source.config, layout);
      if (!node.outputShape) {
        throw new Error(`layer "${node.name}": output shape unknown for an opaque layer; register a shape function for its class`);
      }
      return [...node.outputShape];
    }
  }
}

/**
 * Shapes of every node. `inputShapes` overrides the declared input shapes (e.g. a concrete H×W for
 * a fully convolutional model whose input is [null, null, 3]).
 */
export function inferShapes(graph: Graph, inputShapes?: Record<string, Shape>): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  for (const node of graph.nodes) {
    const ins = node.inputs.map((i) => {
      const s = shapes.get(i);
      if (!s) throw new Error(`layer "${node.name}": input "${i}" is not produced by an earlier layer`);
      return s;
    });
    const override = node.op === 'input' ? inputShapes?.[node.name] : undefined;
    shapes.set(node.name, override ? [...override] : nodeShape(node, ins, graph.layout));
  }
  return shapes;
}

/** Parses "H,W" (or "H,W,C") into a per-example input shape for the graph's first input. */
export function parseInputShape(text: string, graph: Graph): Record<string, Shape> {
  const parts = text.split(/[,x×]/).map((p) => Number(p.trim()));
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !Number.isInteger(p) || p <= 0 || p > 16384)) {
    throw new Error(`--input-shape "${text}": expected H,W (or H,W,C) with positive integers ≤ 16384`);
  }
  const input = graph.nodes.find((n) => n.name === graph.inputs[0]);
  if (!input || input.op !== 'input') throw new Error('the model has no input layer');
  const declared = spatialOf(input.shape, graph.layout);
  const c = parts[2] ?? declared.c;
  if (declared.c !== null && c !== declared.c) {
    throw new Error(`--input-shape "${text}": the model expects ${declared.c} channels`);
  }
  return { [input.name]: makeShape(parts[0], parts[1], c, graph.layout) };
}
