/**
 * The Gram products of the activation statistics (Xᵀ·X, Xᵀ·Y of a batch of sampled patch rows) in
 * onnxruntime: a two-node in-memory model (Gemm with transA). docs/design.md#runtime-facts: rank-1 updates in JS
 * run ~100× slower than ORT's MatMul for these products, and the blocked float64 GEMM of
 * decompose/linalg.ts still ~10× slower. Each batch's float32 product is accumulated in float64
 * by MomentAccumulator.addProducts, so precision is lost only within one batch of rows.
 */
import * as ort from 'onnxruntime-node';
import { onnx, DataType, irVersionForOpset } from '../models/onnx/proto.js';
import type { MomentAccumulator } from '../decompose/moments.js';

const OPSET = 13;

function gramModel(): Uint8Array {
  const dims = (a: string, b: string) => ({ dim: [{ dimParam: a }, { dimParam: b }] });
  const info = (name: string, a: string, b: string) => ({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: dims(a, b) } } });
  const model = onnx.ModelProto.create({
    irVersion: irVersionForOpset(OPSET),
    producerName: 'netdecouple',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: 'patch-moments',
      node: [
        { opType: 'Gemm', input: ['x', 'x'], output: ['xx'], name: 'xx', attribute: [{ name: 'transA', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
        { opType: 'Gemm', input: ['x', 'y'], output: ['xy'], name: 'xy', attribute: [{ name: 'transA', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
      ],
      input: [info('x', 'rows', 'features'), info('y', 'rows', 'outputs')],
      output: [info('xx', 'features', 'features'), info('xy', 'features', 'outputs')],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Adds rows of patches x (rows×F) and targets y (rows×N) to `acc`, the products computed by ORT. */
export interface MomentFeeder {
  add(acc: MomentAccumulator, x: Float32Array, y: Float32Array | null, rows: number): Promise<void>;
  release(): Promise<void>;
}

export async function ortMomentFeeder(threads = 2): Promise<MomentFeeder> {
  const session = await ort.InferenceSession.create(gramModel(), { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'], logSeverityLevel: 4 });
  return {
    async add(acc, x, y, rows) {
      const F = acc.features;
      const N = acc.outputs;
      if (rows === 0) return;
      if (acc.form !== 'full') {
        acc.add(Float64Array.from(x), y ? Float64Array.from(y) : null, rows);
        return;
      }
      // Without targets a single zero column keeps the model's shape valid; its product is unused.
      const yy = N > 0 && y ? y : new Float32Array(rows);
      const res = await session.run({ x: new ort.Tensor('float32', x, [rows, F]), y: new ort.Tensor('float32', yy, [rows, Math.max(N, 1)]) });
      acc.addProducts({ x, y: N > 0 ? y : null, rows, xx: res.xx.data as Float32Array, xy: N > 0 ? (res.xy.data as Float32Array) : null });
    },
    release: () => session.release(),
  };
}
