/**
 * A Ghost module (src/decompose/ghost.ts) as stock layers:
 *
 *   primary conv (the conv's rows of the primaries with ghosts; stride, padding, dilation as the conv)
 *     → s − 1 multiplier-1 depthwise d×d convs ('same', stride 1; split form, faster on ORT and
 *       tfjs-wasm) or one depthwise with multiplier s − 1 (merged form)
 *   [solo conv: the primaries without ghosts, same input]
 *   → Concatenate [primaries, ghost slot 0, …, ghost slot s−2, solo]
 *   → order: a 1×1 channel-selection conv back to the original channel order (fold-selection.ts
 *     folds it into the consumers' weights wherever they allow; only then is it free)
 *   → the conv's activation.
 * s = 1 is the conv itself. Weights come from the decomposition's `kernel`/`bias` — the conv's
 * own, or primaries refit by calibration.
 */
import { channelAxis, type Conv2DNode, type Layout, type Node } from '../models/ir.js';
import type { GhostResult } from '../decompose/ghost.js';
import type { Replacement } from './splice.js';
import type { DepthwiseForm } from './nd-rewrite.js';
import { convNode, spatialOpts } from './nodes.js';

export interface GhostWeights {
  kernel: Conv2DNode['kernel'];
  bias: Float32Array | null;
}

function rows(w: GhostWeights, channels: Int32Array): { kernel: Conv2DNode['kernel']; bias: Float32Array | null } {
  const [, C, kh, kw] = w.kernel.shape;
  const per = C * kh * kw;
  const data = new Float32Array(channels.length * per);
  channels.forEach((ch, i) => data.set(w.kernel.data.subarray(ch * per, (ch + 1) * per), i * per));
  return { kernel: { shape: [channels.length, C, kh, kw], data }, bias: w.bias ? Float32Array.from(channels, (ch) => (w.bias as Float32Array)[ch]) : null };
}

/** The original channel each concatenated channel carries (−1: an empty ghost slot). */
export function concatChannels(r: GhostResult, form: DepthwiseForm): Int32Array {
  const mA = r.primaries.length;
  const s1 = r.ratio - 1;
  const out: number[] = [...r.primaries];
  if (form === 'merged') out.push(...r.ghosts);
  else for (let t = 0; t < s1; t++) for (let i = 0; i < mA; i++) out.push(r.ghosts[i * s1 + t]);
  out.push(...r.solo);
  return Int32Array.from(out);
}

export function ghostReplacement(c: Conv2DNode, r: GhostResult, opts: { form: DepthwiseForm; layout: Layout; weights?: GhostWeights }): Replacement {
  const w = opts.weights ?? { kernel: c.kernel, bias: c.bias };
  const N = c.kernel.shape[0];
  const d = r.kernelSize;
  const K = d * d;
  const mA = r.primaries.length;
  const s1 = r.ratio - 1;
  const nodes: Node[] = [];
  const parts: string[] = [];
  if (mA > 0) {
    const p = rows(w, r.primaries);
    nodes.push(convNode({ name: `${c.name}/primary`, inputs: c.inputs, ...p, ...spatialOpts(c) }));
    parts.push(`${c.name}/primary`);
    const ghost = (name: string, slots: number[]) => {
      const data = new Float32Array(slots.length * K);
      slots.forEach((slot, i) => data.set(r.filters.subarray(slot * K, (slot + 1) * K), i * K));
      nodes.push(convNode({ name, inputs: [`${c.name}/primary`], kernel: { shape: [slots.length, 1, d, d], data }, bias: Float32Array.from(slots, (slot) => r.biases[slot]), groups: mA, padding: 'same' }));
      parts.push(name);
    };
    if (opts.form === 'merged') ghost(`${c.name}/ghost`, Array.from({ length: mA * s1 }, (_, i) => i));
    else for (let t = 0; t < s1; t++) ghost(s1 === 1 ? `${c.name}/ghost` : `${c.name}/ghost${t}`, Array.from({ length: mA }, (_, i) => i * s1 + t));
  }
  if (r.solo.length > 0) {
    nodes.push(convNode({ name: `${c.name}/solo`, inputs: c.inputs, ...rows(w, r.solo), ...spatialOpts(c) }));
    parts.push(`${c.name}/solo`);
  }
  const channels = concatChannels(r, opts.form);
  const identity = channels.length === N && channels.every((ch, i) => ch === i);
  let out = parts[0];
  if (parts.length > 1) {
    nodes.push({ op: 'concat', name: `${c.name}/concat`, inputs: parts, axis: channelAxis(opts.layout) });
    out = `${c.name}/concat`;
  }
  if (!identity) {
    const sel = new Float32Array(N * channels.length);
    channels.forEach((ch, j) => {
      if (ch >= 0) sel[ch * channels.length + j] = 1;
    });
    nodes.push(convNode({ name: `${c.name}/order`, inputs: [out], kernel: { shape: [N, channels.length, 1, 1], data: sel } }));
    out = `${c.name}/order`;
  }
  if (c.activation !== 'linear') {
    // s = 1: one conv, so the activation stays fused as in the original.
    const last = nodes[nodes.length - 1];
    if (nodes.length === 1 && last.op === 'conv2d') nodes[0] = { ...last, activation: c.activation };
    else {
      nodes.push({ op: 'activation', name: `${c.name}/act`, inputs: [out], activation: c.activation });
      out = `${c.name}/act`;
    }
  }
  return { nodes, output: out };
}
