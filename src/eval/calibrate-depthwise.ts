/**
 * Calibration for replacements that end in depthwise convs (PW→DW): output channel n is
 * Σ_t D_t[n] ⊛ Z_t[n] + b[n], linear in the depthwise taps, so each output channel gets its own
 * small ridge least squares over T·kh·kw taps (+ bias), fed the converted network's Z_t.
 */
import { isDepthwise, type Conv2DNode, type Graph, type Node } from '../models/ir.js';
import { RidgeAccumulator } from '../decompose/least-squares.js';
import { windowOut } from '../models/shapes.js';
import type { Batch } from './tfjs-run.js';

/** One depthwise factor: output channel n of the layer reads channel `channel(n)` of `node`. */
export interface DepthwisePart {
  node: Conv2DNode;
  channel: (n: number) => number;
}

export interface DepthwiseTail {
  parts: DepthwisePart[];
  /** The node whose bias carries the layer's bias. */
  biasNode: Conv2DNode;
  outputs: number;
}

/** Finds the depthwise factors of a PW→DW replacement (split: dw0…dwT-1 summed; merged: dw + group sum). */
export function depthwiseTail(graph: Graph, replacedBy: string[], output: string): DepthwiseTail | null {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  let out = byName.get(output) as Node | undefined;
  if (out?.op === 'activation') out = byName.get(out.inputs[0]);
  if (!out) return null;
  const asDw = (n: Node | undefined): n is Conv2DNode => !!n && n.op === 'conv2d' && isDepthwise(n) && n.kernel.shape[0] === n.groups;
  if (out.op === 'conv2d' && out.groups > 1 && !isDepthwise(out)) {
    // Merged form: a group sum (ones) over T consecutive depthwise channels.
    const dw = byName.get(out.inputs[0]);
    if (!asDw(dw)) return null;
    const N = out.kernel.shape[0];
    const T = out.kernel.shape[1];
    return { parts: Array.from({ length: T }, (_, t) => ({ node: dw, channel: (n: number) => n * T + t })), biasNode: out, outputs: N };
  }
  if (asDw(out)) return { parts: [{ node: out, channel: (n) => n }], biasNode: out, outputs: out.kernel.shape[0] };
  if (out.op === 'add') {
    const dws = out.inputs.map((i) => byName.get(i));
    if (!dws.every(asDw) || !dws.every((d) => replacedBy.includes(d.name))) return null;
    const list = dws as Conv2DNode[];
    return { parts: list.map((node) => ({ node, channel: (n: number) => n })), biasNode: list[0], outputs: list[0].kernel.shape[0] };
  }
  return null;
}

export function padBefore(node: Conv2DNode, inH: number, inW: number): [number, number] {
  if (node.padding === 'valid') return [0, 0];
  if (typeof node.padding === 'object') return [node.padding.pads[0], node.padding.pads[1]];
  const [, , kh, kw] = node.kernel.shape;
  const total = (size: number, k: number, s: number, d: number) => Math.max(((windowOut(size, k, s, d, 'same', 0) as number) - 1) * s + (k - 1) * d + 1 - size, 0);
  return [Math.floor(total(inH, kh, node.strides[0], node.dilations[0]) / 2), Math.floor(total(inW, kw, node.strides[1], node.dilations[1]) / 2)];
}

/** Per output channel: rows × (T·kh·kw) tap values of Z_t at the sampled output pixels. */
export function accumulateDepthwise(
  accs: RidgeAccumulator[],
  tail: DepthwiseTail,
  inputs: Batch[], // Z for each part's node input, batch included
  layout: Graph['layout'],
  rows: Int32Array,
  outHW: [number, number],
  target: Float64Array, // rows × N
): void {
  const N = tail.outputs;
  const [outH, outW] = outHW;
  const first = tail.parts[0].node;
  const [, , kh, kw] = first.kernel.shape;
  const K = kh * kw;
  const F = tail.parts.length * K;
  const z = new Float64Array(rows.length * F);
  const y = new Float64Array(rows.length);
  for (let n = 0; n < N; n++) {
    z.fill(0);
    tail.parts.forEach((part, t) => {
      const act = inputs[t];
      const [, d1, d2, d3] = act.shape;
      const [inH, inW, C] = layout === 'NHWC' ? [d1, d2, d3] : [d2, d3, d1];
      const [pt, pl] = padBefore(part.node, inH, inW);
      const c = part.channel(n);
      for (let r = 0; r < rows.length; r++) {
        const p = rows[r];
        const b = Math.floor(p / (outH * outW));
        const q = p - b * outH * outW;
        const oy = Math.floor(q / outW);
        const ox = q - oy * outW;
        for (let i = 0; i < kh; i++) {
          const iy = oy * part.node.strides[0] - pt + i * part.node.dilations[0];
          if (iy < 0 || iy >= inH) continue;
          for (let j = 0; j < kw; j++) {
            const ix = ox * part.node.strides[1] - pl + j * part.node.dilations[1];
            if (ix < 0 || ix >= inW) continue;
            const idx = layout === 'NHWC' ? ((b * inH + iy) * inW + ix) * C + c : ((b * C + c) * inH + iy) * inW + ix;
            z[r * F + t * K + i * kw + j] = act.data[idx];
          }
        }
      }
    });
    for (let r = 0; r < rows.length; r++) y[r] = target[r * N + n];
    accs[n].add(z, y, rows.length);
  }
}

/** Current taps and bias of output channel n, in the accumulator's layout. */
export function currentTaps(tail: DepthwiseTail, n: number): { w: Float64Array; b: Float64Array } {
  const K = tail.parts[0].node.kernel.shape[2] * tail.parts[0].node.kernel.shape[3];
  const w = new Float64Array(tail.parts.length * K);
  tail.parts.forEach((part, t) => {
    const c = part.channel(n);
    for (let k = 0; k < K; k++) w[t * K + k] = part.node.kernel.data[c * K + k];
  });
  let b = 0;
  if (tail.biasNode.bias) b = tail.biasNode.bias[n];
  // Split form: other branches may carry bias too.
  for (const part of tail.parts) if (part.node !== tail.biasNode && part.node.bias) b += part.node.bias[part.channel(n)];
  return { w, b: Float64Array.of(b) };
}

/** Writes fitted taps/biases back as new nodes (weights are never mutated in place). */
export function applyTaps(graph: Graph, tail: DepthwiseTail, fits: { weight: Float64Array; bias: Float64Array }[]): Graph {
  const K = tail.parts[0].node.kernel.shape[2] * tail.parts[0].node.kernel.shape[3];
  const updated = new Map<string, Conv2DNode>();
  const get = (node: Conv2DNode) => {
    if (!updated.has(node.name)) updated.set(node.name, { ...node, kernel: { shape: node.kernel.shape, data: node.kernel.data.slice() }, bias: node.bias ? node.bias.slice() : null });
    return updated.get(node.name) as Conv2DNode;
  };
  fits.forEach((fit, n) => {
    tail.parts.forEach((part, t) => {
      const node = get(part.node);
      const c = part.channel(n);
      for (let k = 0; k < K; k++) node.kernel.data[c * K + k] = fit.weight[t * K + k];
      if (node.name !== tail.biasNode.name && node.bias) node.bias[c] = 0;
    });
    const bn = get(tail.biasNode);
    if (!bn.bias) bn.bias = new Float32Array(tail.outputs);
    bn.bias[n] = fit.bias[0];
  });
  return { ...graph, nodes: graph.nodes.map((n) => updated.get(n.name) ?? n) };
}
