/** Where and how the numbers were taken, stated in every benchmark result file. */
import os from 'node:os';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';

export function machine(): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    onnxruntime: (require('onnxruntime-node/package.json') as { version: string }).version,
    tfjs: tf.version.tfjs,
    loadAverage1m: Number(os.loadavg()[0].toFixed(2)),
    date: new Date().toISOString().slice(0, 10),
  };
}
