/**
 * One way to run an IR graph, whatever the engine: tfjs (node / wasm / cpu backends) or
 * onnxruntime-node ('ort'). ONNX (NCHW) graphs run on ORT only; TF.js (NHWC) graphs run on both
 * (exported to ONNX with layout transposes at the boundary).
 */
import { prune, type Graph } from '../models/ir.js';
import { useBackend, BACKEND_CHOICES, type BackendChoice } from './backend.js';
import { runGraph, type Batch } from './tfjs-run.js';
import { createOrtSession, releaseOrt, runOrtAll } from './ort.js';

export type RuntimeChoice = BackendChoice | 'ort';
export const RUNTIME_CHOICES: RuntimeChoice[] = [...BACKEND_CHOICES, 'ort'];

export interface GraphRunner {
  /** What ran: 'ort' or the tfjs backend's name ('wasm', 'cpu', 'tensorflow'). */
  name: string;
  /** Outputs of the named nodes (default: the model outputs) for one batch. */
  run(graph: Graph, input: Batch, outputs?: string[]): Promise<Batch[]>;
}

export interface RunnerOptions {
  /** ORT intra-op threads (default 2). */
  threads?: number;
}

export async function createRunner(choice: RuntimeChoice, layout: Graph['layout'], opts: RunnerOptions = {}): Promise<GraphRunner> {
  if (!RUNTIME_CHOICES.includes(choice)) throw new Error(`--backend "${choice}": choose one of ${RUNTIME_CHOICES.join(', ')}`);
  if (choice === 'ort' || (choice === 'auto' && layout === 'NCHW')) return ortRunner(opts.threads ?? 2);
  if (layout === 'NCHW') throw new Error(`--backend ${choice}: ONNX (NCHW) models run on onnxruntime only; use --backend ort`);
  const name = await useBackend(choice);
  return { name, run: (graph, input, outputs) => runGraph(graph, input, outputs) };
}

function ortRunner(threads: number): GraphRunner {
  return {
    name: 'ort',
    async run(graph, input, outputs = graph.outputs) {
      const s = await createOrtSession(prune({ ...graph, outputs }), { threads });
      try {
        const res = await runOrtAll(s, { [s.inputNames[0]]: input });
        return s.outputNames.map((n) => ({ shape: res[n].shape, data: Float32Array.from(res[n].data) }));
      } finally {
        await releaseOrt(s);
      }
    },
  };
}
