/**
 * Picks the tfjs backend: tfjs-node when it installed (it cannot on our CI machine kind — its
 * install downloads libtensorflow), else tfjs-backend-wasm (SIMD, single-threaded in Node), else
 * the pure-JS cpu backend. Every report states the backend that actually ran.
 */
import * as tf from '@tensorflow/tfjs';

export type BackendChoice = 'auto' | 'node' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: BackendChoice[] = ['auto', 'node', 'wasm', 'cpu'];

async function tryNode(): Promise<boolean> {
  try {
    const mod = '@tensorflow/tfjs-node';
    await import(mod);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

/** Switches tfjs to the requested backend and returns the name of the one that runs. */
export async function useBackend(choice: BackendChoice = 'auto'): Promise<string> {
  if (!BACKEND_CHOICES.includes(choice)) throw new Error(`--backend "${choice}": choose one of ${BACKEND_CHOICES.join(', ')}`);
  let ok = false;
  if (choice === 'node') {
    ok = await tryNode();
    if (!ok) throw new Error('--backend node: @tensorflow/tfjs-node is not installed here (it needs a libtensorflow download); use --backend wasm');
  } else if (choice === 'wasm') {
    ok = await tryWasm();
    if (!ok) throw new Error('--backend wasm: @tensorflow/tfjs-backend-wasm failed to initialise');
  } else if (choice === 'cpu') {
    ok = await tf.setBackend('cpu');
  } else {
    ok = (await tryNode()) || (await tryWasm()) || (await tf.setBackend('cpu'));
  }
  await tf.ready();
  return tf.getBackend();
}

/** Every runtime a command can run on: the tfjs backends, or onnxruntime-node. */
export type RuntimeChoice = BackendChoice | 'ort';
export const RUNTIME_CHOICES: RuntimeChoice[] = [...BACKEND_CHOICES, 'ort'];
