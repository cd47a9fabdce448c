/**
 * Runs a Graph or .onnx bytes in onnxruntime-node (CPU). docs/design.md#runtime-facts: 2 intra-op threads and
 * optimisation level 'all' is the configuration the speedups were measured with.
 */
import './ort-env.js';
import * as ort from 'onnxruntime-node';
import type { Graph } from '../models/ir.js';
import { graphToOnnx, type OnnxWriteOptions } from '../models/onnx/write.js';

export type OrtOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface OrtSessionOptions {
  /** intraOpNumThreads; default 2. */
  threads?: number;
  /** graphOptimizationLevel; default 'all'. */
  optimization?: OrtOptimization;
  /** Passed to graphToOnnx when a Graph is given. */
  write?: OnnxWriteOptions;
}

export interface OrtSession {
  session: ort.InferenceSession;
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** The model bytes the session was built from (handy to save what was measured). */
  bytes: Uint8Array;
}

/** Dense tensor with batch dimension included, as fed to / returned by ORT. */
export interface OrtTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

export async function createOrtSession(model: Graph | Uint8Array, options: OrtSessionOptions = {}): Promise<OrtSession> {
  const bytes = model instanceof Uint8Array ? model : graphToOnnx(model, options.write);
  const threads = options.threads ?? 2;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: options.optimization ?? 'all',
      executionProviders: ['cpu'],
      // Load errors are thrown to the caller with ORT's message; its own log lines (errors
      // included) would only be printed a second time to stderr.
      logSeverityLevel: 4,
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`onnxruntime could not load the model: ${msg.split('\n')[0]}`);
  }
  return { session, inputNames: session.inputNames, outputNames: session.outputNames, bytes };
}

function toOrt(t: OrtTensor): ort.Tensor {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) throw new Error(`input has ${t.data.length} values but shape [${t.shape}] needs ${n}`);
  return new ort.Tensor(t.data instanceof Int32Array ? 'int32' : 'float32', t.data, t.shape);
}

function fromOrt(t: ort.Tensor, name: string): OrtTensor {
  if (t.type !== 'float32' && t.type !== 'int32') throw new Error(`output "${name}" has type ${t.type}; expected float32`);
  return { shape: [...t.dims], data: t.data as Float32Array | Int32Array };
}

/** Runs with named inputs; returns every output by name. */
export async function runOrtAll(s: OrtSession, inputs: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of s.inputNames) {
    const t = inputs[name];
    if (!t) throw new Error(`missing input "${name}" (model inputs: ${s.inputNames.join(', ')})`);
    feeds[name] = toOrt(t);
  }
  const res = await s.session.run(feeds);
  const out: Record<string, OrtTensor> = {};
  for (const name of s.outputNames) out[name] = fromOrt(res[name], name);
  return out;
}

/** Single-input, single-output convenience: feeds the first input, returns the first output. */
export async function runOrt(s: OrtSession, input: OrtTensor): Promise<{ shape: number[]; data: Float32Array }> {
  if (s.inputNames.length !== 1) {
    throw new Error(`runOrt feeds one input but the model has ${s.inputNames.length} (${s.inputNames.join(', ')}); use runOrtAll`);
  }
  const res = await runOrtAll(s, { [s.inputNames[0]]: input });
  const first = res[s.outputNames[0]];
  if (!(first.data instanceof Float32Array)) throw new Error(`output "${s.outputNames[0]}" is not float32`);
  return { shape: first.shape, data: first.data };
}

export interface TimeOptions {
  /** Untimed runs first (allocations, kernel selection); default 3. */
  warmup?: number;
  /** Timed runs; default 20. */
  runs?: number;
}

export interface Timing {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  runs: number;
}

/** Linear-interpolated quantile of sorted values. */
function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Wall-clock per run (feed → outputs), median and 10th/90th percentiles in ms. */
export async function timeOrt(s: OrtSession, input: OrtTensor, options: TimeOptions = {}): Promise<Timing> {
  const warmup = options.warmup ?? 3;
  const runs = options.runs ?? 20;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${runs}`);
  const feeds = { [s.inputNames[0]]: toOrt(input) };
  for (let i = 0; i < warmup; i++) await s.session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await s.session.run(feeds);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { medianMs: quantile(times, 0.5), p10Ms: quantile(times, 0.1), p90Ms: quantile(times, 0.9), runs };
}

export async function releaseOrt(s: OrtSession): Promise<void> {
  await s.session.release();
}
