/**
 * Shared test helpers: direct-loop references (NCHW unless named otherwise), small IR builders,
 * a raw ONNX ModelProto builder for reader tests, and an ORT one-shot runner.
 */
import { expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Conv2DNode, Graph, InputNode, Node, Padding } from '../../src/models/ir.js';
import { gaussianArray } from '../../src/decompose/random.js';
import { createOrtSession, releaseOrt, runOrt } from '../../src/eval/ort.js';
import { onnx, type INodeProto, type ITensorProto } from '../../src/models/onnx/proto.js';

export interface T4 {
  shape: number[];
  data: Float32Array;
}

export const randn = (n: number, seed: number, std = 1) => gaussianArray(n, seed, std);

export function input(name: string, shape: (number | null)[]): InputNode {
  return { op: 'input', name, inputs: [], shape, dtype: 'float32' };
}

export function conv(
  name: string,
  inputName: string,
  o: { cin: number; cout: number; k: [number, number]; groups?: number; strides?: [number, number]; dilations?: [number, number]; padding?: Padding; bias?: boolean; activation?: string; seed: number },
): Conv2DNode {
  const groups = o.groups ?? 1;
  const shape = [o.cout, o.cin / groups, o.k[0], o.k[1]];
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    op: 'conv2d',
    name,
    inputs: [inputName],
    kernel: { shape, data: randn(n, o.seed, 0.5) },
    bias: o.bias === false ? null : randn(o.cout, o.seed + 1, 0.5),
    strides: o.strides ?? [1, 1],
    dilations: o.dilations ?? [1, 1],
    padding: o.padding ?? 'valid',
    groups,
    activation: o.activation ?? 'linear',
  };
}

export function graph(nodes: Node[], outputs: string[], layout: 'NCHW' | 'NHWC' = 'NCHW'): Graph {
  return { name: 'test', layout, nodes, inputs: nodes.filter((n) => n.op === 'input').map((n) => n.name), outputs };
}

/** TF 'same' pads [top, left, bottom, right] for a known size. */
export function samePadsRef(h: number, w: number, k: [number, number], s: [number, number], d: [number, number] = [1, 1]): [number, number, number, number] {
  const tot = [h, w].map((size, i) => {
    const span = (k[i] - 1) * d[i] + 1;
    const out = Math.ceil(size / s[i]);
    return Math.max((out - 1) * s[i] + span - size, 0);
  });
  return [Math.floor(tot[0] / 2), Math.floor(tot[1] / 2), tot[0] - Math.floor(tot[0] / 2), tot[1] - Math.floor(tot[1] / 2)];
}

/** Direct-loop grouped convolution, NCHW input, OIHW kernel, explicit pads [t, l, b, r]. */
export function convRef(x: T4, c: { kernel: T4; bias: Float32Array | null; strides: [number, number]; dilations: [number, number]; pads: number[]; groups: number }): T4 {
  const [nb, cin, h, w] = x.shape;
  const [cout, cg, kh, kw] = c.kernel.shape;
  const [t, l, b, r] = c.pads;
  const [sh, sw] = c.strides;
  const [dh, dw] = c.dilations;
  const oh = Math.floor((h + t + b - ((kh - 1) * dh + 1)) / sh) + 1;
  const ow = Math.floor((w + l + r - ((kw - 1) * dw + 1)) / sw) + 1;
  const out = new Float32Array(nb * cout * oh * ow);
  const opg = cout / c.groups;
  for (let n = 0; n < nb; n++)
    for (let o = 0; o < cout; o++) {
      const g = Math.floor(o / opg);
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let acc = c.bias ? c.bias[o] : 0;
          for (let ci = 0; ci < cg; ci++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = y * sh - t + i * dh;
                const ix = xx * sw - l + j * dw;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += x.data[((n * cin + g * cg + ci) * h + iy) * w + ix] * c.kernel.data[((o * cg + ci) * kh + i) * kw + j];
              }
          out[((n * cout + o) * oh + y) * ow + xx] = acc;
        }
    }
  return { shape: [nb, cout, oh, ow], data: out };
}

/** Conv node → reference, resolving 'same'/'valid' for the given input. */
export function convNodeRef(x: T4, node: Conv2DNode): T4 {
  const [, , h, w] = x.shape;
  const k: [number, number] = [node.kernel.shape[2], node.kernel.shape[3]];
  const pads =
    node.padding === 'valid' ? [0, 0, 0, 0] : node.padding === 'same' ? samePadsRef(h, w, k, node.strides, node.dilations) : node.padding.pads;
  return convRef(x, { kernel: node.kernel, bias: node.bias, strides: node.strides, dilations: node.dilations, pads, groups: node.groups });
}

export function map(x: T4, f: (v: number) => number): T4 {
  return { shape: [...x.shape], data: x.data.map(f) };
}

export function add(a: T4, b: T4): T4 {
  return { shape: [...a.shape], data: a.data.map((v, i) => v + b.data[i]) };
}

/** Channel concat of NCHW tensors. */
export function concatC(parts: T4[]): T4 {
  const [n, , h, w] = parts[0].shape;
  const ctot = parts.reduce((a, p) => a + p.shape[1], 0);
  const out = new Float32Array(n * ctot * h * w);
  for (let b = 0; b < n; b++) {
    let off = 0;
    for (const p of parts) {
      const c = p.shape[1];
      out.set(p.data.subarray(b * c * h * w, (b + 1) * c * h * w), (b * ctot + off) * h * w);
      off += c;
    }
  }
  return { shape: [n, ctot, h, w], data: out };
}

export function batchNormRef(x: T4, p: { gamma: Float32Array; beta: Float32Array; mean: Float32Array; variance: Float32Array; epsilon: number }): T4 {
  const [n, c, h, w] = x.shape;
  const out = new Float32Array(x.data.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++) {
        const idx = (b * c + ch) * h * w + i;
        out[idx] = ((x.data[idx] - p.mean[ch]) / Math.sqrt(p.variance[ch] + p.epsilon)) * p.gamma[ch] + p.beta[ch];
      }
  return { shape: [...x.shape], data: out };
}

/** y = x·Wᵀ + b for x [n, in], W [out, in]. */
export function denseRef(x: T4, weight: T4, bias: Float32Array | null): T4 {
  const [n, inn] = x.shape;
  const out = weight.shape[0];
  const y = new Float32Array(n * out);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < out; o++) {
      let acc = bias ? bias[o] : 0;
      for (let i = 0; i < inn; i++) acc += x.data[b * inn + i] * weight.data[o * inn + i];
      y[b * out + o] = acc;
    }
  return { shape: [n, out], data: y };
}

/** Pooling with explicit pads; padded cells are skipped (TF: max ignores them, avg divides by real count). */
export function poolRef(x: T4, kind: 'max' | 'avg', k: [number, number], s: [number, number], pads: number[]): T4 {
  const [n, c, h, w] = x.shape;
  const [t, l, b, r] = pads;
  const oh = Math.floor((h + t + b - k[0]) / s[0]) + 1;
  const ow = Math.floor((w + l + r - k[1]) / s[1]) + 1;
  const out = new Float32Array(n * c * oh * ow);
  for (let bc = 0; bc < n * c; bc++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let acc = kind === 'max' ? -Infinity : 0;
        let cnt = 0;
        for (let i = 0; i < k[0]; i++)
          for (let j = 0; j < k[1]; j++) {
            const iy = y * s[0] - t + i;
            const ix = xx * s[1] - l + j;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = x.data[(bc * h + iy) * w + ix];
            acc = kind === 'max' ? Math.max(acc, v) : acc + v;
            cnt++;
          }
        out[(bc * oh + y) * ow + xx] = kind === 'max' ? acc : acc / cnt;
      }
  return { shape: [n, c, oh, ow], data: out };
}

export function nchwToNhwc(x: T4): T4 {
  const [n, c, h, w] = x.shape;
  const out = new Float32Array(x.data.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[((b * h + i) * w + j) * c + ch] = x.data[((b * c + ch) * h + i) * w + j];
  return { shape: [n, h, w, c], data: out };
}

export function nhwcToNchw(x: T4): T4 {
  const [n, h, w, c] = x.shape;
  const out = new Float32Array(x.data.length);
  for (let b = 0; b < n; b++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[((b * c + ch) * h + i) * w + j] = x.data[((b * h + i) * w + j) * c + ch];
  return { shape: [n, c, h, w], data: out };
}

/** Max |a − b| relative to max |b| (≥ 1e-3 so near-zero references do not blow it up). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1e-3;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

export function expectClose(got: T4, want: T4, tol = 1e-5): void {
  expect(got.shape).toEqual(want.shape);
  expect(relErr(got.data, want.data)).toBeLessThan(tol);
}

/** One ORT run of a graph or model bytes (1 thread: the test machine is shared). */
export async function run(model: Graph | Uint8Array, x: T4): Promise<T4> {
  const s = await createOrtSession(model, { threads: 1 });
  try {
    return await runOrt(s, x);
  } finally {
    await releaseOrt(s);
  }
}

// --- raw ONNX construction for reader tests ---

export function floatInit(name: string, dims: number[], data: Float32Array, form: 'raw' | 'float' = 'raw'): ITensorProto {
  if (form === 'float') return { name, dims, dataType: 1, floatData: Array.from(data) };
  return { name, dims, dataType: 1, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

export function int64Init(name: string, dims: number[], values: number[]): ITensorProto {
  return { name, dims, dataType: 7, int64Data: values };
}

export function onnxNode(opType: string, inputs: string[], outputs: string[], attrs: Record<string, number | number[] | string> = {}, name = ''): INodeProto {
  const attribute = Object.entries(attrs).map(([k, v]) => {
    if (typeof v === 'string') return { name: k, type: 3, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name: k, type: 7, ints: v };
    return Number.isInteger(v) && !k.match(/alpha|beta|epsilon|gamma/) ? { name: k, type: 2, i: v } : { name: k, type: 1, f: v };
  });
  return { opType, input: inputs, output: outputs, name: name || outputs[0], attribute };
}

export function valueInfo(name: string, dims: (number | string)[], elemType = 1) {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

export function buildModel(o: {
  nodes: INodeProto[];
  initializers?: ITensorProto[];
  inputs: ReturnType<typeof valueInfo>[];
  outputs: ReturnType<typeof valueInfo>[];
  opset?: number;
  irVersion?: number;
}): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: o.irVersion ?? 8,
    producerName: 'test-builder',
    opsetImport: [{ domain: '', version: o.opset ?? 17 }],
    graph: { name: 'g', node: o.nodes, initializer: o.initializers ?? [], input: o.inputs, output: o.outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'netdecouple-onnx-'));
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
