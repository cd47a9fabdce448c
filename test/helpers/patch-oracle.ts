/**
 * An independent oracle for the layer refits (src/eval/calibrate-*.ts) that needs no runtime:
 * synthetic kh×kw input patches, the original conv's outputs on them as targets, their second
 * moments, and a direct-loop evaluation of any chain of conv2d / concat / add nodes on one patch
 * (every node 'valid', so a kh×kw patch ends as one output pixel).
 */
import type { Conv2DNode, Graph, Node } from '../../src/models/ir.js';
import { MomentAccumulator, type CentredMoments } from '../../src/decompose/moments.js';
import { randomKernel } from '../decompose/synthetic.js';

export interface PatchCase {
  N: number;
  C: number;
  kh: number;
  kw: number;
  rows: number;
}

/** input 'x' (one kh×kw patch) → conv 'c1' ('valid', linear, non-zero bias). */
export function oneConvGraph(p: PatchCase, seed = 11): { graph: Graph; conv: Conv2DNode } {
  const conv: Conv2DNode = {
    op: 'conv2d', name: 'c1', inputs: ['x'], kernel: randomKernel([p.N, p.C, p.kh, p.kw], seed), bias: Float32Array.from({ length: p.N }, (_, n) => 0.3 - 0.1 * n),
    strides: [1, 1], dilations: [1, 1], padding: 'valid', groups: 1, activation: 'linear',
  };
  const graph: Graph = { name: 't', layout: 'NHWC', inputs: ['x'], outputs: ['c1'], nodes: [{ op: 'input', name: 'x', inputs: [], shape: [p.kh, p.kw, p.C], dtype: 'float32' }, conv] };
  return { graph, conv };
}

/** Deterministic pseudo-random numbers in (−1, 1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31) - 1;
}

/** Patches (rows × C·kh·kw, channel-major like the kernels): unequal channel scales, correlated taps, non-zero means. */
export function patches(p: PatchCase, seed: number): Float64Array {
  const r = lcg(seed);
  const K = p.kh * p.kw;
  const x = new Float64Array(p.rows * p.C * K);
  for (let row = 0; row < p.rows; row++) {
    const shared = r();
    for (let c = 0; c < p.C; c++) for (let k = 0; k < K; k++) x[(row * p.C + c) * K + k] = (c + 1) * (0.8 * shared + 0.6 * r()) + 0.2 * c;
  }
  return x;
}

/** A valid convolution of one [channels, h, w] array by one conv node (groups respected). */
function applyConv(node: Conv2DNode, input: Float64Array, [h, w]: [number, number]): Value {
  const [O, I, a, b] = node.kernel.shape;
  const perGroup = O / node.groups;
  const [oh, ow] = [h - a + 1, w - b + 1];
  const out = new Float64Array(O * oh * ow);
  for (let o = 0; o < O; o++) {
    const g = Math.floor(o / perGroup);
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        let s = node.bias?.[o] ?? 0;
        for (let i = 0; i < I; i++) for (let p = 0; p < a; p++) for (let q = 0; q < b; q++) s += node.kernel.data[((o * I + i) * a + p) * b + q] * input[((g * I + i) * h + y + p) * w + x + q];
        out[(o * oh + y) * ow + x] = s;
      }
  }
  return { data: out, hw: [oh, ow] };
}

interface Value {
  data: Float64Array;
  hw: [number, number];
}

/** The pre-activation value of `output` for one patch, evaluating the graph's nodes in order. */
export function evalOnPatch(graph: Graph, output: string, patch: Float64Array, hw: [number, number]): Float64Array {
  const values = new Map<string, Value>();
  for (const n of graph.nodes as Node[]) {
    const ins = n.inputs.map((i) => values.get(i) as Value);
    if (n.op === 'input') values.set(n.name, { data: patch, hw });
    else if (n.op === 'conv2d') values.set(n.name, applyConv(n, ins[0].data, ins[0].hw));
    // Channel-major values: concatenating channels appends the arrays.
    else if (n.op === 'concat') values.set(n.name, { data: Float64Array.from(ins.flatMap((v) => Array.from(v.data))), hw: ins[0].hw });
    else if (n.op === 'add') values.set(n.name, { data: ins[0].data.map((_, i) => ins.reduce((s, v) => s + v.data[i], 0)), hw: ins[0].hw });
    else if (n.op === 'activation') values.set(n.name, ins[0]);
    else throw new Error(`patch oracle: no rule for ${n.op}`);
    if (n.name === output) break;
  }
  return (values.get(output) as Value).data;
}

/** The original conv's outputs on every patch, plus a little noise so no factorisation is exact. */
export function targets(p: PatchCase, graph: Graph, x: Float64Array, noise: number): Float64Array {
  const r = lcg(99);
  const F = p.C * p.kh * p.kw;
  const y = new Float64Array(p.rows * p.N);
  for (let row = 0; row < p.rows; row++) {
    const out = evalOnPatch(graph, 'c1', x.slice(row * F, (row + 1) * F), [p.kh, p.kw]);
    for (let n = 0; n < p.N; n++) y[row * p.N + n] = out[n] + noise * r();
  }
  return y;
}

/** ‖y − graph(x)‖ / ‖y‖ over all rows, `output` evaluated directly on each patch. */
export function graphRelError(p: PatchCase, graph: Graph, output: string, x: Float64Array, y: Float64Array): number {
  const F = p.C * p.kh * p.kw;
  let err = 0;
  let energy = 0;
  for (let row = 0; row < p.rows; row++) {
    const out = evalOnPatch(graph, output, x.slice(row * F, (row + 1) * F), [p.kh, p.kw]);
    for (let n = 0; n < p.N; n++) {
      err += (y[row * p.N + n] - out[n]) ** 2;
      energy += y[row * p.N + n] ** 2;
    }
  }
  return Math.sqrt(err / energy);
}

export function patchMoments(p: PatchCase, x: Float64Array, y: Float64Array, maxFullBytes?: number): CentredMoments {
  const acc = new MomentAccumulator({ channels: p.C, taps: p.kh * p.kw, outputs: p.N, maxFullBytes });
  acc.add(x, y, p.rows);
  return acc.centred();
}
