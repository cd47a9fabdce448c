/**
 * A model prepared once and run many times: what evaluation over a dataset and latency timing
 * need (GraphRunner.run rebuilds the model on every call, which is right for one-off
 * measurements but would dominate a benchmark). tfjs: the LayersModel is built once; ORT: one
 * persistent session (docs/design.md#runtime-facts configuration: 2 intra-op threads, optimisation 'all').
 */
import * as tf from '@tensorflow/tfjs';
import './ort-env.js';
import * as ort from 'onnxruntime-node';
import { prune, type Graph } from '../models/ir.js';
import { useBackend } from './backend.js';
import { RUNTIME_CHOICES, type RuntimeChoice } from './backend.js';
import { predict, toLayersModel, type Batch } from './tfjs-run.js';
import { createOrtSession, releaseOrt, runOrtAll, type OrtSession } from './ort.js';
import { timeOne, timeRatio, type RatioTiming, type TimingOptions, type TimingStats } from './timing.js';

export interface PreparedModel {
  /** Outputs for one batch, in the graph's layout (batch dimension included). */
  run(input: Batch): Promise<Batch[]>;
  /** One input made ready for repeated timed runs (feed → outputs available on the host). */
  bind(input: Batch): Bound;
  /** Warm-up runs, then timed runs. */
  time(input: Batch, opts?: TimingOptions): Promise<TimingStats>;
  dispose(): Promise<void>;
}

export interface Bound {
  once(): Promise<void>;
  release(): void;
}

export interface Engine {
  /** 'ort', or the tfjs backend that runs ('wasm', 'cpu', 'tensorflow'). */
  name: string;
  /** ORT intra-op threads (null for tfjs: wasm in Node is single-threaded). */
  threads: number | null;
  prepare(graph: Graph, outputs?: string[]): Promise<PreparedModel>;
}

export interface EngineOptions {
  /** ORT intra-op threads; default 2. */
  threads?: number;
}

export async function createEngine(choice: RuntimeChoice, layout: Graph['layout'], opts: EngineOptions = {}): Promise<Engine> {
  if (!RUNTIME_CHOICES.includes(choice)) throw new Error(`--backend "${choice}": choose one of ${RUNTIME_CHOICES.join(', ')}`);
  if (choice === 'ort' || (choice === 'auto' && layout === 'NCHW')) return ortEngine(opts.threads ?? 2);
  if (layout === 'NCHW') throw new Error(`--backend ${choice}: ONNX (NCHW) models run on onnxruntime only; use --backend ort`);
  const name = await useBackend(choice);
  return { name, threads: null, prepare: (graph, outputs) => tfjsPrepared(graph, outputs) };
}

async function tfjsPrepared(graph: Graph, outputs: string[] = graph.outputs): Promise<PreparedModel> {
  const model = await toLayersModel(prune({ ...graph, outputs }));
  const bind = (input: Batch): Bound => {
    const x = tf.tensor(input.data, input.shape);
    return {
      async once() {
        const y = model.predict(x);
        const ys = Array.isArray(y) ? y : [y];
        // The download is part of the cost: an application needs the values on the host.
        await Promise.all(ys.map((t) => t.data()));
        tf.dispose(ys);
      },
      release: () => x.dispose(),
    };
  };
  return {
    run: (input) => predict(model, input),
    bind,
    time: (input, opts) => timeBound(bind(input), opts),
    async dispose() {
      model.dispose();
    },
  };
}

function ortEngine(threads: number): Engine {
  return {
    name: 'ort',
    threads,
    async prepare(graph, outputs = graph.outputs) {
      const s: OrtSession = await createOrtSession(prune({ ...graph, outputs }), { threads });
      const bind = (input: Batch): Bound => {
        const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', input.data, input.shape) };
        return {
          async once() {
            await s.session.run(feeds);
          },
          release() {},
        };
      };
      return {
        async run(input) {
          const res = await runOrtAll(s, { [s.inputNames[0]]: input });
          return s.outputNames.map((n) => ({ shape: res[n].shape, data: Float32Array.from(res[n].data) }));
        },
        bind,
        time: (input, opts) => timeBound(bind(input), opts),
        dispose: () => releaseOrt(s),
      };
    },
  };
}

export { MIN_RUNS, timingCounts } from './timing.js';

/** Stable warm-up, then timed runs of one bound input (timing.ts timeOne). */
export async function timeBound(b: Bound, opts?: TimingOptions): Promise<TimingStats> {
  try {
    return await timeOne(b, opts);
  } finally {
    b.release();
  }
}

/**
 * Two models timed in alternation until the ratio of their medians is known to ±5 % (timing.ts
 * timeRatio): on a shared machine a change of load then hits both medians alike.
 */
export async function timeInterleavedRatio(a: Bound, b: Bound, opts?: TimingOptions): Promise<RatioTiming> {
  try {
    return await timeRatio(a, b, opts);
  } finally {
    a.release();
    b.release();
  }
}

export async function timeInterleaved(a: Bound, b: Bound, opts?: TimingOptions): Promise<[TimingStats, TimingStats]> {
  const r = await timeInterleavedRatio(a, b, opts);
  return [r.a, r.b];
}
