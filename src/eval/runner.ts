/**
 * One-off runs of an IR graph (build, run once, dispose) on any engine: tfjs backends or
 * onnxruntime-node. Repeated runs (datasets, timing) should prepare a model once via engine.ts.
 */
import type { Graph } from '../models/ir.js';
import { createEngine, type EngineOptions } from './engine.js';
import type { Batch } from './tfjs-run.js';

export { RUNTIME_CHOICES, type RuntimeChoice } from './backend.js';
import type { RuntimeChoice } from './backend.js';

export interface GraphRunner {
  /** What ran: 'ort' or the tfjs backend's name ('wasm', 'cpu', 'tensorflow'). */
  name: string;
  /** Outputs of the named nodes (default: the model outputs) for one batch. */
  run(graph: Graph, input: Batch, outputs?: string[]): Promise<Batch[]>;
}

export async function createRunner(choice: RuntimeChoice, layout: Graph['layout'], opts: EngineOptions = {}): Promise<GraphRunner> {
  const engine = await createEngine(choice, layout, opts);
  return {
    name: engine.name,
    async run(graph, input, outputs) {
      const model = await engine.prepare(graph, outputs);
      try {
        return await model.run(input);
      } finally {
        await model.dispose();
      }
    },
  };
}
