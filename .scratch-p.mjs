import * as tf from '@tensorflow/tfjs';
tf.env().set('PROD', true);
import { vgg16ConvStack, resnet18 } from './dist/bench/nets.js';
import { createEngine } from './dist/src/eval/engine.js';
import { benchLatency } from './dist/src/eval/latency.js';
import { convertGraph } from './dist/src/convert/convert.js';
const g = await vgg16ConvStack();
for (const b of process.argv.slice(2)) {
  const e = await createEngine(b, 'NHWC');
  let t0 = Date.now();
  const c = convertGraph(g, { rank: 2 });
  console.log('convert', Date.now() - t0); t0 = Date.now();
  const r = await benchLatency(e, g, c.graph, { perLayer: false, warmup: 1, runs: 10 });
  console.log(b, Date.now() - t0, 'ms total', r.original.timing.medianMs, r.converted.timing.medianMs, r.theoreticalSpeedup, r.measuredSpeedup);
}
