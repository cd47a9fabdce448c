/**
 * Network decoupling as stock layers (docs/design.md#network-decoupling).
 *
 * DW→PW, factors from decouple(): depthwise [C, T, kh, kw], pointwise [N, C, T].
 *   merged: DepthwiseConv(k×k, multiplier T) → 1×1 conv (C·T → N). Depthwise output channel c·T + t.
 *   split:  T multiplier-1 depthwise convs → Concatenate (channel t·C + c) → 1×1 conv. Both ORT and
 *           tfjs-wasm only fast-path multiplier 1, so split measured faster for T = 2–4.
 * PW→DW, factors: pointwise [N, T, C], depthwise [N, T, kh, kw].
 *   split:  T branches of 1×1 conv (C → N) → depthwise k×k, summed by Add. Exact and cheap.
 *   merged: 1×1 conv (C → N·T, channel n·T + t) → depthwise on N·T → grouped 1×1 (groups N, ones)
 *           that sums each group of T. TF.js has no grouped conv, so its writer lowers that sum to
 *           a dense 1×1 with a block-diagonal kernel (N·T·N MACs) — use split there.
 * Stride, padding and dilation go on the depthwise conv; bias and activation on the last layer.
 */
import { channelAxis, type Conv2DNode, type Layout, type Node } from '../models/ir.js';
import type { NdFactors } from '../decompose/nd.js';
import type { Replacement } from './splice.js';
import { convNode, spatialOpts } from './nodes.js';

export type DepthwiseForm = 'split' | 'merged';

export function dwPwReplacement(c: Conv2DNode, nd: NdFactors, form: DepthwiseForm, layout: Layout): Replacement {
  const [n, cin, kh, kw] = c.kernel.shape;
  const T = nd.rank;
  const k2 = kh * kw;
  const nodes: Node[] = [];
  const pwIn = new Float32Array(n * cin * T);
  let pwInput: string;
  if (form === 'merged' || T === 1) {
    // depthwise [C, T, kh, kw] is already OIHW [C·T, 1, kh, kw] with channel c·T + t.
    const dw = convNode({ name: `${c.name}/dw`, inputs: c.inputs, kernel: { shape: [cin * T, 1, kh, kw], data: nd.depthwise.data.slice(0, cin * T * k2) }, groups: cin, ...spatialOpts(c) });
    nodes.push(dw);
    pwInput = dw.name;
    for (let o = 0; o < n; o++) for (let ci = 0; ci < cin; ci++) for (let t = 0; t < T; t++) pwIn[(o * cin + ci) * T + t] = nd.pointwise.data[(o * cin + ci) * T + t];
  } else {
    const parts: string[] = [];
    for (let t = 0; t < T; t++) {
      const data = new Float32Array(cin * k2);
      for (let ci = 0; ci < cin; ci++) data.set(nd.depthwise.data.subarray((ci * T + t) * k2, (ci * T + t + 1) * k2), ci * k2);
      const dw = convNode({ name: `${c.name}/dw${t}`, inputs: c.inputs, kernel: { shape: [cin, 1, kh, kw], data }, groups: cin, ...spatialOpts(c) });
      nodes.push(dw);
      parts.push(dw.name);
    }
    nodes.push({ op: 'concat', name: `${c.name}/concat`, inputs: parts, axis: channelAxis(layout) });
    pwInput = `${c.name}/concat`;
    for (let o = 0; o < n; o++) for (let ci = 0; ci < cin; ci++) for (let t = 0; t < T; t++) pwIn[(o * T + t) * cin + ci] = nd.pointwise.data[(o * cin + ci) * T + t];
  }
  const pw = convNode({ name: `${c.name}/pw`, inputs: [pwInput], kernel: { shape: [n, cin * T, 1, 1], data: pwIn }, bias: c.bias, activation: c.activation });
  nodes.push(pw);
  return { nodes, output: pw.name };
}

export function pwDwReplacement(c: Conv2DNode, nd: NdFactors, form: DepthwiseForm): Replacement {
  const [n, cin, kh, kw] = c.kernel.shape;
  const T = nd.rank;
  const k2 = kh * kw;
  const nodes: Node[] = [];
  if (form === 'merged' && T > 1) {
    // pointwise [N, T, C] is OIHW [N·T, C, 1, 1] with channel n·T + t; depthwise [N, T, kh, kw] likewise.
    nodes.push(convNode({ name: `${c.name}/pw`, inputs: c.inputs, kernel: { shape: [n * T, cin, 1, 1], data: nd.pointwise.data.slice() } }));
    nodes.push(convNode({ name: `${c.name}/dw`, inputs: [`${c.name}/pw`], kernel: { shape: [n * T, 1, kh, kw], data: nd.depthwise.data.slice() }, groups: n * T, ...spatialOpts(c) }));
    const sum = convNode({ name: `${c.name}/sum`, inputs: [`${c.name}/dw`], kernel: { shape: [n, T, 1, 1], data: new Float32Array(n * T).fill(1) }, groups: n, bias: c.bias, activation: c.activation });
    nodes.push(sum);
    return { nodes, output: sum.name };
  }
  const branches: string[] = [];
  for (let t = 0; t < T; t++) {
    const pwData = new Float32Array(n * cin);
    const dwData = new Float32Array(n * k2);
    for (let o = 0; o < n; o++) {
      pwData.set(nd.pointwise.data.subarray((o * T + t) * cin, (o * T + t + 1) * cin), o * cin);
      dwData.set(nd.depthwise.data.subarray((o * T + t) * k2, (o * T + t + 1) * k2), o * k2);
    }
    const suffix = T === 1 ? '' : String(t);
    const last = T === 1;
    nodes.push(convNode({ name: `${c.name}/pw${suffix}`, inputs: c.inputs, kernel: { shape: [n, cin, 1, 1], data: pwData } }));
    nodes.push(convNode({
      name: `${c.name}/dw${suffix}`, inputs: [`${c.name}/pw${suffix}`], kernel: { shape: [n, 1, kh, kw], data: dwData }, groups: n, ...spatialOpts(c),
      bias: t === 0 ? c.bias : null, activation: last ? c.activation : 'linear',
    }));
    branches.push(`${c.name}/dw${suffix}`);
  }
  if (T === 1) return { nodes, output: branches[0] };
  nodes.push({ op: 'add', name: `${c.name}/add`, inputs: branches });
  if (c.activation === 'linear') return { nodes, output: `${c.name}/add` };
  nodes.push({ op: 'activation', name: `${c.name}/act`, inputs: [`${c.name}/add`], activation: c.activation });
  return { nodes, output: `${c.name}/act` };
}
