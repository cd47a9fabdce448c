/**
 * Where the time goes, per kind of operator (conv, 1×1 conv, depthwise, concat, layout
 * transposes / reorders, activations, other), from each runtime's own profiler:
 *   - onnxruntime: the session's profiler (enableProfiling). Its per-node "kernel time" events are
 *     what ORT itself measured around each kernel, fused and NCHWc-reordered nodes included. The
 *     JSON file it writes goes to a private temp folder that is removed before returning, so
 *     nothing is left in the working folder or the temp folder.
 *   - tfjs: tf.profile's per-kernel kernelTimeMs around a predict().
 * Depthwise is told from a regular conv by the weight's shape (input channels per group = 1 with
 * more than one channel in), as ORT names both "Conv". The profiler's own overhead inflates tiny
 * kernels (tens of µs each): compare shares between models, not kernel time with wall-clock time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { prune, type Graph } from '../models/ir.js';
import { graphToOnnx } from '../models/onnx/write.js';
import { toLayersModel, type Batch } from './tfjs-run.js';

export type OpKind = 'conv' | 'pointwise' | 'depthwise' | 'concat' | 'transpose/reorder' | 'activation' | 'other';
export const OP_KINDS: readonly OpKind[] = ['conv', 'pointwise', 'depthwise', 'concat', 'transpose/reorder', 'activation', 'other'];

export interface KindTime {
  kind: OpKind;
  /** Mean ms per run spent in kernels of this kind. */
  ms: number;
  /** Share of the summed kernel time. */
  share: number;
  /** Kernel calls of this kind per run. */
  calls: number;
}

export interface ModelProfile {
  tool: 'onnxruntime profiler' | 'tf.profile';
  runs: number;
  /** Summed kernel time per run (ms): less than the wall-clock time, which adds the runtime's own overhead. */
  kernelMs: number;
  kinds: KindTime[];
  /** ms per run by the runtime's own operator name (Conv, FusedConv, ReorderInput, …). */
  byOperator: Record<string, number>;
}

const ACTIVATIONS = new Set(['Relu', 'Relu6', 'Clip', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Elu', 'HardSigmoid', 'HardSwish', 'Prelu', 'Softmax', 'Selu', 'Gelu']);
const REORDERS = new Set(['Transpose', 'ReorderInput', 'ReorderOutput', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

/** Kind of one kernel call from its operator name and its weight's shape (OIHW for ORT, HWIO/HWCM for tfjs). */
export function kindOf(op: string, weight: number[] | null, layout: 'OIHW' | 'HWIO', inChannels?: number): OpKind {
  if (/depthwise/i.test(op)) return 'depthwise';
  if (/conv/i.test(op)) {
    if (weight && weight.length === 4) {
      const [inPerGroup, kh, kw, out] = layout === 'OIHW' ? [weight[1], weight[2], weight[3], weight[0]] : [weight[2], weight[0], weight[1], weight[3]];
      // OIHW with one input channel per group on a multi-channel input: a grouped (depthwise) conv.
      if (layout === 'OIHW' && inPerGroup === 1 && out > 1 && (inChannels ?? 1) > 1) return 'depthwise';
      if (kh * kw === 1) return 'pointwise';
    }
    return 'conv';
  }
  if (/concat/i.test(op)) return 'concat';
  if (REORDERS.has(op)) return 'transpose/reorder';
  if (ACTIVATIONS.has(op) || ACTIVATIONS.has(op.replace(/^Fused/, ''))) return 'activation';
  return 'other';
}

function summarise(tool: ModelProfile['tool'], runs: number, calls: { op: string; kind: OpKind; ms: number }[]): ModelProfile {
  const byKind = new Map<OpKind, { ms: number; calls: number }>();
  const byOperator: Record<string, number> = {};
  let total = 0;
  for (const c of calls) {
    const k = byKind.get(c.kind) ?? { ms: 0, calls: 0 };
    k.ms += c.ms;
    k.calls++;
    byKind.set(c.kind, k);
    byOperator[c.op] = (byOperator[c.op] ?? 0) + c.ms / runs;
    total += c.ms;
  }
  const kinds = OP_KINDS.filter((k) => byKind.has(k)).map((kind) => {
    const k = byKind.get(kind) as { ms: number; calls: number };
    return { kind, ms: k.ms / runs, share: total > 0 ? k.ms / total : 0, calls: k.calls / runs };
  });
  return { tool, runs, kernelMs: total / runs, kinds, byOperator };
}

interface OrtEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] };
}

/** ORT's profiler around `runs` runs (after `warmup` unprofiled-in-effect runs, dropped from the events). */
export async function profileOrt(graph: Graph, input: Batch, opts: { threads?: number; runs?: number; warmup?: number } = {}): Promise<ModelProfile> {
  const runs = opts.runs ?? 10;
  const warmup = opts.warmup ?? 3;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netdecouple-profile-'));
  try {
    const session = await ort.InferenceSession.create(graphToOnnx(graph), {
      intraOpNumThreads: opts.threads ?? 2, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'], logSeverityLevel: 4,
      enableProfiling: true, profileFilePrefix: path.join(dir, 'ort'),
    });
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.shape) };
    const runStarts: number[] = [];
    for (let i = 0; i < warmup + runs; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as OrtEvent[];
    // One "model_run" event per run: keep the kernel events of the last `runs` runs.
    for (const e of events) if (e.cat === 'Session' && e.name === 'model_run') runStarts.push((e as { ts?: number }).ts ?? 0);
    const from = runStarts.length >= runs ? runStarts.sort((a, b) => a - b)[runStarts.length - runs] : -Infinity;
    const calls = events
      .filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time') && ((e as { ts?: number }).ts ?? 0) >= from)
      .map((e) => {
        const op = e.args?.op_name ?? 'unknown';
        const shapes = (e.args?.input_type_shape ?? []).map((s) => Object.values(s)[0] ?? null);
        return { op, kind: kindOf(op, shapes[1] ?? null, 'OIHW', shapes[0]?.[1]), ms: (e.dur ?? 0) / 1000 };
      });
    return summarise('onnxruntime profiler', runs, calls);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** tf.profile around `runs` predict() calls on the current tfjs backend. */
export async function profileTfjs(graph: Graph, input: Batch, opts: { runs?: number; warmup?: number } = {}): Promise<ModelProfile> {
  const runs = opts.runs ?? 10;
  const model = await toLayersModel(prune(graph));
  const x = tf.tensor(input.data, input.shape);
  try {
    const once = async () => {
      const y = model.predict(x);
      const ys = Array.isArray(y) ? y : [y];
      await Promise.all(ys.map((t) => t.data()));
      tf.dispose(ys);
    };
    for (let i = 0; i < (opts.warmup ?? 3); i++) await once();
    const calls: { op: string; kind: OpKind; ms: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const info = await tf.profile(once);
      for (const k of info.kernels) {
        const t = await k.kernelTimeMs;
        const ms = typeof t === 'number' ? t : 0;
        // tfjs names depthwise kernels explicitly; the filter is the second input (HWIO).
        const weight = (k.inputShapes?.[1] as number[] | undefined) ?? null;
        calls.push({ op: k.name, kind: kindOf(k.name, weight, 'HWIO'), ms });
      }
    }
    return summarise('tf.profile', runs, calls);
  } finally {
    x.dispose();
    model.dispose();
  }
}
