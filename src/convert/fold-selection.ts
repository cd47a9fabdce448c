/**
 * Folds a channel-selection 1×1 conv (each output channel copies one input channel: the Ghost
 * rewrite's `order` node) into the layers that read it, so restoring the channel order costs no
 * MACs: a consumer conv / dense takes its input weights at the selected positions (zeros for
 * unselected channels); BatchNorm gets its parameters re-indexed; channel-wise layers (activation,
 * pooling, padding, upsampling, identity) pass the selection on; a Concatenate passes it on with
 * its other inputs' channels shifted; Flatten → Dense re-indexes the dense rows per pixel.
 * Anything else (Add, a depthwise conv, a model output…) keeps the selection node, which is a
 * valid stock 1×1 conv (N·C MACs per pixel); the result names the reason.
 */
import { consumers, nodeByName, type Conv2DNode, type DenseNode, type Graph, type Node } from '../models/ir.js';
import { inferShapes, spatialOf, type Shape } from '../models/shapes.js';

/** For each output channel the input channel it copies, or null when `node` is not a pure selection. */
export function selectionOf(node: Node): Int32Array | null {
  if (node.op !== 'conv2d' || node.groups !== 1 || node.bias || node.activation !== 'linear') return null;
  const [N, C, kh, kw] = node.kernel.shape;
  if (kh !== 1 || kw !== 1 || node.strides.some((s) => s !== 1)) return null;
  const sel = new Int32Array(N).fill(-1);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const v = node.kernel.data[n * C + c];
      if (v === 0) continue;
      if (v !== 1 || sel[n] >= 0) return null;
      sel[n] = c;
    }
    if (sel[n] < 0) return null;
  }
  return sel;
}

interface Walk {
  graph: Graph;
  byName: Map<string, Node>;
  users: Map<string, string[]>;
  shapes: Map<string, Shape>;
  edits: Map<string, Node>;
}

const channelsOf = (w: Walk, name: string): number | null => spatialOf(w.shapes.get(name) ?? [], w.graph.layout).c;

/** Rewrites everything that reads `source` (whose channel n now sits at sel[n] of `width`); a reason when something cannot. */
function absorb(w: Walk, source: string, sel: Int32Array, width: number): string | null {
  if (w.graph.outputs.includes(source)) return `"${source}" is a model output`;
  for (const u of w.users.get(source) ?? []) {
    const node = w.byName.get(u) as Node;
    if (w.edits.has(u)) return `"${u}" is reached twice`;
    if (node.inputs.filter((i) => i === source).length !== 1) return `"${u}" reads "${source}" twice`;
    const why = absorbOne(w, node, source, sel, width);
    if (why) return why;
  }
  return null;
}

function absorbOne(w: Walk, node: Node, source: string, sel: Int32Array, width: number): string | null {
  const N = sel.length;
  switch (node.op) {
    case 'conv2d': {
      const [O, C, kh, kw] = node.kernel.shape;
      if (node.groups !== 1) return `consumer "${node.name}" is a grouped/depthwise conv`;
      if (C !== N) return `consumer "${node.name}" expects ${C} channels, not ${N}`;
      const K = kh * kw;
      const data = new Float32Array(O * width * K);
      for (let o = 0; o < O; o++) for (let n = 0; n < N; n++) data.set(node.kernel.data.subarray((o * C + n) * K, (o * C + n + 1) * K), (o * width + sel[n]) * K);
      w.edits.set(node.name, { ...node, kernel: { shape: [O, width, kh, kw], data } } as Conv2DNode);
      return null;
    }
    case 'dense':
      return denseRows(w, node, sel, width, 1, 'NCHW');
    case 'batchNorm': {
      const spread = (v: Float32Array, fill: number) => {
        const out = new Float32Array(width).fill(fill);
        sel.forEach((c, n) => (out[c] = v[n]));
        return out;
      };
      w.edits.set(node.name, { ...node, gamma: node.gamma && spread(node.gamma, 1), beta: node.beta && spread(node.beta, 0), mean: spread(node.mean, 0), variance: spread(node.variance, 1) });
      return absorb(w, node.name, sel, width);
    }
    case 'activation':
    case 'maxPool':
    case 'avgPool':
    case 'globalAvgPool':
    case 'globalMaxPool':
    case 'upsample':
    case 'zeroPad':
    case 'identity':
      w.edits.set(node.name, node);
      return absorb(w, node.name, sel, width);
    case 'flatten': {
      const { h, w: wd } = spatialOf(w.shapes.get(source) ?? [], w.graph.layout);
      if (h === null || wd === null) return `flatten "${node.name}": its input size is unknown`;
      w.edits.set(node.name, node);
      for (const u of w.users.get(node.name) ?? []) {
        const dense = w.byName.get(u) as Node;
        if (dense.op !== 'dense') return `flatten "${node.name}" feeds "${u}", not a dense layer`;
        const why = denseRows(w, dense, sel, width, h * wd, w.graph.layout);
        if (why) return why;
      }
      return w.graph.outputs.includes(node.name) ? `"${node.name}" is a model output` : null;
    }
    case 'concat': {
      const widths = node.inputs.map((i) => (i === source ? N : channelsOf(w, i)));
      if (widths.some((x) => x === null)) return `concat "${node.name}": an input's channel count is unknown`;
      const total = (widths as number[]).reduce((a, b) => a + b, 0);
      const map = new Int32Array(total);
      let from = 0;
      let to = 0;
      for (const [k, i] of node.inputs.entries()) {
        const c = widths[k] as number;
        for (let j = 0; j < c; j++) map[from + j] = i === source ? to + sel[j] : to + j;
        from += c;
        to += i === source ? width : c;
      }
      w.edits.set(node.name, node);
      return absorb(w, node.name, map, to);
    }
    default:
      return `consumer "${node.name}" (${node.op}) cannot absorb a channel permutation`;
  }
}

/** Dense rows after a flatten of `pixels` pixels (NHWC: pixel-major; NCHW: channel-major) or straight after pooling (pixels = 1). */
function denseRows(w: Walk, node: DenseNode, sel: Int32Array, width: number, pixels: number, layout: Graph['layout']): string | null {
  const N = sel.length;
  const [O, I] = node.weight.shape;
  if (I !== N * pixels) return `dense "${node.name}" has ${I} inputs, not ${N * pixels}`;
  const W = width * pixels;
  const data = new Float32Array(O * W);
  for (let o = 0; o < O; o++) {
    for (let p = 0; p < pixels; p++) {
      for (let n = 0; n < N; n++) {
        const [src, dst] = layout === 'NHWC' ? [p * N + n, p * width + sel[n]] : [n * pixels + p, sel[n] * pixels + p];
        data[o * W + dst] = node.weight.data[o * I + src];
      }
    }
  }
  w.edits.set(node.name, { ...node, weight: { shape: [O, W], data } });
  return null;
}

export interface SelectionFold {
  graph: Graph;
  /** Selection node → the node now standing for its output (its input). */
  folded: Map<string, string>;
  /** Selection nodes left in place, and why. */
  kept: { name: string; reason: string }[];
}

/** Folds the named selection nodes one by one (each on the graph the previous folds left). */
export function foldSelections(input: Graph, names: string[], inputShapes?: Record<string, Shape>): SelectionFold {
  let graph = input;
  const folded = new Map<string, string>();
  const kept: { name: string; reason: string }[] = [];
  for (const name of names) {
    const byName = nodeByName(graph);
    const node = byName.get(name);
    const sel = node ? selectionOf(node) : null;
    if (!node || !sel) {
      kept.push({ name, reason: 'not a channel selection' });
      continue;
    }
    const source = node.inputs[0];
    const w: Walk = { graph, byName, users: consumers(graph), shapes: inferShapes(graph, inputShapes), edits: new Map() };
    const why = absorb(w, name, sel, (node as Conv2DNode).kernel.shape[1]);
    if (why) {
      kept.push({ name, reason: why });
      continue;
    }
    const nodes = graph.nodes
      .filter((n) => n.name !== name)
      .map((n) => {
        const e = w.edits.get(n.name) ?? n;
        return e.inputs.includes(name) ? ({ ...e, inputs: e.inputs.map((i) => (i === name ? source : i)) } as Node) : e;
      });
    graph = { ...graph, nodes };
    folded.set(name, source);
  }
  return { graph, folded, kept };
}
