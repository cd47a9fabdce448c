/**
 * NHWC graphs (as TF.js loads them) exported to ONNX: NHWC in and out, NCHW inside, and the same
 * numbers as a reference computed directly in NHWC.
 */
import { describe, expect, it } from 'vitest';
import type { Conv2DNode, DenseNode, Graph, Node } from '../../src/models/ir.js';
import { graphToOnnx } from '../../src/models/onnx/write.js';
import { onnx, type IValueInfoProto } from '../../src/models/onnx/proto.js';
import { conv, expectClose, graph, input, nchwToNhwc, nhwcToNchw, randn, run, samePadsRef, type T4 } from './helpers.js';

/** Direct NHWC convolution with an OIHW kernel, written independently of the NCHW reference. */
function convNHWC(x: T4, c: Conv2DNode): T4 {
  const [n, h, w, cin] = x.shape;
  const [cout, cg, kh, kw] = c.kernel.shape;
  const pads = c.padding === 'valid' ? [0, 0, 0, 0] : c.padding === 'same' ? samePadsRef(h, w, [kh, kw], c.strides, c.dilations) : c.padding.pads;
  const oh = Math.floor((h + pads[0] + pads[2] - ((kh - 1) * c.dilations[0] + 1)) / c.strides[0]) + 1;
  const ow = Math.floor((w + pads[1] + pads[3] - ((kw - 1) * c.dilations[1] + 1)) / c.strides[1]) + 1;
  const out = new Float32Array(n * oh * ow * cout);
  const opg = cout / c.groups;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let o = 0; o < cout; o++) {
          const g = Math.floor(o / opg);
          let acc = c.bias ? c.bias[o] : 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = y * c.strides[0] - pads[0] + i * c.dilations[0];
              const ix = xx * c.strides[1] - pads[1] + j * c.dilations[1];
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (let ci = 0; ci < cg; ci++) acc += x.data[((b * h + iy) * w + ix) * cin + g * cg + ci] * c.kernel.data[((o * cg + ci) * kh + i) * kw + j];
            }
          out[((b * oh + y) * ow + xx) * cout + o] = c.activation === 'relu' ? Math.max(acc, 0) : acc;
        }
  return { shape: [n, oh, ow, cout], data: out };
}

function dense2(x: Float32Array, n: number, d: DenseNode, act: (v: number) => number = (v) => v): Float32Array {
  const [out, inn] = d.weight.shape;
  const y = new Float32Array(n * out);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < out; o++) {
      let acc = d.bias ? d.bias[o] : 0;
      for (let i = 0; i < inn; i++) acc += x[b * inn + i] * d.weight.data[o * inn + i];
      y[b * out + o] = act(acc);
    }
  return y;
}

const xin = (n: number, h: number, w: number, c: number, seed: number): T4 => ({ shape: [n, h, w, c], data: randn(n * h * w * c, seed) });

describe('NHWC graph export', () => {
  it('conv + relu + flatten + dense equals a direct NHWC reference (flatten order is NHWC)', async () => {
    const c = conv('c', 'x', { cin: 3, cout: 4, k: [3, 3], strides: [2, 2], padding: 'same', activation: 'relu', seed: 1 });
    const flat: Node = { op: 'flatten', name: 'flat', inputs: ['c'] };
    const fc: DenseNode = { op: 'dense', name: 'fc', inputs: ['flat'], weight: { shape: [5, 3 * 3 * 4], data: randn(180, 2) }, bias: randn(5, 3), activation: 'linear' };
    const g = graph([input('x', [5, 6, 3]), c, flat, fc], ['fc'], 'NHWC');
    const x = xin(2, 5, 6, 3, 4);
    const got = await run(g, x);
    const h = convNHWC(x, c);
    expectClose(got, { shape: [2, 5], data: dense2(h.data, 2, fc) });
  });

  it('keeps the model input and rank-4 outputs NHWC', async () => {
    const c = conv('c', 'x', { cin: 2, cout: 3, k: [3, 3], padding: 'valid', seed: 5 });
    const g = graph([input('x', [6, 5, 2]), c], ['c'], 'NHWC');
    const m = onnx.ModelProto.decode(graphToOnnx(g));
    const dims = (vi: IValueInfoProto) => vi.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue ?? 0) || d.dimParam);
    expect(dims(m.graph!.input![0])).toEqual(['N', 6, 5, 2]);
    expect(dims(m.graph!.output![0])).toEqual(['N', 4, 3, 3]);
    const x = xin(1, 6, 5, 2, 6);
    expectClose(await run(g, x), convNHWC(x, c));
  });

  it('squeeze-excite: global pool → dense → reshape [1,1,C] → multiply, concat on the channel axis, batchNorm axis 3', async () => {
    const c = conv('c', 'x', { cin: 2, cout: 3, k: [3, 3], padding: 'same', activation: 'relu', seed: 7 });
    const gap: Node = { op: 'globalAvgPool', name: 'gap', inputs: ['c'], keepDims: false };
    const fc: DenseNode = { op: 'dense', name: 'fc', inputs: ['gap'], weight: { shape: [3, 3], data: randn(9, 8) }, bias: randn(3, 9), activation: 'sigmoid' };
    const rs: Node = { op: 'reshape', name: 'rs', inputs: ['fc'], targetShape: [1, 1, 3] };
    const se: Node = { op: 'multiply', name: 'se', inputs: ['c', 'rs'] };
    const cat: Node = { op: 'concat', name: 'cat', inputs: ['se', 'x'], axis: -1 };
    const bn: Node = { op: 'batchNorm', name: 'bn', inputs: ['cat'], axis: 3, epsilon: 1e-3, gamma: randn(5, 10), beta: randn(5, 11), mean: randn(5, 12), variance: randn(5, 13).map((v) => v * v + 0.5) };
    const g = graph([input('x', [4, 3, 2]), c, gap, fc, rs, se, cat, bn], ['bn'], 'NHWC');
    const x = xin(2, 4, 3, 2, 14);
    const got = await run(g, x);

    const h = convNHWC(x, c);
    const [n, hh, ww, cc] = h.shape;
    const pooled = new Float32Array(n * cc);
    for (let b = 0; b < n; b++) for (let p = 0; p < hh * ww; p++) for (let ch = 0; ch < cc; ch++) pooled[b * cc + ch] += h.data[(b * hh * ww + p) * cc + ch] / (hh * ww);
    const gate = dense2(pooled, n, fc, (v) => 1 / (1 + Math.exp(-v)));
    const want = new Float32Array(n * hh * ww * 5);
    for (let b = 0; b < n; b++)
      for (let p = 0; p < hh * ww; p++)
        for (let ch = 0; ch < 5; ch++) {
          const v = ch < 3 ? h.data[(b * hh * ww + p) * 3 + ch] * gate[b * 3 + ch] : x.data[(b * hh * ww + p) * 2 + ch - 3];
          const bnNode = bn as Extract<Node, { op: 'batchNorm' }>;
          want[(b * hh * ww + p) * 5 + ch] = ((v - bnNode.mean[ch]) / Math.sqrt(bnNode.variance[ch] + 1e-3)) * bnNode.gamma![ch] + bnNode.beta![ch];
        }
    expectClose(got, { shape: [n, hh, ww, 5], data: want });
  });

  it('dense on a rank-4 NHWC tensor acts on channels (exported as a 1×1 conv)', async () => {
    const fc: DenseNode = { op: 'dense', name: 'fc', inputs: ['x'], weight: { shape: [4, 3], data: randn(12, 15) }, bias: randn(4, 16), activation: 'linear' };
    const g = graph([input('x', [2, 3, 3]), fc], ['fc'], 'NHWC');
    const x = xin(1, 2, 3, 3, 17);
    const got = await run(g, x);
    expectClose(got, { shape: [1, 2, 3, 4], data: dense2(x.data, 6, fc) });
  });

  it('pools, upsample, zeroPad, softmax and reshape agree with the same graph built in NCHW', async () => {
    const chain = (layout: 'NHWC' | 'NCHW'): Graph => {
      const shape = layout === 'NHWC' ? [6, 5, 3] : [3, 6, 5];
      return graph(
        [
          input('x', shape),
          { op: 'zeroPad', name: 'zp', inputs: ['x'], pads: [1, 0, 0, 2] },
          { op: 'maxPool', name: 'mp', inputs: ['zp'], poolSize: [2, 2], strides: [2, 2], padding: 'same' },
          { op: 'upsample', name: 'up', inputs: ['mp'], size: [2, 3], interpolation: 'nearest' },
          { op: 'avgPool', name: 'ap', inputs: ['up'], poolSize: [3, 3], strides: [1, 1], padding: 'same' },
          { op: 'activation', name: 'sm', inputs: ['ap'], activation: 'softmax' },
        ],
        ['sm'],
        layout,
      );
    };
    const x = xin(2, 6, 5, 3, 18);
    const a = await run(chain('NHWC'), x);
    const b = await run(chain('NCHW'), nhwcToNchw(x));
    expectClose(a, nchwToNhwc(b), 1e-6);
  });

  // Guards against refusing opset < 13 for every NHWC model: a softmax over a dense [N, C] output
  // is the same under the older, flattening Softmax.
  it('a softmax over a dense output writes at opset 11 and computes what opset 13 computes', async () => {
    const flat: Node = { op: 'flatten', name: 'flat', inputs: ['x'] };
    const fc: DenseNode = { op: 'dense', name: 'fc', inputs: ['flat'], weight: { shape: [5, 18], data: randn(90, 21) }, bias: randn(5, 22), activation: 'softmax' };
    const g = graph([input('x', [2, 3, 3]), flat, fc], ['fc'], 'NHWC');
    const x = xin(1, 2, 3, 3, 23);
    const old = await run(graphToOnnx(g, { opset: 11 }), x);
    const now = await run(graphToOnnx(g, { opset: 13 }), x);
    expectClose(old, now, 1e-6);
    expect(Array.from(old.data).reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
  });

  it('refuses opaque TF.js layers with a message naming the layer', () => {
    const op: Node = { op: 'opaque', name: 'custom1', inputs: ['x'], weights: [], weightNames: [], source: { format: 'tfjs', className: 'MyLayer', config: {} } };
    expect(() => graphToOnnx(graph([input('x', [4, 4, 2]), op], ['custom1'], 'NHWC'))).toThrow(/node "custom1" \(TF.js class MyLayer\) is opaque and has no ONNX form/);
  });
});
