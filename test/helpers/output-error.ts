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
