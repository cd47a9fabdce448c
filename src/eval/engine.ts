/**
 * A model prepared once and run many times: what evaluation over a dataset and latency timing
 * need (GraphRunner.run rebuilds the model on every call, which is right for one-off
 * measurements but would dominate a benchmark). tfjs: the LayersModel is built once; ORT: one
 * persistent session (DESIGN.md §2 configuration: 2 intra-op threads, optimisation 'all').
 */
import * as tf from '@tensorflow/tfjs';
import './ort-env.js';
import * as ort from 'onnxruntime-node';
import { prune, type Graph } from '../models/ir.js';
import { useBackend } from './backend.js';
import { RUNTIME_CHOICES, type RuntimeChoice } from './backend.js';
import { predict, toLayersModel, type Batch } from './tfjs-run.js';
import { createOrtSession, releaseOrt, runOrtAll, timeOrt, type OrtSession } from './ort.js';
import { summarizeTimes, type TimingOptions, type TimingStats } from './timing.js';

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
        async time(input, opts) {
          // The project's ORT timer on the persistent session (same loop, same statistics).
          const { warmup, runs } = timingCounts(opts);
          return { ...(await timeOrt(s, input, { warmup, runs })), warmup };
        },
        dispose: () => releaseOrt(s),
      };
    },
  };
}

/** The harness contract: at least 10 timed runs (a median of fewer is noise on 2 shared cores). */
export const MIN_RUNS = 10;

export function timingCounts(opts: TimingOptions = {}): { warmup: number; runs: number } {
  const warmup = opts.warmup ?? 3;
  const runs = opts.runs ?? MIN_RUNS;
  if (!Number.isInteger(runs) || runs < MIN_RUNS) throw new Error(`--runs ${runs}: at least ${MIN_RUNS} timed runs are needed for a median and spread`);
  if (!Number.isInteger(warmup) || warmup < 1) throw new Error(`--warmup ${warmup}: at least one untimed warm-up run is needed`);
  return { warmup, runs };
}

/** Warm-up, then timed runs of one bound input. */
export async function timeBound(b: Bound, opts?: TimingOptions): Promise<TimingStats> {
  const { warmup, runs } = timingCounts(opts);
  try {
    for (let i = 0; i < warmup; i++) await b.once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await b.once();
      times.push(performance.now() - t0);
    }
    return { ...summarizeTimes(times), warmup };
  } finally {
    b.release();
  }
}

/**
 * Two models timed in alternation (a, b, a, b, …) after both warmed up: on a shared machine a
 * change of load then hits both medians alike instead of whichever ran second, so their ratio —
 * the measured speedup — stays meaningful.
 */
export async function timeInterleaved(a: Bound, b: Bound, opts?: TimingOptions): Promise<[TimingStats, TimingStats]> {
  const { warmup, runs } = timingCounts(opts);
  try {
    for (let i = 0; i < warmup; i++) {
      await a.once();
      await b.once();
    }
    const ta: number[] = [];
    const tb: number[] = [];
    for (let i = 0; i < runs; i++) {
      for (const [bound, times] of (i % 2 ? [[b, tb], [a, ta]] : [[a, ta], [b, tb]]) as [Bound, number[]][]) {
        const t0 = performance.now();
        await bound.once();
        times.push(performance.now() - t0);
      }
    }
    return [{ ...summarizeTimes(ta), warmup }, { ...summarizeTimes(tb), warmup }];
  } finally {
    a.release();
    b.release();
  }
}
