/** ‖f(x) − g(x)‖ / ‖f(x)‖ of two networks' outputs over batches, run by a stock runtime (an oracle independent of the calibration's own error figures). */
import type { Engine } from '../../src/eval/engine.js';
import type { Graph } from '../../src/models/ir.js';
import type { Batch } from '../../src/eval/tfjs-run.js';

export async function outputRelError(engine: Engine, original: Graph, converted: Graph, batches: Batch[]): Promise<number> {
  const a = await engine.prepare(original);
  const b = await engine.prepare(converted);
  let se = 0;
  let yy = 0;
  for (const x of batches) {
    const [y] = await a.run(x);
    const [z] = await b.run(x);
    for (let i = 0; i < y.data.length; i++) {
      se += (y.data[i] - z.data[i]) ** 2;
      yy += y.data[i] ** 2;
    }
  }
  await a.dispose();
  await b.dispose();
  return Math.sqrt(se / yy);
}

/** ‖reference − approx‖₂ / ‖reference‖₂ in float64, written out here rather than imported from src/eval/metrics.ts. */
export function relError(reference: ArrayLike<number>, approx: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < reference.length; i++) {
    num += (reference[i] - approx[i]) ** 2;
    den += reference[i] ** 2;
  }
  return Math.sqrt(num / den);
}
