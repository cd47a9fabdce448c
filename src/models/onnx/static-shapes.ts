/**
 * Best-effort per-example shapes for the ONNX writer: it needs ranks (which tensors get NHWC↔NCHW
 * transposes, the softmax axis) and spatial sizes (explicit 'same' pads). Unlike the cost model's
 * shape pass it never throws: an opaque node without `outputShape` just yields "rank unknown".
 */
import type { Graph, Layout, Node, Padding } from '../ir.js';

/** Per-example shape in the graph's layout (no batch); null entries = unknown size; null = unknown rank. */
export type MaybeShape = (number | null)[] | null;

function windowOut(size: number | null, k: number, s: number, d: number, padding: Padding, axis: 0 | 1): number | null {
  if (size === null) return null;
  const span = (k - 1) * d + 1;
  if (padding === 'same') return Math.ceil(size / s);
  const before = padding === 'valid' ? 0 : padding.pads[axis];
  const after = padding === 'valid' ? 0 : padding.pads[axis + 2];
  return Math.floor((size + before + after - span) / s) + 1;
}

function hwc(shape: (number | null)[], layout: Layout): [number | null, number | null, number | null] {
  return layout === 'NHWC' ? [shape[0], shape[1], shape[2]] : [shape[1], shape[2], shape[0]];
}

function make(h: number | null, w: number | null, c: number | null, layout: Layout): (number | null)[] {
  return layout === 'NHWC' ? [h, w, c] : [c, h, w];
}

function product(shape: (number | null)[]): number | null {
  return shape.some((d) => d === null) ? null : shape.reduce<number>((a, d) => a * (d as number), 1);
}

function shapeOf(node: Node, ins: MaybeShape[], layout: Layout): MaybeShape {
  const x = ins[0];
  switch (node.op) {
    case 'input':
      return [...node.shape];
    case 'conv2d': {
      if (!x) return make(null, null, node.kernel.shape[0], layout);
      if (x.length !== 3) return null;
      const [h, w] = hwc(x, layout);
      const [n, , kh, kw] = node.kernel.shape;
      return make(
        windowOut(h, kh, node.strides[0], node.dilations[0], node.padding, 0),
        windowOut(w, kw, node.strides[1], node.dilations[1], node.padding, 1),
        n,
        layout,
      );
    }
    case 'maxPool':
    case 'avgPool': {
      if (!x || x.length !== 3) return null;
      const [h, w, c] = hwc(x, layout);
      return make(
        windowOut(h, node.poolSize[0], node.strides[0], 1, node.padding, 0),
        windowOut(w, node.poolSize[1], node.strides[1], 1, node.padding, 1),
        c,
        layout,
      );
    }
    case 'dense':
      if (!x) return null;
      // Dense acts on the last axis of the graph's layout (Keras semantics).
      return [...x.slice(0, -1), node.weight.shape[0]];
    case 'batchNorm':
    case 'activation':
    case 'identity':
      return x ? [...x] : null;
    case 'add':
    case 'multiply': {
      const known = ins.filter((s): s is (number | null)[] => s !== null);
      if (known.length !== ins.length) return null;
      const rank = Math.max(...known.map((s) => s.length));
      // numpy broadcasting aligns trailing axes.
      return Array.from({ length: rank }, (_, i) => {
        const dims = known.map((s) => s[s.length - rank + i] ?? 1);
        const big = dims.find((d) => d !== null && d !== 1);
        return big ?? (dims.every((d) => d === 1) ? 1 : null);
      });
    }
    case 'concat': {
      if (ins.some((s) => s === null)) return null;
      const rank = x!.length + 1;
      const raw = node.axis ?? -1;
      const ax = (raw < 0 ? rank + raw : raw) - 1;
      const out = [...x!];
      out[ax] = ins.some((s) => s![ax] === null) ? null : ins.reduce((a, s) => a + (s![ax] as number), 0);
      return out;
    }
    case 'globalAvgPool':
    case 'globalMaxPool': {
      if (!x || x.length !== 3) return null;
      const c = hwc(x, layout)[2];
      return node.keepDims ? make(1, 1, c, layout) : [c];
    }
    case 'upsample': {
      if (!x || x.length !== 3) return null;
      const [h, w, c] = hwc(x, layout);
      return make(h === null ? null : h * node.size[0], w === null ? null : w * node.size[1], c, layout);
    }
    case 'zeroPad': {
      if (!x || x.length !== 3) return null;
      const [h, w, c] = hwc(x, layout);
      const [t, l, b, r] = node.pads;
      return make(h === null ? null : h + t + b, w === null ? null : w + l + r, c, layout);
    }
    case 'flatten':
      return [x ? product(x) : null];
    case 'reshape': {
      const target = node.targetShape ?? [];
      const total = x ? product(x) : null;
      const rest = target.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
      return target.map((d) => (d === -1 ? (total === null ? null : total / rest) : d));
    }
    case 'opaque':
      return node.outputShape ? [...node.outputShape] : null;
  }
}

export function staticShapes(graph: Graph, inputShapes?: Record<string, (number | null)[]>): Map<string, MaybeShape> {
  const shapes = new Map<string, MaybeShape>();
  for (const node of graph.nodes) {
    const ins = node.inputs.map((i) => shapes.get(i) ?? null);
    const override = node.op === 'input' ? inputShapes?.[node.name] : undefined;
    shapes.set(node.name, override ? [...override] : shapeOf(node, ins, graph.layout));
  }
  return shapes;
}
